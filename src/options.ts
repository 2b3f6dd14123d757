import { BATCH_INTERVAL_BOUNDS, TIMER_INTERVAL_BOUNDS } from './config/env.js';
import { isLevel, type Level } from './config/level.js';
import { PACKAGE_NAME } from './config/package-names.js';
import type { Transport } from './transports/transport.js';

/** Options of {@link createTelemetry}. */
export interface TelemetryOptions {
  /**
   * Required. The project's stable id, the key users opt out by: lower-case letters, digits and
   * `@ / . _ -`, at most 100 characters, no `..` (for example `acme-sdk` or `@acme/sdk`).
   */
  project: string;
  /** Required. The project's version, as reported (for example `1.4.0`). */
  version: string;
  /** Where reports go. Default: none (reports are only built, shown under `TALLYHO_SHOW_ME`, and dropped). */
  transports?: readonly Transport[];
  /** The most this project collects. Users may lower it with `TALLYHO_LEVEL`. Default `'usage'`. */
  level?: Level;
  /**
   * Periodic flush for long-running services, or `false` for none. Default `false`; users may turn it
   * on or off with `TALLYHO_TIMER` and set the interval with `TALLYHO_TIMER_INTERVAL_SEC`.
   */
  timer?:
    | {
        /** Seconds between flushes: a whole number from 10 (ten seconds) to 604,800 (one week). */
        intervalSec: number;
      }
    | false;
  /**
   * How reports leave: they wait on disk and leave together, merged into one report per envelope, at
   * most once per `intervalSec` (a whole number from 0 to 604,800). Default `{ intervalSec: 3600 }`;
   * `0` sends at every exit. Users may change it with `TALLYHO_BATCH_INTERVAL_SEC`. While a batch
   * waits, `tallyho show` prints it and when it leaves, and `tallyho purge` deletes it.
   */
  batch?: {
    /** Seconds a batch waits from its oldest report: 0 (leave at every exit) to 604,800 (one week). Default 3,600. */
    intervalSec: number;
  };
  /** `'opt-out'` (default): on unless the user says no. `'opt-in'`: nothing is sent until the user opts in. */
  consent?: 'opt-out' | 'opt-in';
  /**
   * The name of an environment variable the project's users already know (such as
   * `ACME_TELEMETRY_DISABLED`); any value other than a "no" word turns this project's telemetry off.
   */
  optOutEnv?: string;
  /** How many distinct names `count()` may create before further names overflow. Default 2,000. */
  maxNames?: number;
  /**
   * Your own wording of the first-run notice's opening sentence. The lines that tell the user how to
   * see what is sent and how to turn it off are always added. Default: a sentence built from the level.
   */
  notice?: string;
  /**
   * Packages whose installed versions reports carry (`usage` level), such as `['react', 'zod']`: each
   * resolved from the file that calls `createTelemetry`, as your package would import it, and reported
   * as its version, or `null` where it is not installed. No other package name and no path is sent.
   * At most 50 names. Default: none.
   */
  dependencies?: readonly string[];
}

/** The options after validation, with defaults filled in. */
export interface ResolvedOptions {
  readonly project: string;
  readonly version: string;
  readonly transports: readonly Transport[];
  readonly level: Level;
  readonly timer: { readonly intervalSec: number } | false;
  readonly batch: { readonly intervalSec: number };
  readonly consent: 'opt-out' | 'opt-in';
  readonly optOutEnv?: string | undefined;
  readonly maxNames: number;
  readonly notice?: string | undefined;
  readonly dependencies: readonly string[];
}

const PROJECT = /^[a-z0-9@/._-]{1,100}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Accepts what the `Transport` interface describes: an object with a `send()` method. */
const isTransport = (t: unknown): boolean => typeof t === 'object' && t !== null && typeof (t as Transport).send === 'function';

const isWholeNumber = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n);

/**
 * What is wrong with one option's value, each problem as `[path, message]`; none when it is fine.
 * Written as plain checks rather than with a schema library: they run in every host's start-up, where
 * a cold zod cost milliseconds (and 29 KB of the bundle) for a handful of values. zod remains the
 * report's wire contract (`tallyho/schema`).
 */
type Check = (value: unknown) => [path: string, message: string][];

const BATCH_MESSAGE = `must be { intervalSec: n } with n a whole number from ${BATCH_INTERVAL_BOUNDS.min} to ${BATCH_INTERVAL_BOUNDS.max}`;
const TIMER_MESSAGE = `must be false or { intervalSec: n } with n a whole number from ${TIMER_INTERVAL_BOUNDS.min} to ${TIMER_INTERVAL_BOUNDS.max}`;
const TRANSPORT_MESSAGE = 'must be transports such as httpTransport(url) or consoleTransport(): objects with a send() method';

