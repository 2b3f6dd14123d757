import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/report.js';
import { closedPort, type Receiver, startReceiver, type Answer } from '../fixtures/delivery/receiver.js';
import { caseOwner, NOBODY, readableCopy } from '../fixtures/unprivileged/run.js';
import { type Receiver as HttpReceiver, startReceiver as startOtlpReceiver } from '../transports/receiver.js';

const PROJECT = 'delivery-fixture';
const fixture = fileURLToPath(new URL('../fixtures/delivery/host.mjs', import.meta.url));
const clock = new URL('../fixtures/delivery/clock.mjs', import.meta.url).href;
const dist = fileURLToPath(new URL('../../dist/', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'tallyho-delivery-'));
afterAll(() => {
  // A read-only home left behind must not stop the clean-up.
  for (const dir of readdirSync(root)) chmodSync(join(root, dir), 0o700);
  rmSync(root, { recursive: true, force: true });
});

const receivers: Receiver[] = [];
async function receiver(answer?: (n: number) => Answer, port?: number): Promise<Receiver> {
  const r = await startReceiver(answer, port);
  receivers.push(r);
  return r;
}
const otlpReceivers: HttpReceiver[] = [];
// Tests run concurrently: receivers are closed once all are done.
afterAll(async () => {
  await Promise.all([...receivers.splice(0), ...otlpReceivers.splice(0)].map((r) => r.close()));
});

/** What one run of the host counts with FIXTURE_CALLS=calls: see test/fixtures/delivery/host.mjs. */
const hostCounts = (calls = 3) => ({ 'new Client': 1, 'Client#query': calls, 'feature.export': 2 });

let homes = 0;
function newHome(): string {
  const home = join(root, String(homes++));
  mkdirSync(home);
  return home;
}

const spoolDir = (home: string) => join(home, 'cache', 'spool', PROJECT);
const ENTRY = /^\d{13}-[0-9a-f-]{36}-\d+\.json$/;

function spoolNames(home: string): string[] {
  try {
    return readdirSync(spoolDir(home));
  } catch {
    return [];
  }
}
const waiting = (home: string) => spoolNames(home).filter((n) => ENTRY.test(n));
/** Records of how runs ended that reported everything before their end, waiting for the next report. */
const runEnds = (home: string) => spoolNames(home).filter((n) => /^runs-[0-9a-f-]{36}\.json$/.test(n));
const claimed = (home: string) => spoolNames(home).filter((n) => n.includes('.claim-'));
const readEntry = (home: string, name: string) =>
  JSON.parse(readFileSync(join(spoolDir(home), name), 'utf8')) as { report: Report; attempts: number; nextAttemptAt: number };

/**
 * The explicit environment of every child: never the test runner's, which turns tallyho off. Reports
 * leave at every exit (batch interval 0) unless a test asks for batches.
 */
function childEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: home, TALLYHO_HOME: home, TALLYHO_OPTIN: PROJECT, TALLYHO_BATCH_INTERVAL_SEC: '0', ...extra };
}

/** Whether a process runs (a zombie waiting to be reaped does not). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && process.platform === 'linux') return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls `condition` with short waits, for at most `ms`. */
async function until(condition: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The detached sender the host started at exit, from its debug line. */
  senderPid: number | undefined;
}

interface Host {
  child: ChildProcessWithoutNullStreams;
  /** Resolves once the host printed `line`. */
  printed(line: string): Promise<void>;
  done: Promise<Run>;
}

interface HostOptions {
  home: string;
  url?: string;
  /** Load tallyho (default true); false runs the same program without it. */
  tallyho?: boolean;
  calls?: number;
  /** Sent once the host prints `ready`. */
  signal?: NodeJS.Signals;
  /** Runs the host this much later, by its clock. */
  clockShiftMs?: number;
  env?: Record<string, string>;
  /**
   * Run as a user file modes bind: `nobody` when the tests run as root (root writes through any
   * mode), from a copy of the host and the package every user can read, in a folder of that copy.
   */
  unprivileged?: boolean;
}

let readable: string | undefined;
afterAll(() => {
  if (readable !== undefined) rmSync(readable, { recursive: true, force: true });
});
/** The host fixture and the built package, where `nobody` can read them. */
function readableFixture(): string {
  readable ??= readableCopy(['dist', 'test/fixtures/delivery/host.mjs']);
  return readable;
}

