// `npm run bench`: per-call cost of a tracked method, start-up cost of tallyho, exit latency, heap memory
// per tracked method and per counted name, and report size. Prints a table and writes
// bench/results/latest.json. See bench/README.md for what each row measures.
//
// Settings (environment):
//   BENCH_QUICK=1           smoke run: few rounds, short runs (numbers are not for conclusions)
//   BENCH_ROUNDS=N          interleaved rounds of the per-call part (default 21)
//   BENCH_ROUND_MS=N        CPU time of one case in one round, in ms (default 10)
//   BENCH_STARTUP_RUNS=N    runs of each start-up case (default 25)
//   BENCH_EXIT_RUNS=N       runs of each exit-latency case (default 25)
//   BENCH_MEMORY_RUNS=N     runs of each memory case (default 5)
//   BENCH_VARIANTS=0        skip the wrapper variants (investigation rows)
//   BENCH_SHORT_RUNS=N      pairs of each short-run row (default 25)
//   BENCH_PARTS=per-call,short-run,startup,exit,memory,report-size   which parts to run (default all)
//   BENCH_STRICT=1          exit with status 1 when a target is missed

import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { exitBench } from './exit.mjs';
import { memoryBench } from './memory.mjs';
import { perCallBench } from './per-call.mjs';
import { reportSizeBench } from './report-size.mjs';
import { shortRunBench } from './short-run.mjs';
import { startupBench } from './startup.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const dist = path.join(root, 'dist', 'index.js');

const TARGET_RATIO = 1.5;
/** A timed call may cost its two clock reads and this much more (issue: "signals"). */
const TIMED_MARGIN_NS = 5;
/** An instrumented plain function against a decorated method. */
const INSTRUMENT_RATIO = 1.1;
const TARGET_STARTUP_MS = 15;
const TARGET_EXIT_MS = 10;
const TARGET_EXIT_NO_BATCH_MS = 3;
const TARGET_REQUESTS_PER_HOUR = 1;

function intSetting(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive whole number, not "${raw}"`);
  return value;
}

const quick = process.env.BENCH_QUICK === '1';
const settings = {
  quick,
  rounds: intSetting('BENCH_ROUNDS', quick ? 5 : 21),
  roundMs: intSetting('BENCH_ROUND_MS', quick ? 3 : 10),
  warmups: quick ? 1 : 2,
  startupRuns: intSetting('BENCH_STARTUP_RUNS', quick ? 5 : 25),
  shortRuns: intSetting('BENCH_SHORT_RUNS', quick ? 5 : 25),
  exitRuns: intSetting('BENCH_EXIT_RUNS', quick ? 5 : 25),
  memoryRuns: intSetting('BENCH_MEMORY_RUNS', quick ? 2 : 5),
  variants: process.env.BENCH_VARIANTS !== '0',
  parts: (process.env.BENCH_PARTS ?? 'per-call,short-run,startup,exit,memory,report-size').split(',').map((p) => p.trim()),
};

const fmtNs = (v) => (v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0));
const fmtMs = (v) => v.toFixed(1);
const fmtRatio = (v) => (v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0));
const fmtInt = (v) => Math.round(v).toLocaleString('en');
const fmtSigned = (v) => `${v >= 0 ? '+' : '-'}${fmtInt(Math.abs(v))}`;
const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);

function printPerCall(result) {
  const lines = [];
  const heading = (title) => {
    lines.push('', title);
    lines.push(`  ${pad('row', 66)}${lpad('ns/call', 9)}${lpad('q1-q3', 15)}${lpad('wall ns', 9)}${lpad('x base', 8)}`);
  };
  const row = (r) =>
    lines.push(
      `  ${pad(r.label, 66)}${lpad(fmtNs(r.cpuNs.median), 9)}${lpad(`${fmtNs(r.cpuNs.q1)}-${fmtNs(r.cpuNs.q3)}`, 15)}` +
        `${lpad(fmtNs(r.wallNs.median), 9)}${lpad(fmtRatio(r.ratio.median), 8)}`,
    );
  heading('Per call: empty method body `m(x) {}` in a hot loop; base = (a) bare method');
  for (const r of result.rows.filter((x) => x.group === 'main')) row(r);
  heading('Construction: `new C(i)`, constructor stores one field; base = (e)');
  for (const r of result.rows.filter((x) => x.group === 'construct')) row(r);
  heading('Durations and instrument(): the same loop; base = (a) bare method');
  for (const r of result.rows.filter((x) => x.group === 'signals')) row(r);
  const variants = result.rows.filter((x) => x.group === 'variant');
  if (variants.length > 0) {
    heading("Where the cost goes: variants of tallyho's wrapper (copies in bench/variants.mjs); base = (a)");
    for (const r of variants) row(r);
  }
  return lines;
}

function printStartup(result) {
  const lines = ['', 'Start-up: wall time of a whole child process, start to exit; added = median of per-run differences to `node -e \'\'`'];
  lines.push(`  ${pad('program', 66)}${lpad('median ms', 10)}${lpad('q1-q3', 14)}${lpad('added ms', 10)}`);
  for (const r of result.rows) {
    lines.push(
      `  ${pad(r.label, 66)}${lpad(fmtMs(r.ms.median), 10)}${lpad(`${fmtMs(r.ms.q1)}-${fmtMs(r.ms.q3)}`, 14)}` +
        `${lpad(r.id === 'bare' ? '-' : `${r.addedMs.median >= 0 ? '+' : ''}${fmtMs(r.addedMs.median)}`, 10)}`,
    );
  }
  const p = result.phases;
  lines.push(
    `  inside the "on" program (median of ${p.importMs.n} more runs): node ready after ${fmtMs(p.bootMs.median)} ms, ` +
      `import(dist/index.js) ${fmtMs(p.importMs.median)} ms, createTelemetry + track() ${fmtMs(p.createMs.median)} ms`,
  );
  return lines;
}

