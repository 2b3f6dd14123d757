/**
 * The counter table: the one owner of every count and every loss of a project. Decorated code holds
 * its cell and increments it in place (the hot path); every other change, from allocating a cell to
 * counting by name, recording a loss, taking a snapshot and resetting, goes through the functions of
 * this module, and so do the rules a counter name must follow.
 */

/**
 * Why counts were lost before they could be delivered: `network` (the endpoint could not be reached in
 * time), `refused` (the endpoint answered with a final refusal), `quota` (the spool was full),
 * `invalid` (a bad `count()` call, an invalid report or an unreadable spool file), `expired` (waited
 * longer than the spool keeps reports), `overflow` (more distinct `count()` names than the cap).
 */
export const DROP_REASONS = ['network', 'refused', 'quota', 'invalid', 'expired', 'overflow'] as const;

/** One of {@link DROP_REASONS}. */
export type DropReason = (typeof DROP_REASONS)[number];

/** Counts lost, by reason; a reason with nothing lost is absent. */
export type Dropped = Partial<Record<DropReason, number>>;

/** The longest counter name, in UTF-16 code units. */
export const MAX_NAME_LENGTH = 200;

/** The characters of a counter name: at least one, none of them a control or format character. */
export const NAME_PATTERN = /^[^\p{C}]+$/u;

/** Whether `name` may name a counter: {@link NAME_PATTERN}, at most {@link MAX_NAME_LENGTH} long. */
export function isCounterName(name: unknown): name is string {
  return typeof name === 'string' && name.length <= MAX_NAME_LENGTH && NAME_PATTERN.test(name);
}

/** The longest class part of a name taken from code (`VeryLongClientName` in `VeryLongClientName#query`). */
export const MAX_CLASS_PART = 100;
/** The longest member part of a name taken from code (`#query`, `.create`, `#get value`). */
export const MAX_MEMBER_PART = 95;

const NOT_PRINTABLE = /\p{C}/gu;
/** Marks a part that was cut short, so that a reader of the report can tell. */
const CUT = '…';

/**
 * Fits a part of a name taken from code, at decoration time: code points that are not printable (a
 * control or format character such as U+200D) are removed, and a part longer than `max` is cut to
 * `max - 1` code units and ends with `…` (never inside a surrogate pair). With the class part at most
 * {@link MAX_CLASS_PART} and the member part at most {@link MAX_MEMBER_PART}, every name built from
 * code (`new X`, `X#m`, `X.s`) follows the name rule.
 */
