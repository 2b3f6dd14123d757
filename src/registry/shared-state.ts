import type { Cell, CounterTable } from './counter-table.js';

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

/** What a method wrapper counts into, and how a class decorator may name it. */
export interface WrapperInfo {
  readonly cell: Cell;
  /** The member part of the name (`#query`, `.create`, `#get value`), appended to the class name. */
  readonly member: string;
  /** True when `track({ name })` named it: a class decorator leaves such names alone. */
  readonly explicit: boolean;
}

/** What the testing kit lends to `createTelemetry`. */
export interface TestKitHook {
  /** Receives every report that a telemetry built under the kit sends. */
  readonly receive: (report: unknown) => void;
}

const KEY = Symbol.for('tallyho.shared.v1');

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
