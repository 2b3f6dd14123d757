import { errorText } from '../../config/error-text.js';
import { type ResolvedOptions, resolveOptions, type TelemetryOptions } from '../../options.js';
import type { ConsentDecision } from '../../consent/decide.js';
import { countingMethods, offTelemetry } from '../../counting.js';
import type { FlushResult } from '../../delivery/reporter.js';
import { addDropped, anyDropped, type Dropped, isIdle, takeDelta } from '../../registry/counter-table.js';
import { tableFor } from '../../registry/shared-state.js';
import { randomUUID } from '../../config/random.js';
import { buildReport, lossOf, type ReportContext, totalCalls } from '../../report/build-report.js';
import type { Report, Trigger } from '../../report/report.js';
import type { Telemetry, TelemetryStatus } from '../../telemetry.js';
import type { SendOutcome, Transport } from '../../transports/transport.js';
import { detectRuntime } from '../runtime.js';
import { BEACON_MAX_BYTES, type BeaconTransport, byteLength } from './http-transport.js';
import { decideWebConsent, readWebSignals, type StorageSwitches, writeWebConsent } from './signals.js';

/** How long one `flush()` may take, whatever the transports do. */
const FLUSH_DEADLINE_MS = 10_000;
/** Reports that could not be sent yet wait in memory for the next flush or beacon; past this many, the oldest are dropped (`quota`). */
const MAX_PENDING = 20;

/**
 * The web entry's `createTelemetry`: browsers, web workers and edge workers. The same options,
 * decorators, counters, reports and `status()` as on a server; consent from the author's options, the
 * browser's Global Privacy Control and Do Not Track, and the `localStorage` switches; reports shown on
 * the console under `tallyho-show-me`. No file system, sender or exit hooks: `flush()` sends, and a
 * page that is hidden or left sends what is left by beacon. An edge worker registers nothing at all:
 * hand `telemetry.flush()` to `ctx.waitUntil()`.
 */
export function createTelemetry(options: TelemetryOptions): Telemetry {
  const resolved = resolveOptions(options);
  const runtime = detectRuntime();
  const decide = (): ConsentDecision => decideWebConsent(readWebSignals(), resolved);
  const decision = decide();
  const signals = readWebSignals();
  const switches: StorageSwitches | undefined = typeof signals.storage === 'object' ? signals.storage : undefined;
  const log = consoleLog(resolved.project, switches?.debug ?? false);
  log.debug(`${decision.enabled ? 'on' : 'off'}: ${decision.reason}`);
  const status: TelemetryStatus = {
    project: resolved.project,
    version: resolved.version,
    enabled: decision.enabled,
    rule: decision.rule,
    reason: decision.reason,
    level: resolved.level,
    consent: resolved.consent,
    transports: resolved.transports.map((t) => t.name),
    timer: resolved.timer === false ? false : resolved.timer.intervalSec,
    // No spool here (no file system): every flush sends what it has, so nothing waits for a batch.
    batch: 0,
    dryRun: switches?.dryRun ?? false,
  };
  if (!decision.enabled) return offTelemetry(status, (allow) => writeWebConsent(resolved.project, allow));
  return enabledTelemetry(resolved, status, runtime.name, runtime.version, switches, log, decide);
}

interface ConsoleLog {
  debug(message: string): void;
}

function consoleLog(project: string, debug: boolean): ConsoleLog {
  return { debug: debug ? (message) => console.debug(`tallyho(${project}): ${message}`) : () => {} };
}

