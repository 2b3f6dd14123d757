import type { ShowMe } from '../config/env.js';
import type { Log } from '../config/log.js';
import { addDropped, anyDropped, type CounterTable, type Dropped, isIdle, onlyTheRunsEnd, takeDelta } from '../registry/counter-table.js';
import { addExits } from '../report/merge-signals.js';
import { atLeast } from '../config/level.js';
import { buildReport, lossOf, type ReportContext, totalCalls } from '../report/build-report.js';
import type { Report, Trigger } from '../report/report.js';
import type { SendOutcome, Transport } from '../transports/transport.js';
import { type Delivered, deliverBatch, deliverClaims } from './deliver.js';
import { settle, type SettleContext } from './settle.js';
import { errorText } from '../config/error-text.js';
import { showReport } from './show-me.js';
import type { Claim, Spool, SpoolEntry } from './spool.js';
import { validReport } from '../report/valid-report.js';

/** What one flush did. `flush()` and `shutdown()` resolve with it and never reject. */
export interface FlushResult {
  /**
   * - `sent`: every transport took the report (merged with the reports that waited for it, if any).
   * - `queued`: some transport could not be reached in time, or (on a timer tick) the report waits for
   *   its batch; it waits in the spool (for this process's next flush, the detached sender, or the next run).
   * - `failed`: some transport refused the report for good; its counts are reported as dropped.
   * - `empty`: nothing was counted since the last report.
   * - `shown`: built and shown, but not sent (`TALLYHO_DRY_RUN`, or no transports).
   * - `off`: telemetry is off for this project, or consent was withdrawn.
   * - `invalid`: the report failed validation and was dropped (counted).
   * - `timeout`: `flush()` or `shutdown()` stopped waiting at its `timeoutMs`; what was unsent waits in the spool.
   */
  readonly status: 'sent' | 'queued' | 'failed' | 'empty' | 'shown' | 'off' | 'invalid' | 'timeout';
  /** The id the report was sent under, when one was built: its own, or the merged batch's. */
  readonly reportId?: string;
  /** Calls the report counted. */
  readonly calls: number;
  /** Each transport's outcome. */
  readonly outcomes: readonly {
    /** The transport's name, as `status().transports` lists it. */
    readonly transport: string;
    /** How delivery to that transport ended in this flush. */
    readonly outcome: SendOutcome;
  }[];
}

/** What the reporter needs from the telemetry that owns it. */
export interface ReporterOptions {
  readonly table: CounterTable;
  readonly context: ReportContext;
  readonly consent: 'opt-out' | 'opt-in';
  readonly optOutEnv: string | undefined;
  /** The transports, each wrapped to retry within the flush deadline. */
  readonly transports: readonly Transport[];
  readonly showMe: ShowMe | undefined;
  readonly dryRun: boolean;
  readonly log: Log;
  /** The queue every report goes through; `undefined` under the test kit (reports are sent as made). */
  readonly spool: Spool | undefined;
  /** How long a report waits on disk for its batch, in ms (0: it leaves at once). */
  readonly batchMs: number;
  /** Checked again before every send: consent holds after the fact. */
  readonly consentHolds: () => boolean;
  /** Called on `410 Gone`. */
  readonly onGone: () => void;
  /** Starts the detached sender at exit, when a batch is due and a transport can be rebuilt without the host. */
  readonly launchSender: () => void;
}

/** Builds, shows and sends reports for one telemetry. */
export interface Reporter {
  /**
   * Takes the delta since the last report and puts it in the queue, then sends: on `manual` (an
   * explicit flush), the report and everything waiting for this process's transports, now; on
   * `timer`, the batches that are due. Flushes never overlap: a second waits for the first.
   */
  flush(trigger: Trigger, signal?: AbortSignal): Promise<FlushResult>;
  /** At exit: builds and shows the last delta, writes it to the queue, and starts a sender only when a batch is due. */
  flushAtExit(trigger: Trigger): void;
  /** The counts lost in delivery since the last report was built, which the next report carries. */
  losses(): Dropped;
  /** Whether it holds anything that only its exit would report: losses, or reports in flight. */
  holding(): boolean;
  /** Forgets the losses it holds (`tallyho/testing`'s `reset()`). */
  forgetLosses(): void;
}

