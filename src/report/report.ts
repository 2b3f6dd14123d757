import type { Level } from '../config/level.js';
import type { Dropped } from '../registry/counter-table.js';

export { LEVELS, type Level } from '../config/level.js';
export { DROP_REASONS, type DropReason, type Dropped } from '../registry/counter-table.js';

/** What made a report: process exit, a signal, the periodic timer, or `flush()`. */
export const TRIGGERS = ['exit', 'signal', 'timer', 'manual'] as const;

/** One of {@link TRIGGERS}. */
export type Trigger = (typeof TRIGGERS)[number];

/** The report's schema version: bumped only by a breaking change; new fields are only ever added. */
export const SCHEMA_VERSION = 1;

/**
 * One report, as it is sent. This interface and `ReportSchema` (`tallyho/schema`) describe the same
 * wire contract; a compile-time check keeps them equal.
 *
 * Every level carries the envelope (`schema`, `id`, `project`, `version`, `level`, `trigger`,
 * `period`, `dropped`, `runs`); `basic` adds `counts`, `runtime` and `platform`; `usage` adds `errors`, `ci`,
 * `weekId`, `durations`, `numbers`, `choices`, `dependencies` and `exits`; `full` adds `installId`,
 * `userHash` and `machineHash`. Identifiers are salted SHA-256 (hex): the salt never leaves the
 * machine, and it differs per project.
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
  dropped: Dropped;
  /**
   * How many reports (made by one process each: at exit, on a timer tick, by `flush()`) this report
   * merges: reports that wait on disk for their batch are merged into one before they leave. 1 for a
   * report that merges nothing; absent in reports of tallyho 0.1, which means 1. A process that
   * reports more than once is in more than one; program runs are counted by {@link Report.exits}.
   */
  runs?: number;
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
   * How long timed calls took (`track({ time: true })`, `instrument(x, { time: true })`), by counter
   * name, as calls per duration bucket (`usage` and above). A bucket is named by its upper bound in
   * milliseconds, powers of two from 1 µs (`0.001`) to about 25 days, then `+Inf`; an async call is
   * timed until its promise settles. Never a duration itself.
   */
  durations?: Record<string, Histogram>;
  /**
   * Numbers given to `record(name, value)` (the size of a project, a file count), by name, as values
   * per bucket (`usage` and above). A bucket is named by its inclusive upper bound: `0`, `1`, `3`, `7`,
   * ... 2^53 - 1, then `+Inf` (the bucket `7` holds 4 to 7). Never a value itself.
   */
  numbers?: Record<string, Histogram>;
  /**
   * Values given to `choice(name, value, allowed)`, by name: how often each value of the author's
   * `allowed` list was given, and `other` for everything else (`usage` and above).
   */
  choices?: Record<string, Record<string, number>>;
  /**
   * The installed version of each package the author listed in `dependencies`, as resolved from the
   * author's package; `null` where it is not installed (`usage` and above).
   */
  dependencies?: Record<string, string | null>;
  /**
   * How runs ended, and how long they ran (`usage` and above): a report made at exit carries its own
   * run; a run that reported everything before its end is carried by the project's next report of
   * the same version (within the spool's age limit); a batch sums the runs it merges.
   */
  exits?: {
    /** Runs that ended with exit code 0. */
    normal: number;
    /** Runs that ended with a non-zero exit code. */
    nonZero: number;
    /** Runs ended by a signal. */
    signal: number;
    /** Runs by how long they ran, from the start of the process; buckets as in `durations`. */
    duration: Histogram;
  };
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

/**
 * Counts by bucket name, for the buckets that counted something: see {@link Report.durations} and
 * {@link Report.numbers} for the bucket names.
 */
export type Histogram = Partial<Record<string, number>>;