function enabledTelemetry(
  resolved: ResolvedOptions,
  status: TelemetryStatus,
  runtimeName: string,
  runtimeVersion: string,
  switches: StorageSwitches | undefined,
  log: ConsoleLog,
  decide: () => ConsentDecision,
): Telemetry {
  const { project, version, transports } = resolved;
  const table = tableFor(project, Date.now());
  // No identifiers in browsers: there is no salt file, and a salt in localStorage would itself be one.
  const context: ReportContext = { project, version, level: status.level, facts: { runtime: { name: runtimeName, version: runtimeVersion } }, ci: false, identity: undefined };
  let withdrawn = false;
  let stopped = false;
  const consents = () => !withdrawn && decide().enabled;
  const holds = () => !stopped && consents();
  /** Reports not yet taken by some transport, oldest first, with the transports still owed. */
  const pending: { report: Report; owed: Transport[] }[] = [];
  let queue: Promise<unknown> = Promise.resolve();
  /** Losses found in delivery, held until the next report carries them (only counting writes into the table). */
  let carried: Dropped = {};

  function nextReport(trigger: Trigger): Report | undefined {
    if (isIdle(table) && !anyDropped(carried)) return undefined;
    const delta = takeDelta(table, Date.now());
    const report = buildReport({ ...delta, dropped: addDropped(delta.dropped, carried) }, trigger, context);
    carried = {};
    if (switches?.showMe) console.info(`tallyho(${project}) report:`, JSON.stringify(report));
    return report;
  }

  function keep(report: Report, owed: Transport[]): void {
    pending.push({ report, owed });
    while (pending.length > MAX_PENDING) {
      addDropped(carried, lossOf(pending.shift()!.report, 'quota'));
    }
  }

  async function sendOne(transport: Transport, report: Report, signal: AbortSignal): Promise<SendOutcome> {
    try {
      return await transport.send(report, { signal });
    } catch (error) {
      return { kind: 'failure', reason: `transport threw: ${errorText(error)}` };
    }
  }

  async function flush(trigger: Trigger, signal: AbortSignal): Promise<FlushResult> {
    if (!holds()) return { status: 'off', calls: 0, outcomes: [] };
    const report = nextReport(trigger);
    const sending = !(switches?.dryRun ?? false) && transports.length > 0;
    if (!sending) {
      if (report === undefined) return { status: 'empty', calls: 0, outcomes: [] };
      return { status: 'shown', reportId: report.id, calls: totalCalls(report.counts), outcomes: [] };
    }
    // What earlier flushes could not send goes first, then this flush's report.
    const earlier = pending.splice(0);
    for (const { report: old, owed } of earlier) {
      const still = await deliver(old, owed, signal);
      if (still.length > 0) keep(old, still);
    }
    if (report === undefined) return { status: 'empty', calls: 0, outcomes: [] };
    const outcomes: FlushResult['outcomes'][number][] = [];
    const owed = await deliver(report, transports, signal, outcomes);
    if (owed.length > 0) keep(report, owed);
    const refused = outcomes.some(({ outcome }) => outcome.kind === 'failure');
    return { status: refused ? 'failed' : owed.length > 0 ? 'queued' : 'sent', reportId: report.id, calls: totalCalls(report.counts), outcomes };
  }

  /** Sends `report` to each transport; returns the transports that asked to be tried again. */
  async function deliver(report: Report, to: readonly Transport[], signal: AbortSignal, outcomes: FlushResult['outcomes'][number][] = []): Promise<Transport[]> {
    const results = await Promise.all(to.map(async (transport) => ({ transport, outcome: await sendOne(transport, report, signal) })));
    const owed: Transport[] = [];
    let refused = false;
    for (const { transport, outcome } of results) {
      outcomes.push({ transport: transport.name, outcome });
      if (outcome.kind === 'retryable') owed.push(transport);
      if (outcome.kind === 'failure') refused = true;
      log.debug(`report ${report.id} to ${transport.name}: ${outcome.kind}${outcome.kind === 'success' ? '' : ` (${outcome.reason})`}`);
    }
    if (refused) addDropped(carried, lossOf(report, 'refused'));
    return owed;
  }

  /**
   * The page is being hidden or left: what was counted since the last report, and every report still
   * waiting, leave now by beacon (each at most 64 KiB: larger reports are split by name). A beacon
   * the browser refuses is counted as lost (`network`).
   */
  function beaconAll(): void {
    // After shutdown(), only what its final flush could not send is left to leave by beacon.
    if (!consents() || (stopped && pending.length === 0 && !anyDropped(carried))) return;
    const report = nextReport('exit');
    if ((switches?.dryRun ?? false) || transports.length === 0) return;
    if (report !== undefined) pending.push({ report, owed: [...transports] });
    for (const { report: waiting, owed } of pending.splice(0)) {
      for (const transport of owed) {
        if (!isBeacon(transport)) {
          // A transport of the author's own: started, not awaited (the page may be gone before it ends).
          void sendOne(transport, waiting, new AbortController().signal);
          continue;
        }
        for (const part of splitReport(waiting, BEACON_MAX_BYTES)) {
          if (!transport.beacon(JSON.stringify(part))) addDropped(carried, lossOf(part, 'network'));
        }
      }
    }
  }

  const detach: (() => void)[] = [];
  const scope = globalThis as { document?: { visibilityState?: string }; addEventListener?: EventTarget['addEventListener']; removeEventListener?: EventTarget['removeEventListener'] };
  // Pages only: an edge worker or web worker is never hidden, and registers nothing.
  if (scope.document !== undefined && typeof scope.addEventListener === 'function') {
    const onVisibility = () => {
      if (scope.document?.visibilityState === 'hidden') beaconAll();
    };
    const onPageHide = () => beaconAll();
    scope.addEventListener('visibilitychange', onVisibility);
    scope.addEventListener('pagehide', onPageHide);
    detach.push(() => scope.removeEventListener?.('visibilitychange', onVisibility), () => scope.removeEventListener?.('pagehide', onPageHide));
  }
  let timer: ReturnType<typeof setInterval> | undefined;
  if (status.timer !== false && scope.document !== undefined) timer = setInterval(() => void run('timer'), status.timer * 1000);

  function run(trigger: Trigger, signal: AbortSignal = AbortSignal.timeout(FLUSH_DEADLINE_MS)): Promise<FlushResult> {
    const next = queue.then(() => flush(trigger, signal));
    queue = next.catch(() => undefined);
    return next.catch((error: unknown): FlushResult => {
      log.debug(`flush failed: ${errorText(error)}`);
      return { status: 'failed', calls: 0, outcomes: [] };
    });
  }

  return {
    ...countingMethods(table, resolved.maxNames, log.debug),
    status: () => status,
    setConsent(allow) {
      if (!allow) withdrawn = true;
      return writeWebConsent(project, allow);
    },
    flush: () => run('manual'),
    async shutdown(shutdownOptions = {}) {
      clearInterval(timer);
      const final = run('manual');
      let deadline: ReturnType<typeof setTimeout> | undefined;
      const result = await Promise.race([
        final,
        new Promise<FlushResult>((resolve) => (deadline = setTimeout(() => resolve({ status: 'timeout', calls: 0, outcomes: [] }), shutdownOptions.timeoutMs ?? 5000))),
      ]);
      clearTimeout(deadline);
      stopped = true;
      // What the final flush could not send (reports kept for a retry, losses it found, even after
      // shutdown() stopped waiting for it) still leaves by beacon when the page goes: the page's
      // listeners stay until then. (The final flush never rejects.)
      void final.then(() => {
        if (pending.length === 0 && !anyDropped(carried)) for (const d of detach.splice(0)) d();
      });
      return result;
    },
  };
}

