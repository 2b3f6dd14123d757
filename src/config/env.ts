import { isCI as ciVendorsSay } from './ci.js';
import { resolve } from 'node:path';
import { type Env, envValue } from './env-value.js';
import { isLevel, type Level } from './level.js';
import type { FolderVariables } from './home.js';
import { runningUnderDenoTest } from '../runtime/deno-test.js';
import { type OtlpEnv, readOtlpEnv } from './otlp-env.js';

/** Where `TALLYHO_SHOW_ME` sends a copy of every report. */
export type ShowMe = { readonly to: 'stderr' } | { readonly to: 'file'; readonly path: string };

/**
 * Everything tallyho takes from the environment, read once. This module is the only reader of
 * `process.env`; the rest of tallyho gets these facts.
 */
export interface EnvFacts {
  readonly doNotTrack: boolean;
  readonly disable: boolean;
  /** `TALLYHO_OPTOUT`'s projects, lowercase (separated by commas or whitespace). */
  readonly optOut: readonly string[];
  /** `TALLYHO_OPTIN`'s projects, lowercase (separated by commas or whitespace). */
  readonly optIn: readonly string[];
  readonly level: Level | undefined;
  readonly showMe: ShowMe | undefined;
  readonly dryRun: boolean;
  readonly debug: boolean;
  readonly endpoint: string | undefined;
  readonly timer: boolean | undefined;
  readonly timerIntervalSec: number | undefined;
  /** `TALLYHO_BATCH_INTERVAL_SEC`: how long reports wait on disk for their batch; wins over the author's option. */
  readonly batchIntervalSec: number | undefined;
  readonly saltType: 'random' | 'machine' | undefined;
  readonly home: string | undefined;
  /** The variables that move the OS's config and cache folders (XDG on Linux, APPDATA on Windows). */
  readonly folders: FolderVariables;
  /** True in CI, as ci-info sees it (or `CI` names a truthy word). */
  readonly ci: boolean;
  /** The OpenTelemetry exporter variables, for OTLP transports whose author allows them. */
  readonly otlp: OtlpEnv;
  /** The variable that shows a test runner is running us, if any. */
  readonly testRunner: string | undefined;
  /** One line per bad value: the variable, the value, and the default used instead. */
  readonly warnings: readonly string[];
  /** Whether an author's own opt-out variable (such as `ACME_TELEMETRY_DISABLED`) says off. */
  optedOutBy(variable: string | undefined): boolean;
}

/** Bounds of `TALLYHO_TIMER_INTERVAL_SEC`: at least 10 seconds, at most a week. */
export const TIMER_INTERVAL_BOUNDS = { min: 10, max: 7 * 24 * 3600 } as const;

/** Bounds of the batch interval (option and `TALLYHO_BATCH_INTERVAL_SEC`): 0 (every exit) to a week. */
export const BATCH_INTERVAL_BOUNDS = { min: 0, max: 7 * 24 * 3600 } as const;

const TRUTHY = new Set(['1', 'true', 'yes', 'y', 'on']);
const FALSY = new Set(['0', 'false', 'no', 'n', 'off']);

/** The variables tallyho reads (besides the OpenTelemetry ones, read by otlp-env, and an author's own opt-out variable). */
const VARIABLES = [
  'DO_NOT_TRACK',
  'TALLYHO_DISABLE',
  'TALLYHO_OPTOUT',
  'TALLYHO_OPTIN',
  'TALLYHO_LEVEL',
  'TALLYHO_SHOW_ME',
  'TALLYHO_DRY_RUN',
  'TALLYHO_DEBUG',
  'TALLYHO_ENDPOINT',
  'TALLYHO_TIMER',
  'TALLYHO_TIMER_INTERVAL_SEC',
  'TALLYHO_BATCH_INTERVAL_SEC',
  'TALLYHO_SALT_TYPE',
  'TALLYHO_HOME',
  'XDG_CONFIG_HOME',
  'XDG_CACHE_HOME',
  'APPDATA',
  'LOCALAPPDATA',
  'CI',
  'VITEST',
  'JEST_WORKER_ID',
  'NODE_TEST_CONTEXT',
  'NODE_ENV',
] as const;

/**
 * Reads tallyho's variables from `env`. Never throws: a bad value is named in `warnings` together
 * with the default used. `isCI` is ci-info's verdict on `env` unless a test passes its own.
 */