export function createReporter(options: ReporterOptions): Reporter {
  const { table, context, transports, log, spool } = options;
  let queue: Promise<unknown> = Promise.resolve();
  /** Claims this process is sending right now: put back for the sender if the process exits first. */
  const inFlight = new Set<Claim>();
  const byName = new Map(transports.map((t) => [t.name, t]));
  const settling: SettleContext = { spool, log, now: Date.now, onGone: () => options.onGone() };
  /**
   * Losses found in delivery (refusals, expiries, a spool that cannot be written), held here until the
   * next report carries them: delivery returns them, and only counting writes into the table.
   */
  let carried: Dropped = {};
  const carry = (lost: Dropped): void => void addDropped(carried, lost);

  /**
   * Takes the delta and turns it into a shown report. In process it is validated where it is sent;
   * at exit it goes to the queue as built, and is validated where it leaves the machine (the
   * detached sender, or the next run): validation costs a cold zod several milliseconds that exit
   * must not wait for.
   */
  function nextReport(trigger: Trigger, leaves: boolean): { report: Report } | { result: FlushResult } {
    // What earlier runs left on disk is taken only by a report that will leave the machine (not by a
    // dry run's, nor by one built without transports): taken, it is gone from the disk.
    const fromDisk = leaves ? spool : undefined;
    if (fromDisk !== undefined) carry(fromDisk.takeDrops());
    if (isIdle(table) && !anyDropped(carried)) return { result: { status: 'empty', calls: 0, outcomes: [] } };
    const delta = takeDelta(table, Date.now());
    // Earlier runs that reported everything before their end left how they ended for this report
    // (at a level whose reports carry them).
    const earlier = atLeast(context.level, 'usage') ? fromDisk?.takeRunEnds(context.version) : undefined;
    const exits = earlier === undefined ? delta.exits : addExits(delta.exits, earlier);
    const report = buildReport({ ...delta, dropped: addDropped(delta.dropped, carried), ...(exits === undefined ? {} : { exits }) }, trigger, context);
    carried = {};
    if (options.showMe !== undefined) showReport(report, options.showMe, log);
    return { report };
  }

  function entryFor(report: Report, transport: Transport, now: number, dueAt: number): SpoolEntry {
    return {
      project: context.project,
      version: context.version,
      consent: options.consent,
      optOutEnv: options.optOutEnv,
      transport: { name: transport.name, ...(transport.spec === undefined ? {} : { spec: transport.spec }) },
      report,
      createdAt: now,
      attempts: 0,
      nextAttemptAt: dueAt,
    };
  }

  /**
   * Sends and settles: with a spool, the batch that may leave (everything waiting for this process's
   * transports with `all`, else what is due) together with `own`; without one (the test kit), `own`
   * alone. What is still in flight at exit is put back then.
   */
  async function deliver(signal: AbortSignal, all: boolean, own: readonly Claim[] = []): Promise<readonly Delivered[]> {
    const delivery = {
      ...settling,
      signal,
      transportFor: (entry: SpoolEntry) => byName.get(entry.transport.name),
      consentHolds: () => options.consentHolds(),
      onGone: () => options.onGone(),
      // Claims are tracked as they are made: one in flight when the process exits is put back then.
      onClaims: (claims: readonly Claim[]) => {
        for (const claim of claims) inFlight.add(claim);
      },
      // Each loss is carried as its claim settles: the process may exit before the rest of the batch is sent.
      onSettled: ({ lost }: Delivered) => carry(lost),
    };
    for (const claim of own) inFlight.add(claim);
    try {
      if (spool === undefined) return await deliverClaims(delivery, own);
      return await deliverBatch({ ...delivery, spool }, { all, only: (entry) => byName.has(entry.transport.name), own });
    } finally {
      for (const claim of inFlight) if (claim.settled) inFlight.delete(claim);
    }
  }

  /** An explicit flush: the new report, claimed as it is written, leaves now with everything waiting for it. */
  async function sendNow(report: Report, signal: AbortSignal): Promise<FlushResult> {
    const now = Date.now();
    const own = transports.map((transport, index): Claim => {
      const entry = entryFor(report, transport, now, now);
      // Written ahead, already claimed: a process that exits or dies while sending loses nothing.
      return spool?.addClaimed(entry, index, now) ?? { entry, path: undefined, name: '', index, settled: false };
    });
    return resultFor(report, await deliver(signal, true, own));
  }

  /** A timer tick: the new report joins the queue; the batches that are due leave now, in process. */
  async function sendDue(report: Report, signal: AbortSignal): Promise<FlushResult> {
    const now = Date.now();
    const written = spool !== undefined && transports.every((transport, index) => spool.add(entryFor(report, transport, now, now + options.batchMs), index));
    // A spool that cannot be written: the report leaves now rather than be lost.
    if (!written) return sendNow(report, signal);
    const result = resultFor(report, await deliver(signal, false));
    return result.outcomes.length > 0 ? result : { status: 'queued', reportId: report.id, calls: totalCalls(report.counts), outcomes: [] };
  }

  /** The flush's result: how the claims that carried its report (alone or merged) ended. */
  function resultFor(report: Report, delivered: readonly Delivered[]): FlushResult {
    const calls = totalCalls(report.counts);
    const mine = delivered.filter(({ claim }) => claim.entry.report.id === report.id || claim.entry.merges?.includes(report.id));
    const outcomes = mine.flatMap(({ claim, outcome }) => (outcome === undefined ? [] : [{ transport: claim.entry.transport.name, outcome }]));
    const settled = mine.map((d) => d.settled);
    const status: FlushResult['status'] =
      settled.includes('invalid') ? 'invalid'
      : settled.includes('refused') ? 'failed'
      : settled.includes('withdrawn') ? 'off'
      : settled.some((s) => s === 'kept' || s === 'unsent') ? 'queued'
      : 'sent';
    const sentAs = mine[0]?.claim.entry.report.id ?? report.id;
    return { status, reportId: sentAs, calls, outcomes };
  }

  return {
    flush(trigger, signal = AbortSignal.timeout(10_000)) {
      const run = queue.then(async (): Promise<FlushResult> => {
        if (!options.consentHolds()) return { status: 'off', calls: 0, outcomes: [] };
        const sending = !options.dryRun && transports.length > 0;
        // Losses found in the spool (expired, over quota, unreadable) go into this very report.
        if (sending && spool !== undefined) carry(spool.tidy(Date.now()));
        const next = nextReport(trigger, sending && spool !== undefined);
        if ('result' in next) {
          // Nothing new, but an explicit flush still sends what waits (a timer tick, what is due).
          if (sending && spool !== undefined) await sendWaiting(trigger === 'manual', signal);
          return next.result;
        }
        const { report } = next;
        if (!sending) {
          // Not sent, but held to the wire contract all the same (what a dry run shows is what would leave).
          if (validReport(report) === undefined) {
            carry(lossOf(report, 'invalid'));
            log.warn(`a report failed validation; ${totalCalls(report.counts)} calls counted as dropped (invalid)`);
            return { status: 'invalid', calls: totalCalls(report.counts), outcomes: [] };
          }
          log.debug(`report ${report.id} built (${totalCalls(report.counts)} calls); ${options.dryRun ? 'dry run: not sent' : 'no transports'}`);
          return { status: 'shown', reportId: report.id, calls: totalCalls(report.counts), outcomes: [] };
        }
        return trigger === 'timer' ? sendDue(report, signal) : sendNow(report, signal);
      });
      queue = run.catch(() => undefined);
      return run.catch((error: unknown): FlushResult => {
        log.warn(`flush failed: ${errorText(error)}`);
        return { status: 'failed', calls: 0, outcomes: [] };
      });
    },
    flushAtExit(trigger) {
      // Nothing counted, nothing lost here and nothing in flight: exit has nothing to do. Losses recorded
      // on disk by earlier runs wait in the spool for the next report that is made.
      if (inFlight.size === 0 && isIdle(table) && !anyDropped(carried)) return;
      if (!options.consentHolds()) return;
      // Reports this process was still sending go back to the queue, sealed, due now.
      for (const claim of inFlight) carry(settle(settling, claim, { kind: 'interrupted' }).lost);
      inFlight.clear();
      if (onlyTheRunsEnd(table) && !anyDropped(carried)) {
        // The run reported everything before its end: the project's next report carries how it ended
        // (a report of its own would count the run twice), and no sender starts for it.
        if (!options.dryRun && transports.length > 0 && spool !== undefined) spool.recordRunEnd(context.version, takeDelta(table, Date.now()).exits!);
        return;
      }
      const next = nextReport(trigger, !options.dryRun && transports.length > 0 && spool !== undefined);
      if ('result' in next || options.dryRun || transports.length === 0 || spool === undefined) return;
      // Exit never waits for the network: one write per transport, and a sender only when a batch is due.
      const now = Date.now();
      let written = 0;
      transports.forEach((transport, index) => {
        if (spool.add(entryFor(next.report, transport, now, now + options.batchMs), index)) written++;
        else log.warn(`report ${next.report.id} could not be written to the spool for ${transport.name} at ${trigger}; its ${totalCalls(next.report.counts)} calls are lost`);
      });
      if (written === 0) return;
      log.debug(`report ${next.report.id} written to the queue at ${trigger}`);
      if (transports.some((t) => t.spec !== undefined) && spool.due(now)) options.launchSender();
    },
    losses: () => ({ ...carried }),
    holding: () => inFlight.size > 0 || anyDropped(carried),
    forgetLosses: () => void (carried = {}),
  };

  /** Sends what waits without a new report: everything (explicit flush) or what is due (timer). */
  async function sendWaiting(all: boolean, signal: AbortSignal): Promise<void> {
    await deliver(signal, all);
  }
}

