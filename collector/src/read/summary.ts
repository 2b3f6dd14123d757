import { isoWeek, weekLabel, weekStart, weeksEndingWith } from '../iso-week.js';
import type { Store, WeeklyRow } from '../store/store.js';

/** One week's number, or `null` where fewer than the minimum of installs contributed (suppressed). */
export type Cell = number | null;

/** A key's numbers over the weeks of a summary, oldest first. */
export interface KeySeries {
  /** The version, runtime, platform, level, CI value or drop reason. */
  readonly key: string;
  /** Its number in each week, oldest first. */
  readonly weeks: readonly Cell[];
}

/** A counted name's calls and errors over the weeks, and the totals of the weeks shown. */
export interface FeatureSeries {
  /** The counted name (`Client#query`, `feature.export`). */
  readonly name: string;
  /** Calls in each week, oldest first. */
  readonly calls: readonly Cell[];
  /** Calls that threw, in each week. */
  readonly errors: readonly Cell[];
  /** The calls of the weeks not suppressed. */
  readonly totalCalls: number;
  /** The errors of the weeks not suppressed. */
  readonly totalErrors: number;
}

/** A name's keys over the weeks: a choice's options, a histogram's buckets, a package's versions. */
export interface NamedSeries {
  /** The name (`input.format`, `Parser#parse`, `react`). */
  readonly name: string;
  /** Its keys, each with its numbers per week; most first (buckets: in bucket order). */
  readonly keys: readonly KeySeries[];
}

/** What the page, `GET /api/projects/:project/summary` and the CSV export show of a project. */
export interface Summary {
  /** The project's name. */
  readonly project: string;
  /** The ISO weeks covered, oldest first (`2026-W48`). */
  readonly weeks: readonly string[];
  /** Each week's Monday 00:00 UTC, in milliseconds since the epoch (the charts' x axis). */
  readonly weekStarts: readonly number[];
  /** Cells that fewer distinct installs than this contributed to are suppressed. */
  readonly minInstalls: number;
  /** Weekly active installs: distinct weekly ids. */
  readonly installs: readonly Cell[];
  /** Reports received. */
  readonly reports: readonly Cell[];
  /**
   * Program runs that ended, counted in the week of the report that carries each run's end: at level
   * `usage` and above, the runs in reports' `exits` (the same runs {@link Summary.exits} shows by
   * outcome); at `basic`, which carries no `exits`, the reports' `runs`. Not the reports' `runs` at
   * every level: that counts reports made (a service in timer mode makes one per tick).
   */
  readonly runs: readonly Cell[];
  /** Counted names, most called first. */
  readonly features: readonly FeatureSeries[];
  /** Installs by version, runtime (`node 22`), platform (`linux x64`), level and CI (`true`/`false`). */
  readonly versions: readonly KeySeries[];
  /** Installs by runtime and major version (`node 22`). */
  readonly runtimes: readonly KeySeries[];
  /** Installs by operating system and architecture (`linux x64`). */
  readonly platforms: readonly KeySeries[];
  /** Installs by report level. */
  readonly levels: readonly KeySeries[];
  /** Installs by whether they ran in CI (`true`, `false`). */
  readonly ci: readonly KeySeries[];
  /** Counts the clients lost before delivery, by reason. */
  readonly dropped: readonly KeySeries[];
  /** How runs ended (`normal`, `nonZero`, `signal`), where reports say. */
  readonly exits: readonly KeySeries[];
  /** Runs by how long they ran, by bucket (upper bound in milliseconds, `+Inf`). */
  readonly exitDurations: readonly KeySeries[];
  /** Timed calls by duration bucket, per name (`track({ time: true })`, `instrument()`). */
  readonly durations: readonly NamedSeries[];
  /** Recorded numbers by bucket, per name (`record()`). */
  readonly numbers: readonly NamedSeries[];
  /** Counts by option, per name (`choice()`). */
  readonly choices: readonly NamedSeries[];
  /** Installs by installed version, per package the author listed. */
  readonly dependencies: readonly NamedSeries[];
  /** How many cells were suppressed, and why, in words. */
  readonly suppressed: {
    /** How many cells were replaced by `null`. */
    readonly cells: number;
    /** The same in words, for the page. */
    readonly note: string;
  };
}

/** The dimensions whose keys are listed by installs. */
const INSTALL_DIMS = { runtime: 'runtimes', platform: 'platforms', level: 'levels', ci: 'ci' } as const;

/** The weeks a summary covers: `weeks` ISO weeks ending with the week of `now`. */
export function summaryWeeks(now: number, weeks: number): number[] {
  return weeksEndingWith(isoWeek(now), weeks);
}

/**
 * A project's weekly aggregates over the given weeks, with every cell that fewer than `minInstalls`
 * distinct installs contributed to replaced by `null` and counted in `suppressed`. A name no week
 * shows is left out altogether, so its existence is not revealed either.
 */