function startHost(scenario: string, options: HostOptions): Host {
  const tallyho = options.tallyho ?? true;
  const env = childEnv(options.home, {
    ...(tallyho ? { FIXTURE_TALLYHO: '1', TALLYHO_DEBUG: '1' } : {}),
    ...(options.url === undefined ? {} : { FIXTURE_URL: options.url }),
    FIXTURE_CALLS: String(options.calls ?? 3),
    ...(options.clockShiftMs === undefined ? {} : { FIXTURE_CLOCK_SHIFT_MS: String(options.clockShiftMs) }),
    ...options.env,
  });
  const copy = options.unprivileged === true && caseOwner !== undefined ? readableFixture() : undefined;
  const host = copy === undefined ? fixture : join(copy, 'test', 'fixtures', 'delivery', 'host.mjs');
  const args = [...(options.clockShiftMs === undefined ? [] : ['--import', clock]), host, scenario];
  // As nobody, the working folder is one nobody can read too: tallyho reads consent files from it up,
  // and one it cannot read turns it off.
  const child = spawn(process.execPath, args, { env, stdio: ['pipe', 'pipe', 'pipe'], ...(copy === undefined ? {} : { cwd: copy, ...NOBODY }) });
  let stdout = '';
  let stderr = '';
  const waiters: { line: string; resolve: () => void }[] = [];
  const check = () => {
    const lines = stdout.split('\n');
    for (const w of waiters.splice(0)) {
      if (lines.includes(w.line)) w.resolve();
      else waiters.push(w);
    }
  };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    check();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const done = new Promise<Run>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const pid = /detached sender started \(pid (\d+)\)/.exec(stderr)?.[1];
      resolve({ code, signal, stdout, stderr, senderPid: pid === undefined ? undefined : Number(pid) });
    });
  });
  const printed = (line: string) =>
    new Promise<void>((resolve) => {
      waiters.push({ line, resolve });
      check();
    });
  if (options.signal !== undefined) void printed('ready').then(() => child.kill(options.signal));
  return { child, printed, done };
}

const runHost = (scenario: string, options: HostOptions) => startHost(scenario, options).done;

/** Runs the detached sender directly, as a host's exit would, with its own watchdog. */
function runSender(home: string, watchdogMs: number, extra: Record<string, string> = {}): { pid: number; done: Promise<number | null> } {
  const child = spawn(process.execPath, [join(dist, 'sender.js'), home, join(home, 'cache'), `--watchdog-ms=${watchdogMs}`], {
    env: childEnv(home, extra),
    stdio: 'ignore',
  });
  return { pid: child.pid!, done: new Promise((resolve) => child.on('close', (code) => resolve(code))) };
}

function runCli(home: string, ...args: string[]): Promise<{ stdout: string }> {
  return promisify(execFile)(process.execPath, [join(dist, 'cli.js'), ...args], { env: { PATH: process.env.PATH ?? '', HOME: home, TALLYHO_HOME: home } });
}

/**
 * Writes a sender lock held by a live process (this one): a host exiting now starts no detached
 * sender, as when another program's sender is already draining the spool. Returns its removal.
 */
function holdSenderLock(home: string): () => void {
  const path = join(home, 'cache', 'spool', 'sender.lock');
  mkdirSync(join(home, 'cache', 'spool'), { recursive: true });
  writeFileSync(path, JSON.stringify({ pid: process.pid, startedAt: Date.now() }));
  return () => rmSync(path, { force: true });
}

/** Waits until `n` requests reached the receiver. */
const arrivals = (r: Receiver, n: number) => until(() => r.requests.length >= n, `${n} requests at the receiver`);

/** Waits until the detached sender is gone and nothing waits in the spool. */
/** A Linux process's nice value, from /proc. */
function niceOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

async function drained(home: string, senderPids: readonly (number | undefined)[], ends = 0): Promise<void> {
  await until(() => senderPids.every((pid) => pid === undefined || !alive(pid)), 'the detached sender to exit', 40_000);
  expect(waiting(home), 'reports left waiting').toEqual([]);
  expect(runEnds(home), "runs' ends left waiting for the next report").toHaveLength(ends);
  expect(claimed(home), 'reports left claimed').toEqual([]);
}

