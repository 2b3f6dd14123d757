import type { ShowMe } from '../config/env.js';
import type { Log } from '../config/log.js';
import { type CounterTable, drop, dropAll, isIdle, takeDelta } from '../registry/counter-table.js';
import { buildReport, type ReportContext, totalCalls } from '../report/build-report.js';
import { validReport } from '../report/valid-report.js';
import type { Report, Trigger } from '../report/report.js';
import type { SendOutcome, Transport } from '../transports/transport.js';
import { deliverSpooled, retryDelayMs } from './deliver-spooled.js';
import { showReport } from './show-me.js';
import { type Claim, lossOf, type Spool, type SpoolEntry } from './spool.js';
import { errorText } from '../config/error-text.js';

/** What one flush did. `flush()` and `shutdown()` resolve with it and never reject. */
export interface FlushResult {
  /**
   * - `sent`: every transport took the report.
   * - `queued`: some transport could not be reached in time; the report waits in the spool for a
   *   later attempt (this process's next flush, the detached sender, or the next run).
   * - `failed`: some transport refused the report for good; its counts are reported as dropped.
   * - `empty`: nothing was counted since the last report.
   * - `shown`: built and shown, but not sent (`TALLYHO_DRY_RUN`, or no transports).
   * - `off`: telemetry is off for this project, or consent was withdrawn.
   * - `invalid`: the report failed validation and was dropped (counted).
   * - `timeout`: `shutdown()` stopped waiting; what was unsent is spooled at exit.
   */
  readonly status: 'sent' | 'queued' | 'failed' | 'empty' | 'shown' | 'off' | 'invalid' | 'timeout';
  /** The report's id, when one was built. */
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
  /** Where undelivered reports wait; `undefined` under the test kit. */
  readonly spool: Spool | undefined;
  /** Checked again before every send: consent holds after the fact. */
  readonly consentHolds: () => boolean;
  /** Called on `410 Gone`. */
  readonly onGone: () => void;
  /** Starts the detached sender at exit when a spooled report can be sent without the host. */
  readonly launchSender: () => void;
}

/** Builds, shows and sends reports for one telemetry. */
export interface Reporter {
  /** Sends the delta since the last report. Flushes never overlap: a second waits for the first. */
  flush(trigger: Trigger, signal?: AbortSignal): Promise<FlushResult>;
  /** At exit: builds and shows the last delta synchronously and spools it; never touches the network. */
  flushAtExit(trigger: Trigger): void;
}

