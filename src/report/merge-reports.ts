import { mergeSignals } from './merge-signals.js';
import { DROP_REASONS, type Dropped, type Report } from './report.js';

/**
 * What makes reports one batch: everything but what they count. Reports merge only when all of it is
 * equal (project, version, level, runtime, platform, CI, the dependencies' versions, and the salted
 * ids, so never across weekly ids or levels).
 */
export function envelopeKey(report: Report): string {
  return JSON.stringify([
    report.schema,
    report.project,
    report.version,
    report.level,
    report.runtime ?? null,
    report.platform ?? null,
    report.ci ?? null,
    // As sameDependencies() judges them: the same versions, in any order.
    Object.entries(report.dependencies ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    report.weekId ?? null,
    report.installId ?? null,
    report.userHash ?? null,
    report.machineHash ?? null,
  ]);
}

/**
 * Merges reports of one envelope (see {@link envelopeKey}) into one report with the given id: counts,
 * errors, dropped, durations, numbers, choices and exits summed, the period spanning them all, `runs`
 * the number of runs they cover, and the trigger of the latest. This is the one place a report field
 * is merged: a new field adds its rule here. A sum past 2^53 - 1 keeps the most that is exact and
 * counts the rest as dropped (overflow).
 */
export function mergeReports(reports: readonly Report[], id: string): Report {
  const sorted = [...reports].sort((a, b) => (a.period.end < b.period.end ? -1 : a.period.end > b.period.end ? 1 : 0));
  const latest = sorted[sorted.length - 1]!;
  let overflow = 0;
  const add = (into: Record<string, number>, from: Readonly<Record<string, number>> | undefined) => {
    for (const [name, n] of Object.entries(from ?? {})) {
      const room = Number.MAX_SAFE_INTEGER - (into[name] ?? 0);
      // Compared before adding: past 2^53 the sum itself would be rounded.
      if (n > room) {
        overflow += n - room;
        into[name] = Number.MAX_SAFE_INTEGER;
      } else {
        into[name] = (into[name] ?? 0) + n;
      }
    }
  };
  const counts: Record<string, number> = {};
  const dropped: Dropped = {};
  let errors: Record<string, number> | undefined;
  let runs = 0;
  for (const report of sorted) {
    add(counts, report.counts);
    add(dropped as Record<string, number>, report.dropped);
    if (report.errors !== undefined) add((errors ??= {}), report.errors);
    runs += report.runs ?? 1;
  }
  if (overflow > 0) dropped.overflow = Math.min(Number.MAX_SAFE_INTEGER, (dropped.overflow ?? 0) + overflow);
  const ordered: Dropped = {};
  for (const reason of DROP_REASONS) if (dropped[reason] !== undefined) ordered[reason] = dropped[reason];
  const start = sorted.reduce((min, r) => (r.period.start < min ? r.period.start : min), sorted[0]!.period.start);
  return {
    ...latest,
    id,
    period: { start, end: latest.period.end },
    counts,
    dropped: ordered,
    ...(errors === undefined ? {} : { errors }),
    ...mergeSignals(sorted),
    runs: Math.min(Number.MAX_SAFE_INTEGER, runs),
  };
}
