import * as z from 'zod/mini';
import { TIMER_INTERVAL_BOUNDS } from './env.js';
import { lazySchema } from './lazy.js';
import type { Level } from '../report/report.js';
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

const optionsSchema = lazySchema(() => {
  const transport = z.custom<Transport>(
    (t) => typeof t === 'object' && t !== null && typeof (t as Transport).send === 'function',
    { error: 'must be transports such as httpTransport(url) or consoleTransport(): objects with a send() method' },
  );

  return z.object({
    project: z.string({ error: 'is required: a string such as "acme-sdk"' }).check(
      z.regex(PROJECT, { error: 'may use only a-z 0-9 @ / . _ - (1 to 100 characters)' }),
      z.refine((p) => !p.includes('..'), { error: 'must not contain ".."' }),
    ),
    version: z.string({ error: 'is required: a string such as "1.4.0"' }).check(
      z.minLength(1, { error: 'must not be empty' }),
      z.maxLength(100, { error: 'must be at most 100 characters' }),
    ),
    transports: z._default(z.array(transport, { error: 'must be an array of transports' }), []),
    level: z._default(z.enum(['basic', 'usage', 'full'], { error: 'must be "basic", "usage" or "full"' }), 'usage'),
    timer: z._default(
      z.union(
        [
          z.literal(false),
          z.object({ intervalSec: z.int().check(z.gte(TIMER_INTERVAL_BOUNDS.min), z.lte(TIMER_INTERVAL_BOUNDS.max)) }),
        ],
        { error: `must be false or { intervalSec: n } with n a whole number from ${TIMER_INTERVAL_BOUNDS.min} to ${TIMER_INTERVAL_BOUNDS.max}` },
      ),
      false,
    ),
    consent: z._default(z.enum(['opt-out', 'opt-in'], { error: 'must be "opt-out" or "opt-in"' }), 'opt-out'),
    optOutEnv: z.optional(
      z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'must be an environment variable name such as ACME_TELEMETRY_DISABLED' })),
    ),
    notice: z.optional(z.string().check(z.maxLength(1000, { error: 'must be at most 1,000 characters' }))),
    maxNames: z._default(z.int({ error: 'must be a whole number' }).check(z.gte(1), z.lte(100_000)), 2000),
  });
});

/**
 * Validates the author's options. Throws a TypeError naming the option and what is allowed: the one
 * place tallyho throws, at the author's desk, never in a user's run.
 */
export function resolveOptions(options: unknown): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('tallyho: createTelemetry() needs an options object such as { project: "acme-sdk", version: "1.0.0" }');
  }
  const result = optionsSchema().safeParse(options);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const path = issue.path.join('.') || 'options';
      return `option "${path}" ${issue.message}`;
    });
    throw new TypeError(`tallyho: createTelemetry(): ${lines.join('; ')}`);
  }
  return result.data;
}

/** The project name as it appears in a file name: nothing in it can reach outside its folder. */
export function projectFileName(project: string): string {
  return encodeURIComponent(project).replace(/\./g, '%2E');
}