const checks: { readonly [K in keyof ResolvedOptions]-?: Check } = {
  project: (value) => {
    if (typeof value !== 'string') return [['', 'is required: a string such as "acme-sdk"']];
    const problems: [string, string][] = [];
    if (!PROJECT.test(value)) problems.push(['', 'may use only a-z 0-9 @ / . _ - (1 to 100 characters)']);
    if (value.includes('..')) problems.push(['', 'must not contain ".."']);
    return problems;
  },
  version: (value) => {
    if (typeof value !== 'string') return [['', 'is required: a string such as "1.4.0"']];
    if (value.length === 0) return [['', 'must not be empty']];
    return value.length > 100 ? [['', 'must be at most 100 characters']] : [];
  },
  transports: (value) => {
    if (!Array.isArray(value)) return [['', 'must be an array of transports']];
    const problems: [string, string][] = [];
    value.forEach((t, i) => {
      if (!isTransport(t)) problems.push([`.${i}`, TRANSPORT_MESSAGE]);
    });
    return problems;
  },
  level: (value) => (typeof value === 'string' && isLevel(value) ? [] : [['', 'must be "basic", "usage" or "full"']]),
  timer: (value) => {
    if (value === false) return [];
    const { min, max } = TIMER_INTERVAL_BOUNDS;
    const n = typeof value === 'object' && value !== null ? (value as { intervalSec?: unknown }).intervalSec : undefined;
    return Array.isArray(value) || !isWholeNumber(n) || n < min || n > max ? [['', TIMER_MESSAGE]] : [];
  },
  batch: (value) => {
    const { min, max } = BATCH_INTERVAL_BOUNDS;
    const n = typeof value === 'object' && value !== null ? (value as { intervalSec?: unknown }).intervalSec : undefined;
    return Array.isArray(value) || !isWholeNumber(n) || n < min || n > max ? [['', BATCH_MESSAGE]] : [];
  },
  consent: (value) => (value === 'opt-out' || value === 'opt-in' ? [] : [['', 'must be "opt-out" or "opt-in"']]),
  optOutEnv: (value) =>
    typeof value === 'string' && ENV_NAME.test(value) ? [] : [['', 'must be an environment variable name such as ACME_TELEMETRY_DISABLED']],
  notice: (value) => {
    if (typeof value !== 'string') return [['', 'must be a string of at most 1,000 characters']];
    return value.length > 1000 ? [['', 'must be at most 1,000 characters']] : [];
  },
  maxNames: (value) => {
    if (!isWholeNumber(value)) return [['', 'must be a whole number']];
    return value < 1 || value > 100_000 ? [['', 'must be a whole number from 1 to 100,000']] : [];
  },
  dependencies: (value) => {
    if (!Array.isArray(value)) return [['', 'must be an array of npm package names']];
    if (value.length > 50) return [['', 'may list at most 50 packages']];
    const problems: [string, string][] = [];
    value.forEach((name, i) => {
      if (typeof name !== 'string' || name.length > 214 || !PACKAGE_NAME.test(name)) {
        problems.push([`.${i}`, 'must be npm package names such as "react" or "@acme/core"']);
      }
    });
    return problems;
  },
};

/** What an option not passed stands for; `undefined` for those that stay unset. `project` and `version` have none. */
const DEFAULTS: { readonly [K in keyof ResolvedOptions]?: ResolvedOptions[K] } = {
  transports: [],
  level: 'usage',
  timer: false,
  batch: { intervalSec: 3600 },
  consent: 'opt-out',
  maxNames: 2000,
  dependencies: [],
};

const REQUIRED = new Set<string>(['project', 'version']);

/**
 * Validates the author's options. Throws a TypeError naming the option and what is allowed: the one
 * place tallyho throws, at the author's desk, never in a user's run. Unknown options are ignored.
 */
export function resolveOptions(options: unknown): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('tallyho: createTelemetry() needs an options object such as { project: "acme-sdk", version: "1.0.0" }');
  }
  const given = options as Record<string, unknown>;
  const resolved: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const key of Object.keys(checks) as (keyof ResolvedOptions)[]) {
    const value = given[key];
    if (value === undefined && !REQUIRED.has(key)) {
      if (DEFAULTS[key] !== undefined) resolved[key] = DEFAULTS[key];
      continue;
    }
    const found = checks[key](value);
    if (found.length === 0) resolved[key] = key === 'timer' && value !== false ? { intervalSec: (value as { intervalSec: number }).intervalSec } : value;
    for (const [path, message] of found) problems.push(`option "${key}${path}" ${message}`);
  }
  if (problems.length > 0) throw new TypeError(`tallyho: createTelemetry(): ${problems.join('; ')}`);
  return resolved as unknown as ResolvedOptions;
}
