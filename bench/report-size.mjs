// Part 5: the size of one report against the number of counted names, and against the number of
// calls counted. A report carries one number per name, so it grows with names (bounded by the cap)
// and only by the digits of each number with calls.

import { spawnSync } from 'node:child_process';
import { childEnv } from './startup.mjs';

const PROJECT = 'bench-report-size';
/** The default cap on distinct names per project (`maxNames`). */
const CAP = 2000;
export const NAMES = [1, 10, 100, 1000, CAP];
/** More names than the cap: the names past it go to the overflow counter. */
export const PAST_CAP = 10_000;
export const CALLS = [1, 1_000_000];

/**
 * The measured program: one telemetry (on, not a dry run) whose only transport keeps every report it
 * is given. For each number of calls per name and each number of names, it counts the names, flushes,
 * and measures the report the transport received as `httpTransport` sends it: `JSON.stringify`, UTF-8,
 * and gzipped with zlib's default level. Names are `Client00001#query` and so on, all 17 characters.
 * The names of one flush are still known to the next (a counter with nothing counted is left out of a
 * report), so that the cap applies across the whole run as it does in a long-running process.
 */
function program(distUrl) {
  return `import { gzipSync } from 'node:zlib';
const { createTelemetry } = await import(${JSON.stringify(distUrl)});
const captured = [];
const capture = { name: 'capture', send(r) { captured.push(r); return Promise.resolve({ kind: 'success' }); } };
const telemetry = createTelemetry({ project: ${JSON.stringify(PROJECT)}, version: '1.0.0', transports: [capture] });
if (!telemetry.status().enabled) process.exit(3);
const name = (i) => 'Client' + String(i).padStart(5, '0') + '#query';
const out = [];
for (const calls of ${JSON.stringify(CALLS)}) {
  for (const names of ${JSON.stringify([...NAMES, PAST_CAP])}) {
    for (let i = 0; i < names; i++) telemetry.count(name(i), calls);
    const sentBefore = captured.length;
    const result = await telemetry.flush();
    if (captured.length !== sentBefore + 1) process.exit(4);
    const report = captured[captured.length - 1];
    const json = Buffer.from(JSON.stringify(report), 'utf8');
    out.push({
      names,
      calls,
      status: result.status,
      level: report.level,
      reportNames: Object.keys(report.counts).length,
      reportCalls: Object.values(report.counts).reduce((a, b) => a + b, 0),
      overflow: report.dropped.overflow ?? 0,
      bytes: json.length,
      gzipBytes: gzipSync(json).length,
    });
  }
}
await telemetry.shutdown();
process.stdout.write(JSON.stringify(out));`;
}

export function reportSizeBench({ distUrl, home }) {
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', program(distUrl)], {
    env: childEnv(home, { TALLYHO_OPTIN: PROJECT }),
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    throw new Error(`report-size program exited with ${result.status ?? result.signal}: ${(result.stderr || '').trim().slice(0, 500)}`);
  }
  const samples = JSON.parse(result.stdout);
  const at = (names, calls) => samples.find((s) => s.names === names && s.calls === calls);
  const [few, many] = CALLS;
  const extraDigits = String(many).length - String(few).length;
  const one = at(1, few);
  const rows = [...NAMES, PAST_CAP].map((names) => {
    const a = at(names, few);
    const b = at(names, many);
    const counted = Math.min(names, CAP);
    return {
      names,
      reportNames: a.reportNames,
      overflow: { [few]: a.overflow, [many]: b.overflow },
      bytes: { [few]: a.bytes, [many]: b.bytes },
      gzipBytes: { [few]: a.gzipBytes, [many]: b.gzipBytes },
      // What each further name adds, from the one-name report; not for the row past the cap.
      bytesPerName: names === 1 || names > counted ? null : (a.bytes - one.bytes) / (names - 1),
      difference: b.bytes - a.bytes,
      expectedDifference: counted * extraDigits + (names > counted ? String((names - counted) * many).length - String(names - counted).length : 0),
    };
  });
  const checks = [];
  for (const s of samples) {
    const counted = Math.min(s.names, CAP);
    const ok = s.status === 'sent' && s.reportNames === counted && s.reportCalls === counted * s.calls && s.overflow === (s.names - counted) * s.calls;
    if (!ok) checks.push(`${s.names} names x ${s.calls} calls: UNEXPECTED report (${JSON.stringify(s)})`);
  }
  if (checks.length === 0) {
    checks.push(
      'every report was sent and counted its calls exactly: at most 2,000 names, the calls of names past the cap under dropped.overflow',
    );
  }
  const digitsOnly = rows.every((r) => r.difference === r.expectedDifference);
  checks.push(
    `${many.toLocaleString('en')} calls per name vs ${few}: ${digitsOnly ? 'every' : 'NOT every'} report is larger by exactly the extra digits ` +
      `(${extraDigits} per name, and those of the overflow count)`,
  );
  return { level: one.level, calls: CALLS, rows, samples, checks, stderr: result.stderr.trim() };
}
