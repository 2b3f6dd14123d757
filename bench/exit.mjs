// Part 3: what telemetry adds to the time a program takes to end. Rule: exit is never delayed by the
// network; at exit the report is written to the spool, and a detached sender is started only when a
// batch is due. Measured as the wall time of whole child processes (start to exit), interleaved,
// median of many runs, with the endpoint a server of this process that accepts connections and never
// answers (a black hole): with no batch due (the default hour-long batch, a fresh spool), and with a
// sender started (batch interval 0). Then the requests one project makes over 100 runs in one hour.

import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { pairedDifference, summarize, wallNs } from './lib/measure.mjs';
import { childEnv } from './startup.mjs';

const PROJECT = 'bench-exit';
const CALLS = 1000;
/** How long to wait for a detached sender to show up (lock file, connection) after its host ended. */
const SENDER_APPEAR_MS = 5000;
/** How long a sender talking to the healthy endpoint may take to finish by itself before it is stopped. */
const SENDER_FINISH_MS = 10000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The instrumented program: one tracked class, CALLS calls of one method, then a normal end. Its last
 * statement prints the wall clock (epoch ms), so that the run splits into before and after the end of
 * the program's own code: what follows is exit work only.
 */
function program(distUrl, endpoint, expectEnabled) {
  return `import { createTelemetry, httpTransport } from ${JSON.stringify(distUrl)};
const telemetry = createTelemetry({
  project: ${JSON.stringify(PROJECT)},
  version: '1.0.0',
  transports: [httpTransport(${JSON.stringify(endpoint)})],
});
if (telemetry.status().enabled !== ${expectEnabled}) process.exit(3);
class Client { query(n) { return n + 1; } }
const TrackedClient = telemetry.track()(Client) ?? Client;
const client = new TrackedClient();
let sum = 0;
for (let i = 0; i < ${CALLS}; i++) sum += client.query(i);
if (sum !== ${(CALLS * (CALLS + 1)) / 2}) process.exit(4);
process.stdout.write(String(performance.timeOrigin + performance.now()));`;
}

