import fc from 'fast-check';
import { dirname } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { deliverBatch } from '../../src/delivery/deliver.js';
import { createReporter, type Reporter, type ReporterOptions } from '../../src/delivery/reporter.js';
import { DEFAULT_SPOOL_LIMITS, Spool, type SpoolFs, type SpoolLimits } from '../../src/delivery/spool.js';
import { allocateCell, cellName, count, createCounterTable, type CounterTable } from '../../src/registry/counter-table.js';
import { environmentFacts } from '../../src/report/environment.js';
import type { Report } from '../../src/report/report.js';
import type { SendOutcome, Transport } from '../../src/transports/transport.js';

// Every count is delivered or reported as dropped, whatever happens between counting and delivery:
// random runs of counting, flushes, crashes, exits, detached-sender runs, partial successes, batches
// merged on disk (and crashes between writing a batch and deleting its parts) and clock jumps,
// against the real reporter and spool on an in-memory file system, with a receiver that deduplicates
// by report id.

const DIR = '/home/.cache/tallyho/spool/acme-sdk';
const BASE = Date.UTC(2026, 0, 5, 10);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const NAMES = ['a', 'b', 'c'] as const;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

/** A folder of files in memory. Renames keep the modification time, as on a real file system. */
class MemoryFs implements SpoolFs {
  readonly files = new Map<string, { data: string; mtimeMs: number }>();
  /** Set: the process dies right after it writes a merged batch, before it deletes any of the parts. */
  crashAfterMerge = false;
  private dead = false;

  /** The process that was using this file system is gone; the files stay. */
  revive(): void {
    this.dead = false;
    this.crashAfterMerge = false;
  }
  private alive(): void {
    if (this.dead) throw new Crash();
  }

  readdir(dir: string): string[] {
    return [...this.files.keys()].filter((path) => dirname(path) === dir).map((path) => path.slice(dir.length + 1));
  }
  readFile(path: string): string {
    const file = this.files.get(path);
    if (file === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    return file.data;
  }
  writeAtomic(path: string, data: string): void {
    this.alive();
    this.files.set(path, { data, mtimeMs: Date.now() });
    if (this.crashAfterMerge && path.includes('.claim-') && data.includes('"merges"')) this.dead = true;
  }
  rename(from: string, to: string): void {
    this.alive();
    const file = this.files.get(from);
    if (file === undefined) throw Object.assign(new Error(`ENOENT: ${from}`), { code: 'ENOENT' });
    this.files.delete(from);
    this.files.set(to, file);
  }
  unlink(path: string): void {
    this.alive();
    this.files.delete(path);
  }
  stat(path: string): { size: number; mtimeMs: number } | undefined {
    const file = this.files.get(path);
    return file === undefined ? undefined : { size: file.data.length, mtimeMs: file.mtimeMs };
  }
}

/** A process dying in the middle of a file operation. */
class Crash extends Error {}

/**
 * How the receiver answers one delivery. `partial`: it takes the report but rejects one data point
 * (the first name's count), as an OTLP partial success does. `lost-answer`: it takes the report, but the answer never
 * arrives (the sender sees a network error, and will send the same report again).
 */
type Outcome = 'success' | 'retryable' | 'retry-after' | 'failure' | 'lost-answer' | 'partial';

type Command =
  | { kind: 'count'; name: string; n: number }
  /** A flush; the receiver answers `outcomes` in turn, then `otherwise`. */
  | { kind: 'flush'; outcomes: Outcome[]; otherwise: Outcome }
  /** A flush that gets no answer after `outcomes` (taken by the receiver or not); the process then crashes or exits. */
  | { kind: 'interrupted'; outcomes: Outcome[]; taken: boolean; then: 'crash' | 'exit' }
  /** A flush whose answer (`late`, decided when the report arrives) comes only after a detached sender ran. */
  | { kind: 'concurrent'; outcomes: Outcome[]; late: Outcome; sender: Outcome[] }
  /** The process dies without its exit hook: what its table holds is lost, unseen. */
  | { kind: 'crash' }
  | { kind: 'exit' }
  | { kind: 'sender'; outcomes: Outcome[]; otherwise: Outcome }
  /** A detached sender that dies right after writing a merged batch, before deleting its parts. */
  | { kind: 'merge-crash' }
  | { kind: 'advance'; ms: number };

/** A send whose answer is held back: decided as `hang` when the report arrives, delivered later or never. */
type Hang = { hang: Outcome };

/** A receiver that deduplicates by report id: a report it already has is answered 2xx. */
class Receiver {
  /** Reports taken, by id: the first copy. */
  readonly taken = new Map<string, Report>();
  /** Ids received again with different contents. */
  readonly conflicts: string[] = [];
  /**
   * Ids taken whose answer was lost: the sender cannot know they arrived, so if its spool later
   * drops them (expired, over quota) they are both delivered and reported dropped. At least once,
   * as promised under faults; the receiver sees the report id and can tell.
   */
  readonly unconfirmed = new Set<string>();
  /**
   * What partial successes cost beyond what they report: a rejected point is reported as one dropped
   * count (the receiver says how many points, not which), so a point of n calls leaves n - 1 unreported.
   */
  rejectedBeyondReported = 0;
  private script: Outcome[] = [];
  private otherwise: Outcome | Hang = 'success';
  private answerHung: (() => void) | undefined;
  private hangStarted: () => void = () => {};
  /** Resolves when a send is left without an answer, under a plan that ends in a hang. */
  hung: Promise<void> = Promise.resolve();

