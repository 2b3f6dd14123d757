import { parseArgs } from 'node:util';
import { DEFAULT_MAX_NAMES } from './ingest/validate.js';

/** How a collector runs. Every field but `db` has a default; the command-line flags set them. */
export interface CollectorOptions {
  /** The SQLite file. Flag `--db`; default `./tallyho.db`. */
  readonly db: string;
  /** The address to listen on. Flag `--host`; default `127.0.0.1` (this machine only). */
  readonly host?: string;
  /** The port. Flag `--port`; default 8787; 0 picks a free one. */
  readonly port?: number;
  /** Days raw reports are kept. Flag `--retention-days`; default 60. Aggregates are kept for good. */
  readonly retentionDays?: number;
  /** Cells with fewer distinct installs are suppressed in every output. Flag `--min-installs`; default 5. */
  readonly minInstalls?: number;
  /** The largest request body taken, in bytes, after gunzip too. Flag `--max-body-bytes`; default 1 MiB. */
  readonly maxBodyBytes?: number;
  /** The most names a report may carry in `counts` or `errors`. Flag `--max-names`; default 5000. */
  readonly maxNames?: number;
  /** Ingest requests per client address per minute; 0 = no limit. Flag `--rate-limit`; default 600. */
  readonly rateLimit?: number;
  /** Projects answered `410 Gone` (clients stop sending). Flag `--retire PROJECT`, repeatable. Default: none. */
  readonly retire?: readonly string[];
  /** A bearer token that reading (page, API, export) requires. Flag `--read-token`. Default: none (open). */
  readonly readToken?: string;
  /**
   * Tokens by project: a project listed here is taken only with `authorization: Bearer TOKEN`. Flag
   * `--ingest-token PROJECT=TOKEN`, repeatable. Default: none (every project is taken).
   */
  readonly ingestTokens?: Readonly<Record<string, string>>;
  /** Take the client address for the rate limit from `X-Forwarded-For` (behind a proxy). Flag `--trust-proxy`. Default: false. */
  readonly trustProxy?: boolean;
  /** `fatal`, `error`, `warn`, `info`, `debug` or `silent`. Flag `--log-level`; default `info`. */
  readonly logLevel?: string;
  /** Where log lines go (one JSON object per line). Default: standard output. */
  readonly logStream?: NodeJS.WritableStream;
  /** The clock, in milliseconds since the epoch (tests drive it). Default: `Date.now`. */
  readonly now?: () => number;
}

/** The options with every default applied. */
export type ResolvedOptions = Required<Omit<CollectorOptions, 'readToken' | 'logStream'>> & Pick<CollectorOptions, 'readToken' | 'logStream'>;

/** Applies the defaults. @throws TypeError naming a value out of range. */
export function resolveOptions(options: CollectorOptions): ResolvedOptions {
  const whole = (name: string, value: number | undefined, fallback: number, min: number, max: number): number => {
    if (value === undefined) return fallback;
    if (!Number.isSafeInteger(value) || value < min || value > max) throw new TypeError(`${name} must be a whole number from ${min} to ${max}; got ${String(value)}`);
    return value;
  };
  const logLevel = options.logLevel ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new TypeError(`log level must be fatal, error, warn, info, debug, trace or silent; got ${JSON.stringify(logLevel)}`);
  }
  return {
    db: options.db,
    host: options.host ?? '127.0.0.1',
    port: whole('port', options.port, 8787, 0, 65535),
    retentionDays: whole('retention days', options.retentionDays, 60, 1, 36_500),
    minInstalls: whole('min installs', options.minInstalls, 5, 1, 1_000_000),
    maxBodyBytes: whole('max body bytes', options.maxBodyBytes, 1024 * 1024, 1024, 1024 * 1024 * 1024),
    maxNames: whole('max names', options.maxNames, DEFAULT_MAX_NAMES, 1, 1_000_000),
    rateLimit: whole('rate limit', options.rateLimit, 600, 0, 100_000_000),
    retire: [...(options.retire ?? [])],
    readToken: options.readToken,
    ingestTokens: { ...(options.ingestTokens ?? {}) },
    trustProxy: options.trustProxy ?? false,
    logLevel,
    logStream: options.logStream,
    now: options.now ?? Date.now,
  };
}

/** The command's usage text. */
export const USAGE = `Usage: tallyho-collector [options]

Receives tallyho reports, stores them in SQLite and serves a dashboard.

  --db PATH               SQLite file (default ./tallyho.db)
  --port N                port (default 8787; 0 = any free port)
  --host ADDRESS          address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)
  --retention-days N      days raw reports are kept (default 60); aggregates are kept
  --min-installs N        suppress cells fewer installs contributed to (default 5)
  --max-body-bytes N      largest request body, after gunzip (default 1048576)
  --max-names N           most names per report in counts or errors (default 5000)
  --rate-limit N          ingest requests per client address per minute, 0 = off (default 600)
  --retire PROJECT        answer 410 Gone to PROJECT (repeatable)
  --read-token TOKEN      require "authorization: Bearer TOKEN" (or ?token=) to read
  --ingest-token P=TOKEN  require "authorization: Bearer TOKEN" for reports of project P (repeatable)
  --trust-proxy           take client addresses from X-Forwarded-For (behind a reverse proxy)
  --log-level LEVEL       fatal, error, warn, info (default), debug or silent
  --help                  this text
`;

/**
 * The options of a command line. Token values may also come from the environment
 * (`TALLYHO_COLLECTOR_READ_TOKEN`), so that they need not appear in a process listing.
 *
 * @returns the options, `'help'`, or an error message naming the bad flag.
 */
export function optionsFromArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): CollectorOptions | 'help' | {
  /** What is wrong with the command line, naming the flag. */
  error: string;
} {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        db: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        'retention-days': { type: 'string' },
        'min-installs': { type: 'string' },
        'max-body-bytes': { type: 'string' },
        'max-names': { type: 'string' },
        'rate-limit': { type: 'string' },
        retire: { type: 'string', multiple: true },
        'read-token': { type: 'string' },
        'ingest-token': { type: 'string', multiple: true },
        'trust-proxy': { type: 'boolean' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    return { error: (error as Error).message };
  }
  const v = parsed.values;
  if (v.help === true) return 'help';
  const numbers: Record<string, number | undefined> = {};
  for (const flag of ['port', 'retention-days', 'min-installs', 'max-body-bytes', 'max-names', 'rate-limit'] as const) {
    const text = v[flag];
    if (text === undefined) continue;
    if (!/^\d+$/.test(text)) return { error: `--${flag} must be a whole number; got ${JSON.stringify(text)}` };
    numbers[flag] = Number(text);
  }
  const ingestTokens: Record<string, string> = {};
  for (const pair of v['ingest-token'] ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0 || eq === pair.length - 1) return { error: `--ingest-token takes PROJECT=TOKEN; got ${JSON.stringify(pair)}` };
    ingestTokens[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const readToken = v['read-token'] ?? (env.TALLYHO_COLLECTOR_READ_TOKEN?.trim() || undefined);
  return {
    db: v.db ?? './tallyho.db',
    host: v.host,
    port: numbers.port,
    retentionDays: numbers['retention-days'],
    minInstalls: numbers['min-installs'],
    maxBodyBytes: numbers['max-body-bytes'],
    maxNames: numbers['max-names'],
    rateLimit: numbers['rate-limit'],
    retire: v.retire ?? [],
    readToken,
    ingestTokens,
    trustProxy: v['trust-proxy'] ?? false,
    logLevel: v['log-level'],
  };
}
