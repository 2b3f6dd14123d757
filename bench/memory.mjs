// Part 4: heap memory. What tracking adds per tracked class and method, and what `count()` names take,
// with the cap on distinct names (default 2,000 per project) keeping names past it from growing memory.
// Each case is a child process run with --expose-gc; the heap is measured after full collections.

import { spawnSync } from 'node:child_process';
import { pairedDifference, summarize } from './lib/measure.mjs';
import { childEnv } from './startup.mjs';

const PROJECT = 'bench-memory';
export const CLASSES = 10_000;
export const NAME_CAP = 2000;
const FAR = 100_000;

/**
 * The measured program. It imports tallyho and creates a telemetry (on, dry run) in every case, takes
 * the heap, makes the case's classes or names, and takes the heap again. It prints both, and a flush's
 * count of calls, taken after the second measurement, as a check.
 *
 * The heap is `process.memoryUsage().heapUsed` after two full collections, repeated after short pauses
 * until two readings agree within 1 KiB: what start-up leaves pending, compiled or released only once
 * the event loop has turned, would otherwise move a single reading by about 250 KB at random.
 */
function program(distUrl, c) {
  const options = c.maxNames === undefined ? '' : `, maxNames: ${c.maxNames}`;
  const head = `const { createTelemetry } = await import(${JSON.stringify(distUrl)});
const telemetry = createTelemetry({ project: ${JSON.stringify(PROJECT)}, version: '1.0.0'${options} });
if (!telemetry.status().enabled) process.exit(3);
const settle = async () => {
  let last = -1;
  for (let round = 0; round < 20; round++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    globalThis.gc();
    globalThis.gc();
    const used = process.memoryUsage().heapUsed;
    if (Math.abs(used - last) < 1024) return used;
    last = used;
  }
  return last;
};
const before = await settle();
`;
  const tail = `const result = await telemetry.flush();
process.stdout.write(JSON.stringify({ before, after, calls: result.calls, status: result.status, kept }));
`;
  if (c.kind === 'classes') {
    // Every class has its own source text, as the classes of a real library do.
    return `${head}let source = 'return [';
for (let i = 0; i < ${c.n}; i++) source += \`class C\${i} { m(x) { return x + \${i}; } },\`;
const classes = new Function(source + '];')();
source = undefined;
const bindings = new Array(classes.length);
let sum = 0;
for (let i = 0; i < classes.length; i++) {
  const C = ${c.track ? '(telemetry.track()(classes[i]) ?? classes[i])' : 'classes[i]'};
  bindings[i] = C;
  sum += new C().m(0);
}
if (sum !== ${(c.n * (c.n - 1)) / 2}) process.exit(4);
const after = await settle();
const kept = bindings.length + classes.length;
${tail}`;
  }
  return `${head}for (let i = 0; i < ${c.n}; i++) telemetry.count('item.' + String(i).padStart(5, '0'));
const after = await settle();
const kept = 0;
${tail}`;
}

function cases(distUrl) {
  const list = [
    { id: 'plain', kind: 'classes', n: CLASSES, track: false, label: `(a) ${CLASSES.toLocaleString('en')} plain classes, one method each, each called once` },
    { id: 'tracked', kind: 'classes', n: CLASSES, track: true, label: '(b) the same, each class through telemetry.track()' },
    { id: 'names-cap', kind: 'names', n: NAME_CAP, label: `(c1) ${NAME_CAP.toLocaleString('en')} count() names (the default cap)` },
    {
      id: 'names-past-cap',
      kind: 'names',
      n: CLASSES,
      label: `(c2) ${CLASSES.toLocaleString('en')} count() names (${(CLASSES - NAME_CAP).toLocaleString('en')} past the cap)`,
    },
    {
      id: 'names-far-past-cap',
      kind: 'names',
      n: FAR,
      label: `(c3) ${FAR.toLocaleString('en')} count() names (${(FAR - NAME_CAP).toLocaleString('en')} past the cap)`,
    },
    {
      id: 'names-uncapped',
      kind: 'names',
      n: CLASSES,
      maxNames: CLASSES,
      label: `(c4) for contrast: ${CLASSES.toLocaleString('en')} names, maxNames: ${CLASSES}`,
    },
  ];
  for (const c of list) c.source = program(distUrl, c);
  return list;
}

