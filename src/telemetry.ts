import { onExit } from 'signal-exit';
import { readEnv } from './config/env.js';
import { type Home, resolveHome } from './config/home.js';
import { createLog } from './config/log.js';
import { resolveOptions, type TelemetryOptions } from './config/options.js';
import { readConsentFiles, writeProjectConsent } from './consent/consent-files.js';
import { type ConsentDecision, type ConsentRule, decideConsent } from './consent/decide.js';
import { createTrack, type TrackDecorator, type TrackOptions } from './decorators/track.js';
import { createReporter, type FlushResult } from './delivery/reporter.js';
import { allocateCell, createCounterTable, recordDropped, type CounterTable } from './registry/counter-table.js';
import { sharedState } from './registry/shared-state.js';
import { atLeast } from './report/build-report.js';
import { environmentFacts } from './report/environment.js';
import type { Level } from './report/report.js';
import type { Transport } from './transports/transport.js';

/** Why a project's telemetry is on or off, and what it does when on. */
export interface TelemetryStatus {
  readonly project: string;
  readonly version: string;
  /** Whether this process counts and reports. Decided once, in `createTelemetry`. */
  readonly enabled: boolean;
  /** The rule that decided it (`do-not-track`, `ci`, `project-optout`, `default-on`, ...). */
  readonly rule: ConsentRule;
  /** The decision in a sentence, with what to do to change it. */
  readonly reason: string;
  /** The level reports are built at: the author's, or lower if `TALLYHO_LEVEL` says so. */
  readonly level: Level;
  /** The author's consent model. */
  readonly consent: 'opt-out' | 'opt-in';
  /** Where reports go, by transport name. */
  readonly transports: readonly string[];
  /** True when `TALLYHO_DRY_RUN` is set: reports are built and shown, never sent. */
  readonly dryRun: boolean;
}

/** Options of {@link Telemetry.shutdown}. */
export interface ShutdownOptions {
  /** How long the final flush may take. Default 5,000 ms. */
  timeoutMs?: number;
}

/** One project's telemetry, made by {@link createTelemetry}. */
export interface Telemetry {
  /**
   * The decorator, for classes (counts `new` and every method declared in the class) and for single
   * methods, getters and setters. Works with TC39 decorators and with `experimentalDecorators`. When
   * telemetry is off it returns every original untouched.
   */
  track(options?: TrackOptions): TrackDecorator;
  /**
   * Counts `n` (default 1) under `name`, for plain functions and features. Names are printable, at most
   * 200 characters; `n` is a positive safe integer. A bad call is ignored and counted as dropped
   * (`invalid`), never thrown; past `maxNames` distinct names, further names count as dropped
   * (`overflow`).
   */
  count(name: string, n?: number): void;
  /** Whether telemetry is on, the rule that decided it, and where reports go. */
  status(): TelemetryStatus;
  /**
   * Persists the user's choice for this project, from the author's own command or prompt (the same
   * file `tallyho optin/optout` writes). `false` also stops this process from sending and deletes the
   * project's waiting reports; `true` takes effect from the next run. Returns whether it was saved.
   */
  setConsent(allow: boolean): boolean;
  /** Sends the counts since the last report now. Resolves, never rejects. */
  flush(): Promise<FlushResult>;
  /** A final flush, then detaches exit hooks and timers. Resolves, never rejects. */
  shutdown(options?: ShutdownOptions): Promise<FlushResult>;
}

const SEND_TIMEOUT_MS = 5000;

/**
 * Creates the telemetry of one project. Validates the options (a bad option throws a TypeError that
 * says what to change: the only place tallyho throws), then decides, once and before any class is
 * decorated, whether the telemetry is on. When it is off, nothing is registered, written or opened,
 * and `track()` returns the originals.
 *
 * @example
 * ```ts
 * export const telemetry = createTelemetry({
 *   project: 'acme-sdk',
 *   version: '1.4.0',
 *   transports: [httpTransport('https://telemetry.acme.dev/v1/reports')],
 * });
 * ```
 */
