import * as z from 'zod/mini';
import { lazyObject, lazySchema } from '../config/lazy.js';

/** How much an author collects. Each level carries everything of the levels below it. */
export type Level = 'basic' | 'usage' | 'full';

/** The levels from least to most. */
export const LEVELS: readonly Level[] = ['basic', 'usage', 'full'];

/** What made a report: process exit, a signal, the periodic timer, or `flush()`. */
export type Trigger = 'exit' | 'signal' | 'timer' | 'manual';

/**
 * Why counts were lost before they could be delivered: `network` (the endpoint could not be reached in
 * time), `refused` (the endpoint answered with a final refusal), `quota` (the spool was full),
 * `invalid` (a bad `count()` call, an invalid report or an unreadable spool file), `expired` (waited
 * longer than the spool keeps reports), `overflow` (more distinct `count()` names than the cap).
 */
export type DropReason = 'network' | 'refused' | 'quota' | 'invalid' | 'expired' | 'overflow';

/** Every drop reason. */
export const DROP_REASONS: readonly DropReason[] = ['network', 'refused', 'quota', 'invalid', 'expired', 'overflow'];

/** The report's schema version: bumped only by a breaking change; new fields are only ever added. */
export const SCHEMA_VERSION = 1;

/**
 * One report, as it is sent. This interface and {@link ReportSchema} describe the same wire contract.
 *
 * Every level carries the envelope (`schema`, `id`, `project`, `version`, `level`, `trigger`,
 * `period`, `dropped`); `basic` adds `counts`, `runtime` and `platform`; `usage` adds `errors`, `ci`
 * and `weekId`; `full` adds `installId`, `userHash` and `machineHash`. Identifiers are salted SHA-256
 * (hex): the salt never leaves the machine, and it differs per project.
 */
export interface Report {
  /** Schema version ({@link SCHEMA_VERSION}). */
  schema: 1;
  /** A random UUID, unique to this report: receivers deduplicate retried deliveries by it. */
  id: string;
  /** The instrumented project's name. */
  project: string;
  /** The instrumented project's version. */
  version: string;
  /** The level the report was built at. */
  level: Level;
  /** What made the report. */
  trigger: Trigger;
  /** The period the counts cover, as ISO 8601 UTC timestamps. */
  period: {
    /** When counting began: the previous report's end, or when the telemetry was created. */
    start: string;
    /** When the counts were taken; the next report's period starts here, so none overlap. */
    end: string;
  };
  /** Calls by counter name (`Client#query`, `Client.create`, `new Client`, `feature.export`). */
  counts: Record<string, number>;
  /** Counts lost before they could be delivered, by reason; empty when nothing was lost. */
  dropped: Partial<Record<DropReason, number>>;
  /** The JavaScript runtime (`basic` and above). */
  runtime?: {
    /** `node`, `bun` or `deno`. */
    name: string;
    /** The runtime's own version, such as `22.11.0`. */
    version: string;
  };
  /** The machine, coarsely (`basic` and above): no host name, no user name, memory rounded to GiB. */
  platform?: {
    /** The operating system, as Node's `os.platform()` names it (`linux`, `darwin`, `win32`, ...). */
    os: string;
    /** The CPU architecture, as `os.arch()` names it (`x64`, `arm64`, ...). */
    arch: string;
    /** The operating system's release, as `os.release()` gives it. */
    release: string;
    /** The CPUs the process may use (`os.availableParallelism()`). */
    cpus: number;
    /** Total memory, rounded to whole GiB so that it does not single out a machine. */
    memoryGiB: number;
  };
  /** Calls that threw synchronously, by counter name (`usage` and above); never the error itself. */
  errors?: Record<string, number>;
  /** Whether the process ran in CI (`usage` and above). */
  ci?: boolean;
  /**
   * An anonymous id that changes every ISO week (`usage` and above): the salted hash of the week, so
   * an author can count weekly active installs but cannot follow one across weeks.
   */
  weekId?: string;
  /** A stable per-install id (`full`): the salted hash of the install's salt itself. */
  installId?: string;
  /** The salted hash of the user name (`full`), when the user name can be read. */
  userHash?: string;
  /** The salted hash of the machine id (`full`), when the machine has one. */
  machineHash?: string;
}

function makeReportSchema() {
  const count = z.int().check(z.minimum(0), z.maximum(Number.MAX_SAFE_INTEGER));
  const name = z.string().check(z.minLength(1), z.maxLength(200), z.regex(/^[^\p{C}]+$/u));
  const counts = z.record(name, count);
  const short = z.string().check(z.minLength(1), z.maxLength(200));
  const hash = z.optional(z.string().check(z.regex(/^[0-9a-f]{64}$/)));
  return z.object({
    schema: z.literal(SCHEMA_VERSION),
    id: z.uuid(),
    project: short,
    version: short,
    level: z.enum(['basic', 'usage', 'full']),
    trigger: z.enum(['exit', 'signal', 'timer', 'manual']),
    period: z.object({ start: z.iso.datetime(), end: z.iso.datetime() }),
    counts,
    dropped: z.partialRecord(z.enum(['network', 'refused', 'quota', 'invalid', 'expired', 'overflow']), count),
    runtime: z.optional(z.object({ name: short, version: short })),
    platform: z.optional(
      z.object({
        os: short,
        arch: short,
        release: short,
        cpus: count,
        memoryGiB: count,
      }),
    ),
    errors: z.optional(counts),
    ci: z.optional(z.boolean()),
    weekId: hash,
    installId: hash,
    userHash: hash,
    machineHash: hash,
  });
}

/**
 * The declared type of {@link ReportSchema}: the zod methods a receiver needs, typed by
 * {@link Report}, so that the package's types do not depend on zod being installed.
 */
export interface ReportSchemaType {
  /** Returns the report, or throws a zod error that lists every problem. */
  parse(input: unknown): Report;
  /** Returns `{ success: true, data }` or `{ success: false, error }`; never throws. */
  safeParse(input: unknown):
    | {
        /** The input is a valid report. */
        success: true;
        /** The report, with unknown fields stripped. */
        data: Report;
      }
    | {
        /** The input is not a valid report. */
        success: false;
        /** The zod error, listing every problem. */
        error: Error;
      };
}

/**
 * The wire contract as a zod schema (zod 4). Every report is validated with it before it leaves the
 * process; receivers may parse reports with it too (unknown fields are stripped, so a receiver keeps
 * accepting reports of newer versions, which only ever add fields). A JSON Schema of the same contract
 * ships in the package as `tallyho/report.schema.json`.
 */
export const ReportSchema: ReportSchemaType = lazyObject(() => reportZodSchema());

/** The zod schema itself, built on first use: tallyho's own validation and JSON Schema generation. */
export const reportZodSchema = lazySchema(makeReportSchema);

// Fails to compile if the schema and the interface drift apart.
type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemaMatchesInterface: Exact<z.output<ReturnType<typeof makeReportSchema>>, Report> = true;
void schemaMatchesInterface;