  plan(outcomes: readonly Outcome[], otherwise: Outcome | Hang): void {
    this.script = [...outcomes];
    this.otherwise = otherwise;
    this.hung = new Promise((resolve) => (this.hangStarted = resolve));
  }

  /** Delivers the answer held back. */
  answerLate(): void {
    this.answerHung?.();
    this.answerHung = undefined;
  }

  send(report: Report): Promise<SendOutcome> {
    const next = this.script.shift() ?? this.otherwise;
    if (typeof next === 'string') return Promise.resolve(this.answer(next, report));
    // Decided now, as the report arrives; only the answer is held back (or lost for good).
    const answer = this.answer(next.hang, report);
    this.hangStarted();
    return new Promise((resolve) => (this.answerHung = () => resolve(answer)));
  }

  private answer(outcome: Outcome, report: Report): SendOutcome {
    if (this.taken.has(report.id)) {
      this.take(report);
      return { kind: 'success' };
    }
    switch (outcome) {
      case 'success':
        this.take(report);
        return { kind: 'success' };
      case 'retryable':
        return { kind: 'retryable', reason: 'HTTP 503' };
      case 'retry-after':
        return { kind: 'retryable', reason: 'HTTP 429', retryAfterMs: 30_000 };
      case 'failure':
        return { kind: 'failure', reason: 'HTTP 400' };
      case 'lost-answer':
        this.take(report);
        this.unconfirmed.add(report.id);
        return { kind: 'retryable', reason: 'network error: ECONNRESET' };
      case 'partial': {
        const [rejected] = Object.keys(report.counts);
        if (rejected === undefined) {
          this.take(report);
          return { kind: 'success' };
        }
        const counts = { ...report.counts };
        this.rejectedBeyondReported += counts[rejected]! - 1;
        delete counts[rejected];
        this.take({ ...report, counts });
        return { kind: 'success', rejected: 1 };
      }
    }
  }