export function createTelemetry(options: TelemetryOptions): Telemetry {
  const resolved = resolveOptions(options);
  const { project, version, consent } = resolved;
  const env = readEnv();
  const log = createLog(project, { debug: env.debug, showMe: env.showMe !== undefined });
  for (const warning of env.warnings) log.warn(warning);
  const shared = sharedState();
  const kit = shared.testKit;

  let home: Home | undefined;
  let decision: ConsentDecision;
  if (kit !== undefined) {
    decision = { enabled: true, rule: 'test-kit', reason: 'on under the tallyho/testing kit; reports go to memory' };
  } else {
    home = resolveHome(env.home);
    decision = decideConsent(env, readConsentFiles(home, project, process.cwd()), resolved);
  }
  const level = env.level !== undefined && !atLeast(env.level, resolved.level) ? env.level : resolved.level;
  const transports: readonly Transport[] =
    kit !== undefined
      ? [{ name: 'tallyho/testing', send: (report) => (kit.receive(report), Promise.resolve({ kind: 'success' })) }]
      : resolved.transports;
  log.debug(`${decision.enabled ? 'on' : 'off'}: ${decision.reason}`);

  const status = (): TelemetryStatus => ({
    project,
    version,
    enabled: decision.enabled,
    rule: decision.rule,
    reason: decision.reason,
    level,
    consent,
    transports: transports.map((t) => t.name),
    dryRun: env.dryRun,
  });
  const setConsent = (allow: boolean): boolean => {
    if (!allow) withdrawn = true;
    try {
      writeProjectConsent(home ?? resolveHome(env.home), project, allow);
      log.debug(`consent for ${project} saved: ${allow ? 'in' : 'out'}`);
      return true;
    } catch (error) {
      log.warn(`could not save consent for ${project}: ${(error as Error).message}`);
      return false;
    }
  };
  let withdrawn = false;

  if (!decision.enabled) {
    const off: FlushResult = { status: 'off', calls: 0, outcomes: [] };
    const track = createTrack(undefined);
    return {
      track,
      count: () => {},
      status,
      setConsent,
      flush: () => Promise.resolve(off),
      shutdown: () => Promise.resolve(off),
    };
  }

  const table = tableFor(shared.tables, project);
  const reporter = createReporter({
    table,
    context: { project, version, level, facts: environmentFacts(), ci: env.ci },
    transports,
    showMe: env.showMe,
    dryRun: env.dryRun,
    log,
    sendTimeoutMs: SEND_TIMEOUT_MS,
    consentHolds: () => !withdrawn,
  });
  const track = createTrack({ table, wrappers: shared.wrappers, warn: log.warn });

  // Under the testing kit nothing outlives the test: no exit hook.
  let detachExit =
    kit !== undefined
      ? () => {}
      : onExit((_code, signal) => {
          try {
            reporter.flushAtExit(signal === null ? 'exit' : 'signal');
          } catch (error) {
            log.warn(`exit report failed: ${(error as Error)?.message ?? String(error)}`);
          }
          // Never return true: that would stop signal-exit from re-raising the host's signal.
        });

  return {
    track,
    count: (name, n = 1) => countManual(table, resolved.maxNames, name, n, log),
    status,
    setConsent,
    flush: () => reporter.flush('manual'),
    async shutdown(shutdownOptions = {}) {
      detachExit();
      detachExit = () => {};
      const timeoutMs = shutdownOptions.timeoutMs ?? SEND_TIMEOUT_MS;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<FlushResult>((resolve) => {
        timer = setTimeout(() => resolve({ status: 'failed', calls: 0, outcomes: [] }), timeoutMs);
        timer.unref();
      });
      const result = await Promise.race([reporter.flush('manual'), late]);
      clearTimeout(timer);
      return result;
    },
  };
}

/** The project's counter table, shared with any other copy of tallyho in the process. */
function tableFor(tables: Map<string, CounterTable>, project: string): CounterTable {
  let table = tables.get(project);
  if (table === undefined) {
    table = createCounterTable(Date.now());
    tables.set(project, table);
  }
  return table;
}

const PRINTABLE = /^[^\p{C}]{1,200}$/u;

function countManual(table: CounterTable, maxNames: number, name: string, n: number, log: { warn(m: string): void }): void {
  if (!Number.isSafeInteger(n) || n <= 0) {
    recordDropped(table, 'invalid', 1);
    log.warn(`count(${JSON.stringify(String(name)).slice(0, 60)}, ${String(n)}) ignored: n must be a positive whole number`);
    return;
  }
  let cell = table.manual.get(name);
  if (cell === undefined) {
    if (typeof name !== 'string' || !PRINTABLE.test(name)) {
      recordDropped(table, 'invalid', n);
      log.warn('count() ignored a name that is not 1 to 200 printable characters');
      return;
    }
    if (table.manual.size >= maxNames) {
      if (!table.dropped.overflow) log.warn(`more than ${maxNames} distinct count() names; further names count as dropped (overflow)`);
      recordDropped(table, 'overflow', n);
      return;
    }
    cell = allocateCell(table, name);
    table.manual.set(name, cell);
  }
  cell.calls += n;
}

