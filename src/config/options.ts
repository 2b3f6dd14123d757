import * as z from 'zod/mini';
import { TIMER_INTERVAL_BOUNDS } from './env.js';
import { lazy } from './lazy.js';
import type { Level } from './level.js';
import type { Transport } from '../transports/transport.js';

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
}

/** The options after validation, with defaults filled in. */
export interface ResolvedOptions {
  readonly project: string;
  readonly version: string;
  readonly transports: readonly Transport[];
  readonly level: Level;
  readonly timer: { readonly intervalSec: number } | false;
  readonly consent: 'opt-out' | 'opt-in';
  readonly optOutEnv?: string | undefined;
  readonly maxNames: number;
  readonly notice?: string | undefined;
}

const PROJECT = /^[a-z0-9@/._-]{1,100}$/;
const NO_DOUBLE_DOT = /^(?![\s\S]*\.\.)/;
const NOT_EMPTY = /^[\s\S]/;
const AT_MOST_100 = /^[\s\S]{0,100}$/;

/** Accepts what the `Transport` interface describes: an object with a `send()` method. */
const isTransport = (t: unknown): boolean => typeof t === 'object' && t !== null && typeof (t as Transport).send === 'function';

/**
 * One zod schema per option, each built the first time an author passes that option: a cold zod
 * spends milliseconds compiling the code paths of every kind of schema it builds (objects, unions,
 * defaults), and a typical call passes three options. What is not passed takes its default unchecked.
 */
const fields = {
  // The two options every call passes are checked by patterns only: each further kind of check
  // (length, refinement) costs a cold zod a few tenths of a millisecond to compile.
  project: lazy(() =>
    z.string({ error: 'is required: a string such as "acme-sdk"' }).check(
      z.regex(PROJECT, { error: 'may use only a-z 0-9 @ / . _ - (1 to 100 characters)' }),
      z.regex(NO_DOUBLE_DOT, { error: 'must not contain ".."' }),
    ),
  ),
  version: lazy(() =>
    z.string({ error: 'is required: a string such as "1.4.0"' }).check(
      z.regex(NOT_EMPTY, { error: 'must not be empty' }),
      z.regex(AT_MOST_100, { error: 'must be at most 100 characters' }),
    ),
  ),
  transports: lazy(() =>
    z.array(z.custom<Transport>(isTransport, { error: 'must be transports such as httpTransport(url) or consoleTransport(): objects with a send() method' }), {
      error: 'must be an array of transports',
    }),
  ),
  level: lazy(() => z.enum(['basic', 'usage', 'full'], { error: 'must be "basic", "usage" or "full"' })),
  timer: lazy(() =>
    z.union([z.literal(false), z.object({ intervalSec: z.int().check(z.gte(TIMER_INTERVAL_BOUNDS.min), z.lte(TIMER_INTERVAL_BOUNDS.max)) })], {
      error: `must be false or { intervalSec: n } with n a whole number from ${TIMER_INTERVAL_BOUNDS.min} to ${TIMER_INTERVAL_BOUNDS.max}`,
    }),
  ),
  consent: lazy(() => z.enum(['opt-out', 'opt-in'], { error: 'must be "opt-out" or "opt-in"' })),
  optOutEnv: lazy(() =>
    z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'must be an environment variable name such as ACME_TELEMETRY_DISABLED' })),
  ),
  notice: lazy(() => z.string().check(z.maxLength(1000, { error: 'must be at most 1,000 characters' }))),
  maxNames: lazy(() => z.int({ error: 'must be a whole number' }).check(z.gte(1), z.lte(100_000))),
};

/** What an option not passed stands for; `undefined` for those that stay unset. `project` and `version` have none. */
const DEFAULTS: { readonly [K in keyof typeof fields]?: ResolvedOptions[K] } = {
  transports: [],
  level: 'usage',
  timer: false,
  consent: 'opt-out',
  maxNames: 2000,
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
  for (const key of Object.keys(fields) as (keyof typeof fields)[]) {
    const value = given[key];
    if (value === undefined && !REQUIRED.has(key)) {
      if (DEFAULTS[key] !== undefined) resolved[key] = DEFAULTS[key];
      continue;
    }
    const result = fields[key]().safeParse(value);
    if (result.success) resolved[key] = result.data;
    else for (const issue of result.error.issues) problems.push(`option "${[key, ...issue.path].join('.')}" ${issue.message}`);
  }
  if (problems.length > 0) throw new TypeError(`tallyho: createTelemetry(): ${problems.join('; ')}`);
  return resolved as unknown as ResolvedOptions;
}

/** The project name as it appears in a file name: nothing in it can reach outside its folder. */
export function projectFileName(project: string): string {
  return encodeURIComponent(project).replace(/\./g, '%2E');
}