  private take(report: Report): void {
    const first = this.taken.get(report.id);
    if (first === undefined) this.taken.set(report.id, structuredClone(report));
    else if (JSON.stringify([first.counts, first.dropped]) !== JSON.stringify([report.counts, report.dropped])) this.conflicts.push(report.id);
  }
}

interface Process {
  readonly table: CounterTable;
  readonly reporter: Reporter;
}

const sum = (values: Iterable<number | undefined>) => [...values].reduce<number>((total, n) => total + (n ?? 0), 0);
const silent = { debug: () => {}, warn: () => {} };
const CONTEXT = { project: 'acme-sdk', version: '1.0.0', level: 'usage' as const, facts: environmentFacts(), ci: false, identity: undefined };

/** A reporter of acme-sdk 1.0.0 over the spool in `fs`, reports leaving at once; `over` replaces any option. */
function reporterOn(fs: SpoolFs, table: CounterTable, transports: readonly Transport[], over: Partial<ReporterOptions> = {}): Reporter {
  return createReporter({
    table,
    context: CONTEXT,
    consent: 'opt-out',
    optOutEnv: undefined,
    transports,
    showMe: undefined,
    dryRun: false,
    log: silent,
    spool: new Spool(DIR, fs, DEFAULT_SPOOL_LIMITS),
    batchMs: 0,
    consentHolds: () => true,
    onGone: () => {},
    launchSender: () => {},
    ...over,
  });
}

/** A transport that takes every report into `received`. */
const takingInto = (received: Report[]): Transport => ({ name: 'memory', spec: { type: 'memory' }, send: (report) => (received.push(report), Promise.resolve({ kind: 'success' })) });

/** What a run counted, lost unseen, and delivered. */
interface Ledger {
  counted: Record<string, number>;
  /** Counts in a crashed process's table: the one loss nobody can see. */
  lostUnseen: Record<string, number>;
  /** Losses a crashed process held, not yet reported. */
  lostDrops: number;
  receiver: Receiver;
}

/** Runs the commands, then lets a healthy receiver drain everything, and returns the ledger. */
async function play(commands: readonly Command[], limits: SpoolLimits = DEFAULT_SPOOL_LIMITS, batchMs = 0): Promise<Ledger> {
  vi.setSystemTime(BASE);
  const fs = new MemoryFs();
  const receiver = new Receiver();
  const transport: Transport = { name: 'https://telemetry.acme.dev/v1/reports', spec: { type: 'memory' }, send: (report) => receiver.send(report) };
  const ledger: Ledger = { counted: {}, lostUnseen: {}, lostDrops: 0, receiver };

  let current: Process | undefined;
  const start = (): Process => {
    const table = createCounterTable(Date.now());
    const reporter = reporterOn(fs, table, [transport], { spool: new Spool(DIR, fs, limits), batchMs });
    return { table, reporter };
  };
  const proc = () => (current ??= start());
  const crash = () => {
    if (current === undefined) return;
    for (const cell of current.table.cells) ledger.lostUnseen[cellName(cell)] = (ledger.lostUnseen[cellName(cell)] ?? 0) + cell.calls;
    // Losses found while counting sit in the table; losses found in delivery, with the reporter.
    ledger.lostDrops += sum(Object.values(current.table.dropped)) + sum(Object.values(current.reporter.losses()));
    current = undefined;
  };
  const exit = () => {
    current?.reporter.flushAtExit('exit');
    current = undefined;
  };
  /** The detached sender (one pass of src/sender.ts): its own process, sharing only the spool. */
  const sender = async () => {
    const spool = new Spool(DIR, fs, limits);
    spool.recordDrops(spool.tidy(Date.now()));
    await deliverBatch(
      {
        spool,
        log: silent,
        now: () => Date.now(),
        signal: new AbortController().signal,
        transportFor: () => transport,
        consentHolds: () => true,
        onGone: () => {},
        onSettled: ({ lost }) => spool.recordDrops(lost),
      },
      { only: (entry) => entry.transport.spec !== undefined },
    );
  };
  /** Starts a flush and returns once it is done, or once it waits for an answer that has not come. */
  const flushUntilHung = async (): Promise<{ hung: boolean; done: Promise<unknown> }> => {
    const done = proc().reporter.flush('manual');
    const hung = await Promise.race([done.then(() => false), receiver.hung.then(() => true)]);
    return { hung, done };
  };

  for (const command of commands) {
    switch (command.kind) {
      case 'count': {
        count(proc().table, command.name, command.n, Infinity);
        ledger.counted[command.name] = (ledger.counted[command.name] ?? 0) + command.n;
        break;
      }
      case 'flush':
        receiver.plan(command.outcomes, command.otherwise);
        await proc().reporter.flush('manual');
        break;
      case 'interrupted':
        receiver.plan(command.outcomes, { hang: command.taken ? 'lost-answer' : 'retryable' });
        await flushUntilHung();
        // The process is gone while it waits; the answer never reaches it.
        if (command.then === 'crash') crash();
        else exit();
        break;
      case 'concurrent': {
        receiver.plan(command.outcomes, { hang: command.late });
        const { hung, done } = await flushUntilHung();
        if (hung) {
          receiver.plan(command.sender, 'success');
          await sender();
          receiver.answerLate();
        }
        await done;
        break;
      }
      case 'crash':
        crash();
        break;
      case 'exit':
        exit();
        break;
      case 'sender':
        receiver.plan(command.outcomes, command.otherwise);
        await sender();
        break;
      case 'merge-crash':
        receiver.plan([], 'success');
        fs.crashAfterMerge = true;
        await sender().catch((error: unknown) => {
          if (!(error instanceof Crash)) throw error;
        });
        fs.revive();
        break;
      case 'advance':
        vi.setSystemTime(Date.now() + command.ms);
        break;
    }
  }

  // The receiver is healthy from now on: the process flushes, senders run later and later until
  // nothing waits, and a last flush reports the losses the senders recorded.
  receiver.plan([], 'success');
  await proc().reporter.flush('manual');
  const reports = () => fs.readdir(DIR).filter((name) => !name.startsWith('drops-'));
  for (let i = 0; i < 10 && reports().length > 0; i++) {
    vi.setSystemTime(Date.now() + 6 * HOUR + MINUTE);
    await sender();
  }
  expect(reports(), 'reports still waiting after the receiver came back').toEqual([]);
  await proc().reporter.flush('manual');
  expect(fs.readdir(DIR), 'losses never reported').toEqual([]);
  return ledger;
}

/** Counts by name over the distinct reports the receiver took, and the losses they report. */
function delivered(receiver: Receiver): { counts: Record<string, number>; dropped: number } {
  const counts: Record<string, number> = {};
  let dropped = 0;
  for (const report of receiver.taken.values()) {
    for (const [name, n] of Object.entries(report.counts)) counts[name] = (counts[name] ?? 0) + n;
    dropped += sum(Object.values(report.dropped));
  }
  return { counts, dropped };
}

/**
 * Every count delivered or reported dropped, except what crashed processes held. A report whose
 * answer was lost may be both (delivered, then dropped from the spool unconfirmed): never more than that.
 */
function expectConserved(ledger: Ledger): void {
  expect(ledger.receiver.conflicts, 'a report id received with different counts').toEqual([]);
  const { counts, dropped } = delivered(ledger.receiver);
  const expected = sum(Object.values(ledger.counted)) - sum(Object.values(ledger.lostUnseen)) - ledger.lostDrops;
  let unconfirmed = 0;
  for (const id of ledger.receiver.unconfirmed) {
    const report = ledger.receiver.taken.get(id)!;
    unconfirmed += sum(Object.values(report.counts)) + sum(Object.values(report.dropped));
  }
  const total = sum(Object.values(counts)) + dropped + ledger.receiver.rejectedBeyondReported;
  expect(total, 'delivered + reported dropped, at least').toBeGreaterThanOrEqual(expected);
  expect(total, 'delivered + reported dropped, at most counted + unconfirmed deliveries').toBeLessThanOrEqual(expected + unconfirmed);
  if (unconfirmed === 0) expect(total, 'delivered + reported dropped').toBe(expected);
}

/** With a receiver that never refuses and a spool that never overflows: every name exact. */
function expectExact(ledger: Ledger): void {
  expect(ledger.receiver.conflicts, 'a report id received with different counts').toEqual([]);
  const { counts, dropped } = delivered(ledger.receiver);
  const expected: Record<string, number> = {};
  for (const [name, n] of Object.entries(ledger.counted)) {
    const left = n - (ledger.lostUnseen[name] ?? 0);
    if (left > 0) expected[name] = left;
  }
  expect(counts).toEqual(expected);
  expect(dropped).toBe(0);
  expect(ledger.lostDrops).toBe(0);
}

interface Model {
  /** The receiver may refuse for good, or in part (a partial success). */
  refuses: boolean;
  /** Clock jumps past the spool's age limit. */
  expires: boolean;
}

function commands({ refuses, expires }: Model): fc.Arbitrary<Command[]> {
  const outcome = fc.constantFrom<Outcome>('success', 'retryable', 'retry-after', 'lost-answer', ...(refuses ? (['failure', 'partial'] as const) : []));
  const outcomes = fc.array(outcome, { maxLength: 3 });
  const command: fc.Arbitrary<Command> = fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('count' as const), name: fc.constantFrom(...NAMES), n: fc.integer({ min: 1, max: 1000 }) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('flush' as const), outcomes, otherwise: outcome }) },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant('interrupted' as const), outcomes, taken: fc.boolean(), then: fc.constantFrom('crash' as const, 'exit' as const) }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant('concurrent' as const), outcomes, late: outcome, sender: outcomes }),
    },
    { weight: 1, arbitrary: fc.constant({ kind: 'crash' as const }) },
    { weight: 2, arbitrary: fc.constant({ kind: 'exit' as const }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('sender' as const), outcomes, otherwise: outcome }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'merge-crash' as const }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('advance' as const),
        ms: fc.constantFrom(1000, MINUTE + 1000, 6 * MINUTE, HOUR, 7 * HOUR, ...(expires ? [31 * DAY] : [])),
      }),
    },
  );
  return fc.array(command, { maxLength: 25 });
}