function printShortRun(result) {
  const lines = ['', 'Short run vs the same program importing an empty module instead (whole processes, alternating pairs; NODE_EXTRA_CA_CERTS unset)'];
  lines.push(`  ${pad('row', 70)}${lpad('empty ms', 9)}${lpad('tallyho', 9)}${lpad('x empty', 9)}${lpad('+ms', 7)}  target`);
  for (const r of result.rows) {
    const target = r.target.maxRatio !== undefined ? `<= ${r.target.maxRatio.toFixed(2)}x` : `<= +${r.target.maxAddedMs} ms`;
    lines.push(
      `  ${pad(r.label, 70)}${lpad(fmtMs(r.baseMs.median), 9)}${lpad(fmtMs(r.subjectMs.median), 9)}${lpad(fmtRatio(r.ratio.median), 9)}` +
        `${lpad(fmtMs(r.addedMs.median), 7)}  ${target} ${r.target.pass ? 'PASS' : 'FAIL'}`,
    );
    if (r.stray.senders > 0) lines.push(`    note: ${r.stray.senders} runs started a detached sender (stopped before the next run)`);
    if (r.stray.stderr) lines.push(`    note: printed to stderr: ${r.stray.stderr}`);
  }
  if (result.endpointContacts > 0) lines.push(`  note: the black-hole endpoint was contacted ${result.endpointContacts} times`);
  return lines;
}

