import { type EnvFacts, readEnv } from './config/env.js';
import { type Home, homePaths, homeProblem, resolveHome } from './config/home.js';
import { createLog, type Log } from './config/log.js';
import { type ResolvedOptions, resolveOptions, type TelemetryOptions } from './options.js';
import { writeProjectConsent } from './consent/consent-files.js';
import type { ConsentDecision, ConsentRule } from './consent/decide.js';
import { firstRun } from './consent/first-run.js';
import { listKnownProjects } from './consent/known-projects.js';
import { countingMethods, offTelemetry } from './counting.js';
import type { InstrumentOptions } from './decorators/instrument.js';
import type { TrackDecorator, TrackOptions } from './decorators/track.js';
import { recordGone } from './consent/gone.js';
import { currentConsent } from './consent/current-consent.js';
import type { FlushResult, Reporter } from './delivery/reporter.js';
import type { Identity } from './identity/identity.js';
import { readMachineId } from './identity/machine-id.js';
import { type Late, lateAvailable, loadLate } from './load-late.js';
import { lazy } from './config/lazy.js';
import { type CounterTable, isIdle } from './registry/counter-table.js';
import { startLifecycle } from './delivery/lifecycle.js';
import { sharedState, tableFor, type TestKitHook } from './registry/shared-state.js';
import { atLeast, type Level } from './config/level.js';
import { exportedByBuiltinModule } from './runtime/builtin-modules.js';
import { serverRuntimeSupport } from './runtime/support.js';
import { rebuildableSpec } from './transports/rebuildable.js';
import type { Transport } from './transports/transport.js';
import { errorText } from './config/error-text.js';

/** Why a project's telemetry is on or off, and what it does when on. */
export interface TelemetryStatus {
  /** The project's id, as given to `createTelemetry` and as users opt out by. */
  readonly project: string;
  /** The project's version, as reports carry it. */
  readonly version: string;
  /**
   * Whether this process counts and reports, as decided now: first in `createTelemetry`, then again
   * at every flush and every call of `status()`, so that an opt-out while the program runs turns it
   * off. A telemetry created off stays off for the run.
   */
  readonly enabled: boolean;
  /** The rule that decided it (`do-not-track`, `ci`, `project-optout`, `default-on`, ...). */
  readonly rule: ConsentRule;
  /** The decision in a sentence, with what to do to change it. */
  readonly reason: string;
  /** The level reports are built at: the author's, or lower if `TALLYHO_LEVEL` says so. */
  readonly level: Level;
  /** The author's consent model. */
  readonly consent: 'opt-out' | 'opt-in';
  /** Where reports go, by transport name (URLs for HTTP transports). */
  readonly transports: readonly string[];
  /** The periodic flush interval in seconds, or `false` when there is none. */
  readonly timer: number | false;
  /** Seconds reports wait on disk for their batch (0: they leave at every exit). */
  readonly batch: number;
  /** True when `TALLYHO_DRY_RUN` is set: reports are built and shown, never sent. */
  readonly dryRun: boolean;
}

/** Options of {@link Telemetry.flush}. */
export interface FlushOptions {
  /**
   * How long the flush may take before it resolves anyway (with status `timeout`; what is unsent
   * waits in the spool). The process is kept alive for at most this long while the flush is awaited.
   * Default 5,000 ms.
   */
  timeoutMs?: number;
}