// A fixed seed keeps CI deterministic; set TALLYHO_PROPERTY_SEED to explore other runs (the cases
// found that way belong in FIXED_LOSSES below).
const SEED = Number(process.env.TALLYHO_PROPERTY_SEED ?? 20261123);

describe('conservation of counts', () => {
  it('a receiver that never refuses gets every name exactly, less what crashed processes held', async () => {
    await fc.assert(
      fc.asyncProperty(commands({ refuses: false, expires: false }), async (cmds) => expectExact(await play(cmds))),
      { numRuns: 100, seed: SEED },
    );
  });

  it('with refusals, a small spool and clock jumps past its age limit: delivered + reported dropped = counted - unseen losses', async () => {
    const limits = { ...DEFAULT_SPOOL_LIMITS, maxFiles: 3 };
    await fc.assert(
      fc.asyncProperty(commands({ refuses: true, expires: true }), async (cmds) => expectConserved(await play(cmds, limits))),
      { numRuns: 100, seed: SEED, examples: FIXED_LOSSES.map(({ commands: cmds }) => [cmds]) },
    );
  });

  it('with batches (an hour): merged reports, crashes between writing a batch and deleting its parts, every name exact', async () => {
    await fc.assert(
      fc.asyncProperty(commands({ refuses: false, expires: false }), async (cmds) => expectExact(await play(cmds, DEFAULT_SPOOL_LIMITS, HOUR))),
      { numRuns: 100, seed: SEED, examples: BATCH_CASES.map(({ commands: cmds }) => [cmds]) },
    );
  });

  it('with batches, refusals, partial successes, a small spool and expiry: delivered + reported dropped = counted - unseen losses', async () => {
    const limits = { ...DEFAULT_SPOOL_LIMITS, maxFiles: 3 };
    await fc.assert(
      fc.asyncProperty(commands({ refuses: true, expires: true }), async (cmds) => expectConserved(await play(cmds, limits, HOUR))),
      { numRuns: 100, seed: SEED },
    );
  });
});

