// Part 2: what importing tallyho and creating a telemetry add to a program's start-up, measured as the
// wall time of whole child processes (start to exit), interleaved, median of many runs.

import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pairedDifference, summarize, wallNs } from './lib/measure.mjs';

/**
 * The children's environment: only what node needs and what each case sets. Above all without
 * NODE_EXTRA_CA_CERTS or NODE_OPTIONS from the parent, which would add their own start-up cost to
 * every row.
 */
export function childEnv(home, extra) {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? home, TALLYHO_HOME: home };
  return { ...env, ...extra };
}

function programs(distUrl, emptyUrl) {
  const importLine = `import { createTelemetry } from ${JSON.stringify(distUrl)};`;
  const requireLine = `const { createTelemetry } = require(${JSON.stringify(fileURLToPath(distUrl).replace(/\.js$/, '.cjs'))});`;
  const tracked = (expectEnabled, extra = '', first = importLine) => `${first}
const telemetry = createTelemetry({ project: 'bench-start', version: '1.0.0' });
if (telemetry.status().enabled !== ${expectEnabled}) process.exit(3);
class Client { query(sql) { return sql.length; } }
const TrackedClient = telemetry.track()(Client) ?? Client;
${extra}`;
  return [
    { id: 'bare', label: "node -e ''", args: ['-e', ''], env: {} },
    { id: 'esm', label: "node --input-type=module -e '' (reference: empty ESM program)", args: ['--input-type=module', '-e', ''], env: {} },
    {
      id: 'esm-file',
      label: 'import of an empty .mjs file (reference: ESM loader)',
      args: ['--input-type=module', '-e', `import ${JSON.stringify(emptyUrl)};`],
      env: {},
    },
    { id: 'import', label: 'import tallyho only', args: ['--input-type=module', '-e', importLine], env: {} },
    {
      id: 'off',
      label: 'import + telemetry off (DO_NOT_TRACK=1) + one tracked class',
      args: ['--input-type=module', '-e', tracked(false)],
      env: { DO_NOT_TRACK: '1' },
    },
    {
      id: 'on',
      label: 'import + telemetry on (TALLYHO_OPTIN) + one tracked class',
      args: ['--input-type=module', '-e', tracked(true)],
      env: { TALLYHO_OPTIN: 'bench-start' },
    },
    {
      id: 'on-cjs',
      label: 'the same from CommonJS (require; no ESM loader)',
      args: ['-e', tracked(true, '', requireLine)],
      env: { TALLYHO_OPTIN: 'bench-start' },
    },
    {
      id: 'on-call',
      label: 'same, plus one call counted (report built at exit, dry run)',
      args: ['--input-type=module', '-e', tracked(true, "new TrackedClient().query('select 1');")],
      env: { TALLYHO_OPTIN: 'bench-start', TALLYHO_DRY_RUN: '1' },
    },
  ];
}

/**
 * Where the time of the "on" program goes, timed inside the child (not part of the table above): the
 * import, and createTelemetry plus decorating one class. Exit-time work is not included.
 */
function phaseProgram(distUrl) {
  return `const t0 = performance.now();
const { createTelemetry } = await import(${JSON.stringify(distUrl)});
const t1 = performance.now();
const telemetry = createTelemetry({ project: 'bench-start', version: '1.0.0' });
class Client { query(sql) { return sql.length; } }
telemetry.track()(Client);
const t2 = performance.now();
process.stdout.write(JSON.stringify({ boot: t0, importMs: t1 - t0, createMs: t2 - t1 }));`;
}

function phases(distUrl, home, runs) {
  const c = { id: 'phases', args: ['--input-type=module', '-e', phaseProgram(distUrl)], env: { TALLYHO_OPTIN: 'bench-start' } };
  const samples = [];
  for (let r = 0; r < runs; r++) samples.push(JSON.parse(runOnce(c, home).stdout));
  return {
    bootMs: summarize(samples.map((s) => s.boot)),
    importMs: summarize(samples.map((s) => s.importMs)),
    createMs: summarize(samples.map((s) => s.createMs)),
  };
}

function runOnce(c, home) {
  const t0 = wallNs();
  const result = spawnSync(process.execPath, c.args, { env: childEnv(home, c.env), stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  const ms = (wallNs() - t0) / 1e6;
  if (result.status !== 0) {
    throw new Error(`start-up case "${c.id}" exited with ${result.status ?? result.signal}: ${(result.stderr || '').trim().slice(0, 500)}`);
  }
  return { ms, stderr: result.stderr, stdout: result.stdout };
}

export function startupBench({ distUrl, home, runs }) {
  // Importing any file, even an empty one, starts Node's ESM loader: a cost of every ESM program that
  // has a second module, shown as its own row so that what tallyho adds on top of it can be read off.
  const empty = path.join(home, 'empty.mjs');
  writeFileSync(empty, '');
  const cases = programs(distUrl, pathToFileURL(empty).href);
  // One unmeasured run each: files tallyho writes once (first-run notice, salt) exist from then on, as
  // on any machine after the first run; anything printed there is kept for the report.
  const firstRunOutput = {};
  for (const c of cases) {
    const { stderr } = runOnce(c, home);
    if (stderr.trim() !== '') firstRunOutput[c.id] = stderr.trim().split('\n').slice(0, 3).join(' | ');
    c.ms = [];
  }
  const noisy = {};
  for (let r = 0; r < runs; r++) {
    for (let j = 0; j < cases.length; j++) {
      const c = cases[(j + r) % cases.length];
      const { ms, stderr } = runOnce(c, home);
      if (stderr.trim() !== '') noisy[c.id] = stderr.trim().split('\n')[0];
      c.ms.push(ms);
    }
  }
  const bare = cases[0];
  const esmFile = cases.find((c) => c.id === 'esm-file');
  const rows = cases.map((c) => ({
    id: c.id,
    label: c.label,
    ms: summarize(c.ms),
    addedMs: pairedDifference(c.ms, bare.ms),
    overEsmFileMs: pairedDifference(c.ms, esmFile.ms),
  }));
  return { rows, phases: phases(distUrl, home, Math.max(3, Math.ceil(runs / 2))), firstRunOutput, stderr: noisy };
}