export function fitNamePart(raw: string, max: number): string {
  const printable = raw.normalize('NFC').replace(NOT_PRINTABLE, '');
  if (printable.length <= max) return printable;
  let end = max - CUT.length;
  const last = printable.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${printable.slice(0, end)}${CUT}`;
}

/** The class part of a name from code: fitted, or `anonymous` when nothing printable is left. */
export function classPart(raw: string): string {
  return fitNamePart(raw, MAX_CLASS_PART) || 'anonymous';
}

/** The member part of a name from code (`#query`), fitted. */
export function memberPart(raw: string): string {
  return fitNamePart(raw, MAX_MEMBER_PART);
}

/** A whole name an author gave (`track({ name })`), fitted; a name with nothing printable stays empty, and is dropped as invalid. */
export function explicitName(raw: string): string {
  return fitNamePart(String(raw), MAX_NAME_LENGTH);
}

/**
 * The class part of a name when the class is not known yet: a TC39 method decorator is not told its
 * class, and learns it from the first instance (or, for a static, when the class is defined). Calls made
 * before that, through the prototype, are counted as `(unknown class)#format`.
 */
export const UNKNOWN_CLASS = '(unknown class)';

/**
 * A decorated member's counter: its name is the class part and the member part (`#query`, `.create`,
 * `#get value`), put together when a snapshot is taken. The decorator that made it sets `className`
 * when it learns it; a class decorator sets it for the members it finds already counted.
 */
export interface MemberOwner {
  /** The member part of the name, appended to the class part. */
  readonly member: string;
  /** The class part of the name; `undefined` until it is known. */
  className: string | undefined;
}

/** What a cell counts: a fixed name (`count()`, `new Client`, `track({ name })`), or a class member. */
export type CellOwner = string | MemberOwner;

/**
 * One counter. Decorated code holds its cell directly, so the hot path is `cell.calls++` with no
 * lookup. Fields are plain numbers: doubles count exactly up to 2^53, far past any 32-bit limit.
 */
export interface Cell {
  /** Who the counter belongs to; resolved into the counter name by {@link cellName}. */
  readonly owner: CellOwner;
  calls: number;
  errors: number;
}

/** The counts of one period, merged by name, as a report carries them. */
export interface Delta extends Counts {
  /** When the period began (ms since the epoch). */
  readonly start: number;
  /** When the period ended (ms since the epoch). */
  readonly end: number;
  /** Timed calls by counter name, as counts by duration bucket name. */
  readonly durations?: Record<string, Record<string, number>>;
  /** Numbers given to `record()`, by name, as counts by bucket name. */
  readonly numbers?: Record<string, Record<string, number>>;
  /** Values given to `choice()`, by name: counts by allowed value, or `other`. */
  readonly choices?: Record<string, Record<string, number>>;
  /** How this run ended, when the period ends with it. */
  readonly exits?: ExitCounts;
}

/** Runs by how they ended, and by how long they ran (duration bucket name to runs). */
export interface ExitCounts {
  readonly normal: number;
  readonly nonZero: number;
  readonly signal: number;
  readonly duration: Record<string, number>;
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
  readonly dropped: Dropped;
  /** Start of the current period (ms since the epoch). */
  periodStart: number;
}

/** A new, empty table whose period starts now. */
export function createCounterTable(now: number): CounterTable {
  return { cells: [], manual: new Map(), dropped: {}, periodStart: now };
}

/** Allocates a cell at decoration time. */
export function allocateCell(table: CounterTable, owner: CellOwner): Cell {
  const cell: Cell = { owner, calls: 0, errors: 0 };
  table.cells.push(cell);
  return cell;
}

/** The name a cell's counts are reported under. */
export function cellName(cell: Cell): string {
  const { owner } = cell;
  return typeof owner === 'string' ? owner : `${owner.className ?? UNKNOWN_CLASS}${owner.member}`;
}

/** Adds `n` lost counts under `reason`. */
export function drop(table: CounterTable, reason: DropReason, n: number): void {
  if (n > 0) table.dropped[reason] = (table.dropped[reason] ?? 0) + n;
}

/** Adds every loss of `dropped` (losses that were returned by a stage downstream, or read from disk). */
export function dropAll(table: CounterTable, dropped: Dropped): void {
  for (const reason of DROP_REASONS) drop(table, reason, dropped[reason] ?? 0);
}

/**
 * Counts `n` calls of the manual counter `name` (`telemetry.count()`). A bad `n` or name is not
 * counted but recorded as dropped (`invalid`); past `maxNames` distinct names, and past 2^53 in one
 * counter, the counts are dropped (`overflow`), never rounded. Returns a warning for the caller to
 * log, or `undefined` when the counts were taken.
 */
export function count(table: CounterTable, name: string, n: number, maxNames: number): string | undefined {
  if (!Number.isSafeInteger(n) || n <= 0) {
    drop(table, 'invalid', 1);
    return `count() ignored a call whose n (${String(n).slice(0, 20)}) is not a positive whole number`;
  }
  let cell = table.manual.get(name);
  if (cell === undefined) {
    if (!isCounterName(name)) {
      drop(table, 'invalid', n);
      return `count() ignored a name that is not 1 to ${MAX_NAME_LENGTH} printable characters`;
    }
    if (table.manual.size >= maxNames) {
      const first = !table.dropped.overflow;
      drop(table, 'overflow', n);
      return first ? `more than ${maxNames} distinct count() names; further names count as dropped (overflow)` : undefined;
    }
    cell = allocateCell(table, name);
    table.manual.set(name, cell);
  }
  // Past 2^53 a double stops counting exactly: what does not fit is dropped, never rounded.
  if (cell.calls + n > Number.MAX_SAFE_INTEGER) {
    drop(table, 'overflow', n);
    return undefined;
  }
  cell.calls += n;
  return undefined;
}

/** True when the table holds no count and no loss since the last snapshot. */
export function isIdle(table: CounterTable): boolean {
  for (const cell of table.cells) if (cell.calls !== 0 || cell.errors !== 0) return false;
  for (const reason of DROP_REASONS) if (table.dropped[reason]) return false;
  return true;
}

/** The counts of a table, merged by name: what a report of it would carry now. */
export interface Counts {
  readonly counts: Record<string, number>;
  readonly errors: Record<string, number>;
  readonly dropped: Dropped;
}

/**
 * The counts since the last delta, merged by name, without resetting them. Cells that share a name
 * (two classes named alike, twin copies of a library) are summed. A cell whose name breaks the name
 * rule is not in `counts` but in `dropped.invalid`: one bad name never costs a report its other counts.
 */
export function snapshot(table: CounterTable): Counts {
  const counts: Record<string, number> = {};
  const errors: Record<string, number> = {};
  let invalid = 0;
  for (const cell of table.cells) {
    if (cell.calls === 0 && cell.errors === 0) continue;
    const name = cellName(cell);
    if (!isCounterName(name)) {
      invalid += cell.calls;
      continue;
    }
    if (cell.calls !== 0) counts[name] = (counts[name] ?? 0) + cell.calls;
    if (cell.errors !== 0) errors[name] = (errors[name] ?? 0) + cell.errors;
  }
  const dropped = { ...table.dropped };
  if (invalid > 0) dropped.invalid = (dropped.invalid ?? 0) + invalid;
  return { counts, errors, dropped };
}

/** Zeroes every count and loss and starts a new period at `now`. */
export function reset(table: CounterTable, now: number): void {
  for (const cell of table.cells) {
    cell.calls = 0;
    cell.errors = 0;
  }
  for (const reason of DROP_REASONS) delete table.dropped[reason];
  table.periodStart = now;
}

/** Takes the counts since the last delta and resets them, so each report carries its own period. */
export function takeDelta(table: CounterTable, now: number): Delta {
  const taken = snapshot(table);
  const start = table.periodStart;
  reset(table, now);
  return { ...taken, start, end: now };
}