function printExit(result) {
  const lines = [
    '',
    `Exit latency: wall time of a whole child process (import, createTelemetry with httpTransport, one tracked class, ${result.calls} calls, normal end);`,
    '  minus off = median of per-run differences to (a); every run has a fresh TALLYHO_HOME',
  ];
  lines.push(`  ${pad('program', 66)}${lpad('median ms', 10)}${lpad('q1-q3', 14)}${lpad('minus off', 10)}`);
  for (const r of result.rows) {
    lines.push(
      `  ${pad(r.label, 66)}${lpad(fmtMs(r.ms.median), 10)}${lpad(`${fmtMs(r.ms.q1)}-${fmtMs(r.ms.q3)}`, 14)}` +
        `${lpad(r.id === 'off' ? '-' : `${r.minusOffMs.median >= 0 ? '+' : ''}${fmtMs(r.minusOffMs.median)}`, 10)}`,
    );
  }
  const byId = Object.fromEntries(result.rows.map((r) => [r.id, r]));
  const signed = (v) => `${v >= 0 ? '+' : ''}${fmtMs(v)}`;
  lines.push(
    '  Split at the end of the program\'s own code (it prints the clock last; minus off as above):',
    ...result.rows
      .filter((r) => r.id !== 'off')
      .map(
        (r) =>
          `    ${r.id}: before the end ${signed(r.beforeEndMinusOffMs.median)} ms (start-up, createTelemetry, calls); ` +
          `after it ${signed(r.exitTailMinusOffMs.median)} ms (exit work: ${fmtMs(r.exitTailMs.median)} ms vs ${fmtMs(byId.off.exitTailMs.median)} ms off)`,
      ),
  );
  lines.push('  Spool path, per row (counted outside the timed part):');
  for (const r of result.rows) {
    const s = r.senders;
    if (r.id === 'off') {
      lines.push(`    ${r.id}: ${s.spoolWritten ? 'WROTE A SPOOL (should not)' : 'no spool written, no sender'}`);
      continue;
    }
    if (s.noSender) {
      lines.push(`    ${r.id}: report written at exit in ${s.runsWithReportSpooledAtExit}/${r.runs} runs; sender lock seen ${s.lockFilesSeen}/${r.runs} (should be 0)`);
      continue;
    }
    lines.push(
      `    ${r.id}: report spooled at exit in ${s.runsWithReportSpooledAtExit}/${r.runs} runs (${s.reportsSpooledAtExit} files); ` +
        `detached senders: lock seen ${s.lockFilesSeen}/${r.runs}, reached the endpoint ${s.endpointContacted}/${r.runs}, ` +
        `stopped ${s.stoppedAfterConnecting}, ended by themselves ${s.finishedByThemselves}`,
    );
  }
  return lines;
}

function printMemory(result) {
  const lines = [
    '',
    `Memory: heap used after gc (process.memoryUsage().heapUsed, child processes with --expose-gc), growth from just before`,
    `  the classes or names were made; median of ${result.runs} runs`,
  ];
  lines.push(`  ${pad('case', 66)}${lpad('growth bytes', 14)}${lpad('min-max', 24)}${lpad('bytes each', 12)}`);
  const row = (r) =>
    lines.push(
      `  ${pad(r.label, 66)}${lpad(fmtInt(r.bytes.median), 14)}${lpad(`${fmtInt(r.bytes.min)}-${fmtInt(r.bytes.max)}`, 24)}` +
        `${lpad(r.bytesPerItem === null ? '-' : r.bytesPerItem.median.toFixed(1), 12)}`,
    );
  const [plain, tracked, ...names] = result.rows;
  row(plain);
  row(tracked);
  const t = result.tracked;
  lines.push(
    `  Tracked minus plain: ${fmtSigned(t.bytes.median)} bytes in all, ${t.bytesPerTrackedMethod.median.toFixed(1)} bytes per tracked method ` +
      `(q1-q3 ${t.bytesPerTrackedMethod.q1.toFixed(1)}-${t.bytesPerTrackedMethod.q3.toFixed(1)});`,
    "    each is a class with one method: the class's stand-in and `new` counter, the method's wrapper and counter",
  );
  for (const r of names) row(r);
  const p = result.pastCap;
  lines.push(
    `  Past the cap: (c2) - (c1) = ${fmtSigned(p.bytes.median)} bytes for ${fmtInt(p.extraNames)} more names ` +
      `(${p.bytesPerExtraName.median.toFixed(1)} per name); (c3) - (c1) = ${fmtSigned(p.farBytes.median)} bytes for ` +
      `${fmtInt(p.farExtraNames)} more (${(p.farBytes.median / p.farExtraNames).toFixed(1)} per name)`,
  );
  lines.push('Checks:', ...result.checks.map((c) => `  ${c}`));
  for (const [id, text] of Object.entries(result.stderr)) lines.push(`  note: "${id}" printed to stderr: ${text}`);
  return lines;
}