/** A TCP server that takes every connection and never answers; sockets stay open until `close()`. */
async function blackHole() {
  const sockets = new Set();
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    socket.resume(); // read and discard whatever is sent, never write
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

/** An HTTP server that answers every report with 200. */
async function healthy() {
  let reports = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.method === 'POST') reports++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/v1/reports`,
    contacts: () => reports,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * One run: spawn to exit and closed output, timed. The servers live in this process, so the child is
 * spawned asynchronously: they must answer (or not answer) while it runs.
 */
function runTimed(c, home) {
  return new Promise((resolve, reject) => {
    const t0 = wallNs();
    const child = spawn(process.execPath, c.args, { env: childEnv(home, c.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const t1 = wallNs();
      const closedAt = performance.timeOrigin + performance.now();
      const ms = (t1 - t0) / 1e6;
      const codeEnded = Number(stdout);
      if (code !== 0 || !Number.isFinite(codeEnded)) {
        reject(new Error(`exit case "${c.id}" ended with ${code ?? signal}: ${stderr.trim().slice(0, 500)}`));
      } else {
        resolve({ ms, tailMs: closedAt - codeEnded, stderr });
      }
    });
  });
}

/** Report files waiting in the spool of any project under `home` (not claims, drop files or the lock). */
function spooledReports(home) {
  const root = path.join(home, 'cache', 'spool');
  let n = 0;
  for (const name of safeReaddir(root)) {
    const dir = path.join(root, name);
    if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) continue;
    n += safeReaddir(dir).filter((f) => /^\d{13}-[0-9a-f-]{36}-\d+\.json$/.test(f)).length;
  }
  return n;
}

function safeReaddir(dir) {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function lockPid(home) {
  try {
    return JSON.parse(readFileSync(path.join(home, 'cache', 'spool', 'sender.lock'), 'utf8')).pid;
  } catch {
    return undefined;
  }
}

/** Whether `pid` is a live (not zombie) tallyho sender working on `home`; false when it cannot tell on Linux. */
function isSenderOf(pid, home) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z') return false;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('sender.js') && cmdline.includes(home);
  } catch (error) {
    if (error.code === 'ENOENT' || existsSync('/proc/self/stat')) return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * After a timed run (not timed): waits for the run's detached sender, proves it ran (its lock file, and
 * a connection or report at the endpoint), and makes sure it is gone before the next run. Against the
 * black hole it would wait out its watchdog, so it is stopped once it has connected; against the healthy
 * endpoint it finishes by itself.
 */
async function settleSender(c, home, contactsBefore) {
  const seen = { lock: false, contacted: false, killed: false, finished: false };
  let pid;
  const appearBy = Date.now() + SENDER_APPEAR_MS;
  while (Date.now() < appearBy) {
    pid ??= lockPid(home);
    if (pid !== undefined) seen.lock = true;
    seen.contacted = c.server.contacts() > contactsBefore;
    if (seen.contacted && (pid !== undefined || c.id === 'healthy')) break;
    await sleep(5);
  }
  if (c.id === 'healthy') {
    const finishBy = Date.now() + SENDER_FINISH_MS;
    while (Date.now() < finishBy && (lockPid(home) !== undefined || (pid !== undefined && isSenderOf(pid, home)))) await sleep(10);
  }
  pid ??= lockPid(home);
  if (pid !== undefined && isSenderOf(pid, home)) {
    process.kill(pid, 'SIGKILL');
    seen.killed = true;
    const goneBy = Date.now() + 5000;
    while (Date.now() < goneBy && isSenderOf(pid, home)) await sleep(5);
  } else if (pid !== undefined || seen.contacted) {
    seen.finished = true;
  }
  return seen;
}

export async function exitBench({ distUrl, tmp, runs }) {
  const hole = await blackHole();
  const ok = await healthy();
  const cases = [
    {
      id: 'off',
      label: '(a) telemetry off (DO_NOT_TRACK=1)',
      args: ['--input-type=module', '-e', program(distUrl, hole.url, false)],
      env: { TALLYHO_OPTIN: PROJECT, DO_NOT_TRACK: '1' },
    },
    {
      id: 'no-batch-due',
      label: '(b) on, black hole, no batch due (default interval): a file write',
      args: ['--input-type=module', '-e', program(distUrl, hole.url, true)],
      env: { TALLYHO_OPTIN: PROJECT },
      noSender: true,
    },
    {
      id: 'black-hole',
      label: '(c) on, black hole, batch due (interval 0): a sender starts',
      args: ['--input-type=module', '-e', program(distUrl, hole.url, true)],
      env: { TALLYHO_OPTIN: PROJECT, TALLYHO_BATCH_INTERVAL_SEC: '0' },
      server: hole,
    },
    {
      id: 'healthy',
      label: '(d) on, endpoint answers 200, interval 0 (reference)',
      args: ['--input-type=module', '-e', program(distUrl, ok.url, true)],
      env: { TALLYHO_OPTIN: PROJECT, TALLYHO_BATCH_INTERVAL_SEC: '0' },
      server: ok,
    },
  ];
  const noisy = {};
  try {
    // One unmeasured run of each in its own home. Its files, except the spool (cache/), seed every
    // measured run's fresh home, so that runs are not first runs (salt and the like exist, as on any
    // machine after its first run) and the spool starts empty.
    for (const c of cases) {
      c.template = mkdtempSync(path.join(tmp, `template-${c.id}-`));
      const before = c.server?.contacts() ?? 0;
      const { stderr } = await runTimed(c, c.template);
      c.tail = [];
      if (stderr.trim() !== '') noisy[`${c.id} (first run)`] = stderr.trim().split('\n')[0];
      if (c.server) await settleSender(c, c.template, before);
      rmSync(path.join(c.template, 'cache'), { recursive: true, force: true });
      Object.assign(c, { ms: [], spooled: 0, runsSpooled: 0, locks: 0, contacted: 0, killed: 0, finished: 0 });
    }
    for (let r = 0; r < runs; r++) {
      for (let j = 0; j < cases.length; j++) {
        const c = cases[(j + r) % cases.length];
        const home = mkdtempSync(path.join(tmp, `run-${c.id}-`));
        cpSync(c.template, home, { recursive: true });
        const before = c.server?.contacts() ?? 0;
        const { ms, tailMs, stderr } = await runTimed(c, home);
        c.ms.push(ms);
        c.tail.push(tailMs);
        if (stderr.trim() !== '') noisy[c.id] = stderr.trim().split('\n')[0];
        // Right after the host ended: the report it spooled (unless its sender was already that fast).
        const spooled = spooledReports(home);
        c.spooled += spooled;
        if (spooled > 0) c.runsSpooled++;
        if (c.noSender) {
          // No batch due: the report waits on disk, and no sender was started.
          if (lockPid(home) !== undefined) c.locks++;
        } else if (c.server) {
          const seen = await settleSender(c, home, before);
          if (seen.lock) c.locks++;
          if (seen.contacted) c.contacted++;
          if (seen.killed) c.killed++;
          if (seen.finished) c.finished++;
        } else if (existsSync(path.join(home, 'cache', 'spool'))) {
          c.offWroteSpool = true;
        }
        rmSync(home, { recursive: true, force: true });
      }
    }
  } finally {
    await hole.close();
    await ok.close();
    for (const c of cases) if (c.template) rmSync(c.template, { recursive: true, force: true });
  }
  const off = cases[0];
  const rows = cases.map((c) => ({
    id: c.id,
    label: c.label,
    ms: summarize(c.ms),
    minusOffMs: pairedDifference(c.ms, off.ms),
    // From the end of the program's code to the process gone (clocks of two processes: ~0.1 ms).
    exitTailMs: summarize(c.tail),
    exitTailMinusOffMs: pairedDifference(c.tail, off.tail),
    // From spawn to the end of the program's code: start-up, import, createTelemetry, the calls.
    beforeEndMinusOffMs: pairedDifference(
      c.ms.map((v, i) => v - c.tail[i]),
      off.ms.map((v, i) => v - off.tail[i]),
    ),
    runs: c.ms.length,
    senders:
      c.id === 'off'
        ? { spoolWritten: c.offWroteSpool === true }
        : c.noSender
        ? { runsWithReportSpooledAtExit: c.runsSpooled, reportsSpooledAtExit: c.spooled, lockFilesSeen: c.locks, noSender: true }
        : {
            runsWithReportSpooledAtExit: c.runsSpooled,
            reportsSpooledAtExit: c.spooled,
            lockFilesSeen: c.locks,
            endpointContacted: c.contacted,
            stoppedAfterConnecting: c.killed,
            finishedByThemselves: c.finished,
          },
  }));
  const batches = await requestsPerHour({ distUrl, tmp });
  return { calls: CALLS, rows, stderr: noisy, batches };
}

/** A module for `node --import`: this process's clock runs `shift` ms off, so a run can happen "earlier". */
const clockShift = (shift) => `data:text/javascript,${encodeURIComponent(`const now = Date.now; Date.now = () => now() + ${shift};`)}`;

/**
 * Requests one project makes over 100 runs in one hour, with the default batch interval: the runs are
 * spread evenly over the hour by shifting each run's clock (the first an hour ago, the last now), into
 * one home, against a healthy endpoint; the detached sender runs on the real clock. Not timed.
 */
async function requestsPerHour({ distUrl, tmp, runs = 100 }) {
  const server = await healthy();
  const home = mkdtempSync(path.join(tmp, 'batches-'));
  const senders = [];
  try {
    for (let i = 0; i < runs; i++) {
      const shift = -Math.round(3_600_000 * (1 - i / (runs - 1)));
      const c = { id: `batch-run-${i}`, args: ['--import', clockShift(shift), '--input-type=module', '-e', program(distUrl, server.url, true)], env: { TALLYHO_OPTIN: PROJECT } };
      await runTimed(c, home);
      const pid = lockPid(home);
      if (pid !== undefined) senders.push(pid);
    }
    // The last run found the batch due: wait for its sender to deliver and go.
    const doneBy = Date.now() + SENDER_FINISH_MS;
    while (Date.now() < doneBy && (server.contacts() === 0 || lockPid(home) !== undefined)) await sleep(20);
    return { runs, intervalSec: 3600, requests: server.contacts(), sendersSeen: new Set(senders).size, waitingAfter: spooledReports(home) };
  } finally {
    await server.close();
    rmSync(home, { recursive: true, force: true });
  }
}
