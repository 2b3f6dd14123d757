import * as z from 'zod/mini';
import { lazy, lazyObject } from '../config/lazy.js';
import { LEVELS } from '../config/level.js';
import { DROP_REASONS, MAX_NAME_LENGTH, NAME_PATTERN } from '../registry/counter-table.js';
import { DURATION_BUCKETS, SIZE_BUCKETS } from '../registry/buckets.js';
import { PACKAGE_NAME, PACKAGE_VERSION } from '../config/package-names.js';
import { type Report, SCHEMA_VERSION, TRIGGERS } from './report.js';

function makeReportSchema() {
  const count = z.int().check(z.minimum(0), z.maximum(Number.MAX_SAFE_INTEGER));
  const name = z.string().check(z.maxLength(MAX_NAME_LENGTH), z.regex(NAME_PATTERN));
  const counts = z.record(name, count);
  const short = z.string().check(z.minLength(1), z.maxLength(200));
  const hash = z.optional(z.string().check(z.regex(/^[0-9a-f]{64}$/)));
  const durations = z.partialRecord(z.enum(DURATION_BUCKETS as [string, ...string[]]), count);
  return z.object({
    schema: z.literal(SCHEMA_VERSION),
    id: z.uuid(),
    project: short,
    version: short,
    level: z.enum(LEVELS),
    trigger: z.enum(TRIGGERS),
    period: z.object({ start: z.iso.datetime(), end: z.iso.datetime() }),
    counts,
    dropped: z.partialRecord(z.enum(DROP_REASONS), count),
    runs: z.optional(z.int().check(z.minimum(1), z.maximum(Number.MAX_SAFE_INTEGER))),
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
    durations: z.optional(z.record(name, durations)),
    numbers: z.optional(z.record(name, z.partialRecord(z.enum(SIZE_BUCKETS as [string, ...string[]]), count))),
    choices: z.optional(z.record(name, counts)),
    dependencies: z.optional(
      z.record(z.string().check(z.maxLength(214), z.regex(PACKAGE_NAME)), z.nullable(z.string().check(z.regex(PACKAGE_VERSION)))),
    ),
    exits: z.optional(z.object({ normal: count, nonZero: count, signal: count, duration: durations })),
    weekId: hash,
    installId: hash,
    userHash: hash,
    machineHash: hash,
  });
}

// Fails to compile if the schema and the Report interface drift apart: a field added to one only, even
// an optional one (mutual assignability alone would let that through), or a field typed differently.
type Exact<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const schemaMatchesInterface: Exact<z.output<ReturnType<typeof makeReportSchema>>, Report> = true;
void schemaMatchesInterface;

/**
 * The declared type of {@link ReportSchema}: the zod methods a receiver needs, typed by
 * {@link Report}, so that the package's types do not depend on zod being installed.
 */
export interface ReportSchemaType {
  /** Returns the report, or throws a zod error that lists every problem. */
  parse(input: unknown): Report;
  /**
   * Returns `{ success: true, data }` or `{ success: false, error }`; never throws. With
   * `{ jitless: true }`, zod parses without generating code for its fast path (worth it for a report
   * parsed once; needed where a content security policy forbids `new Function`).
   */
  safeParse(
    input: unknown,
    options?: {
      /** Parse without zod's generated fast path. Default `false`. */
      readonly jitless?: boolean;
    },
  ):
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
 * The zod schema itself, built on first use (a cold zod takes milliseconds to build it): tallyho's own
 * validation and the JSON Schema generation.
 */
export const reportZodSchema = lazy(makeReportSchema);

/**
 * The wire contract as a zod schema (zod 4). Every report is validated with it before it leaves the
 * machine; receivers may parse reports with it too (unknown fields are stripped, so a receiver keeps
 * accepting reports of newer versions, which only ever add fields). A JSON Schema of the same contract
 * ships in the package as `tallyho/report.schema.json`.
 */
export const ReportSchema: ReportSchemaType = lazyObject(() => reportZodSchema());
