import { isoWeek } from '../iso-week.js';
import type { Report } from './schema.js';

/**
 * What one report adds to the weekly aggregates: its project, version and ISO week, the weekly id
 * that tells installs apart (absent at level `basic`), and its cells, each a dimension, a key within
 * it and the amount it adds.
 *
 * Dimensions: `reports` (key `''`: 1 per report; its distinct installs are the weekly active
 * installs), `program-runs` (`''`: the program runs whose end the report carries, see
 * {@link programRuns}; absent when it carries none), `calls` and `errors` (by counted
 * name), `dropped` (by reason), `runtime` (`node 22`: name and major version), `platform`
 * (`linux x64`), `level`, `ci` (`true`/`false`); and where the report carries them,
 * `duration:NAME` and `number:NAME` (by bucket), `choice:NAME` (by option), `dependency:PACKAGE` (by
 * installed version, 1 per report), `exit` (`normal`, `nonZero`, `signal`) and `exit-duration` (by bucket).
 */
export interface Observation {
  /** The report's project. */
  readonly project: string;
  /** The report's version. */
  readonly version: string;
  /** The ISO week of the report's period end, as `YYYYWW`. */
  readonly week: number;
  /** The install's weekly id; absent at level `basic`, where installs cannot be told apart. */
  readonly weekId: string | undefined;
  /** What the report adds, cell by cell. */
  readonly cells: readonly Cell[];
}

/** One dimension's key and the amount a report adds to it. */
export interface Cell {
  /** The dimension (`calls`, `errors`, `runtime`, ...). */
  readonly dim: string;
  /** The key within it (a counted name, `node 22`, ...); `''` for the dimension as a whole. */
  readonly key: string;
  /** What the report adds to it. */
  readonly value: number;
}

/** Facts a transport carries outside the report's own shape (OTLP has no CPU count or memory, so no `platform`). */
export interface ObservationExtras {
  /** `os arch`, when the report itself has no `platform`. */
  readonly platformKey?: string;
}

/** The cells of a validated report. */
export function observe(report: Report, extras: ObservationExtras = {}): Observation {
  const cells: Cell[] = [{ dim: 'reports', key: '', value: 1 }];
  const runs = programRuns(report);
  if (runs > 0) cells.push({ dim: 'program-runs', key: '', value: runs });
  addCounts(cells, 'calls', report.counts);
  addCounts(cells, 'errors', report.errors);
  addCounts(cells, 'dropped', report.dropped);
  if (report.runtime !== undefined) cells.push({ dim: 'runtime', key: `${report.runtime.name} ${major(report.runtime.version)}`, value: 1 });
  const platform = report.platform !== undefined ? `${report.platform.os} ${report.platform.arch}` : extras.platformKey;
  if (platform !== undefined) cells.push({ dim: 'platform', key: platform, value: 1 });
  cells.push({ dim: 'level', key: report.level, value: 1 });
  if (report.ci !== undefined) cells.push({ dim: 'ci', key: String(report.ci), value: 1 });
  // The usage-level signals, where the report has them: one dimension per name, keyed by bucket or option.
  for (const [name, buckets] of Object.entries(report.durations ?? {})) addCounts(cells, `duration:${name}`, buckets);
  for (const [name, buckets] of Object.entries(report.numbers ?? {})) addCounts(cells, `number:${name}`, buckets);
  for (const [name, options] of Object.entries(report.choices ?? {})) addCounts(cells, `choice:${name}`, options);
  for (const [name, version] of Object.entries(report.dependencies ?? {})) cells.push({ dim: `dependency:${name}`, key: version ?? 'not installed', value: 1 });
  if (report.exits !== undefined) {
    addCounts(cells, 'exit', { normal: report.exits.normal, nonZero: report.exits.nonZero, signal: report.exits.signal });
    addCounts(cells, 'exit-duration', report.exits.duration);
  }
  return {
    project: report.project,
    version: report.version,
    week: isoWeek(Date.parse(report.period.end)),
    weekId: report.weekId,
    cells,
  };
}

/**
 * The program runs a report accounts for. At `usage` and above a report's `exits` counts each run
 * that used the library exactly once, in the report that carries its end: the run's own exit report,
 * or the next report of the same version; a report without `exits` (a timer tick, a flush, a browser's
 * report) ended no run. Its `runs` is no run count: it is how many reports processes made, merged into
 * this one, so a service in timer mode says `runs: 1` at every tick. At `basic`, which carries no
 * `exits`, `runs` (absent: 1) is all there is.
 */
export function programRuns(report: Report): number {
  if (report.level !== 'basic') return report.exits === undefined ? 0 : report.exits.normal + report.exits.nonZero + report.exits.signal;
  return report.runs ?? 1;
}

function addCounts(cells: Cell[], dim: string, counts: Readonly<Record<string, number | undefined>> | undefined): void {
  if (counts === undefined) return;
  for (const [key, value] of Object.entries(counts)) if (value !== undefined && value > 0) cells.push({ dim, key, value });
}

/** `22.11.0` as `22`; a version without dots as it is. */
function major(version: string): string {
  const dot = version.indexOf('.');
  return dot === -1 ? version : version.slice(0, dot);
}