/** Runs of batches, kept as fixed examples: each merges on disk, one crashes between writing and deleting. */
const BATCH_CASES: { why: string; commands: Command[] }[] = [
  {
    why: 'three exits wait for their batch, which leaves merged once it is due',
    commands: [
      { kind: 'count', name: 'a', n: 1 },
      { kind: 'exit' },
      { kind: 'count', name: 'a', n: 2 },
      { kind: 'exit' },
      { kind: 'count', name: 'b', n: 4 },
      { kind: 'exit' },
      { kind: 'sender', outcomes: [], otherwise: 'success' },
      { kind: 'advance', ms: HOUR },
      { kind: 'sender', outcomes: [], otherwise: 'success' },
    ],
  },
  {
    why: 'a sender dies between writing the merged batch and deleting its parts',
    commands: [
      { kind: 'count', name: 'a', n: 1 },
      { kind: 'exit' },
      { kind: 'count', name: 'a', n: 2 },
      { kind: 'exit' },
      { kind: 'advance', ms: HOUR },
      { kind: 'merge-crash' },
      { kind: 'count', name: 'a', n: 4 },
      { kind: 'exit' },
      { kind: 'advance', ms: 6 * MINUTE },
      { kind: 'sender', outcomes: [], otherwise: 'success' },
    ],
  },
];

