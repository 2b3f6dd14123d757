// tallyho-collector: receives tallyho reports, stores them in SQLite, aggregates them by week and
// serves a dashboard. The command is `tallyho-collector`; these exports embed it in a program.

// Running a collector
export { startCollector, buildApp } from './server.js';
export type { Collector } from './server.js';
export { resolveOptions, optionsFromArgs, USAGE } from './options.js';
export type { CollectorOptions, ResolvedOptions } from './options.js';

// The store
export { openStore, MIN_ID_DAYS } from './store/store.js';
export type { Store, StoreOptions, IngestItem, IngestResult, WeeklyRow, ProjectRow, RejectedRow } from './store/store.js';

// Reading
export { summarize, summaryWeeks } from './read/summary.js';
export type { Summary, Cell, KeySeries, FeatureSeries, NamedSeries } from './read/summary.js';
export { aggregatesCsv } from './read/csv.js';

// Ingest
export { observe, programRuns } from './ingest/observation.js';
export type { Observation, ObservationExtras, Cell as ObservationCell } from './ingest/observation.js';
export { otlpReports, OtlpShapeError } from './ingest/otlp.js';
export type { OtlpReport, OtlpReports } from './ingest/otlp.js';
export { validateReport, tooManyNames, DEFAULT_MAX_NAMES } from './ingest/validate.js';
export type { Validated } from './ingest/validate.js';
export { isoWeek, weekStart, weekLabel, parseWeekLabel, weeksEndingWith } from './iso-week.js';
