import { allocateCell, type Cell, type CellOwner, classPart, type CounterTable, explicitName, memberPart } from '../registry/counter-table.js';
import type { WrapperInfo } from '../registry/shared-state.js';
import { constructible, FUNCTION_OWN, isClass, isConstructorFunction } from './function-kind.js';
import { copyMetadata } from './metadata.js';
import { constructibleWrapper, methodWrapper } from './wrappers.js';
import { errorText } from '../config/error-text.js';

/** Options of `telemetry.track()`. */
export interface TrackOptions {
  /**
   * Overrides the name taken from the code, for minified bundles. On a method it is the whole counter
   * name (`'Client#query'`); on a class it replaces the class part of every name (`new Client`,
   * `Client#query`, `Client.create`).
   */
  name?: string;
  /**
   * On a class: `false` leaves the class binding untouched and counts its methods only, not `new`.
   * Use it where a stand-in class cannot work, such as static `#private` members reached through
   * `this` under some transpilers. Default `true`.
   */
  construct?: boolean;
  /**
   * Also count how long each call takes, in fixed log-scaled buckets (the report's `durations`; never
   * a duration itself). Costs two clock reads a call. An async method is timed until its promise
   * settles, so its caller gets a new promise of the same outcome rather than the very promise the
   * method returned: the one change to a return value tallyho makes, and only when asked. A generator
   * is timed until it is created; construction (`new`) is counted, not timed. Default `false`.
   */
  time?: boolean;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- decorator signatures must accept any class or method */
/**
 * The decorator that `telemetry.track()` returns. One function serves both decorator standards: TC39
 * decorators (the TypeScript 5+ default) and legacy `experimentalDecorators`, told apart by their
 * arguments. It decorates classes, methods, getters and setters.
 */
export interface TrackDecorator {
  /** TC39 class decorator. */
  <C extends abstract new (...args: any) => any>(value: C, context: ClassDecoratorContext<C>): C | void;
  /**
   * TC39 method decorator.
   *
   * @typeParam F - The method's own type: the counting wrapper keeps its signature.
   */
  <F extends (this: any, ...args: any) => any>(value: F, context: ClassMethodDecoratorContext<any, F>): F | void;
  /** TC39 getter decorator. */
  <V>(value: (this: any) => V, context: ClassGetterDecoratorContext<any, V>): ((this: any) => V) | void;
  /** TC39 setter decorator. */
  <V>(value: (this: any, v: V) => void, context: ClassSetterDecoratorContext<any, V>): ((this: any, v: V) => void) | void;
  /** Legacy class decorator. */
  <C extends Function>(target: C): C | void;
  /** Legacy method or accessor decorator. */
  <T>(target: object, key: string | symbol, descriptor: TypedPropertyDescriptor<T>): TypedPropertyDescriptor<T> | void;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/** Where decorators count: the project's table and the process-wide wrapper registry. */
export interface TrackSink {
  readonly table: CounterTable;
  readonly wrappers: WeakMap<Function, WrapperInfo>;
  /** Reports a decorator that was put where it cannot count (a field, say): under debug only. */
  readonly warn: (message: string) => void;
}

/** The decorator of a telemetry that is off: it returns nothing, so every original stays untouched. */
const inert: TrackDecorator = (() => undefined) as TrackDecorator;

/** Builds `track(options)` for one project; with no sink (telemetry off) every decorator is inert. */
export function createTrack(sink: TrackSink | undefined): (options?: TrackOptions) => TrackDecorator {
  if (sink === undefined) return () => inert;
  return (options = {}) =>
    function track(value: unknown, context?: unknown, descriptor?: PropertyDescriptor): unknown {
      try {
        if (typeof context === 'object' && context !== null && typeof (context as { kind?: unknown }).kind === 'string') {
          return decorateStandard(sink, options, value, context as DecoratorContext);
        }
        return decorateLegacy(sink, options, value, context as string | symbol | undefined, descriptor);
      } catch (error) {
        // Decorating must never break the host's class definition: keep the original.
        sink.warn(`track() could not decorate: ${errorText(error)}`);
        return undefined;
      }
    } as TrackDecorator;
}

function decorateStandard(sink: TrackSink, options: TrackOptions, value: unknown, context: DecoratorContext): unknown {
  switch (context.kind) {
    case 'class':
      return decorateClass(sink, options, value as Function, String(context.name ?? (value as Function).name));
    case 'method':
    case 'getter':
    case 'setter': {
      const owner: CellOwner = options.name !== undefined ? explicitName(options.name) : { member: memberName(context.static, context.kind, context.name), className: undefined };
      const wrapper = wrap(sink, value as Function, allocateCell(sink.table, owner, options.time === true));
      if (typeof owner !== 'string') {
        // A TC39 member decorator is not told its class. Learn it once, from the object that owns the
        // wrapper: static initializers run with the class, instance ones with each new instance. Until
        // then (a call through the prototype before any instance exists), the counter's name has the
        // registry's fallback for its class part.
        context.addInitializer(function (this: unknown) {
          if (owner.className !== undefined) return;
          const cls = context.static ? (this as Function) : ownerClass(this, wrapper, context);
          if (cls !== undefined) {
            owner.className = className(cls);
            refreshShape(context.static ? cls : (cls.prototype as object));
          }
        });
      }
      return wrapper;
    }
    default:
      sink.warn(`track() counts classes, methods, getters and setters; the ${context.kind} ${String(context.name)} is left as it is`);
      return undefined;
  }
}

function decorateLegacy(
  sink: TrackSink,
  options: TrackOptions,
  target: unknown,
  key: string | symbol | undefined,
  descriptor: PropertyDescriptor | undefined,
): unknown {
  // A parameter decorator is called with an index where a descriptor would be: it must not be taken
  // for a class decorator, whose member wrapping would change the class in place.
  if (key === undefined && descriptor === undefined && typeof target === 'function') {
    return decorateClass(sink, options, target, target.name);
  }
  if (typeof descriptor !== 'object' || descriptor === null || key === undefined) {
    const what = typeof descriptor === 'number' ? 'parameter' : 'property';
    sink.warn(`track() counts classes, methods, getters and setters; the ${what} ${String(key)} is left as it is`);
    return undefined;
  }
  const isStatic = typeof target === 'function';
  const declaring = className(isStatic ? (target as Function) : (target as object).constructor);
  const result: PropertyDescriptor = { ...descriptor };
  for (const part of ['value', 'get', 'set'] as const) {
    const fn = descriptor[part] as unknown;
    if (typeof fn !== 'function' || sink.wrappers.has(fn)) continue;
    const kind = part === 'value' ? 'method' : part === 'get' ? 'getter' : 'setter';
    const owner: CellOwner = options.name !== undefined ? explicitName(options.name) : { member: memberName(isStatic, kind, key), className: declaring };
    result[part] = wrap(sink, fn, allocateCell(sink.table, owner, options.time === true));
  }
  // The decorator runtime installs the wrapper after this returns.
  queueMicrotask(() => refreshShape(target as object));
  return result;
}

/**
 * Counts calls of every method declared in the class (instance and static) and, unless
 * `construct: false`, direct instantiation through a stand-in.
 *
 * With `es5`, `cls` is an ES5 constructor (see function-kind.ts), counted the same way with what
 * differs in ES5: its methods are assigned, so enumerable; a constructor hung on it or on its
 * prototype is not one of its methods; and a call without `new` is counted as `new`.
 */
export function decorateClass(sink: TrackSink, options: TrackOptions, cls: Function, codeName: string, es5 = false): Function | undefined {
  const name = classPart(options.name ?? codeName);
  const timed = options.time === true;
  const members: Members = { isStatic: false, es5, prototype: cls.prototype as object };
  wrapMembers(sink, cls.prototype as object, name, members, timed);
  wrapMembers(sink, cls, name, { ...members, isStatic: true }, timed);
  refreshShape(cls.prototype as object);
  refreshShape(cls);
  if (options.construct === false) return undefined;
  return standIn(sink, cls, allocateCell(sink.table, `new ${name}`), es5);
}

/** Which members of a class `wrapMembers` is looking at. */
interface Members {
  readonly isStatic: boolean;
  /** The class is an ES5 constructor. */
  readonly es5: boolean;
  /** The class's prototype, that of its instances. */
  readonly prototype: object;
}

function wrapMembers(sink: TrackSink, holder: object, classPart: string, members: Members, timed: boolean): void {
  const { isStatic, es5 } = members;
  for (const key of Reflect.ownKeys(holder)) {
    if (isStatic ? FUNCTION_OWN.has(key) : key === 'constructor') continue;
    const descriptor = Reflect.getOwnPropertyDescriptor(holder, key);
    // A class's methods are non-enumerable; an enumerable function is a field that happens to hold
    // one. ES5 has no fields, and its methods are assigned: enumerable.
    if (descriptor === undefined || (descriptor.enumerable && !es5) || typeof descriptor.value !== 'function') continue;
    const fn = descriptor.value as Function;
    const known = sink.wrappers.get(fn);
    if (known !== undefined) {
      // Already counted by a method decorator: name it (unless `track({ name })` did), never wrap it twice.
      if (typeof known.cell.owner !== 'string') known.cell.owner.className = classPart;
      continue;
    }
    if (es5 && isHungConstructor(fn, members.prototype)) continue;
    const cell = allocateCell(sink.table, { member: memberName(isStatic, 'method', key), className: classPart }, timed);
    Reflect.defineProperty(holder, key, { ...descriptor, value: es5 ? wrapFunction(sink, fn, cell) : wrap(sink, fn, cell) });
  }
}

/**
 * A constructor hung on an ES5 constructor or its prototype, which is not one of its methods: a class
 * or constructor of its own (`Client.Error`, `Client.prototype.Promise`), or the constructor itself or
 * one it inherits from (`Client.default = Client`, `util.inherits`'s `super_`). Wrapped as a method,
 * it would lose its statics and its prototype's `constructor`.
 */
function isHungConstructor(fn: Function, prototype: object): boolean {
  if (isClass(fn) || isConstructorFunction(fn)) return true;
  const own = Reflect.getOwnPropertyDescriptor(fn, 'prototype')?.value as unknown;
  return typeof own === 'object' && own !== null && (own === prototype || Object.prototype.isPrototypeOf.call(own, prototype));
}

/**
 * The counting wrapper of a method (timed if its cell is): it is a method, so like the original it
 * cannot be called with `new`; it keeps the original's name, length and reflect-metadata.
 */
function wrap(sink: TrackSink, fn: Function, cell: Cell): Function {
  const wrapper = methodWrapper(fn, cell);
  Object.defineProperty(wrapper, 'name', { value: fn.name, configurable: true });
  Object.defineProperty(wrapper, 'length', { value: fn.length, configurable: true });
  copyMetadata(fn, wrapper);
  sink.wrappers.set(wrapper, { cell });
  return wrapper;
}

/**
 * The counting wrapper of a function that is not a class method: a plain `function` (which stays
 * usable with `new`), an arrow function, a bound function. It keeps the original's name, length,
 * reflect-metadata and the properties hung on it (`parse.defaults`).
 */
export function wrapFunction(sink: TrackSink, fn: Function, cell: Cell): Function {
  const wrapper = constructible(fn) ? constructibleWrapper(fn, cell) : methodWrapper(fn, cell);
  Object.defineProperty(wrapper, 'name', { value: fn.name, configurable: true });
  Object.defineProperty(wrapper, 'length', { value: fn.length, configurable: true });
  for (const key of Reflect.ownKeys(fn)) {
    if (FUNCTION_OWN.has(key)) continue;
    const descriptor = Reflect.getOwnPropertyDescriptor(fn, key);
    if (descriptor !== undefined) Reflect.defineProperty(wrapper, key, descriptor);
  }
  copyMetadata(fn, wrapper);
  sink.wrappers.set(wrapper, { cell });
  return wrapper;
}

/**
 * The class binding's stand-in: a Proxy of the same class with a `construct` trap, so `name`,
 * statics, `instanceof`, `prototype` and subclassing behave as on the original. It counts direct
 * instantiation only: a subclass's `super()` reaches it with another `newTarget`.
 *
 * An ES5 constructor's stand-in (`callable`) also counts a call without `new`, which such a
 * constructor usually answers by constructing (`if (!(this instanceof Client)) return new Client()`),
 * except on an object that already inherits from its prototype: that is a subclass constructor's
 * `Client.call(this)`, ES5's `super()`.
 */
function standIn(sink: TrackSink, cls: Function, cell: Cell, callable: boolean): Function {
  // new.target must stay the stand-in wherever a constructor can see it (`new.target === Client`
  // guards, registries keyed by it). Elsewhere the class itself is passed instead, because V8
  // constructs through a Proxy new.target on a slow path (the bench's construction rows, `c-stand-in`
  // against `new-on`, measure it); the instance is the same either way, since the stand-in's
  // prototype is the class's.
  const keepNewTarget = seesNewTarget(sink, cls);
  const handler: ProxyHandler<Function> = {
    construct(target, args, newTarget) {
      if (newTarget !== stand) return Reflect.construct(target, args, newTarget) as object;
      cell.calls++;
      try {
        return (keepNewTarget ? Reflect.construct(target, args, stand) : Reflect.construct(target, args)) as object;
      } catch (error) {
        cell.errors++;
        throw error;
      }
    },
  };
  if (callable) {
    handler.apply = (target, self: unknown, args) => {
      if (inheritsFrom(self, target.prototype)) return Reflect.apply(target, self, args) as unknown;
      cell.calls++;
      try {
        return Reflect.apply(target, self, args) as unknown;
      } catch (error) {
        cell.errors++;
        throw error;
      }
    };
  }
  const stand: Function = new Proxy(cls, handler);
  standInsSeeingNewTarget.set(stand, keepNewTarget);
  const proto = cls.prototype as object | undefined;
  const constructor = proto && Reflect.getOwnPropertyDescriptor(proto, 'constructor');
  if (proto && constructor?.value === cls) Reflect.defineProperty(proto, 'constructor', { ...constructor, value: stand });
  copyMetadata(cls, stand);
  for (const key of Reflect.ownKeys(cls)) copyMetadata(cls, stand, key);
  sink.wrappers.set(stand, { cell });
  return stand;
}

function inheritsFrom(value: unknown, prototype: unknown): boolean {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;
  return typeof prototype === 'object' && prototype !== null && Object.prototype.isPrototypeOf.call(prototype, value);
}

/** Whether each stand-in made here constructs with itself as new.target. */
const standInsSeeingNewTarget = new WeakMap<Function, boolean>();

const NEW_TARGET = /\bnew\s*\.\s*target\b/;

/**
 * Whether a constructor that runs for `cls`, its own or an ancestor's, may read new.target: only code
 * written inside a constructor can, so its source tells. A built-in's source is hidden, but it only
 * reads new.target for the prototype. A stand-in's source is hidden too: one made by another copy of
 * tallyho is assumed to read it.
 */
function seesNewTarget(sink: TrackSink, cls: Function): boolean {
  for (let c: unknown = cls; typeof c === 'function' && c !== Function.prototype; c = Object.getPrototypeOf(c)) {
    const known = standInsSeeingNewTarget.get(c);
    if (known !== undefined) return known;
    if (sink.wrappers.has(c)) return true;
    try {
      if (NEW_TARGET.test(Function.prototype.toString.call(c))) return true;
    } catch {
      return true;
    }
  }
  return false;
}

/**
 * Puts an object whose methods were just replaced back into V8's fast shape for prototypes, by using it
 * as one: after a redefinition V8 no longer treats the method as a constant, and every call pays for
 * it (the bench's variant rows `v-forward` and `v-forward-refreshed` measure the difference).
 * Elsewhere a no-op.
 */
function refreshShape(holder: object): void {
  try {
    function Shape(): void {}
    Shape.prototype = holder;
    new (Shape as unknown as new () => object)();
  } catch {
    // A frozen or exotic holder keeps the shape it has.
  }
}

/** The class part of a counter name: the class's own name fitted to the name rule, or `anonymous`. */
function className(cls: Function): string {
  return classPart(cls.name);
}

function memberName(isStatic: boolean, kind: 'method' | 'getter' | 'setter', key: string | symbol): string {
  const name = typeof key === 'symbol' ? `[${key.description ?? ''}]` : key;
  const prefix = kind === 'getter' ? 'get ' : kind === 'setter' ? 'set ' : '';
  return memberPart(`${isStatic ? '.' : '#'}${prefix}${name}`);
}

/** The class whose prototype holds `wrapper`: the declaring class, even when `self` is a subclass's instance. */
function ownerClass(self: unknown, wrapper: Function, context: DecoratorContext): Function | undefined {
  if (context.kind === 'class' || context.kind === 'field' || context.kind === 'accessor') return undefined;
  let proto = self === null || self === undefined ? null : (Object.getPrototypeOf(self) as object | null);
  while (proto !== null) {
    const descriptor = Object.getOwnPropertyDescriptor(proto, context.name);
    if (descriptor && (descriptor.value === wrapper || descriptor.get === wrapper || descriptor.set === wrapper)) {
      return (proto as { constructor: Function }).constructor;
    }
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  if (!context.private) return undefined;
  // A #private method lives on no prototype, and the first instance may be a subclass's. Each class
  // owns its own decorator metadata object, when the compiler provides one (esbuild always does, tsc
  // where Symbol.metadata exists): it tells the declaring class apart. Without it, the instance's own
  // class is the best that can be known.
  const metadata = (context as { metadata?: unknown }).metadata;
  if (typeof metadata === 'object' && metadata !== null) {
    for (let p = Object.getPrototypeOf(self) as object | null; p !== null; p = Object.getPrototypeOf(p) as object | null) {
      const cls = Object.getOwnPropertyDescriptor(p, 'constructor')?.value as unknown;
      if (typeof cls === 'function' && ownsMetadata(cls, metadata)) return cls;
    }
  }
  return (self as { constructor: Function }).constructor;
}

function ownsMetadata(cls: Function, metadata: object): boolean {
  for (const key of Object.getOwnPropertySymbols(cls)) {
    if (Object.getOwnPropertyDescriptor(cls, key)?.value === metadata) return true;
  }
  return false;
}
