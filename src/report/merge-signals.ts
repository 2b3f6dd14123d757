import { DURATION_BUCKETS } from '../registry/buckets.js';
import type { ExitCounts } from '../registry/counter-table.js';
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
    // A report's histogram may name a bucket without a count (its type allows it): `add` skips it.
    if (report.exits !== undefined) merged.exits = addExits(merged.exits as ExitCounts | undefined, report.exits as ExitCounts);
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

/** Two counts of runs' ends summed, outcome by outcome and bucket by bucket. */
export function addExits(into: ExitCounts | undefined, more: ExitCounts): ExitCounts {
  const base = into ?? { normal: 0, nonZero: 0, signal: 0, duration: {} };
  return {
    normal: base.normal + more.normal,
    nonZero: base.nonZero + more.nonZero,
    signal: base.signal + more.signal,
    duration: add({ ...base.duration }, more.duration) as Record<string, number>,
  };
}

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

/**
 * Runs' ends read from a file, or `undefined` when they are not exactly what tallyho writes: a record
 * that would fail the wire contract must not cost the report it joins. Checked by hand rather than by
 * `ReportSchema`: zod loads only where a report leaves the machine, and this runs where one is built.
 */
export function readExits(value: unknown): ExitCounts | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { normal, nonZero, signal, duration } = value as Record<string, unknown>;
  if (!isCount(normal) || !isCount(nonZero) || !isCount(signal) || typeof duration !== 'object' || duration === null) return undefined;
  const buckets: Record<string, number> = {};
  for (const [bucket, n] of Object.entries(duration)) {
    if (!DURATION_BUCKETS.includes(bucket) || !isCount(n)) return undefined;
    if (n > 0) buckets[bucket] = n;
  }
  return { normal, nonZero, signal, duration: buckets };
}