/** Options of {@link Telemetry.shutdown}. */
export interface ShutdownOptions {
  /** How long the final flush may take before `shutdown()` resolves anyway. Default 5,000 ms. */
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
  /**
   * The counted version of a module namespace, an object of functions and classes, a single function
   * or a class, for code without decorators: every function, and every method declared in every class
   * (instance and static), is counted with the same names and behaviour as under `track()` (`parse`,
   * `Client#query`, `Client.create`, `new Client`). Functions and classes in an object are named by
   * their keys. An object comes back as a new object (a module namespace is frozen); the functions'
   * classes are changed in place, as a class decorator does, except built-ins. Nothing already counted
   * is wrapped again. When telemetry is off it returns the target itself, untouched.
   *
   * An ES5 constructor (a function, not a `class`, whose `prototype` has methods or accessors of its
   * own besides `constructor`, or inherits from another prototype, as `util.inherits` and
   * `Object.create(Base.prototype)` make it) is counted as a class: `new Client`, also for a call
   * without `new` (except a subclass constructor's `Client.call(this)`), `Client#query` for each
   * function on its own prototype, enumerable or not, and `Client.create` for each function on the
   * constructor itself, except constructors hung there (`Client.Error`, `super_`). A function whose
   * prototype has no methods, a built-in, a bound or an arrow function is counted as a function.
   *
   * A built-in is never changed, as its prototype is shared by the whole process: the runtime's
   * global constructors (`Promise`, `URL`, `EventTarget`) and what Node's built-in modules export
   * (`EventEmitter`, `Buffer`, `stream.Readable`; under Bun and Deno, those of `events`, `buffer` and
   * `stream` alone), and a function whose `prototype` is a built-in's very prototype, are counted as
   * functions. A class that extends a built-in (`util.inherits(Emitter, EventEmitter)` too) is the
   * package's own, counted as a class, and the built-in's methods it inherits are not counted.
   *
   * What is walked, one level deep: an object's own string-keyed properties that hold a function or
   * a class, or a getter that returns one; a class's methods (not fields that hold functions, not
   * accessors, not `#private` methods); an ES5 constructor's functions (not accessors). Objects held
   * by a property are kept as they are (instrument `lib.utils` on its own), so are the functions hung
   * on a plain function, and inherited members are counted only when the class that declares them is
   * instrumented too.
   *
   * @example
   * ```ts
   * export default telemetry.instrument({ parse, format, Client });    // ES module
   * module.exports = telemetry.instrument(module.exports);             // CommonJS
   * ```
   */
  instrument<T>(target: T, options?: InstrumentOptions): T;
  /**
   * Counts a non-negative number (the size of the user's project, a file count) in its fixed
   * log-scaled bucket (0, 1, 2-3, 4-7, ...): the report carries how many values fell in each bucket,
   * never a value (`numbers`, `usage` level). Same name rules and cap as `count()`; a bad value is
   * ignored and counted as dropped (`invalid`), never thrown.
   */
  record(name: string, value: number): void;
  /**
   * Counts `value` under `name` if it is one of `allowed`, your own list of the values you want to
   * tell apart (an input format, a mode), and as `other` if it is anything else: a value outside the
   * list never leaves the machine (`choices`, `usage` level). Same name rules and cap as `count()`.
   *
   * @example
   * ```ts
   * telemetry.choice('input.format', format, ['hic', 'mcool', 'cool']);
   * ```
   */
  choice(name: string, value: unknown, allowed: readonly string[]): void;
  /** Whether telemetry is on now, the rule that decided it, and where reports go. */
  status(): TelemetryStatus;
  /**
   * Persists the user's choice for this project, from the author's own command or prompt (the same
   * file `tallyho optin/optout` writes). `false` also stops this process from sending and deletes the
   * project's waiting reports; `true` takes effect from the next run. Returns whether it was saved.
   */
  setConsent(allow: boolean): boolean;
  /**
   * Sends the counts since the last report now, with every report waiting in the spool for this
   * project's transports (batches included). While it is awaited it keeps the process alive (so the
   * code after a top-level `await telemetry.flush()` runs), for at most `timeoutMs` (default 5,000):
   * it resolves by then whatever the network does, and never rejects.
   */
  flush(options?: FlushOptions): Promise<FlushResult>;
  /**
   * A final flush, and the timer stops. Keeps the process alive while awaited, and resolves, never
   * rejects, within `timeoutMs` (default 5,000); what is still unsent then waits in the spool. The exit
   * hook stays: at exit, how the run ended (`usage` level) and anything counted after `shutdown()` are
   * written to the spool, and leave with the next report or batch.
   */
  shutdown(options?: ShutdownOptions): Promise<FlushResult>;
}