const ok: Outcome[] = [];
/** Runs that once lost a count or reported one twice, kept as fixed examples of what must hold. */
const FIXED_LOSSES: { why: string; commands: Command[] }[] = [
  {
    why: 'a report taken but unconfirmed, then expired in the spool: counted at most twice, never lost',
    commands: [
      { kind: 'count', name: 'a', n: 1 },
      { kind: 'flush', outcomes: [], otherwise: 'lost-answer' },
      { kind: 'advance', ms: 2_678_400_000 },
    ],
  },
  {
    // src/delivery/reporter.ts, send(): a refusal records the report's calls, not the losses it carried.
    why: 'a report refused in process takes the losses it carried with it',
    commands: [
      { kind: 'count', name: 'a', n: 5 },
      { kind: 'flush', outcomes: ok, otherwise: 'failure' },
      { kind: 'count', name: 'a', n: 1 },
      { kind: 'flush', outcomes: ok, otherwise: 'failure' },
    ],
  },
  {
    // src/delivery/settle.ts (before it, deliver-spooled.ts): a refusal records callsOf(report), not the report's `dropped`.
    why: 'a waiting report refused by the sender takes the losses it carried with it',
    commands: [
      { kind: 'count', name: 'a', n: 5 },
      { kind: 'flush', outcomes: ok, otherwise: 'failure' },
      { kind: 'count', name: 'a', n: 1 },
      { kind: 'exit' },
      { kind: 'sender', outcomes: ok, otherwise: 'failure' },
    ],
  },
  {
    // src/delivery/spool.ts: claimDue() renames, which keeps the file's old modification time, and
    // tidy() takes back any claim on a file older than staleClaimMs: a sender takes a report that
    // another process is still sending, and both outcomes count.
    why: 'a claim on an old report is taken back while its process still sends it',
    commands: [
      { kind: 'count', name: 'a', n: 5 },
      { kind: 'exit' },
      { kind: 'advance', ms: 6 * MINUTE },
      { kind: 'concurrent', outcomes: ok, late: 'failure', sender: ok },
    ],
  },
];

