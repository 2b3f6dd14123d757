import type { ShowMe } from '../config/env.js';
import type { Log } from '../config/log.js';
import { isIdle, recordDropped, takeDelta, type CounterTable } from '../registry/counter-table.js';
import { buildReport, type ReportContext, totalCalls } from '../report/build-report.js';
import type { Report, Trigger } from '../report/report.js';
import type { SendOutcome, Transport } from '../transports/transport.js';
import { showReport } from './show-me.js';

/** What one flush did. `flush()` and `shutdown()` resolve with it and never reject. */
export interface FlushResult {
  /**
   * - `sent`: every transport took the report.
   * - `partial`: some transports took it; `outcomes` says which did not.
   * - `failed`: no transport took it; its counts are reported as dropped.
   * - `empty`: nothing was counted since the last report.
   * - `shown`: built and shown, but there is nowhere to send it (dry run, or no transports).
   * - `off`: telemetry is off for this project.
   * - `invalid`: the report failed validation and was dropped (counted).
   */
  readonly status: 'sent' | 'partial' | 'failed' | 'empty' | 'shown' | 'off' | 'invalid';
  /** The report's id, when one was built. */
  readonly reportId?: string;
  /** Calls the report counted. */
  readonly calls: number;
  /** Each transport's outcome. */
  readonly outcomes: readonly { readonly transport: string; readonly outcome: SendOutcome }[];
}

/** What the reporter needs from the telemetry that owns it. */
export interface ReporterOptions {
  readonly table: CounterTable;
  readonly context: ReportContext;
  readonly transports: readonly Transport[];
  readonly showMe: ShowMe | undefined;
  readonly dryRun: boolean;
  readonly log: Log;
  /** How long one send may take before it is aborted. */
  readonly sendTimeoutMs: number;
  /** Checked again before every send: consent holds after the fact. */
  readonly consentHolds: () => boolean;
  /** Receives what could not be sent in process (the spool); `undefined` before it exists. */
  readonly atExit?: (report: Report) => void;
}

/** Builds, shows and sends reports for one telemetry. */
export interface Reporter {
  /** Sends the delta since the last report. Flushes never overlap: a second waits for the first. */
  flush(trigger: Trigger): Promise<FlushResult>;
  /** At exit: builds and shows the last delta synchronously and hands it to `atExit`. */
  flushAtExit(trigger: Trigger): void;
}

export function createReporter(options: ReporterOptions): Reporter {
  const { table, context, transports, log } = options;
  let queue: Promise<unknown> = Promise.resolve();

  /** Takes the delta and turns it into a validated, shown report; `undefined` when there is nothing to say. */
  function nextReport(trigger: Trigger): { report?: Report; result?: FlushResult } {
    if (isIdle(table)) return { result: { status: 'empty', calls: 0, outcomes: [] } };
    const delta = takeDelta(table, Date.now());
    const report = buildReport(delta, trigger, context);
    const calls = totalCalls(delta.counts);
    if (report === undefined) {
      recordDropped(table, 'invalid', calls);
      log.warn(`a report failed validation; ${calls} calls counted as dropped (invalid)`);
      return { result: { status: 'invalid', calls, outcomes: [] } };
    }
    if (options.showMe !== undefined) showReport(report, options.showMe, log);
    return { report };
  }

  async function send(report: Report): Promise<FlushResult> {
    const calls = totalCalls(report.counts);
    if (options.dryRun || transports.length === 0) {
      log.debug(`report ${report.id} built (${calls} calls); ${options.dryRun ? 'dry run: not sent' : 'no transports configured'}`);
      return { status: 'shown', reportId: report.id, calls, outcomes: [] };
    }
    const outcomes = await Promise.all(
      transports.map(async (transport) => ({ transport: transport.name, outcome: await sendOne(transport, report) })),
    );
    const delivered = outcomes.filter((o) => o.outcome.kind === 'success').length;
    for (const { transport, outcome } of outcomes) {
      if (outcome.kind === 'success') log.debug(`report ${report.id} delivered to ${transport}`);
      else log.warn(`report ${report.id} not delivered to ${transport}: ${outcome.reason}`);
    }
    if (delivered < outcomes.length) {
      // Lost on at least one destination: said once, whatever the number of destinations that missed it.
      const final = outcomes.some((o) => o.outcome.kind === 'failure');
      recordDropped(table, final ? 'refused' : 'network', calls);
    }
    const status = delivered === outcomes.length ? 'sent' : delivered === 0 ? 'failed' : 'partial';
    return { status, reportId: report.id, calls, outcomes };
  }

  async function sendOne(transport: Transport, report: Report): Promise<SendOutcome> {
    try {
      return await transport.send(report, { signal: AbortSignal.timeout(options.sendTimeoutMs) });
    } catch (error) {
      // A transport must not throw; one that does is treated as a final failure, never passed on.
      return { kind: 'failure', reason: `transport threw: ${(error as Error)?.message ?? String(error)}` };
    }
  }

  return {
    flush(trigger) {
      const run = queue.then(async (): Promise<FlushResult> => {
        if (!options.consentHolds()) return { status: 'off', calls: 0, outcomes: [] };
        const { report, result } = nextReport(trigger);
        return report === undefined ? result! : send(report);
      });
      queue = run.catch(() => undefined);
      return run.catch((error: unknown) => {
        log.warn(`flush failed: ${(error as Error)?.message ?? String(error)}`);
        return { status: 'failed', calls: 0, outcomes: [] } satisfies FlushResult;
      });
    },
    flushAtExit(trigger) {
      if (!options.consentHolds()) return;
      const { report } = nextReport(trigger);
      if (report === undefined) return;
      if (options.atExit !== undefined) options.atExit(report);
      else log.debug(`report ${report.id} built at ${trigger} (${totalCalls(report.counts)} calls)`);
    },
  };
}