const ok = (): Answer => ({ status: 200 });

describe.concurrent('every exit path, healthy receiver: delivered once by the detached sender', { timeout: 60_000 }, () => {
  it.each([
    { scenario: 'normal', code: 0, signal: null, trigger: 'exit' },
    { scenario: 'process-exit', code: 7, signal: null, trigger: 'exit' },
    { scenario: 'uncaught', code: 1, signal: null, trigger: 'exit' },
    { scenario: 'signal', code: null, signal: 'SIGTERM', trigger: 'signal' },
  ] as const)('$scenario: ends as without tallyho ($code $signal)', async ({ scenario, code, signal, trigger }) => {
    const r = await receiver(ok);
    const home = newHome();
    const sig = signal ?? undefined;
    const [bare, on] = await Promise.all([
      runHost(scenario, { home: newHome(), url: r.url, tallyho: false, signal: sig }),
      runHost(scenario, { home, url: r.url, signal: sig }),
    ]);
    expect(bare).toMatchObject({ code, signal });
    expect({ code: on.code, signal: on.signal, stdout: on.stdout }).toEqual({ code: bare.code, signal: bare.signal, stdout: bare.stdout });
    if (scenario === 'uncaught') expect(on.stderr).toContain('Error: host failure in uncaught scenario');
    expect(on.senderPid, on.stderr).toBeDefined();

    await arrivals(r, 1);
    await drained(home, [on.senderPid]);
    expect(r.requests).toHaveLength(1);
    const [got] = r.requests;
    expect(got!.status).toBe(200);
    expect(got!.key).toBe(got!.report.id);
    expect(got!.report).toMatchObject({ project: PROJECT, trigger, counts: hostCounts() });
  });
});

