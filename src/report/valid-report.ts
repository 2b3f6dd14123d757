import { loadSchema } from './load-schema.js';
import type { Report } from './report.js';

/**
 * Validates a report against the wire contract. Returns the parsed report (unknown fields stripped), or
 * `undefined` when it is invalid. Parsed without zod's generated fast path: a report is parsed once,
 * so compiling code for it only costs time, and tallyho generates no code inside its host. (Passed per
 * parse: zod's global `config()` is shared with every other copy of zod in the process.)
 */
export function validReport(report: unknown): Report | undefined {
  const result = loadSchema().ReportSchema.safeParse(report, { jitless: true });
  return result.success ? result.data : undefined;
}