function printReportSize(result) {
  const [few, many] = result.calls.map((c) => c.toLocaleString('en'));
  const lines = [
    '',
    `Report size: one report as sent (JSON.stringify, UTF-8; level ${result.level}) and gzipped (zlib's default level, as httpTransport`,
    '  sends bodies over 1,024 bytes), against the names counted (`Client00001#query`...) and the calls counted per name',
  ];
  lines.push(
    `  ${pad('names', 28)}${lpad(`${few} call each: JSON`, 22)}${lpad('gzip', 8)}${lpad('per name', 10)}` +
      `${lpad(`${many} calls each: JSON`, 30)}${lpad('gzip', 8)}${lpad('difference', 12)}`,
  );
  for (const r of result.rows) {
    const label = r.names > r.reportNames ? `${fmtInt(r.names)} (${fmtInt(r.names - r.reportNames)} past the cap)` : fmtInt(r.names);
    lines.push(
      `  ${pad(label, 28)}${lpad(fmtInt(r.bytes[result.calls[0]]), 22)}${lpad(fmtInt(r.gzipBytes[result.calls[0]]), 8)}` +
        `${lpad(r.bytesPerName === null ? '-' : r.bytesPerName.toFixed(1), 10)}` +
        `${lpad(fmtInt(r.bytes[result.calls[1]]), 30)}${lpad(fmtInt(r.gzipBytes[result.calls[1]]), 8)}${lpad(fmtSigned(r.difference), 12)}`,
    );
  }
  lines.push('  per name: what each name adds to the one-name report; difference: JSON bytes, many calls minus one call per name');
  lines.push('Checks:', ...result.checks.map((c) => `  ${c}`));
  if (result.stderr !== '') lines.push(`  note: the program printed to stderr: ${result.stderr.split('\n')[0]}`);
  return lines;
}