describe.concurrent('a receiver that is down or slow', { timeout: 60_000 }, () => {
  it('down at exit: the spool keeps the report, and the next run delivers it with its own on its first flush, merged, once', async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}/v1/reports`;
    const home = newHome();
    const unlock = holdSenderLock(home);
    const first = await runHost('normal', { home, url, calls: 4 });
    expect(first.code).toBe(0);
    expect(first.senderPid).toBeUndefined();
    const names = waiting(home);
    expect(names).toHaveLength(1);
    const spooled = readEntry(home, names[0]!).report;
    expect(spooled.counts).toEqual(hostCounts(4));
    unlock();

    const r = await receiver(ok, port);
    const second = await runHost('flush', { home, url });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('flush sent');
    // Nothing was counted after the flush: the exit records the run's end alone, for the next report, and starts no sender.
    expect(second.senderPid).toBeUndefined();
    await drained(home, [], 1);
    expect(JSON.parse(readFileSync(join(spoolDir(home), runEnds(home)[0]!), 'utf8'))).toMatchObject({ exits: { normal: 1, nonZero: 0, signal: 0 } });
    // The waiting report and the flush's own leave as one report of two runs.
    expect(r.requests).toHaveLength(1);
    const [got] = r.requests;
    expect(got!.report).toMatchObject({ runs: 2, counts: { 'new Client': 2, 'Client#query': 7, 'feature.export': 4 } });
    expect(got!.key).toBe(got!.report.id);
    expect(got!.report.id).not.toBe(spooled.id);
    expect(r.accepted()).toHaveLength(1);
  });

  it.each(['flush', 'normal'])(
    '503 with Retry-After: 1 three times, then 200 (%s): delivered once, under one key',
    async (scenario) => {
      const r = await receiver((n) => (n < 3 ? { status: 503, headers: { 'retry-after': '1' } } : { status: 200 }));
      const home = newHome();
      const run = await runHost(scenario, { home, url: r.url });
      expect(run.code).toBe(0);
      if (scenario === 'flush') {
        // The host's own flush retried within its deadline.
        expect(run.stdout).toContain('flush sent');
        expect(run.senderPid).toBeUndefined();
      } else {
        expect(run.senderPid).toBeDefined();
        // The detached sender is background work: it runs below normal priority (nice 10).
        if (process.platform === 'linux') expect(niceOf(run.senderPid!)).toBeGreaterThanOrEqual(10);
      }
      await arrivals(r, 4);
      await drained(home, [run.senderPid], scenario === 'flush' ? 1 : 0);
      expect(r.requests.map((d) => d.status)).toEqual([503, 503, 503, 200]);
      expect(new Set(r.requests.map((d) => d.key))).toEqual(new Set([r.requests[0]!.report.id]));
      expect(r.accepted()).toHaveLength(1);
      expect(r.accepted()[0]!.counts).toEqual(hostCounts());
    },
  );

  it('never answers: the host exits anyway, a bounded sender keeps the report, a later run delivers it', async () => {
    let answering = false;
    const r = await receiver(() => (answering ? { status: 200 } : 'hang'));
    const home = newHome();
    const unlock = holdSenderLock(home);

    const host = startHost('flush-and-wait', { home, url: r.url });
    await arrivals(r, 1);
    host.child.stdin.end();
    const run = await host.done;
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/flushing\ndone\n$/);
    // The host is gone while its request was still unanswered: exit did not wait for it.
    expect(r.requests[0]!.status).toBeUndefined();
    // The report in flight went back to the spool at exit, due now.
    const names = waiting(home);
    expect(names).toHaveLength(1);
    const kept = readEntry(home, names[0]!);
    expect(kept.report.id).toBe(r.requests[0]!.key);
    expect(kept.report.counts).toEqual(hostCounts());
    expect(kept.attempts).toBe(0);
    unlock();

    // The sender, with a short watchdog, sends it to the same silent receiver.
    const sender = runSender(home, 5000);
    await arrivals(r, 2);
    expect(r.requests[1]!.key).toBe(kept.report.id);
    await sender.done;
    expect(alive(sender.pid)).toBe(false);
    // It gave up without an answer, and put the report back for a later attempt.
    expect(r.requests[1]!.status).toBeUndefined();
    expect(claimed(home)).toEqual([]);
    const after = waiting(home);
    // The same report, renamed for its next attempt time.
    expect(after).toHaveLength(1);
    expect(after[0]).toContain(kept.report.id);
    const rescheduled = readEntry(home, after[0]!);
    expect(rescheduled.attempts).toBe(1);
    expect(rescheduled.nextAttemptAt).toBeGreaterThan(Date.now());

    // A run later than the next attempt time, with the receiver answering again.
    answering = true;
    const later = await runHost('flush', { home, url: r.url, clockShiftMs: rescheduled.nextAttemptAt - Date.now() + 60_000 });
    expect(later.stdout).toContain('flush sent');
    await drained(home, [later.senderPid], 1);
    const accepted = r.accepted();
    expect(accepted.map((a) => a.id)).toEqual([kept.report.id, r.requests[r.requests.length - 1]!.report.id]);
    expect(accepted[0]!.counts).toEqual(hostCounts());
    // The first run's end arrived once, with the later run's report; the later run's own end waits for the next.
    expect(r.accepted().map((a) => [a.runs, a.exits?.normal])).toEqual([[1, undefined], [1, 1]]);
  });
});

describe.concurrent('no report lost, none doubled', { timeout: 60_000 }, () => {
  it('twenty processes of one project exiting at once: every count delivered exactly once, one sender at a time', async () => {
    const r = await receiver(ok);
    const home = newHome();
    const calls = Array.from({ length: 20 }, (_, i) => i + 1);
    const hosts = calls.map((n) => startHost('wait', { home, url: r.url, calls: n }));
    await Promise.all(hosts.map((h) => h.printed('ready')));
    for (const h of hosts) h.child.stdin.end();
    const runs = await Promise.all(hosts.map((h) => h.done));
    expect(runs.map((run) => run.code)).toEqual(calls.map(() => 0));
    const pids = runs.flatMap((run) => (run.senderPid === undefined ? [] : [run.senderPid]));
    expect(pids.length).toBeGreaterThan(0);
    // No sender is started for later runs, and nothing is left waiting for one: the senders take it all in.
    await until(() => pids.every((pid) => !alive(pid)), 'the detached senders to exit', 40_000);
    await drained(home, []);

    const accepted = r.accepted();
    expect(new Set(r.requests.map((d) => d.key)).size, 'a report id sent twice').toBe(r.requests.length);
    expect(accepted.reduce((sum, a) => sum + a.counts['Client#query']!, 0)).toBe(calls.reduce((a, b) => a + b, 0));
    expect(accepted.reduce((sum, a) => sum + (a.runs ?? 1), 0)).toBe(20);
    expect(accepted.reduce((sum, a) => sum + a.counts['new Client']!, 0)).toBe(20);
  });

  it('SIGKILL after a flush: the receiver has exactly the flushed counts; only the later counts are lost', async () => {
    const r = await receiver(ok);
    const home = newHome();
    const host = startHost('flush-then-kill', { home, url: r.url, env: { TALLYHO_TIMER: '1', TALLYHO_TIMER_INTERVAL_SEC: '10' } });
    await host.printed('counted');
    host.child.kill('SIGKILL');
    const run = await host.done;
    expect(run).toMatchObject({ code: null, signal: 'SIGKILL' });
    expect(run.stdout).toContain('flushed sent');
    expect(run.senderPid).toBeUndefined();
    // Nothing is left for anyone to deliver: a sender finds nothing.
    expect(waiting(home)).toEqual([]);
    expect(claimed(home)).toEqual([]);
    await runSender(home, 5000).done;
    expect(r.requests).toHaveLength(1);
    expect(r.accepted()[0]!.counts).toEqual(hostCounts());
  });
});

describe.concurrent('runs that report everything before their end', { timeout: 60_000 }, () => {
  it("each is counted once: its end leaves with the next run's report, never as a report of its own", async () => {
    const r = await receiver(ok);
    const home = newHome();
    for (let run = 0; run < 3; run++) {
      const done = await runHost('flush', { home, url: r.url });
      expect(done.stdout).toContain('flush sent');
      expect(done.senderPid).toBeUndefined();
      // No report waits: only the record of this run's end, for the next report to carry.
      expect(waiting(home)).toEqual([]);
      expect(runEnds(home)).toHaveLength(1);
    }
    // Three runs, three reports, three runs counted; each report after the first carries the run before it.
    expect(r.accepted().map((a) => [a.runs, a.exits?.normal, a.exits?.nonZero])).toEqual([
      [1, undefined, undefined],
      [1, 1, 0],
      [1, 1, 0],
    ]);
  });

  it('below the usage level, where reports carry no runs, their exit records nothing', async () => {
    const r = await receiver(ok);
    const home = newHome();
    const done = await runHost('flush', { home, url: r.url, env: { TALLYHO_LEVEL: 'basic' } });
    expect(done.stdout).toContain('flush sent');
    expect(spoolNames(home).filter((n) => !n.endsWith('.lock'))).toEqual([]);
  });
});

describe.concurrent('what was seen before one queue', { timeout: 60_000 }, () => {
  it('a report written while a sender retries is taken in by that sender, not stranded until a later run', async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}/v1/reports`;
    const home = newHome();
    const first = await runHost('normal', { home, url, calls: 4 });
    expect(first.senderPid).toBeDefined();
    // The sender holds the first report and retries the closed port (for up to its watchdog).
    await until(() => claimed(home).length === 1, 'the sender to claim the first report');
    const second = await runHost('normal', { home, url, calls: 6 });
    expect(second.code).toBe(0);
    // A sender is running: the second run starts none, and leaves its report to it.
    expect(alive(first.senderPid!)).toBe(true);
    expect(second.senderPid).toBeUndefined();
    // The receiver comes up: the running sender delivers the first report, then takes in the second.
    const r = await receiver(ok, port);
    await arrivals(r, 2);
    expect(second.stderr).toContain('takes in what is due');
    await drained(home, [first.senderPid]);
    expect(r.accepted().map((a) => a.counts['Client#query']).sort()).toEqual([4, 6]);
  });

  it('a partial success answered to the detached sender is recorded as dropped, for the next report', async () => {
    const partial = '{"partialSuccess":{"rejectedDataPoints":"2","errorMessage":"2 points too old"}}';
    const otlp = await startOtlpReceiver((res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(partial);
    });
    otlpReceivers.push(otlp);
    const home = newHome();
    const run = await runHost('normal', { home, url: otlp.url, env: { FIXTURE_OTLP: '1' } });
    expect(run.senderPid, run.stderr).toBeDefined();
    await otlp.arrived(1);
    await drained(home, [run.senderPid]);
    const drops = spoolNames(home).filter((n) => n.startsWith('drops-'));
    expect(drops).toHaveLength(1);
    expect(JSON.parse(readFileSync(join(spoolDir(home), drops[0]!), 'utf8'))).toMatchObject({ dropped: { refused: 2 } });
  });

  it('a top-level `await telemetry.flush()` in a short ES module runs the code after it, and the report arrives once', async () => {
    // The receiver answers 300 ms after a report arrives.
    const r = await receiver(() => ({ status: 200, delayMs: 300 }));
    const home = newHome();
    const run = await runHost('top-level-flush', { home, url: r.url });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('work 24\nbefore flush\nafter flush sent\n');
    expect(run.senderPid).toBeUndefined();
    await drained(home, [], 1);
    expect(r.requests).toHaveLength(1);
    expect(r.accepted()).toHaveLength(1);
  });
});