/**
 * The retrying wrapper's own deadline is wider than any flush: each flush bounds its sends with its
 * signal (a timer flush with delivery/lifecycle.ts's FLUSH_DEADLINE_MS, an awaited flush with its `timeoutMs`), so that an
 * author who waits longer gets the retries that fit.
 */
const RETRY_WINDOW_MS = 24 * 3600_000;
const DEFAULT_TIMER_SEC = 3600;

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
  // Before anything reads the environment or a file: where that cannot work, or would ask Deno for a
  // permission, tallyho is off and says why.
  const unsupported = serverRuntimeSupport();
  if (unsupported !== undefined) return unsupportedTelemetry(resolved, { enabled: false, ...unsupported });
  if (!lateAvailable()) {
    const reason = "off: tallyho's late.cjs is missing from beside its bundle (a copy of tallyho's ES module build must keep its dist files together)";
    return unsupportedTelemetry(resolved, { enabled: false, rule: 'incomplete-package', reason });
  }
  const env = readEnv();
  const log = createLog(resolved.project, { debug: env.debug, showMe: env.showMe !== undefined });
  for (const warning of env.warnings) log.warn(warning);
  const kit = sharedState().testKit;
  const home = resolveHome(env.home, env.folders);
  const cwd = process.cwd();
  const decide = (): ConsentDecision => {
    if (kit !== undefined) return { enabled: true, rule: 'test-kit', reason: 'on under the tallyho/testing kit; reports go to memory' };
    return currentConsent(env, home, cwd, resolved);
  };
  const decision = decide();
  log.debug(`${decision.enabled ? 'on' : 'off'}: ${decision.reason}`);
  if (env.debug) warnUnknownNames(env, home, resolved.project, decision, log);
  return decision.enabled ? enabledTelemetry(resolved, env, log, home, decision, decide, kit) : disabledTelemetry(resolved, env, log, home, decision);
}

/**
 * A name in TALLYHO_OPTOUT or TALLYHO_OPTIN that matches no project seen on this machine is most
 * likely a typo, which would leave a project on that the user meant to turn off: said under debug.
 */
function warnUnknownNames(env: EnvFacts, home: Home, project: string, decision: ConsentDecision, log: Log): void {
  if (env.optOut.length === 0 && env.optIn.length === 0) return;
  const seen = new Set([project]);
  if (decision.rule !== 'unsafe-home') for (const known of listKnownProjects(home)) seen.add(known.project);
  for (const [variable, names] of [['TALLYHO_OPTOUT', env.optOut], ['TALLYHO_OPTIN', env.optIn]] as const) {
    for (const name of names) if (!seen.has(name)) log.debug(`${variable} names ${JSON.stringify(name)}, which matches no project seen on this machine`);
  }
}

function describe(resolved: ResolvedOptions, env: EnvFacts, decision: ConsentDecision, transports: readonly Transport[]): TelemetryStatus {
  const level = env.level !== undefined && !atLeast(env.level, resolved.level) ? env.level : resolved.level;
  return {
    project: resolved.project,
    version: resolved.version,
    enabled: decision.enabled,
    rule: decision.rule,
    reason: decision.reason,
    level,
    consent: resolved.consent,
    transports: transports.map((t) => t.name),
    timer: timerSeconds(resolved, env),
    batch: env.batchIntervalSec ?? resolved.batch.intervalSec,
    dryRun: env.dryRun,
  };
}

/** The environment wins over the author's option; the interval is bounded when read. */
function timerSeconds(resolved: ResolvedOptions, env: EnvFacts): number | false {
  const on = env.timer ?? resolved.timer !== false;
  if (!on) return false;
  return env.timerIntervalSec ?? (resolved.timer === false ? DEFAULT_TIMER_SEC : resolved.timer.intervalSec);
}

function saveConsent(home: Home, resolved: ResolvedOptions, allow: boolean, log: Log): boolean {
  const unsafe = homeProblem(home);
  if (unsafe !== undefined) {
    log.warn(`consent for ${resolved.project} not saved: tallyho's folder is not safe to use (${unsafe})`);
    return false;
  }
  try {
    writeProjectConsent(home, resolved.project, allow);
    if (!allow) new (loadLate().Spool)(homePaths.spool(home, resolved.project)).purge();
    log.debug(`consent for ${resolved.project} saved: ${allow ? 'in' : 'out'}`);
    return true;
  } catch (error) {
    log.warn(`could not save consent for ${resolved.project}: ${errorText(error)}`);
    return false;
  }
}

