/**
 * Built-ins: functions that belong to the runtime, not to the program that hands them to
 * `instrument()`. Their prototypes are shared by everything in the process, tallyho included, so
 * they must never be changed in place: a built-in is counted as a plain function.
 *
 * A built-in is told by identity, never by shape: a program's class that extends `EventEmitter`
 * (or `util.inherits` from it) is the program's, and is counted as a class.
 */

/**
 * Whether one of the runtime's modules exports `fn` (Node's `node:events` exports `EventEmitter`):
 * given by the Node entry, absent on the web, where the runtime has no modules of its own.
 */
export type ModuleExportCheck = (fn: Function) => boolean;

/**
 * Whether `fn` is a built-in, or wears a built-in's prototype as its own (`Alias.prototype =
 * EventEmitter.prototype`), which changing it as a class would change for the whole process.
 */
export function isBuiltin(fn: Function, exportedByModule: ModuleExportCheck | undefined): boolean {
  if (isBuiltinFunction(fn, exportedByModule)) return true;
  const prototype = ownValue(fn, 'prototype');
  if (typeof prototype !== 'object' || prototype === null) return false;
  const constructor = ownValue(prototype, 'constructor');
  return typeof constructor === 'function' && constructor !== fn && isBuiltinFunction(constructor, exportedByModule);
}

function isBuiltinFunction(fn: Function, exportedByModule: ModuleExportCheck | undefined): boolean {
  return isNative(fn) || isGlobalConstructor(fn) || exportedByModule?.(fn) === true;
}

/** The engine's own functions (`Promise`, `Map`, Bun's `Buffer`): their source is hidden. */
function isNative(fn: Function): boolean {
  try {
    // `function Map() { [native code] }`: the end alone is read, as a class's source may be long.
    return Function.prototype.toString.call(fn).slice(-32).includes('[native code]');
  } catch {
    return true;
  }
}

/**
 * A constructor the runtime puts on the global object (Node's `URL`, `EventTarget`, `AbortController`,
 * a browser's interfaces): a non-enumerable property under its own name. A program's global (a UMD
 * bundle's `window.Chart = Chart`, a script's top-level `function`) is enumerable. On Node a getter
 * is never run: Node's lazy globals load their modules when first read (`Response` loads the fetch
 * implementation), and become data properties once read, which is how a program can hold one. Deno
 * and Bun keep some globals as getters for good (Deno's `Headers`, `Request`, `Response`,
 * `TextDecoder`, `ReadableStream`): there the getter is how the program got the class, and is read.
 */
function isGlobalConstructor(fn: Function): boolean {
  const name = ownValue(fn, 'name');
  if (typeof name !== 'string' || name === '') return false;
  let descriptor: PropertyDescriptor | undefined;
  try {
    descriptor = Reflect.getOwnPropertyDescriptor(globalThis, name);
  } catch {
    return false;
  }
  if (descriptor === undefined || descriptor.enumerable === true) return false;
  if ('value' in descriptor) return descriptor.value === fn;
  if (typeof descriptor.get !== 'function' || !gettersStay()) return false;
  try {
    return Reflect.apply(descriptor.get, globalThis, []) === fn;
  } catch {
    return false;
  }
}

/** Whether the runtime keeps lazy globals as getters (Deno, Bun), rather than Node's read-once ones. */
function gettersStay(): boolean {
  const runtime = globalThis as { Deno?: unknown; Bun?: unknown };
  return runtime.Deno !== undefined || runtime.Bun !== undefined;
}

/** An own data property's value; a getter is not run. */
function ownValue(holder: object, key: string): unknown {
  try {
    return Reflect.getOwnPropertyDescriptor(holder, key)?.value;
  } catch {
    return undefined;
  }
}
