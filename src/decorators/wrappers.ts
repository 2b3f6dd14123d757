import { durationSlot } from '../registry/buckets.js';
import { detectRuntime } from '../runtime/runtime.js';

/** What a wrapper counts into: calls, synchronous throws, and, for a timed one, durations by slot. */
export interface CountingCell {
  calls: number;
  errors: number;
  /** Calls by duration slot (see registry/buckets), present only on the cells of timed wrappers. */
  durations?: number[] | undefined;
}

/**
 * Reads a monotonic clock in milliseconds, twice per timed call. On Node it is `process.hrtime()`:
 * read for its value, it costs about a fifth less than `performance.now()`, which checks its receiver
 * through a wrapper on every read (Node 20), and getting it loads nothing, where reading the
 * `performance` global makes Node load `perf_hooks`. It is taken from `process` once, when this module
 * loads, so fake timers installed later (vitest's fake `process.hrtime` and `performance`) do not
 * reach it: durations stay real time. Elsewhere it is `performance.now()`, looked up on first use.
 */
const clockMs: () => number = nodeClock() ?? performanceClock();

function nodeClock(): (() => number) | undefined {
  if (detectRuntime().name !== 'node') return undefined;
  const hrtime = globalThis.process.hrtime;
  if (typeof hrtime !== 'function') return undefined;
  return () => {
    const t = hrtime();
    return t[0] * 1e3 + t[1] * 1e-6;
  };
}

function performanceClock(): () => number {
  let clock: { now(): number } | undefined;
  return () => {
    clock ??= globalThis.performance;
    return clock.now();
  };
}

/**
 * The counting wrapper of a method, an arrow function, or anything else that cannot be called with
 * `new`: one increment and the call, no lookup, no allocation, no argument access beyond handing
 * `arguments` on. A promise or generator passes through untouched.
 */
export function methodWrapper(fn: Function, cell: CountingCell): Function {
  if (cell.durations !== undefined) return timedMethodWrapper(fn, cell, cell.durations);
  return {
    tracked(this: unknown) {
      cell.calls++;
      try {
        // Reflect.apply, not fn.apply: V8 inlines it into the wrapper (the bench's variant row
        // `v-fn-apply` measures the difference). `arguments` is handed on, never read or copied.
        // eslint-disable-next-line prefer-rest-params
        return Reflect.apply(fn, this, arguments);
      } catch (error) {
        cell.errors++;
        throw error;
      }
    },
  }.tracked;
}

/**
 * The counting wrapper of a function that may be called with `new` (a plain `function`): a call is
 * counted either way, and `new` constructs the original, with the same `new.target` a subclass would
 * pass. Its `prototype` is the original's, so `instanceof` holds for either.
 */
export function constructibleWrapper(fn: Function, cell: CountingCell): Function {
  const slots = cell.durations;
  const wrapper: Function =
    slots === undefined
      ? function tracked(this: unknown): unknown {
          cell.calls++;
          try {
            // eslint-disable-next-line prefer-rest-params
            if (new.target === undefined) return Reflect.apply(fn, this, arguments);
            // eslint-disable-next-line prefer-rest-params
            return Reflect.construct(fn, arguments, new.target === wrapper ? fn : new.target) as unknown;
          } catch (error) {
            cell.errors++;
            throw error;
          }
        }
      : function timed(this: unknown): unknown {
          cell.calls++;
          const start = clockMs();
          let result: unknown;
          try {
            // eslint-disable-next-line prefer-rest-params
            result = new.target === undefined ? Reflect.apply(fn, this, arguments) : Reflect.construct(fn, arguments, new.target === wrapper ? fn : new.target);
          } catch (error) {
            throw failed(error, cell, start);
          }
          return returned(result, slots, start);
        };
  Object.defineProperty(wrapper, 'prototype', { value: fn.prototype as unknown, writable: true });
  return wrapper;
}

/**
 * The timed wrapper of a method: as the counting one, plus two clock reads and one increment of the
 * duration slot. An async call is timed until its promise settles, so the caller gets a promise of
 * the same outcome instead of the very promise the original returned: asked for with `time: true`, it
 * is the one change a wrapper makes to what a call returns. Only a native promise is waited for; any
 * other value, a thenable included, passes through untouched and is timed until the call returns.
 */
function timedMethodWrapper(fn: Function, cell: CountingCell, slots: number[]): Function {
  return {
    timed(this: unknown) {
      cell.calls++;
      const start = clockMs();
      let result: unknown;
      try {
        // eslint-disable-next-line prefer-rest-params
        result = Reflect.apply(fn, this, arguments);
      } catch (error) {
        throw failed(error, cell, start);
      }
      return returned(result, slots, start);
    },
  }.timed;
}

/**
 * What a timed wrapper returns for a call that returned `result`: the result, its duration counted;
 * or, for a native promise, a promise of the same outcome timed until it settles. Both timed wrappers
 * end in it and in `failed`: sharing them costs nothing per call (measured against a copy in each
 * wrapper), and a wrapper is smaller, its catch block only a call. Small matters here: V8 inlines a
 * function into its caller only while the bytecode it brings, its own and what it inlines, fits a
 * budget (in Node 20, 766 bytes for a function already optimized on its own), and the timed method
 * wrapper brings 765, 488 of them `process.hrtime`'s, read twice. Past the budget, the wrapper and its
 * call of the original are calls of their own: about 14 ns more a call with an empty original.
 */
function returned(result: unknown, slots: number[], start: number): unknown {
  if (result instanceof Promise) return settled(result, slots, start);
  slots[durationSlot(clockMs() - start)]!++;
  return result;
}

/**
 * Counts a timed call that threw `error`, and its duration; returns the error, for the wrapper to
 * rethrow. It takes the slots from the cell: one argument less is a few bytes less in each wrapper.
 */
function failed(error: unknown, cell: CountingCell, start: number): unknown {
  cell.errors++;
  cell.durations![durationSlot(clockMs() - start)]!++;
  return error;
}

/**
 * A promise of the same outcome as `promise`, that counts the time until it settled. A rejection is
 * passed on as it is: it stays unhandled unless the caller handles it, and out of the errors, as for
 * an untimed call.
 */
function settled(promise: Promise<unknown>, slots: number[], start: number): Promise<unknown> {
  return promise.then(
    (value) => {
      slots[durationSlot(clockMs() - start)]!++;
      return value;
    },
    (error: unknown) => {
      slots[durationSlot(clockMs() - start)]!++;
      throw error;
    },
  );
}
