// Part 2b: what a library's users pay for tallyho on every run of a short command-line program, as
// whole processes (spawn to exit), in alternating pairs with the same program importing an empty
// module instead. Two rows, each with its target:
//
//   whole short run   import, createTelemetry, one tracked class, one call, exit (the report is built
//                     and spooled at exit; black-hole endpoint; no batch due, so no sender starts)
//   start-up alone    import, createTelemetry, one tracked class (nothing counted: exit does nothing)
//
// Each pair runs its two programs back to back, in alternating order; a row's figure is the median of
// the pairs' ratios (or differences). The same machinery measures other telemetry libraries for the
// peers table (bench/peers.mjs).

import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { pairedDifference, pairedRatio, summarize, wallNs } from './lib/measure.mjs';
import { childEnv } from './startup.mjs';

export const PROJECT = 'bench-short';
/** Targets: whole short run at most this ratio to the empty-module program; start-up alone at most this many ms over it. */
export const TARGET_SHORT_RUN_RATIO = 1.15;
export const TARGET_STARTUP_ALONE_MS = 5;

/** A TCP server that takes every connection and never answers (nothing in these runs should reach it). */
export async function blackHole() {
  let connections = 0;
  const sockets = new Set();
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    socket.resume();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/v1/reports`,
    contacts: () => connections,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * The program's own part, the same in every variant: one class, one call whose result is used. `tracked`
 * is how the variant wraps the class (or counts the call) and `head` what it imports and sets up.
 */
export function shortProgram({ head, wrap = 'Client', inCall = '', tail = '', call = true }) {
  return `${head}
class Client { query(sql) { ${inCall} return sql.length; } }
const Used = ${wrap};
${call ? "if (new Used().query('select 1') !== 8) process.exit(4);" : ''}
${tail}`;
}

/** tallyho's variants of the program. */
export function tallyhoPrograms(distUrl, endpoint, emptyUrl) {
  const head = `import { createTelemetry, httpTransport } from ${JSON.stringify(distUrl)};
const telemetry = createTelemetry({ project: ${JSON.stringify(PROJECT)}, version: '1.0.0', transports: [httpTransport(${JSON.stringify(endpoint)})] });
if (!telemetry.status().enabled) process.exit(3);`;
  const empty = `import ${JSON.stringify(emptyUrl)};`;
  return {
    emptyRun: shortProgram({ head: empty }),
    tallyhoRun: shortProgram({ head, wrap: 'telemetry.track()(Client) ?? Client' }),
    emptyStart: shortProgram({ head: empty, call: false }),
    tallyhoStart: shortProgram({ head, wrap: 'telemetry.track()(Client) ?? Client', call: false }),
  };
}

/** The environment of tallyho's runs: on, no batch due (reports wait on disk), nothing printed. */
export const TALLYHO_ENV = { TALLYHO_OPTIN: PROJECT, TALLYHO_BATCH_INTERVAL_SEC: '3600' };

function lockPid(home) {
  try {
    return JSON.parse(readFileSync(path.join(home, 'cache', 'spool', 'sender.lock'), 'utf8')).pid;
  } catch {
    return undefined;
  }
}

/** Runs one program to its end; resolves with its wall time in ms. */
export function runTimed(source, home, env, cwd) {
  return new Promise((resolve, reject) => {
    const t0 = wallNs();
    const child = spawn(process.execPath, ['--input-type=module', '-e', source], { env: childEnv(home, env), stdio: ['ignore', 'ignore', 'pipe'], cwd });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const ms = (wallNs() - t0) / 1e6;
      if (code !== 0) reject(new Error(`program ended with ${code ?? signal}: ${stderr.trim().slice(0, 500)}`));
      else resolve({ ms, stderr });
    });
  });
}

/**
 * Alternating pairs of `base` and `subject` ({ source, env }), each run in a fresh copy of a home that
 * one unmeasured run of each has seeded (salt, known projects: not a first run). After each run, a
 * sender it may have started (before reports waited for their batch) is stopped and counted, so that
 * it does not slow the next run. Returns both series and the paired ratio and difference.
 */
export async function pairs({ base, subject, runs, tmp, cwd }) {
  const template = mkdtempSync(path.join(tmp, 'template-'));
  const stray = { senders: 0 };
  const homes = [];
  const once = async (c) => {
    const home = mkdtempSync(path.join(tmp, 'run-'));
    homes.push(home);
    cpSync(template, home, { recursive: true });
    const { ms, stderr } = await runTimed(c.source, home, c.env, cwd);
    // A run that counted may start a sender (until reports wait for their batch): it writes its lock
    // within moments of starting, and is stopped before the next run (not timed).
    for (let i = 0; i < 150 && c.counts; i++) {
      const pid = lockPid(home);
      if (pid !== undefined) {
        stray.senders++;
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    if (stderr.trim() !== '') stray.stderr = stderr.trim().split('\n')[0];
    return ms;
  };
  await runTimed(base.source, template, base.env, cwd);
  await runTimed(subject.source, template, subject.env, cwd);
  rmSync(path.join(template, 'cache', 'spool'), { recursive: true, force: true });
  const baseMs = [];
  const subjectMs = [];
  for (let r = 0; r < runs; r++) {
    if (r % 2 === 0) {
      baseMs.push(await once(base));
      subjectMs.push(await once(subject));
    } else {
      subjectMs.push(await once(subject));
      baseMs.push(await once(base));
    }
  }
  for (const dir of [template, ...homes]) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
    } catch {
      // a stopped sender's last write; the bench's temporary folder goes at the end
    }
  }
  return {
    baseMs: summarize(baseMs),
    subjectMs: summarize(subjectMs),
    ratio: pairedRatio(subjectMs, baseMs),
    addedMs: pairedDifference(subjectMs, baseMs),
    stray,
  };
}

/** The two rows of `npm run bench`, with their targets. */
export async function shortRunBench({ distUrl, tmp, runs }) {
  const hole = await blackHole();
  const empty = path.join(tmp, 'empty.mjs');
  writeFileSync(empty, '');
  const programs = tallyhoPrograms(distUrl, hole.url, pathToFileURL(empty).href);
  try {
    const run = await pairs({
      base: { source: programs.emptyRun, env: {} },
      subject: { source: programs.tallyhoRun, env: TALLYHO_ENV, counts: true },
      runs,
      tmp,
    });
    const start = await pairs({
      base: { source: programs.emptyStart, env: {} },
      subject: { source: programs.tallyhoStart, env: TALLYHO_ENV },
      runs,
      tmp,
    });
    return {
      rows: [
        {
          id: 'short-run',
          label: 'whole short run (import, create, one tracked class, one call, exit)',
          ...run,
          target: { maxRatio: TARGET_SHORT_RUN_RATIO, pass: run.ratio.median <= TARGET_SHORT_RUN_RATIO },
        },
        {
          id: 'startup-alone',
          label: 'start-up alone (import, create, define one tracked class)',
          ...start,
          target: { maxAddedMs: TARGET_STARTUP_ALONE_MS, pass: start.addedMs.median <= TARGET_STARTUP_ALONE_MS },
        },
      ],
      endpointContacts: hole.contacts(),
    };
  } finally {
    await hole.close();
  }
}