describe.concurrent('batches', { timeout: 60_000 }, () => {
  it('reports wait on disk, no sender is started, and the batch leaves as one report once its oldest is due', async () => {
    const r = await receiver(ok);
    const home = newHome();
    const env = { TALLYHO_BATCH_INTERVAL_SEC: '3600' };
    const early: Run[] = [];
    // Five runs an hour ago, by their clock: none of them finds a batch due.
    for (const calls of [1, 2, 3, 4, 5]) early.push(await runHost('normal', { home, url: r.url, calls, env, clockShiftMs: -3_600_000 }));
    expect(early.map((run) => run.senderPid)).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(waiting(home)).toHaveLength(5);
    const shown = await runCli(home, 'show');
    expect(shown.stdout).toContain('batch of 5 reports (5 runs)');

    // A run now: the oldest has waited its hour; one sender, one request, every run in it.
    const now = await runHost('normal', { home, url: r.url, calls: 6, env });
    expect(now.senderPid).toBeDefined();
    await arrivals(r, 1);
    await drained(home, [now.senderPid]);
    expect(r.requests).toHaveLength(1);
    expect(r.accepted()[0]).toMatchObject({ runs: 6, counts: { 'Client#query': 21, 'new Client': 6, 'feature.export': 12 } });
  });

  it('tallyho purge deletes the waiting batch: it never leaves', async () => {
    const r = await receiver(ok);
    const home = newHome();
    const env = { TALLYHO_BATCH_INTERVAL_SEC: '3600' };
    await runHost('normal', { home, url: r.url, env });
    expect(waiting(home)).toHaveLength(1);
    expect((await runCli(home, 'purge')).stdout).toContain('1 waiting report deleted');
    const later = await runHost('flush', { home, url: r.url, env });
    expect(later.stdout).toContain('flush sent');
    expect(r.requests).toHaveLength(1);
    expect(r.requests[0]!.report).toMatchObject({ runs: 1, counts: hostCounts() });
  });
});