function isBeacon(transport: Transport): transport is BeaconTransport {
  return typeof (transport as Partial<BeaconTransport>).beacon === 'function';
}

/**
 * `report` as reports of at most `maxBytes` of JSON each: its counts divided by name, each part with
 * its own id and the same period. A name's errors go with its count; the losses go with the first part.
 * Sizes are added up per entry (one JSON.stringify of the whole per part, not per name): this runs
 * while a page is being closed.
 */
export function splitReport(report: Report, maxBytes: number): Report[] {
  if (byteLength(JSON.stringify(report)) <= maxBytes) return [report];
  const { errors } = report;
  const entrySize = (name: string, n: number | undefined) => (n === undefined ? 0 : byteLength(JSON.stringify(name)) + String(n).length + 2);
  const parts: Report[] = [];
  const start = (first: boolean): Report => ({ ...report, ...(first ? {} : { id: randomUUID(), dropped: {} }), counts: {}, ...(errors === undefined ? {} : { errors: {} }) });
  let part = start(true);
  // Errors of names that are not counted (none should be) stay with the first part.
  for (const [name, n] of Object.entries(errors ?? {})) if (report.counts[name] === undefined) part.errors![name] = n;
  let size = byteLength(JSON.stringify(part));
  for (const [name, n] of Object.entries(report.counts)) {
    const added = entrySize(name, n) + entrySize(name, errors?.[name]);
    if (size + added > maxBytes && Object.keys(part.counts).length > 0) {
      parts.push(part);
      part = start(false);
      size = byteLength(JSON.stringify(part));
    }
    part.counts[name] = n;
    if (errors?.[name] !== undefined) part.errors![name] = errors[name];
    size += added;
  }
  parts.push(part);
  return parts;
}