export function readEnv(env: Env = process.env, isCI: boolean = ciVendorsSay(env)): EnvFacts {
  const warnings: string[] = [];
  const raw: Partial<Record<(typeof VARIABLES)[number], string>> = {};
  for (const variable of VARIABLES) {
    const value = envValue(env, variable);
    if (value !== undefined) raw[variable] = value;
  }

  const flag = (variable: keyof typeof raw, fallback: boolean): boolean => {
    const v = raw[variable];
    if (v === undefined) return fallback;
    const word = v.toLowerCase();
    if (TRUTHY.has(word)) return true;
    if (FALSY.has(word)) return false;
    warnings.push(`${variable}=${JSON.stringify(v)} is not one of 1/true/yes/y/on or 0/false/no/n/off; using ${fallback}`);
    return fallback;
  };
  // For an opt-out variable, anything set that is not plainly "no" means off: never track by accident.
  const optOutFlag = (v: string | undefined): boolean => v !== undefined && !FALSY.has(v.toLowerCase());
  // Project names are lowercase by rule: `ADV-LIB` means adv-lib. Commas, spaces or both separate them.
  const list = (v: string | undefined): string[] => (v === undefined ? [] : v.toLowerCase().split(/[\s,]+/).filter((p) => p !== ''));

  let level: Level | undefined;
  if (raw.TALLYHO_LEVEL !== undefined) {
    const word = raw.TALLYHO_LEVEL.toLowerCase();
    if (isLevel(word)) level = word;
    else warnings.push(`TALLYHO_LEVEL=${JSON.stringify(raw.TALLYHO_LEVEL)} is not basic, usage or full; using the author's level`);
  }

  const dryRun = flag('TALLYHO_DRY_RUN', false);
  let showMe: ShowMe | undefined;
  if (raw.TALLYHO_SHOW_ME !== undefined) {
    const word = raw.TALLYHO_SHOW_ME.toLowerCase();
    if (TRUTHY.has(word) || word === 'stderr') showMe = { to: 'stderr' };
    // Resolved now: a later process.chdir() must not move where reports are shown.
    else if (!FALSY.has(word)) showMe = { to: 'file', path: resolve(raw.TALLYHO_SHOW_ME) };
  } else if (dryRun) {
    // A dry run builds reports to be looked at: shown on stderr unless TALLYHO_SHOW_ME says where (or 0).
    showMe = { to: 'stderr' };
  }

  /** A whole number of seconds within bounds; out of bounds, the nearest bound, with a warning. */
  const seconds = (variable: 'TALLYHO_TIMER_INTERVAL_SEC' | 'TALLYHO_BATCH_INTERVAL_SEC', { min, max }: { min: number; max: number }): number | undefined => {
    const v = raw[variable];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n)) {
      warnings.push(`${variable}=${JSON.stringify(v)} is not a whole number of seconds; using the author's interval`);
      return undefined;
    }
    if (n < min || n > max) {
      const bounded = Math.min(max, Math.max(min, n));
      warnings.push(`${variable}=${n} is outside ${min}..${max}; using ${bounded}`);
      return bounded;
    }
    return n;
  };
  const timerIntervalSec = seconds('TALLYHO_TIMER_INTERVAL_SEC', TIMER_INTERVAL_BOUNDS);
  const batchIntervalSec = seconds('TALLYHO_BATCH_INTERVAL_SEC', BATCH_INTERVAL_BOUNDS);

  let saltType: 'random' | 'machine' | undefined;
  if (raw.TALLYHO_SALT_TYPE !== undefined) {
    const word = raw.TALLYHO_SALT_TYPE.toLowerCase();
    if (word === 'random' || word === 'machine') saltType = word;
    else warnings.push(`TALLYHO_SALT_TYPE=${JSON.stringify(raw.TALLYHO_SALT_TYPE)} is not random or machine; using random`);
  }

  const testRunner =
    raw.VITEST !== undefined ? 'VITEST'
    : raw.JEST_WORKER_ID !== undefined ? 'JEST_WORKER_ID'
    : raw.NODE_TEST_CONTEXT !== undefined ? 'NODE_TEST_CONTEXT'
    : raw.NODE_ENV?.toLowerCase() === 'test' ? 'NODE_ENV=test'
    // Deno's runner sets no variable: the process itself says, when this is the real environment.
    : env === globalThis.process?.env && runningUnderDenoTest() ? 'deno test'
    : undefined;

  const timer = raw.TALLYHO_TIMER === undefined ? undefined : flag('TALLYHO_TIMER', false);
  const { warnings: otlpWarnings, ...otlp } = readOtlpEnv(env);
  warnings.push(...otlpWarnings);

  return {
    doNotTrack: optOutFlag(raw.DO_NOT_TRACK),
    disable: optOutFlag(raw.TALLYHO_DISABLE),
    optOut: list(raw.TALLYHO_OPTOUT),
    optIn: list(raw.TALLYHO_OPTIN),
    level,
    showMe,
    dryRun,
    debug: flag('TALLYHO_DEBUG', false),
    endpoint: raw.TALLYHO_ENDPOINT,
    timer,
    timerIntervalSec,
    batchIntervalSec,
    saltType,
    home: raw.TALLYHO_HOME,
    folders: { XDG_CONFIG_HOME: raw.XDG_CONFIG_HOME, XDG_CACHE_HOME: raw.XDG_CACHE_HOME, APPDATA: raw.APPDATA, LOCALAPPDATA: raw.LOCALAPPDATA },
    ci: isCI || (raw.CI !== undefined && TRUTHY.has(raw.CI.toLowerCase())),
    otlp,
    testRunner,
    warnings,
    optedOutBy: (variable) => variable !== undefined && optOutFlag(envValue(env, variable)),
  };
}

/**
 * The environment for the detached sender: the host's, less what would load host code into it
 * (`NODE_OPTIONS` can `--require` anything) or change how Node runs it.
 */
export function senderEnvironment(env: Env = process.env): Record<string, string> {
  const scrubbed: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined || key === 'NODE_OPTIONS' || key === 'NODE_PATH' || key.startsWith('NODE_REPL')) continue;
    scrubbed[key] = value;
  }
  return scrubbed;
}
