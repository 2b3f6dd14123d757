import { errorText } from '../config/error-text.js';
import { allocateCell, explicitName } from '../registry/counter-table.js';
import { isBuiltin, type ModuleExportCheck } from './built-ins.js';
import { isClass, isConstructorFunction } from './function-kind.js';
import { decorateClass, type TrackSink, wrapFunction } from './track.js';

/** Options of `telemetry.instrument()`. */
export interface InstrumentOptions {
  /**
   * Also count how long each call takes, in fixed log-scaled buckets (`durations` in the report). An
   * async function is timed until its promise settles, so its caller gets a new promise of the same
   * outcome rather than the very promise the function returned. Default `false`.
   */
  time?: boolean;
  /**
   * For a single function or class: the name to count it under, instead of its own (for minified
   * bundles). Functions and classes in an object are named by their keys.
   */
  name?: string;
}

/** `telemetry.instrument()`: the counted version of a module namespace, an object, a function or a class. */
export type Instrument = <T>(target: T, options?: InstrumentOptions) => T;

/** The instrument of a telemetry that is off: every target comes back untouched. */
const inert: Instrument = (target) => target;

/**
 * Builds `instrument()` for one project; with no sink (telemetry off) it returns every target as it is.
 * `exportedByModule` tells the functions the runtime's own modules export (Node's), which are
 * built-ins too.
 */
export function createInstrument(sink: TrackSink | undefined, exportedByModule?: ModuleExportCheck): Instrument {
  if (sink === undefined) return inert;
  // What this telemetry made of each original, so that instrumenting twice gives the same result.
  const made = new WeakMap<Function, Function>();

  function counted(fn: Function, name: string, time: boolean): Function {
    // Already counted: a wrapper or a stand-in made by a decorator or by an earlier instrument().
    if (sink!.wrappers.has(fn)) return fn;
    const known = made.get(fn);
    if (known !== undefined) return known;
    const kind = isClass(fn) ? 'class' : isConstructorFunction(fn) ? 'es5' : 'function';
    // A class is changed in place, unless it is a built-in: its prototype is the runtime's, shared
    // by the whole process (tallyho included), so it stays a function. Asked of classes alone, as
    // finding a built-in costs more than telling a class.
    const result =
      kind !== 'function' && !isBuiltin(fn, exportedByModule)
        ? (decorateClass(sink!, { name, time }, fn, name, kind === 'es5') ?? fn)
        : wrapFunction(sink!, fn, allocateCell(sink!.table, explicitName(name), time));
    made.set(fn, result);
    return result;
  }

  return function instrument<T>(target: T, options: InstrumentOptions = {}): T {
    try {
      const time = options.time === true;
      if (typeof target === 'function') return counted(target, options.name ?? functionName(target, undefined), time) as T;
      if (typeof target === 'object' && target !== null) return instrumentObject(target, time, counted) as T;
      sink.warn(`instrument() counts functions, classes and objects of them; a ${target === null ? 'null' : typeof target} is returned as it is`);
      return target;
    } catch (error) {
      // Instrumenting must never break the host's module: keep the original.
      sink.warn(`instrument() could not instrument: ${errorText(error)}`);
      return target;
    }
  };
}

/**
 * A new object with the same properties as `target` (a module namespace, `module.exports`, an object
 * literal), where each function and class is its counted version, named by its key. The target itself
 * is never changed: a namespace cannot be, and a frozen object must not be. Getters (the live bindings
 * that bundlers compile exports to) stay getters: each read instruments what the original getter gives.
 */
function instrumentObject(target: object, time: boolean, counted: (fn: Function, name: string, time: boolean) => Function): object {
  const result = Object.create(Object.getPrototypeOf(target) as object | null) as object;
  for (const key of Reflect.ownKeys(target)) {
    const descriptor = Reflect.getOwnPropertyDescriptor(target, key);
    if (descriptor === undefined) continue;
    const name = typeof key === 'symbol' ? undefined : key;
    if (name !== undefined && 'get' in descriptor && typeof descriptor.get === 'function') {
      const get = descriptor.get;
      let original: unknown;
      let instrumented: unknown;
      const current = (): unknown => {
        const value: unknown = Reflect.apply(get, target, []);
        if (value !== original) {
          original = value;
          instrumented = typeof value === 'function' ? counted(value, functionName(value, name), time) : value;
        }
        return instrumented;
      };
      Reflect.defineProperty(result, key, { ...descriptor, get: current });
      try {
        // Now, not at the first read: a class reached only as another's parent is counted too.
        current();
      } catch {
        // A binding not initialised yet (a module in a cycle): it is instrumented when first read.
      }
    } else if (name !== undefined && 'value' in descriptor && typeof descriptor.value === 'function') {
      Reflect.defineProperty(result, key, { ...descriptor, value: counted(descriptor.value as Function, functionName(descriptor.value as Function, name), time) });
    } else {
      Reflect.defineProperty(result, key, descriptor);
    }
  }
  if (Object.isFrozen(target)) Object.freeze(result);
  else if (Object.isSealed(target)) Object.seal(result);
  else if (!Object.isExtensible(target)) Object.preventExtensions(result);
  return result;
}

/**
 * The name a function is counted under: its key in the object it was exported from (keys survive
 * minification, which renames functions), except `default`, where its own name says more.
 */
function functionName(fn: Function, key: string | undefined): string {
  if (key !== undefined && key !== 'default') return key;
  return fn.name || key || 'anonymous';
}