/** Runs that once lost or doubled counts. */
const REGRESSIONS: { why: string; limits?: Partial<SpoolLimits>; commands: Command[] }[] = [
  {
    why: 'a loss the first flush finds (expired) is reported once',
    commands: [{ kind: 'count', name: 'a', n: 5 }, { kind: 'exit' }, { kind: 'advance', ms: 31 * DAY }, { kind: 'flush', outcomes: ok, otherwise: 'success' }],
  },
  {
    why: 'a loss the sender finds (quota) is reported once',
    limits: { maxFiles: 1 },
    commands: [
      { kind: 'count', name: 'a', n: 5 },
      { kind: 'exit' },
      { kind: 'advance', ms: 1000 },
      { kind: 'count', name: 'a', n: 7 },
      { kind: 'exit' },
      { kind: 'sender', outcomes: ok, otherwise: 'success' },
    ],
  },
];

describe('runs that once lost counts', () => {
  it.each(REGRESSIONS)('$why', async ({ commands: cmds, limits }) => {
    const ledger = await play(cmds, { ...DEFAULT_SPOOL_LIMITS, ...limits });
    expectConserved(ledger);
    expect(delivered(ledger.receiver).dropped).toBeGreaterThan(0);
  });
});

describe('losses found by the property test, now fixed', () => {
  it.each(FIXED_LOSSES)('$why', async ({ commands: cmds }) => {
    expectConserved(await play(cmds));
  });
});

describe('exit with nothing to report', () => {
  it('reads nothing and writes nothing; losses recorded on disk wait for the next report', async () => {
    const fs = new MemoryFs();
    const earlier = new Spool(DIR, fs, DEFAULT_SPOOL_LIMITS);
    earlier.recordDrops({ network: 3 });
    const files = fs.readdir(DIR).length;
    const consentHolds = vi.fn(() => true);
    const launchSender = vi.fn();
    const received: Report[] = [];
    const make = (table: CounterTable): Reporter =>
      reporterOn(fs, table, [takingInto(received)], { consentHolds, launchSender });

    const idle = createCounterTable(Date.now());
    allocateCell(idle, 'Client#query');
    make(idle).flushAtExit('exit');
    expect(consentHolds).not.toHaveBeenCalled();
    expect(launchSender).not.toHaveBeenCalled();
    expect(fs.readdir(DIR)).toHaveLength(files);

    // The next process that counts something reports the earlier losses with its own counts.
    const busy = createCounterTable(Date.now());
    allocateCell(busy, 'Client#query').calls = 2;
    await make(busy).flush('manual');
    expect(received).toHaveLength(1);
    expect(received[0]!.counts).toEqual({ 'Client#query': 2 });
    expect(received[0]!.dropped).toEqual({ network: 3 });
  });
});

describe('losses flow one way', () => {
  it('a refusal comes back to the reporter as a value, and its next report carries it; the table keeps only what counting lost', async () => {
    const fs = new MemoryFs();
    const received: Report[] = [];
    let refuse = true;
    const transport: Transport = {
      name: 'memory',
      spec: { type: 'memory' },
      send: (report) => {
        if (refuse) return Promise.resolve({ kind: 'failure', reason: '400 Bad Request' });
        received.push(report);
        return Promise.resolve({ kind: 'success' });
      },
    };
    const table = createCounterTable(Date.now());
    const reporter = reporterOn(fs, table, [transport]);
    const query = allocateCell(table, 'Client#query');
    query.calls = 5;
    count(table, 'feature.x', 0, 10);
    expect(await reporter.flush('manual')).toMatchObject({ status: 'failed', calls: 5 });
    // The refused report's 5 calls, and the loss it carried, are the reporter's to report: not the table's.
    expect(table.dropped).toEqual({});
    expect(reporter.losses()).toEqual({ refused: 5, invalid: 1 });

    refuse = false;
    query.calls = 2;
    count(table, 'feature.x', -1, 10);
    expect(await reporter.flush('manual')).toMatchObject({ status: 'sent' });
    expect(received.map((r) => [r.counts, r.dropped])).toEqual([[{ 'Client#query': 2 }, { refused: 5, invalid: 2 }]]);
    expect(reporter.losses()).toEqual({});
    expect(table.dropped).toEqual({});

    // Losses alone are worth a report.
    refuse = true;
    query.calls = 1;
    await reporter.flush('manual');
    refuse = false;
    expect(await reporter.flush('manual')).toMatchObject({ status: 'sent', calls: 0 });
    expect(received[1]).toMatchObject({ counts: {}, dropped: { refused: 1 } });
  });
});

