/** Own properties a function has by itself, which are neither its statics nor copied to a wrapper. */
export const FUNCTION_OWN: ReadonlySet<string | symbol> = new Set<string | symbol>(['length', 'name', 'prototype', 'caller', 'arguments']);

/** A class, as opposed to a function: only `class` syntax makes one. */
export function isClass(fn: Function): boolean {
  try {
    return /^class\b/.test(Function.prototype.toString.call(fn));
  } catch {
    return false;
  }
}

/**
 * An ES5 constructor: a function (not a class, not a generator) whose `prototype` holds methods or
 * accessors of its own besides `constructor`, or inherits from another constructor's prototype
 * (`util.inherits`, `Object.create(Base.prototype)`). A function whose prototype is still the plain
 * object it was born with is an ordinary function, whatever it may be called with.
 */
export function isConstructorFunction(fn: Function): boolean {
  if (isClass(fn) || isGenerator(fn)) return false;
  const prototype = ownPrototype(fn);
  if (prototype === undefined) return false;
  const parent = Object.getPrototypeOf(prototype) as object | null;
  // Every realm's Object.prototype has no prototype: anything deeper is another constructor's.
  if (parent !== null && Object.getPrototypeOf(parent) !== null) return true;
  for (const key of Reflect.ownKeys(prototype)) {
    if (key === 'constructor') continue;
    const descriptor = Reflect.getOwnPropertyDescriptor(prototype, key);
    if (descriptor !== undefined && (typeof descriptor.value === 'function' || descriptor.get !== undefined || descriptor.set !== undefined)) return true;
  }
  return false;
}

/**
 * Whether `fn` can be called with `new`: a plain `function`, a class, a bound constructor. Arrow
 * functions, methods, async functions and generators cannot. Asked of the engine without touching
 * `fn`: a Proxy is constructible exactly when its target is, and constructing one runs its own trap
 * alone, so nothing of `fn` is read, not even its `prototype` (were `fn` a Proxy, its traps would not run).
 */
export function constructible(fn: Function): boolean {
  try {
    new (new Proxy(fn, CONSTRUCT_NOTHING) as new () => object)();
    return true;
  } catch {
    return false;
  }
}

const CONSTRUCT_NOTHING: ProxyHandler<Function> = { construct: () => ({}) };

function isGenerator(fn: Function): boolean {
  // The tag comes from the generator function's own prototype chain, so it holds across realms.
  const tag = Object.prototype.toString.call(fn);
  return tag === '[object GeneratorFunction]' || tag === '[object AsyncGeneratorFunction]';
}

function ownPrototype(fn: Function): object | undefined {
  const value = Reflect.getOwnPropertyDescriptor(fn, 'prototype')?.value as unknown;
  return typeof value === 'object' && value !== null ? value : undefined;
}