export function createReporter(options: ReporterOptions): Reporter {
  const { table, context, transports, log, spool } = options;
  let queue: Promise<unknown> = Promise.resolve();
  let drained = false;
  /** Spool files this process is sending right now: released for the sender if the process exits first. */
  const inFlight = new Set<Claim>();

  /**
   * Takes the delta and turns it into a shown report. In process it is validated here, before it is
   * sent; at exit it goes to the spool as built, and is validated where it leaves the machine (the
   * detached sender, or the next run): validation costs a cold zod several milliseconds that exit
   * must not wait for.
   */
  function nextReport(trigger: Trigger, validate: boolean): { report: Report } | { result: FlushResult } {
    if (spool !== undefined) dropAll(table, spool.takeDrops());
    if (isIdle(table)) return { result: { status: 'empty', calls: 0, outcomes: [] } };
    const delta = takeDelta(table, Date.now());
    const built = buildReport(delta, trigger, context);
    const report = validate ? validReport(built) : built;
    const calls = totalCalls(delta.counts);
    if (report === undefined) {
      drop(table, 'invalid', calls);
      log.warn(`a report failed validation; ${calls} calls counted as dropped (invalid)`);
      return { result: { status: 'invalid', calls, outcomes: [] } };
    }
    if (options.showMe !== undefined) showReport(report, options.showMe, log);
    return { report };
  }

  function entryFor(report: Report, transport: Transport, now: number, attempts: number, retryAfterMs?: number): SpoolEntry {
    return {
      project: context.project,
      version: context.version,
      consent: options.consent,
      optOutEnv: options.optOutEnv,
      transport: { name: transport.name, ...(transport.spec === undefined ? {} : { spec: transport.spec }) },
      report,
      createdAt: now,
      attempts,
      nextAttemptAt: attempts === 0 ? now : now + retryDelayMs(attempts, retryAfterMs),
    };
  }

  /**
   * Keeps a report for a transport that could not take it now. Returns false when the spool cannot be
   * written: the report is lost, and counted (it can be reported only if this process reports again).
   */
  function keep(report: Report, transport: Transport, index: number, attempts: number, retryAfterMs?: number): boolean {
    if (spool !== undefined && spool.add(entryFor(report, transport, Date.now(), attempts, retryAfterMs), index)) return true;
    dropAll(table, lossOf(report, 'network'));
    log.warn(
      `report ${report.id} could not be kept for ${transport.name} (the spool cannot be written); its ${totalCalls(report.counts)} calls are counted as dropped (network), for this process's next report`,
    );
    return false;
  }

  /** The host's first flush also delivers what earlier runs left waiting (never at import). */
  async function drain(signal: AbortSignal): Promise<void> {
    if (drained || spool === undefined) return;
    drained = true;
    // Losses recorded while delivering are collected by nextReport(), which runs right after.
    dropAll(table, spool.tidy(Date.now()));
    const byName = new Map(transports.map((t) => [t.name, t]));
    // Only what this process has a transport for; the rest stays untouched for the sender or a later run.
    const claims = spool.claimDue(Date.now(), { only: (entry) => byName.has(entry.transport.name) });
    if (claims.length === 0) return;
    for (const claim of claims) inFlight.add(claim);
    await deliverSpooled(
      {
        spool,
        log,
        now: Date.now,
        signal,
        transportFor: (entry) => byName.get(entry.transport.name),
        consentHolds: () => options.consentHolds(),
        onGone: () => options.onGone(),
      },
      claims,
    );
    for (const claim of claims) inFlight.delete(claim);
  }

  async function send(report: Report, signal: AbortSignal): Promise<FlushResult> {
    const calls = totalCalls(report.counts);
    // Written ahead, already claimed: a process that exits or dies while sending loses nothing.
    const now = Date.now();
    const claims = transports.map((transport, index) => spool?.addClaimed(entryFor(report, transport, now, 0), index));
    for (const claim of claims) if (claim !== undefined) inFlight.add(claim);
    const outcomes = await Promise.all(
      transports.map(async (transport) => ({ transport: transport.name, outcome: await sendOne(transport, report, signal) })),
    );
    let queued = false;
    let refused = false;
    outcomes.forEach(({ transport, outcome }, index) => {
      const claim = claims[index];
      if (claim !== undefined) inFlight.delete(claim);
      if (outcome.kind === 'success') {
        if (claim !== undefined) spool?.remove(claim);
        log.debug(`report ${report.id} delivered to ${transport}${outcome.note ? ` (${outcome.note})` : ''}`);
        if (outcome.rejected) {
          // A partial success: the receiver says how many data points it declined, not which; each
          // point is one name's count, so this is a lower bound of the calls lost.
          drop(table, 'refused', outcome.rejected);
          log.warn(`${transport} took report ${report.id} but rejected ${outcome.rejected} of its data points; counted as dropped (refused)`);
        }
      } else if (outcome.kind === 'retryable') {
        queued = true;
        if (claim !== undefined) spool?.release(claim, { attempts: 1, nextAttemptAt: Date.now() + retryDelayMs(1, outcome.retryAfterMs) });
        else keep(report, transports[index]!, index, 1, outcome.retryAfterMs);
        log.debug(`report ${report.id} kept for a later attempt at ${transport}: ${outcome.reason}`);
      } else {
        if (claim !== undefined) spool?.remove(claim);
        refused = true;
        if (outcome.gone) options.onGone();
        log.warn(`report ${report.id} refused by ${transport}: ${outcome.reason}; ${calls} calls reported as dropped`);
      }
    });
    // Lost on at least one destination: said once, whatever the number of destinations that refused it.
    if (refused) dropAll(table, lossOf(report, 'refused'));
    return { status: refused ? 'failed' : queued ? 'queued' : 'sent', reportId: report.id, calls, outcomes };
  }

  async function sendOne(transport: Transport, report: Report, signal: AbortSignal): Promise<SendOutcome> {
    try {
      return await transport.send(report, { signal });
    } catch (error) {
      // A transport must not throw; one that does is treated as a final failure, never passed on.
      return { kind: 'failure', reason: `transport threw: ${errorText(error)}` };
    }
  }

  return {
    flush(trigger, signal = new AbortController().signal) {
      const run = queue.then(async (): Promise<FlushResult> => {
        if (!options.consentHolds()) return { status: 'off', calls: 0, outcomes: [] };
        const sending = !options.dryRun && transports.length > 0;
        if (sending) await drain(signal);
        const next = nextReport(trigger, true);
        if ('result' in next) return next.result;
        const { report } = next;
        if (!sending) {
          log.debug(`report ${report.id} built (${totalCalls(report.counts)} calls); ${options.dryRun ? 'dry run: not sent' : 'no transports'}`);
          return { status: 'shown', reportId: report.id, calls: totalCalls(report.counts), outcomes: [] };
        }
        return send(report, signal);
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
      if (inFlight.size === 0 && isIdle(table)) return;
      if (!options.consentHolds()) return;
      // Reports this process was still sending go back to the spool, due now.
      for (const claim of inFlight) spool?.release(claim, { attempts: claim.entry.attempts, nextAttemptAt: Date.now() });
      const due = inFlight.size > 0;
      inFlight.clear();
      const next = nextReport(trigger, false);
      let spooled = false;
      if (!('result' in next) && !options.dryRun && transports.length > 0) {
        // Exit never waits for the network: the report goes to the spool, synchronously.
        spooled = transports.map((transport, index) => keep(next.report, transport, index, 0)).some(Boolean);
        if (spooled) log.debug(`report ${next.report.id} spooled at ${trigger}`);
        // No report follows an exit: what could not be written is lost, and said so plainly.
        else log.warn(`report ${next.report.id} could not be written to the spool at ${trigger}; its ${totalCalls(next.report.counts)} calls are lost`);
      }
      if ((spooled || due) && transports.some((t) => t.spec !== undefined)) options.launchSender();
    },
  };
}