describe("what earlier runs left on disk (losses, runs' ends)", () => {
  it('is taken only by a report that leaves: not by a dry run, nor a level whose reports do not carry runs', async () => {
    const fs = new MemoryFs();
    const earlier = new Spool(DIR, fs, DEFAULT_SPOOL_LIMITS);
    earlier.recordDrops({ network: 2 });
    earlier.recordRunEnd('1.0.0', { normal: 1, nonZero: 0, signal: 0, duration: { '1048.576': 1 } });
    const received: Report[] = [];

    const dry = createCounterTable(Date.now());
    allocateCell(dry, 'Client#query').calls = 1;
    expect(await reporterOn(fs, dry, [takingInto(received)], { dryRun: true }).flush('manual')).toMatchObject({ status: 'shown' });
    const basic = createCounterTable(Date.now());
    allocateCell(basic, 'Client#query').calls = 1;
    await reporterOn(fs, basic, [takingInto(received)], { context: { ...CONTEXT, level: 'basic' } }).flush('manual');
    // The basic report carries the losses (every level does), and leaves the run's end on disk.
    expect(received.map((r) => [r.dropped, r.exits])).toEqual([[{ network: 2 }, undefined]]);

    const usage = createCounterTable(Date.now());
    allocateCell(usage, 'Client#query').calls = 1;
    await reporterOn(fs, usage, [takingInto(received)]).flush('manual');
    expect(received[1]).toMatchObject({ dropped: {}, exits: { normal: 1, nonZero: 0, signal: 0, duration: { '1048.576': 1 } } });
    expect(fs.readdir(DIR).filter((n) => n.startsWith('runs-') || n.startsWith('drops-'))).toEqual([]);
  });
});

describe('a loss found while a flush is still sending', () => {
  it('is carried as its claim settles: a process that exits before the flush ends still reports it', async () => {
    const fs = new MemoryFs();
    const table = createCounterTable(Date.now());
    let refusedOne!: () => void;
    const refused = new Promise<void>((resolve) => (refusedOne = resolve));
    const refusing: Transport = {
      name: 'refusing',
      spec: { type: 'memory' },
      send: () => (refusedOne(), Promise.resolve({ kind: 'failure', reason: '400 Bad Request' })),
    };
    const hanging: Transport = { name: 'hanging', spec: { type: 'memory' }, send: () => new Promise(() => {}) };
    const reporter = reporterOn(fs, table, [refusing, hanging]);
    allocateCell(table, 'Client#query').calls = 7;
    void reporter.flush('manual');
    await refused;
    // The refusal settles within the same turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
    // The refusal is settled; the other transport's send never ends. The process exits now.
    expect(reporter.losses()).toEqual({ refused: 7 });
    reporter.flushAtExit('exit');
    const written = fs.readdir(DIR).filter((n) => /^\d{13}-/.test(n) && !n.includes('.claim-'));
    const reports = written.map((n) => (JSON.parse(fs.readFile(`${DIR}/${n}`)) as { report: Report }).report);
    // The interrupted send is put back (7 calls, for the hanging transport), and the exit report carries the refusal.
    expect(reports.map((r) => [r.counts, r.dropped]).sort()).toEqual(
      [
        [{ 'Client#query': 7 }, {}],
        [{}, { refused: 7 }],
        [{}, { refused: 7 }],
      ].sort(),
    );
  });
});
