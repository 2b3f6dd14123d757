import * as schema from './schema.js';

/** What the `tallyho/schema` entry exports of the wire contract (report/schema.ts), with zod. */
export type SchemaEntry = typeof schema;

/**
 * The wire contract, loaded on first call: only a report about to leave the machine is validated, and
 * an exit, which only spools its report, never loads zod. From source it is imported like any module;
 * in the package, scripts/build.mjs replaces this file so that the late code requires the package's
 * own `tallyho/schema` file (dist/schema.cjs), the copy of zod a receiver in the same process uses too.
 */
export function loadSchema(): SchemaEntry {
  return schema;
}
