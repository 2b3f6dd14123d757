import { ReportSchema, type Report } from './schema.js';

/** A report that passed the wire contract, or the first problem with it. */
export type Validated =
  | {
      /** The report as the schema returns it (unknown fields stripped). */
      readonly report: Report;
    }
  | {
      /** The first problem, with where it is. */
      readonly problem: string;
      /** The report's top-level field the problem is in (`counts`), or `''`. */
      readonly field: string;
    };

interface Issue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/**
 * Validates a body with `ReportSchema`, the contract the client validates against before sending.
 * The problem named is the first one zod lists, with where it is (`counts.Client#query: ...`).
 */
export function validateReport(body: unknown): Validated {
  const result = ReportSchema.safeParse(body);
  if (result.success) return { report: result.data };
  const issues = (result.error as Error & { issues?: readonly Issue[] }).issues ?? [];
  const first = issues[0];
  if (first === undefined) return { problem: 'not a tallyho report', field: '' };
  const path = first.path.map(String).join('.');
  return { problem: path === '' ? first.message : `${path}: ${first.message}`, field: String(first.path[0] ?? '') };
}

/**
 * How many names a report may carry in each of its name maps. The client keeps at most 2,000
 * `count()` names (its `maxNames` default) besides the names of decorated code, so 5,000 leaves room
 * for a large library while bounding what one report can add to the aggregates.
 */
export const DEFAULT_MAX_NAMES = 5000;

/** The first name map of a report with more than `maxNames` entries, described; undefined when none has. */
export function tooManyNames(report: Report, maxNames: number): string | undefined {
  for (const field of ['counts', 'errors'] as const) {
    const map = report[field];
    if (map === undefined) continue;
    const n = Object.keys(map).length;
    if (n > maxNames) return `${field} has ${n} names; this collector takes at most ${maxNames} per report`;
  }
  return undefined;
}
