import { anyCounted, bucketsOf, DURATION_BUCKETS, DURATION_SLOTS, durationSlot, emptySlots, SIZE_BUCKETS, SIZE_SLOTS, sizeSlot } from './buckets.js';

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
  /** Timed calls by duration slot (see buckets.ts): only the cells of timed wrappers have it. */
  readonly durations?: number[];
}

/** The counts of one period, merged by name, as a report carries them. */
export interface Delta extends Counts {
  /** When the period began (ms since the epoch). */
  readonly start: number;
  /** When the period ended (ms since the epoch). */
  readonly end: number;
}

/** Runs by how they ended, and by how long they ran (duration bucket name to runs). */
export interface ExitCounts {
  readonly normal: number;
  readonly nonZero: number;
  readonly signal: number;
  readonly duration: Record<string, number>;
}

/** How a run ended: exit code 0, another exit code, or a signal. */
export type RunOutcome = 'normal' | 'nonZero' | 'signal';

/** A run's end as the table keeps it until the next snapshot: the outcome, and the duration's slot. */
interface ExitSlots {
  normal: number;
  nonZero: number;
  signal: number;
  readonly duration: number[];
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
  /*
   * The fields below were added after the shape was first shared, so a table made by an older copy of
   * tallyho lacks them: each is created where it is first needed.
   */
  /** `record()` histograms by name (slots as in buckets.ts). */
  numbers?: Map<string, number[]>;
  /** `choice()` counts by name, then by value (an allowed value, or `other`). */
  choices?: Map<string, Map<string, number>>;
  /** The run's end, once recorded, until the snapshot that reports it. */
  exits?: ExitSlots;
  /** Whether this process's run was recorded already (several copies of tallyho may hook the same exit). */
  exitRecorded?: boolean;
  /** Whether a report was taken from this table in this process: the run used the library. */
  reportedThisRun?: boolean;
}

/** A new, empty table whose period starts now. */
export function createCounterTable(now: number): CounterTable {
  return { cells: [], manual: new Map(), dropped: {}, periodStart: now };
}

/** Allocates a cell at decoration time; a timed one has duration slots too. */
export function allocateCell(table: CounterTable, owner: CellOwner, timed = false): Cell {
  const cell: Cell = timed ? { owner, calls: 0, errors: 0, durations: emptySlots(DURATION_SLOTS) } : { owner, calls: 0, errors: 0 };
  table.cells.push(cell);
  return cell;
}

/** The name a cell's counts are reported under. */
export function cellName(cell: Cell): string {
  const { owner } = cell;
  return typeof owner === 'string' ? owner : `${owner.className ?? UNKNOWN_CLASS}${owner.member}`;
}

/** Adds `n` lost counts under `reason`: losses found while counting (a bad call, a name past the cap). */
function drop(table: CounterTable, reason: DropReason, n: number): void {
  if (n > 0) table.dropped[reason] = (table.dropped[reason] ?? 0) + n;
}

/**
 * Adds the losses of `more` into `into` and returns it: losses are values that travel from the stage
 * that found them to the report that carries them. What is not a positive safe integer (a spool
 * file's content) adds nothing.
 */
export function addDropped(into: Dropped, more: Readonly<Record<string, unknown>> | undefined): Dropped {
  for (const reason of DROP_REASONS) {
    const n = more?.[reason];
    if (typeof n === 'number' && Number.isSafeInteger(n) && n > 0) into[reason] = (into[reason] ?? 0) + n;
  }
  return into;
}

