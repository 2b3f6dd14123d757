import { type Cell, type CounterTable, createCounterTable, type Dropped } from './counter-table.js';

/**
 * State that every copy of tallyho in a process shares: the ESM and CommonJS builds of one version,
 * or two versions pulled in by two libraries. The key carries the shape's version; a copy whose shape
 * differs must use a new key rather than change this one, so that fields are only ever added.
 */
export interface SharedState {
  /** Counter tables by project name: two copies creating the same project count into one table. */
  readonly tables: Map<string, CounterTable>;
  /** Every wrapper any copy made, with its counter, so that no call is counted twice by stacked decorators. */
  readonly wrappers: WeakMap<Function, WrapperInfo>;
  /** Set by `tallyho/testing`: telemetry created while it is present is on and reports to memory. */
  testKit?: TestKitHook;
}

/**
 * What a wrapper counts into. A class decorator names the cells of members it finds already counted,
 * unless `track({ name })` gave them a fixed name.
 */
export interface WrapperInfo {
  readonly cell: Cell;
}

/** What the testing kit lends to `createTelemetry`. */
export interface TestKitHook {
  /** Receives every report that a telemetry built under the kit sends. */
  readonly receive: (report: unknown) => void;
  /**
   * Where a telemetry built under the kit registers the losses it holds for its next report (losses
   * found in delivery live with the reporter, not in the table): the kit shows them and forgets them.
   * Absent in the kit of an older copy of tallyho.
   */
  readonly lossHolders?: Set<LossHolder>;
}

/** A telemetry's losses found in delivery, which its next report carries. */
export interface LossHolder {
  readonly project: string;
  losses(): Dropped;
  forget(): void;
}

// v2: cells carry an owner resolved at snapshot time instead of a name fixed up in place.
const KEY = Symbol.for('tallyho.shared.v2');

/** The process-wide shared state, created by whichever copy of tallyho loads first. */
export function sharedState(): SharedState {
  const holder = globalThis as { [KEY]?: SharedState };
  let state = holder[KEY];
  if (state === undefined) {
    state = { tables: new Map(), wrappers: new WeakMap() };
    // Non-enumerable so that it never shows in a dump of globalThis.
    Object.defineProperty(holder, KEY, { value: state, configurable: true, writable: false });
  }
  return state;
}

/** The project's counter table, shared with any other copy of tallyho in the process. */
export function tableFor(project: string, now: number): CounterTable {
  const { tables } = sharedState();
  let table = tables.get(project);
  if (table === undefined) {
    table = createCounterTable(now);
    tables.set(project, table);
  }
  return table;
}
