import type { Histogram, Report } from './report.js';

/**
 * The fields a batch merges from its reports beyond counts, errors and drops: durations, numbers,
 * choices and run outcomes are summed bucket by bucket and value by value. `dependencies` are not
 * summed: reports with different versions differ in what they describe, so they belong to different
 * batches (see {@link sameDependencies}, part of the envelope reports merge by).
 */
export type MergedSignals = Pick<Report, 'durations' | 'numbers' | 'choices' | 'exits'>;

/** Sums the durations, numbers, choices and run outcomes of `reports`; fields none of them has stay absent. */
export function mergeSignals(reports: readonly Report[]): MergedSignals {
  const merged: MergedSignals = {};
  for (const report of reports) {
    if (report.durations !== undefined) merged.durations = addByName(merged.durations ?? {}, report.durations);
    if (report.numbers !== undefined) merged.numbers = addByName(merged.numbers ?? {}, report.numbers);
    if (report.choices !== undefined) merged.choices = addByName(merged.choices ?? {}, report.choices) as Record<string, Record<string, number>>;
    if (report.exits !== undefined) {
      const into = merged.exits ?? { normal: 0, nonZero: 0, signal: 0, duration: {} };
      merged.exits = {
        normal: into.normal + report.exits.normal,
        nonZero: into.nonZero + report.exits.nonZero,
        signal: into.signal + report.exits.signal,
        duration: add({ ...into.duration }, report.exits.duration),
      };
    }
  }
  return merged;
}

/** Whether two reports list the same dependency versions: only such reports may merge. */
export function sameDependencies(a: Report, b: Report): boolean {
  return JSON.stringify(sorted(a.dependencies)) === JSON.stringify(sorted(b.dependencies));
}

function sorted(values: Record<string, string | null> | undefined): [string, string | null][] {
  return Object.entries(values ?? {}).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
}

function addByName(into: Record<string, Histogram>, more: Readonly<Record<string, Histogram>>): Record<string, Histogram> {
  const out: Record<string, Histogram> = { ...into };
  for (const [name, values] of Object.entries(more)) out[name] = add({ ...(out[name] ?? {}) }, values);
  return out;
}

function add(into: Histogram, more: Histogram): Histogram {
  for (const [key, n] of Object.entries(more)) if (n !== undefined) into[key] = (into[key] ?? 0) + n;
  return into;
}
