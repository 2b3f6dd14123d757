import { allocateCell, type Cell, type CellOwner, classPart, type CounterTable, explicitName, memberPart } from '../registry/counter-table.js';
import type { WrapperInfo } from '../registry/shared-state.js';
import { copyMetadata } from './metadata.js';
import { methodWrapper } from './wrappers.js';
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
 */
export function decorateClass(sink: TrackSink, options: TrackOptions, cls: Function, codeName: string): Function | undefined {
  const name = classPart(options.name ?? codeName);
  const timed = options.time === true;
  wrapMembers(sink, cls.prototype as object, name, false, timed);
  wrapMembers(sink, cls, name, true, timed);
  refreshShape(cls.prototype as object);
  refreshShape(cls);
  if (options.construct === false) return undefined;
  return standIn(sink, cls, allocateCell(sink.table, `new ${name}`));
}

const STATIC_OWN = new Set<string | symbol>(['length', 'name', 'prototype', 'caller', 'arguments']);

function wrapMembers(sink: TrackSink, holder: object, classPart: string, isStatic: boolean, timed: boolean): void {
  for (const key of Reflect.ownKeys(holder)) {
    if (isStatic ? STATIC_OWN.has(key) : key === 'constructor') continue;
    const descriptor = Reflect.getOwnPropertyDescriptor(holder, key);
    // Methods are non-enumerable; an enumerable function is a field that happens to hold one.
    if (descriptor === undefined || descriptor.enumerable || typeof descriptor.value !== 'function') continue;
    const known = sink.wrappers.get(descriptor.value as Function);
    if (known !== undefined) {
      // Already counted by a method decorator: name it (unless `track({ name })` did), never wrap it twice.
      if (typeof known.cell.owner !== 'string') known.cell.owner.className = classPart;
      continue;
    }
    const cell = allocateCell(sink.table, { member: memberName(isStatic, 'method', key), className: classPart }, timed);
    Reflect.defineProperty(holder, key, { ...descriptor, value: wrap(sink, descriptor.value as Function, cell) });
  }
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
 * The class binding's stand-in: a Proxy of the same class with only a `construct` trap, so `name`,
 * statics, `instanceof`, `prototype` and subclassing behave as on the original. It counts direct
 * instantiation only: a subclass's `super()` reaches it with another `newTarget`.
 */
function standIn(sink: TrackSink, cls: Function, cell: Cell): Function {
  // new.target must stay the stand-in wherever a constructor can see it (`new.target === Client`
  // guards, registries keyed by it). Elsewhere the class itself is passed instead, because V8
  // constructs through a Proxy new.target on a slow path (the bench's construction rows, `c-stand-in`
  // against `new-on`, measure it); the instance is the same either way, since the stand-in's
  // prototype is the class's.
  const keepNewTarget = seesNewTarget(sink, cls);
  const stand: Function = new Proxy(cls, {
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
  });
  standInsSeeingNewTarget.set(stand, keepNewTarget);
  const proto = cls.prototype as object | undefined;
  const constructor = proto && Reflect.getOwnPropertyDescriptor(proto, 'constructor');
  if (proto && constructor?.value === cls) Reflect.defineProperty(proto, 'constructor', { ...constructor, value: stand });
  copyMetadata(cls, stand);
  for (const key of Reflect.ownKeys(cls)) copyMetadata(cls, stand, key);
  sink.wrappers.set(stand, { cell });
  return stand;
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