/** Whether `dropped` holds any loss. */
export function anyDropped(dropped: Dropped): boolean {
  for (const reason of DROP_REASONS) if (dropped[reason]) return true;
  return false;
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

/**
 * Counts one number given to `record(name, value)` in its bucket. The value itself is not kept. A bad
 * name or value (negative, not finite, not a number) is not counted but recorded as dropped
 * (`invalid`); past `maxNames` distinct names, as dropped (`overflow`). Returns a warning for the
 * caller to log, or `undefined`.
 */
export function recordNumber(table: CounterTable, name: string, value: number, maxNames: number): string | undefined {
  if (typeof value !== 'number' || !(value >= 0) || value === Infinity) {
    drop(table, 'invalid', 1);
    return `record() ignored a value that is not a finite number of at least 0 (under ${isCounterName(name) ? name : 'a bad name'})`;
  }
  const numbers = (table.numbers ??= new Map());
  let slots = numbers.get(name);
  if (slots === undefined) {
    const refused = newName(table, 'record', name, numbers.size, maxNames);
    if (refused !== undefined) return refused || undefined;
    slots = emptySlots(SIZE_SLOTS);
    numbers.set(name, slots);
  }
  const slot = sizeSlot(value);
  if (slots[slot]! >= Number.MAX_SAFE_INTEGER) {
    drop(table, 'overflow', 1);
    return undefined;
  }
  slots[slot]!++;
  return undefined;
}

/** What `choice()` counts a value outside the allowed list as. */
export const OTHER_CHOICE = 'other';

/**
 * Counts `value` under `name` if it is one of the author's `allowed` strings, and as `other` if not:
 * a value outside the list is never kept, looked at beyond the comparison, or reported. A bad name or
 * `allowed` is not counted but recorded as dropped (`invalid`); past `maxNames` distinct names, or
 * `maxNames` distinct values of one name, as dropped (`overflow`).
 */
export function countChoice(table: CounterTable, name: string, value: unknown, allowed: readonly string[], maxNames: number): string | undefined {
  if (!Array.isArray(allowed)) {
    drop(table, 'invalid', 1);
    return 'choice() ignored a call whose allowed values are not an array of strings';
  }
  const choices = (table.choices ??= new Map());
  let values = choices.get(name);
  if (values === undefined) {
    const refused = newName(table, 'choice', name, choices.size, maxNames);
    if (refused !== undefined) return refused || undefined;
    values = new Map();
    choices.set(name, values);
  }
  const chosen = typeof value === 'string' && isCounterName(value) && allowed.includes(value) ? value : OTHER_CHOICE;
  const n = values.get(chosen);
  if (n === undefined && values.size >= maxNames) {
    drop(table, 'overflow', 1);
    return `more than ${maxNames} distinct values of choice() ${name}; further values count as dropped (overflow)`;
  }
  if ((n ?? 0) >= Number.MAX_SAFE_INTEGER) {
    drop(table, 'overflow', 1);
    return undefined;
  }
  values.set(chosen, (n ?? 0) + 1);
  return undefined;
}

/**
 * Whether a new name may be added to one of the by-name maps of size `size`: `undefined` when it may,
 * else the drop is recorded and a warning (or `''` for a repeat overflow, said once) returned.
 */
function newName(table: CounterTable, what: string, name: string, size: number, maxNames: number): string | undefined {
  if (!isCounterName(name)) {
    drop(table, 'invalid', 1);
    return `${what}() ignored a name that is not 1 to ${MAX_NAME_LENGTH} printable characters`;
  }
  if (size >= maxNames) {
    const first = !table.dropped.overflow;
    drop(table, 'overflow', 1);
    return first ? `more than ${maxNames} distinct ${what}() names; further names count as dropped (overflow)` : '';
  }
  return undefined;
}

/**
 * Records how this process's run ended and how long it ran (`ms` from the start of the process), once
 * per table however many copies of tallyho hook the exit. Every run that used the library is
 * recorded: one with counts left at its end (its exit report carries it), and one that reported them
 * all before it ended (a timer tick, an explicit flush, `shutdown()`), whose end the project's next
 * report carries. A run that counted nothing at all is not a use of the library.
 */
export function recordExit(table: CounterTable, outcome: RunOutcome, ms: number): void {
  if (table.exitRecorded === true) return;
  table.exitRecorded = true;
  if (table.reportedThisRun !== true && isIdle(table)) return;
  const exits = (table.exits ??= { normal: 0, nonZero: 0, signal: 0, duration: emptySlots(DURATION_SLOTS) });
  exits[outcome]++;
  exits.duration[durationSlot(Math.max(0, ms))]!++;
}

/** True when the table holds no count, no loss and no run's end since the last snapshot. */
export function isIdle(table: CounterTable): boolean {
  return table.exits === undefined && !holdsCounts(table);
}

/** True when all the table holds is how the run ended: everything counted was reported before. */
export function onlyTheRunsEnd(table: CounterTable): boolean {
  return table.exits !== undefined && !holdsCounts(table);
}

/** Whether the table holds a count or a loss since the last snapshot (a run's end aside). */
function holdsCounts(table: CounterTable): boolean {
  for (const cell of table.cells) {
    if (cell.calls !== 0 || cell.errors !== 0 || (cell.durations !== undefined && anyCounted(cell.durations))) return true;
  }
  if (anyDropped(table.dropped)) return true;
  for (const slots of table.numbers?.values() ?? []) if (anyCounted(slots)) return true;
  for (const values of table.choices?.values() ?? []) if (values.size > 0) return true;
  return false;
}

/** The counts of one project at a moment, without resetting them (`tallyho/testing` shows them). */
export interface CountSnapshot {
  /** Calls by counter name. */
  readonly counts: Record<string, number>;
  /** Calls that threw, by counter name. */
  readonly errors: Record<string, number>;
  /** Counts lost, by reason (a bad `count()` call is `invalid`), as the next report would carry them. */
  readonly dropped: Dropped;
  /** Timed calls by counter name, as calls by duration bucket (`'0.512'` ms, ...); absent when none were timed. */
  readonly durations?: Record<string, Record<string, number>>;
  /** Numbers given to `record()`, by name, as values by bucket (`'0'`, `'1'`, `'3'`, `'7'`, ...); absent when none were. */
  readonly numbers?: Record<string, Record<string, number>>;
  /** Values given to `choice()`, by name, as counts by allowed value or `other`; absent when none were. */
  readonly choices?: Record<string, Record<string, number>>;
}

/** The counts of a table, merged by name: what a report of it would carry now. */
export interface Counts extends CountSnapshot {
  /** How the run ended, once it has. */
  readonly exits?: ExitCounts;
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
  const durations: Record<string, Record<string, number>> = {};
  for (const cell of table.cells) {
    // An async call counted in one period may settle, and be timed, in the next.
    const timed = cell.durations !== undefined && anyCounted(cell.durations);
    if (cell.calls === 0 && cell.errors === 0 && !timed) continue;
    const name = cellName(cell);
    if (!isCounterName(name)) {
      invalid += cell.calls;
      continue;
    }
    if (cell.calls !== 0) counts[name] = (counts[name] ?? 0) + cell.calls;
    if (cell.errors !== 0) errors[name] = (errors[name] ?? 0) + cell.errors;
    if (timed) durations[name] = addBuckets(durations[name], bucketsOf(cell.durations!, DURATION_BUCKETS));
  }
  const numbers: Record<string, Record<string, number>> = {};
  for (const [name, slots] of table.numbers ?? []) if (anyCounted(slots)) numbers[name] = bucketsOf(slots, SIZE_BUCKETS);
  const choices: Record<string, Record<string, number>> = {};
  for (const [name, values] of table.choices ?? []) if (values.size > 0) choices[name] = Object.fromEntries(values);
  const dropped = { ...table.dropped };
  if (invalid > 0) dropped.invalid = (dropped.invalid ?? 0) + invalid;
  const taken: Counts = { counts, errors, dropped };
  const { exits } = table;
  return {
    ...taken,
    ...(isEmpty(durations) ? {} : { durations }),
    ...(isEmpty(numbers) ? {} : { numbers }),
    ...(isEmpty(choices) ? {} : { choices }),
    ...(exits === undefined
      ? {}
      : { exits: { normal: exits.normal, nonZero: exits.nonZero, signal: exits.signal, duration: bucketsOf(exits.duration, DURATION_BUCKETS) } }),
  };
}

/** Buckets summed by name: the histograms of cells that share a name. */
function addBuckets(into: Record<string, number> | undefined, more: Record<string, number>): Record<string, number> {
  if (into === undefined) return more;
  for (const [bucket, n] of Object.entries(more)) into[bucket] = (into[bucket] ?? 0) + n;
  return into;
}

function isEmpty(values: object): boolean {
  for (const _ in values) return false;
  return true;
}

/** Zeroes every count and loss and starts a new period at `now`. */
export function reset(table: CounterTable, now: number): void {
  for (const cell of table.cells) {
    cell.calls = 0;
    cell.errors = 0;
    if (cell.durations !== undefined) cell.durations.fill(0);
  }
  for (const reason of DROP_REASONS) delete table.dropped[reason];
  // Names stay (the cap counts names over the whole run, as for count()); their counts start again.
  for (const slots of table.numbers?.values() ?? []) slots.fill(0);
  for (const values of table.choices?.values() ?? []) values.clear();
  delete table.exits;
  table.periodStart = now;
}

/** Takes the counts since the last delta and resets them, so each report carries its own period. */
export function takeDelta(table: CounterTable, now: number): Delta {
  // A delta of counts is a use of the library in this run (losses read from disk, or a run's end, are not).
  if (holdsCounts(table)) table.reportedThisRun = true;
  const taken = snapshot(table);
  const start = table.periodStart;
  reset(table, now);
  return { ...taken, start, end: now };
}