describe.concurrent('consent withdrawn while a report waits', { timeout: 60_000 }, () => {
  it('`tallyho optout` after a failed exit: the report is never sent, and the spool is empty', async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}/v1/reports`;
    const home = newHome();
    const unlock = holdSenderLock(home);
    expect((await runHost('normal', { home, url })).code).toBe(0);
    expect(waiting(home)).toHaveLength(1);
    unlock();

    const optout = await runCli(home, 'optout', PROJECT);
    expect(optout.stdout).toContain(`${PROJECT} is off`);
    const r = await receiver(ok, port);
    const second = await runHost('flush', { home, url });
    expect(second.stdout).toContain('flush off');
    expect(second.senderPid).toBeUndefined();
    await runSender(home, 5000).done;
    expect(r.requests).toEqual([]);
    expect(waiting(home)).toEqual([]);
    expect(claimed(home)).toEqual([]);
  });

  // The sender checks consent once per report, then its retrying transport keeps trying for up to its
  // watchdog less 3 s (src/delivery/deliver.ts with src/sender.ts): the optout purges the
  // claimed file, but the report still in the sender's hands goes out on the next retry.
  it('`tallyho optout` while the detached sender retries: the receiver coming back never gets the report', async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}/v1/reports`;
    const home = newHome();
    const run = await runHost('normal', { home, url });
    expect(run.senderPid).toBeDefined();
    // The sender holds the report and retries the closed port.
    await until(() => claimed(home).length === 1, 'the sender to claim the report');
    await runCli(home, 'optout', PROJECT);
    const r = await receiver(ok, port);
    await until(() => !alive(run.senderPid!), 'the detached sender to exit', 40_000);
    expect(r.requests).toEqual([]);
    expect(waiting(home)).toEqual([]);
    expect(claimed(home)).toEqual([]);
  });
});

