/**
 * `tallyho/schema`: the report's wire contract as a zod schema, for receivers (the collector, an
 * author's own endpoint) and tools. This entry carries a bundled copy of zod, which `tallyho` itself
 * loads only when it validates a report before sending it.
 *
 * @packageDocumentation
 */

export { ReportSchema } from './report/schema.js';
export type { ReportSchemaType } from './report/schema.js';
export { DROP_REASONS, LEVELS, SCHEMA_VERSION, TRIGGERS } from './report/report.js';
export type { DropReason, Dropped, Histogram, Level, Report, Trigger } from './report/report.js';