async function main() {
  if (!existsSync(dist)) throw new Error(`${path.relative(root, dist)} is missing: run \`npm run build\` first`);
  const distUrl = pathToFileURL(dist).href;
  const started = Date.now();
  const load = [os.loadavg()];
  const cpus = os.cpus();
  const machine = {
    node: process.version,
    v8: process.versions.v8,
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    platform: `${os.platform()} ${os.release()}`,
  };
  const out = [];
  out.push(`tallyho benchmark: node ${machine.node}, ${machine.cores} x ${machine.cpu}`);
  out.push(
    `settings: ${settings.rounds} rounds x ${settings.roundMs} ms per case, ${settings.startupRuns} start-up runs per case, ${settings.exitRuns} exit runs per case, ` +
      `${settings.memoryRuns} memory runs per case` +
      `${quick ? ' (BENCH_QUICK: a smoke run, not for conclusions)' : ''}; load average ${load[0].map((l) => l.toFixed(1)).join(' ')}`,
  );
  console.log(out.join('\n'));

  const home = mkdtempSync(path.join(os.tmpdir(), 'tallyho-bench-'));
  const verdicts = [];
  const results = { machine, settings, date: new Date(started).toISOString() };
  try {
    if (settings.parts.includes('per-call')) {
      const perCall = await perCallBench({ distUrl, home: path.join(home, 'per-call'), settings });
      results.perCall = perCall;
      const lines = printPerCall(perCall);
      const on = perCall.rows.find((r) => r.id === 'on');
      const pass = on.ratio.median <= TARGET_RATIO;
      verdicts.push(pass);
      results.perCall.target = { row: 'on', maxRatio: TARGET_RATIO, ratio: on.ratio.median, pass };
      lines.push(
        '',
        `Target: (b) tracked call <= ${TARGET_RATIO.toFixed(2)}x (a) bare: ${fmtRatio(on.ratio.median)}x ` +
          `(+${fmtNs(on.cpuNs.median - perCall.rows.find((r) => r.id === 'bare').cpuNs.median)} ns per call)  ${pass ? 'PASS' : 'FAIL'}`,
      );
      // A timed call costs what an untimed one does, plus its two clock reads, plus at most 5 ns.
      const ns = (id) => perCall.rows.find((r) => r.id === id).cpuNs.median;
      const clockNs = ns('clock') - ns('bare');
      const timedExtra = ns('timed') - ns('untimed');
      const timedPass = timedExtra <= 2 * clockNs + TIMED_MARGIN_NS;
      const inst = perCall.rows.find((r) => r.id === 'inst-fn');
      const instRatio = ns('inst-fn') / ns('untimed');
      const instPass = instRatio <= INSTRUMENT_RATIO;
      verdicts.push(timedPass, instPass);
      results.perCall.signalTargets = { clockNs, timedExtraNs: timedExtra, timedPass, instrumentRatio: instRatio, instrumentPass: instPass, instrumentRow: inst.id };
      lines.push(
        `Target: (h) timed - (g) untimed <= 2 clock reads + ${TIMED_MARGIN_NS} ns: ${fmtNs(timedExtra)} ns against 2 x ${fmtNs(clockNs)} + ${TIMED_MARGIN_NS} ns  ${timedPass ? 'PASS' : 'FAIL'}`,
        `Target: (j) instrumented plain function <= ${INSTRUMENT_RATIO.toFixed(2)}x (g) decorated method, same table: ${fmtRatio(instRatio)}x  ${instPass ? 'PASS' : 'FAIL'}`,
      );
      lines.push('Checks:', ...perCall.checks.map((c) => `  ${c}`), ...perCall.notes.map((n) => `  ${n}`));
      out.push(...lines);
      console.log(lines.join('\n'));
    }
    if (settings.parts.includes('short-run')) {
      const shortHome = path.join(home, 'short-run');
      mkdirSync(shortHome, { recursive: true });
      const shortRun = await shortRunBench({ distUrl, tmp: shortHome, runs: settings.shortRuns });
      results.shortRun = shortRun;
      for (const r of shortRun.rows) verdicts.push(r.target.pass);
      const lines = printShortRun(shortRun);
      out.push(...lines);
      console.log(lines.join('\n'));
    }
    if (settings.parts.includes('startup')) {
      const startHome = path.join(home, 'startup');
      mkdirSync(startHome, { recursive: true });
      const startup = startupBench({ distUrl, home: startHome, runs: settings.startupRuns });
      results.startup = startup;
      const lines = printStartup(startup);
      const on = startup.rows.find((r) => r.id === 'on');
      const pass = on.addedMs.median <= TARGET_STARTUP_MS;
      verdicts.push(pass);
      results.startup.target = { row: 'on', maxAddedMs: TARGET_STARTUP_MS, addedMs: on.addedMs.median, pass };
      lines.push('', `Target: start-up with telemetry on adds <= ${TARGET_STARTUP_MS} ms: +${fmtMs(on.addedMs.median)} ms  ${pass ? 'PASS' : 'FAIL'}`);
      const esm = startup.rows.find((r) => r.id === 'esm-file');
      const overEsm = on.overEsmFileMs.median;
      lines.push(`  of which Node's ESM loader (the empty-file row): +${fmtMs(esm.addedMs.median)} ms; "on" minus that row: +${fmtMs(overEsm)} ms`);
      for (const [id, text] of Object.entries(startup.firstRunOutput)) lines.push(`  first run of "${id}" printed: ${text}`);
      for (const [id, text] of Object.entries(startup.stderr)) lines.push(`  note: "${id}" printed to stderr on later runs: ${text}`);
      out.push(...lines);
      console.log(lines.join('\n'));
    }
    if (settings.parts.includes('exit')) {
      const exitHome = path.join(home, 'exit');
      mkdirSync(exitHome, { recursive: true });
      const exit = await exitBench({ distUrl, tmp: exitHome, runs: settings.exitRuns });
      results.exit = exit;
      const lines = printExit(exit);
      const hole = exit.rows.find((r) => r.id === 'black-hole');
      const quiet = exit.rows.find((r) => r.id === 'no-batch-due');
      const pass = hole.minusOffMs.median <= TARGET_EXIT_MS;
      const passQuiet = quiet.minusOffMs.median <= TARGET_EXIT_NO_BATCH_MS;
      const { batches } = exit;
      const passRequests = batches.requests === TARGET_REQUESTS_PER_HOUR;
      verdicts.push(pass, passQuiet, passRequests);
      results.exit.target = { row: 'black-hole', maxMinusOffMs: TARGET_EXIT_MS, minusOffMs: hole.minusOffMs.median, pass };
      results.exit.targetNoBatch = { row: 'no-batch-due', maxMinusOffMs: TARGET_EXIT_NO_BATCH_MS, minusOffMs: quiet.minusOffMs.median, pass: passQuiet };
      results.exit.targetRequests = { max: TARGET_REQUESTS_PER_HOUR, requests: batches.requests, pass: passRequests };
      const signedMs = (v) => `${v >= 0 ? '+' : ''}${fmtMs(v)}`;
      lines.push(
        '',
        `Batches: ${batches.runs} runs spread over one hour (clocks shifted), default interval ${batches.intervalSec} s, one home, healthy endpoint:`,
        `  ${batches.requests} request(s) reached the endpoint; ${batches.sendersSeen} sender(s) seen; ${batches.waitingAfter} report(s) left waiting`,
        '',
        `Target: exit with telemetry on, black hole, no batch due, minus off <= ${TARGET_EXIT_NO_BATCH_MS} ms: ${signedMs(quiet.minusOffMs.median)} ms  ${passQuiet ? 'PASS' : 'FAIL'}`,
        `Target: exit with telemetry on, black hole, a sender started, minus off <= ${TARGET_EXIT_MS} ms: ${signedMs(hole.minusOffMs.median)} ms  ${pass ? 'PASS' : 'FAIL'}`,
        `Target: requests per project over ${batches.runs} runs in one hour = ${TARGET_REQUESTS_PER_HOUR}: ${batches.requests}  ${passRequests ? 'PASS' : 'FAIL'}`,
      );
      for (const [id, text] of Object.entries(exit.stderr)) lines.push(`  note: "${id}" printed to stderr: ${text}`);
      out.push(...lines);
      console.log(lines.join('\n'));
    }
    if (settings.parts.includes('memory')) {
      const memoryHome = path.join(home, 'memory');
      mkdirSync(memoryHome, { recursive: true });
      const memory = memoryBench({ distUrl, home: memoryHome, runs: settings.memoryRuns });
      results.memory = memory;
      const lines = printMemory(memory);
      out.push(...lines);
      console.log(lines.join('\n'));
    }
    if (settings.parts.includes('report-size')) {
      const sizeHome = path.join(home, 'report-size');
      mkdirSync(sizeHome, { recursive: true });
      const reportSize = reportSizeBench({ distUrl, home: sizeHome });
      results.reportSize = reportSize;
      const lines = printReportSize(reportSize);
      out.push(...lines);
      console.log(lines.join('\n'));
    }
  } finally {
    rmSync(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
  }
  load.push(os.loadavg());
  results.loadAverage = { start: load[0], end: load[1] };
  results.durationSec = (Date.now() - started) / 1000;
  const tail = `\nload average at the end ${load[1].map((l) => l.toFixed(1)).join(' ')}; took ${results.durationSec.toFixed(0)} s`;
  console.log(tail);
  out.push(tail);

  const resultsDir = path.join(here, 'results');
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(path.join(resultsDir, 'latest.json'), `${JSON.stringify({ ...results, table: out.join('\n') }, null, 2)}\n`);
  if (process.env.BENCH_STRICT === '1' && verdicts.includes(false)) process.exitCode = 1;
}

await main();