describe.concurrent('damaged spool files', { timeout: 60_000 }, () => {
  const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
  /** Writes the damaged files into a fresh home's spool; returns the home and the file names. */
  function damagedHome() {
    const home = newHome();
    mkdirSync(spoolDir(home), { recursive: true });
    const stamp = String(Date.now() - 60_000).padStart(13, '0');
    const files = {
      garbage: [`${stamp}-${uuid(1)}-0.json`, 'not json {'],
      empty: [`${stamp}-${uuid(2)}-0.json`, '{"format":1}'],
      // Damaged, but it still says how many calls it carried.
      partial: [`${stamp}-${uuid(3)}-0.json`, JSON.stringify({ format: 1, report: { counts: { 'Client#query': 5 } } })],
      newer: [`${stamp}-${uuid(4)}-0.json`, JSON.stringify({ format: 99, project: PROJECT, report: { id: uuid(4), counts: { x: 1 } } })],
    } as const;
    for (const [name, text] of Object.values(files)) writeFileSync(join(spoolDir(home), name), text);
    return { home, files };
  }

  it('the first flush removes unreadable files, leaves a newer format alone, and still sends', async () => {
    const r = await receiver(ok);
    const { home, files } = damagedHome();
    const run = await runHost('flush', { home, url: r.url });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('flush sent');
    const names = spoolNames(home);
    expect(names).not.toContain(files.garbage[0]);
    expect(names).not.toContain(files.empty[0]);
    expect(names).not.toContain(files.partial[0]);
    expect(names).toContain(files.newer[0]);
    expect(readFileSync(join(spoolDir(home), files.newer[0]), 'utf8')).toBe(files.newer[1]);
    expect(names.filter((n) => n.startsWith('drops-'))).toEqual([]);
    expect(r.requests).toHaveLength(1);
    expect(r.requests[0]!.report.counts).toEqual(hostCounts());
    expect(r.requests[0]!.report.dropped.invalid).toBeGreaterThan(0);
  });

  it('the calls a damaged file carried are reported once, as dropped (invalid)', async () => {
    const r = await receiver(ok);
    const { home } = damagedHome();
    await runHost('flush', { home, url: r.url });
    expect(r.requests).toHaveLength(1);
    expect(r.requests[0]!.report.dropped).toEqual({ invalid: 5 });
  });
});

describe('a read-only home', () => {
  it('nothing written, nothing printed, the exit unchanged (run as nobody under root)', async () => {
    const r = await receiver(ok);
    // Every user may reach the homes; a home is its user's own (else tallyho is off, unsafe-home),
    // and read-only to them, so that the spool cannot be written.
    chmodSync(root, 0o755);
    const readOnlyHome = () => {
      const home = newHome();
      if (caseOwner !== undefined) chownSync(home, caseOwner.uid, caseOwner.gid);
      chmodSync(home, 0o500);
      return home;
    };
    const [home, debugHome] = [readOnlyHome(), readOnlyHome()];
    const [bare, on, debug] = await Promise.all([
      runHost('normal', { home: newHome(), url: r.url, tallyho: false, unprivileged: true }),
      runHost('normal', { home, url: r.url, env: { TALLYHO_DEBUG: '' }, unprivileged: true }),
      // The same run, telling what it did: tallyho was on (not off for an unsafe home, which would
      // pass the silent run's checks too), and the spool write failed.
      runHost('normal', { home: debugHome, url: r.url, unprivileged: true }),
    ]);
    expect(on).toMatchObject({ code: 0, signal: null, stdout: bare.stdout, stderr: '' });
    expect(readdirSync(home)).toEqual([]);
    expect(debug.stderr).toContain('on: TALLYHO_OPTIN names delivery-fixture');
    const calls = Object.values(hostCounts()).reduce((a, b) => a + b);
    expect(debug.stderr).toContain(`at exit; its ${calls} calls are lost`);
    expect(readdirSync(debugHome)).toEqual([]);
  });
});
