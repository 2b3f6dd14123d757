import type { DropReason } from '../report/report.js';

/**
 * One counter. Decorated code holds its cell directly, so the hot path is `cell.calls++` with no
 * lookup. Fields are plain numbers: doubles count exactly up to 2^53, far past any 32-bit limit.
 */
export interface Cell {
  /** The counter name; a TC39 method decorator renames its cell once it learns the class. */
  name: string;
  calls: number;
  errors: number;
}

/** The counts of one period, merged by name, as a report carries them. */
export interface Delta {
  readonly counts: Record<string, number>;
  readonly errors: Record<string, number>;
  readonly dropped: Partial<Record<DropReason, number>>;
  /** When the period began (ms since the epoch). */
  readonly start: number;
  /** When the period ended (ms since the epoch). */
  readonly end: number;
}

/**
 * The counters of one project. The shape is shared between copies of tallyho (see shared-state), so
 * it holds plain data only and is read and written by the functions below.
 */
export interface CounterTable {
  readonly cells: Cell[];
  /** Cells created by `count()`, by name: the only ones looked up by name. */
  readonly manual: Map<string, Cell>;
  /** Counts lost before they reached a report, by reason. */
  readonly dropped: Partial<Record<DropReason, number>>;
  /** Start of the current period (ms since the epoch). */
  periodStart: number;
}

/** A new, empty table whose period starts now. */
export function createCounterTable(now: number): CounterTable {
  return { cells: [], manual: new Map(), dropped: {}, periodStart: now };
}

/** Allocates a cell at decoration time. */
export function allocateCell(table: CounterTable, name: string): Cell {
  const cell: Cell = { name, calls: 0, errors: 0 };
  table.cells.push(cell);
  return cell;
}

/** Adds `n` lost counts under `reason`. */
export function recordDropped(table: CounterTable, reason: DropReason, n: number): void {
  table.dropped[reason] = (table.dropped[reason] ?? 0) + n;
}

/** True when the table holds no count and no loss since the last snapshot. */
export function isIdle(table: CounterTable): boolean {
  for (const cell of table.cells) if (cell.calls !== 0 || cell.errors !== 0) return false;
  for (const reason in table.dropped) if (table.dropped[reason as DropReason]) return false;
  return true;
}

/**
 * Takes the counts since the last snapshot and resets them, so each report carries its own delta.
 * Cells that share a name (two classes named alike, twin copies of a library) are summed.
 */
export function takeDelta(table: CounterTable, now: number): Delta {
  const counts: Record<string, number> = {};
  const errors: Record<string, number> = {};
  for (const cell of table.cells) {
    if (cell.calls === 0 && cell.errors === 0) continue;
    const name = cell.name;
    if (cell.calls !== 0) counts[name] = (counts[name] ?? 0) + cell.calls;
    if (cell.errors !== 0) errors[name] = (errors[name] ?? 0) + cell.errors;
    cell.calls = 0;
    cell.errors = 0;
  }
  const dropped = { ...table.dropped };
  for (const reason in table.dropped) delete table.dropped[reason as DropReason];
  const start = table.periodStart;
  table.periodStart = now;
  return { counts, errors, dropped, start, end: now };
}