/** Off: nothing registered, written, opened or spawned; `track()` returns the originals. */
function disabledTelemetry(resolved: ResolvedOptions, env: EnvFacts, log: Log, home: Home, decision: ConsentDecision): Telemetry {
  return offTelemetry(describe(resolved, env, decision, resolved.transports), (allow) => saveConsent(home, resolved, allow, log));
}


/**
 * Off because tallyho cannot run here (`unsupported-runtime`, `no-permission`): nothing read, written
 * or registered; the environment is not even looked at (it may need a permission).
 */
function unsupportedTelemetry(resolved: ResolvedOptions, decision: ConsentDecision): Telemetry {
  return offTelemetry(describe(resolved, readEnv({}, false), decision, resolved.transports), () => false);
}

function enabledTelemetry(
  resolved: ResolvedOptions,
  env: EnvFacts,
  log: Log,
  home: Home,
  decision: ConsentDecision,
  decide: () => ConsentDecision,
  kit: TestKitHook | undefined,
): Telemetry {
  const { project, version } = resolved;
  const underKit = kit !== undefined;
  const authorTransports = resolved.transports.map((t) => withEndpoint(t, env));
  for (const t of resolved.transports) {
    if (t.spec !== undefined && rebuildableSpec(t) === undefined) {
      log.debug(`${t.name} carries a spec no transport factory gave it: it is sent by this process only, and TALLYHO_ENDPOINT does not apply to it`);
    }
  }
  const status = describe(resolved, env, decision, authorTransports);
  // Read now, where it is used at all: never on the exit path (macOS and Windows need a command for it).
  const saltType = env.saltType ?? 'random';
  const machineId = !underKit && (status.level === 'full' || (atLeast(status.level, 'usage') && saltType === 'machine')) ? readMachineId() : undefined;
  if (!underKit) {
    const { notice, consent, optOutEnv } = resolved;
    firstRun(
      home,
      {
        project,
        version,
        level: status.level,
        consent,
        ...(optOutEnv === undefined ? {} : { optOutEnv }),
        endpoints: status.transports,
        declared: authorTransports.flatMap((t) => (t.spec === undefined ? [] : [{ name: t.name, spec: t.spec }])),
        notice,
        ci: env.ci,
      },
      log,
    );
  }

  let withdrawn = false;
  // Consent holds after the fact: a `tallyho optout` or `setConsent(false)` while this process runs
  // stops its next send, and `status()` says so.
  const current = (): ConsentDecision =>
    withdrawn ? { enabled: false, rule: 'project-optout', reason: `${project} was opted out by the program (setConsent(false))` } : decide();
  const table = tableFor(project, Date.now());
  const dependencies = dependenciesOf(resolved);
  // The reporter and everything it uses load with the first flush, or at exit when something was counted.
  const reporter = lazyReporter(table, () => {
    const late = loadLate();
    const transports: readonly Transport[] = underKit
      ? [{ name: 'tallyho/testing', send: (report) => (kit.receive(report), Promise.resolve({ kind: 'success' as const })) }]
      : authorTransports.map((t) => late.retryingTransport(t, { deadlineMs: RETRY_WINDOW_MS }));
    const identity = underKit || !atLeast(status.level, 'usage') ? undefined : identityFor(late, project, status.level, saltType, machineId, home, log);
    return late.createReporter({
      table,
      context: { project, version, level: status.level, facts: late.environmentFacts(), ci: env.ci, identity, dependencies: dependencies(late) },
      consent: resolved.consent,
      optOutEnv: resolved.optOutEnv,
      transports,
      showMe: env.showMe,
      dryRun: env.dryRun,
      log,
      spool: underKit ? undefined : new late.Spool(homePaths.spool(home, project)),
      batchMs: status.batch * 1000,
      consentHolds: () => current().enabled,
      onGone: () => recordGone(home, project, version),
      launchSender: () => late.launchSender(home, log),
    });
  });

  kit?.lossHolders?.add({ project, losses: () => reporter.losses(), forget: () => reporter.forgetLosses() });
  const lifecycle = startLifecycle({ table, reporter, timer: status.timer, hooks: !underKit, runs: atLeast(status.level, 'usage'), log });

  return {
    ...countingMethods(table, resolved.maxNames, log.warn, exportedByBuiltinModule),
    status() {
      const { enabled, rule, reason } = current();
      return { ...status, enabled, rule, reason };
    },
    setConsent(allow) {
      if (!allow) withdrawn = true;
      return saveConsent(home, resolved, allow, log);
    },
    flush: (flushOptions = {}) => lifecycle.flush(flushOptions.timeoutMs),
    shutdown: (shutdownOptions = {}) => lifecycle.shutdown(shutdownOptions.timeoutMs),
  };
}