export function summarize(store: Store, project: string, weeks: readonly number[], minInstalls: number): Summary {
  const index = new Map(weeks.map((w, i) => [w, i]));
  const rows = store.weekly(project, weeks[0]!, weeks[weeks.length - 1]!);
  let suppressedCells = 0;
  const show = (row: WeeklyRow, value: number): Cell => {
    if (row.installs >= minInstalls) return value;
    suppressedCells += 1;
    return null;
  };
  const empty = (): Cell[] => weeks.map(() => 0);
  const installs = empty();
  const reports = empty();
  const runs = empty();
  const calls = new Map<string, Cell[]>();
  const errors = new Map<string, Cell[]>();
  const byKey: Record<string, Map<string, Cell[]>> = {
    versions: new Map(),
    runtimes: new Map(),
    platforms: new Map(),
    levels: new Map(),
    ci: new Map(),
    dropped: new Map(),
    exits: new Map(),
    exitDurations: new Map(),
  };
  const named: Record<string, Map<string, Map<string, Cell[]>>> = { duration: new Map(), number: new Map(), choice: new Map(), dependency: new Map() };
  const put = (map: Map<string, Cell[]>, key: string, i: number, cell: Cell): void => {
    let series = map.get(key);
    if (series === undefined) map.set(key, (series = empty()));
    series[i] = cell;
  };

  for (const row of rows) {
    const i = index.get(row.week);
    if (i === undefined) continue;
    if (row.version !== '') {
      if (row.dim === 'reports') put(byKey.versions!, row.version, i, show(row, row.installs));
      continue;
    }
    switch (row.dim) {
      case 'reports':
        installs[i] = show(row, row.installs);
        reports[i] = show(row, row.value);
        suppressedCells -= row.installs >= minInstalls ? 0 : 1; // one cell, shown twice
        break;
      case 'program-runs':
        runs[i] = show(row, row.value);
        break;
      case 'calls':
        put(calls, row.key, i, show(row, row.value));
        break;
      case 'errors':
        put(errors, row.key, i, show(row, row.value));
        break;
      case 'dropped':
        put(byKey.dropped!, row.key, i, show(row, row.value));
        break;
      case 'exit':
        put(byKey.exits!, row.key, i, show(row, row.value));
        break;
      case 'exit-duration':
        put(byKey.exitDurations!, row.key, i, show(row, row.value));
        break;
      default: {
        const target = INSTALL_DIMS[row.dim as keyof typeof INSTALL_DIMS];
        if (target !== undefined) {
          put(byKey[target]!, row.key, i, show(row, row.installs));
          break;
        }
        const colon = row.dim.indexOf(':');
        const kind = colon === -1 ? undefined : named[row.dim.slice(0, colon)];
        if (kind === undefined) break;
        const name = row.dim.slice(colon + 1);
        let keys = kind.get(name);
        if (keys === undefined) kind.set(name, (keys = new Map()));
        // Dependencies are counted by installs; the rest by what the reports added.
        put(keys, row.key, i, show(row, row.dim.startsWith('dependency:') ? row.installs : row.value));
      }
    }
  }

  const total = (cells: readonly Cell[]): number => cells.reduce<number>((sum, c) => sum + (c ?? 0), 0);
  const shown = (cells: readonly Cell[]): boolean => cells.some((c) => c !== null && c > 0);
  const features: FeatureSeries[] = [];
  for (const name of new Set([...calls.keys(), ...errors.keys()])) {
    const c = calls.get(name) ?? empty();
    const e = errors.get(name) ?? empty();
    if (!shown(c) && !shown(e)) continue;
    features.push({ name, calls: c, errors: e, totalCalls: total(c), totalErrors: total(e) });
  }
  features.sort((a, b) => b.totalCalls - a.totalCalls || a.name.localeCompare(b.name));
  const list = (map: Map<string, Cell[]>): KeySeries[] =>
    [...map]
      .filter(([, cells]) => shown(cells))
      .map(([key, cells]) => ({ key, weeks: cells }))
      .sort((a, b) => total(b.weeks) - total(a.weeks) || a.key.localeCompare(b.key));
  // Buckets are named by their upper bound: in bound order, `+Inf` last.
  const bound = (key: string): number => (key === '+Inf' ? Number.POSITIVE_INFINITY : Number(key));
  const buckets = (map: Map<string, Cell[]>): KeySeries[] => list(map).sort((a, b) => bound(a.key) - bound(b.key));
  const names = (map: Map<string, Map<string, Cell[]>>, order: (m: Map<string, Cell[]>) => KeySeries[]): NamedSeries[] =>
    [...map]
      .map(([name, keys]) => ({ name, keys: order(keys) }))
      .filter((n) => n.keys.length > 0)
      .sort((a, b) => a.name.localeCompare(b.name));

  return {
    project,
    weeks: weeks.map(weekLabel),
    weekStarts: weeks.map(weekStart),
    minInstalls,
    installs,
    reports,
    runs,
    features,
    versions: list(byKey.versions!),
    runtimes: list(byKey.runtimes!),
    platforms: list(byKey.platforms!),
    levels: list(byKey.levels!),
    ci: list(byKey.ci!),
    dropped: list(byKey.dropped!),
    exits: list(byKey.exits!),
    exitDurations: buckets(byKey.exitDurations!),
    durations: names(named.duration!, buckets),
    numbers: names(named.number!, buckets),
    choices: names(named.choice!, list),
    dependencies: names(named.dependency!, list),
    suppressed: {
      cells: suppressedCells,
      note:
        suppressedCells === 0
          ? `nothing suppressed: every cell shown has at least ${minInstalls} distinct installs`
          : `${suppressedCells} cell${suppressedCells === 1 ? '' : 's'} suppressed: fewer than ${minInstalls} distinct installs contributed to ${suppressedCells === 1 ? 'it' : 'each'}`,
    },
  };
}