function runOnce(c, home) {
  const result = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', c.source], {
    env: childEnv(home, { TALLYHO_OPTIN: PROJECT, TALLYHO_DRY_RUN: '1' }),
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    throw new Error(`memory case "${c.id}" exited with ${result.status ?? result.signal}: ${(result.stderr || '').trim().slice(0, 500)}`);
  }
  return { ...JSON.parse(result.stdout), stderr: result.stderr.trim() };
}

export function memoryBench({ distUrl, home, runs }) {
  const list = cases(distUrl);
  // One unmeasured run each: the files a first run writes (salt, the list of known projects) exist
  // from then on, as on any machine after its first run.
  for (const c of list) {
    runOnce(c, home);
    c.growth = [];
    c.samples = [];
  }
  const stderr = {};
  for (let r = 0; r < runs; r++) {
    for (let j = 0; j < list.length; j++) {
      const c = list[(j + r) % list.length];
      const sample = runOnce(c, home);
      if (sample.stderr !== '') stderr[c.id] = sample.stderr.split('\n')[0];
      c.growth.push(sample.after - sample.before);
      c.samples.push(sample);
    }
  }
  const byId = Object.fromEntries(list.map((c) => [c.id, c]));
  const rows = list.map((c) => ({
    id: c.id,
    label: c.label,
    items: c.n,
    bytes: summarize(c.growth),
    // Per class or per name; not for the rows past the cap, whose extra names are not kept.
    bytesPerItem: c.kind === 'names' && c.maxNames === undefined && c.n > NAME_CAP ? null : summarize(c.growth.map((g) => g / c.n)),
    flushedCalls: c.samples[0].calls,
  }));
  const perTracked = pairedDifference(byId.tracked.growth, byId.plain.growth);
  const pastCap = pairedDifference(byId['names-past-cap'].growth, byId['names-cap'].growth);
  const checks = [];
  const expect = (id, calls, what) => {
    const seen = [...new Set(byId[id].samples.map((s) => s.calls))];
    const fmt = (n) => n.toLocaleString('en');
    const ok = seen.length === 1 && seen[0] === calls;
    checks.push(`${id}: a flush afterwards counted ${seen.map(fmt).join(', ')} calls (${what}: ${fmt(calls)})${ok ? '' : '  UNEXPECTED'}`);
  };
  expect('plain', 0, 'nothing tracked');
  expect('tracked', 2 * CLASSES, 'one `new` and one method call per class');
  expect('names-cap', NAME_CAP, 'one per name');
  expect('names-past-cap', NAME_CAP, 'names past the cap are dropped as overflow, not counted');
  expect('names-far-past-cap', NAME_CAP, 'the same');
  expect('names-uncapped', CLASSES, 'one per name');
  return {
    runs,
    rows,
    tracked: {
      classes: CLASSES,
      bytes: perTracked,
      bytesPerTrackedMethod: summarize(byId.tracked.growth.map((g, i) => (g - byId.plain.growth[i]) / CLASSES)),
    },
    pastCap: {
      extraNames: CLASSES - NAME_CAP,
      bytes: pastCap,
      farExtraNames: FAR - NAME_CAP,
      farBytes: pairedDifference(byId['names-far-past-cap'].growth, byId['names-cap'].growth),
      bytesPerExtraName: summarize(byId['names-past-cap'].growth.map((g, i) => (g - byId['names-cap'].growth[i]) / (CLASSES - NAME_CAP))),
    },
    checks,
    stderr,
  };
}