/**
 * The installed versions of the author's listed dependencies, read when the first report is built (not
 * at start-up), from the folder of the file that called `createTelemetry`; where a stack trace cannot
 * tell that file, from the working directory. Call it from within `createTelemetry`: the stack trace
 * is taken here, and only read (formatted) when the first report is built.
 */
function dependenciesOf(resolved: ResolvedOptions): (late: Late) => (() => Record<string, string | null>) | undefined {
  if (resolved.dependencies.length === 0) return () => undefined;
  const holder: { stack?: string } = {};
  // Frames from createTelemetry up are cut, so the first frame left is its caller.
  (Error as { captureStackTrace?: (target: object, cut?: Function) => void }).captureStackTrace?.(holder, createTelemetry);
  const cwd = process.cwd();
  return (late) =>
    lazy(() => {
      let from: string | undefined;
      try {
        from = late.callerDirectory(holder.stack);
      } catch {
        // A host's Error.prepareStackTrace may throw: the working directory will do.
      }
      return late.dependencyVersions(resolved.dependencies, from ?? cwd);
    });
}

/**
 * The user's say over where reports go: `TALLYHO_ENDPOINT` replaces the URL of HTTP transports; OTLP
 * transports whose author allows it follow the OpenTelemetry exporter variables instead.
 */
function withEndpoint(transport: Transport, env: EnvFacts): Transport {
  // Only a transport tallyho's factories built can be rebuilt for the user: an author's own wrapper is kept as it is.
  const spec = rebuildableSpec(transport);
  const applies =
    (spec?.type === 'http' && env.endpoint !== undefined) ||
    (spec?.type === 'otlp' && spec.useOtelEnv === true && env.otlp.endpoint !== undefined);
  if (!applies) return transport;
  const rebuilt = loadLate().transportFromSpec(spec, env);
  return 'transport' in rebuilt ? rebuilt.transport : transport;
}

/**
 * A reporter made on first use. At exit with nothing counted and nothing made, there is nothing to
 * report, and the late code is not loaded for it.
 */
function lazyReporter(table: CounterTable, make: () => Reporter): Reporter {
  const real = lazy(make);
  let made = false;
  const get = (): Reporter => ((made = true), real());
  return {
    flush: (trigger, signal) => get().flush(trigger, signal),
    flushAtExit(trigger) {
      if (!made && isIdle(table)) return;
      get().flushAtExit(trigger);
    },
    losses: () => (made ? real().losses() : {}),
    holding: () => made && real().holding(),
    forgetLosses() {
      if (made) real().forgetLosses();
    },
  };
}

/** Salted identifiers, for `usage` and above; the machine id only where it is used (`full`, or a machine salt). */
function identityFor(
  late: Late,
  project: string,
  level: Level,
  saltType: 'random' | 'machine',
  machineId: string | undefined,
  home: Home,
  log: Log,
): Identity {
  return late.lazyIdentity(() =>
    late.cachedIdentity(home, project, late.loadSalt(home, saltType, machineId, log), level === 'full' ? machineId : undefined, log),
  );
}
