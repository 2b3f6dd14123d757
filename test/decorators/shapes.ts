/*
 * The decorated classes that every compilation of the decorator suite runs against. The same text is
 * compiled four ways (esbuild and tsc, each with TC39 and with legacy decorators), so it must stay valid
 * under both standards: no decorated #private members (see private-shapes.ts), no decorators on both
 * halves of an accessor pair.
 */
import type { TrackDecorator, TrackOptions } from '../../src/decorators/track.js';

/** The part of a telemetry that the shapes use. */
export interface Tracker {
  track(options?: TrackOptions): TrackDecorator;
}

/** Decorators that work under both standards; typed loosely because no one signature fits both. */
export type AnyDecorator = (...args: any[]) => any;

/** Decorators that store reflect-metadata, supplied by the suite that loaded reflect-metadata. */
export interface MetadataDecorators {
  /** Stores `value` on the method function itself, as NestJS `SetMetadata` does. */
  onMethod(key: string, value: unknown): AnyDecorator;
  /** Stores `value` on the class. */
  onClass(key: string, value: unknown): AnyDecorator;
}

/** Which decorator standard the compiler applied. */
export type DecoratorMode = 'tc39' | 'legacy';

/** The second argument tells the standards apart: TC39 passes a context object with a string `kind`. */
function isStandard(context: unknown): boolean {
  return typeof context === 'object' && context !== null && typeof (context as { kind?: unknown }).kind === 'string';
}

/** Defines fresh decorated classes that count into `telemetry`. */
export function defineShapes(telemetry: Tracker, meta: MetadataDecorators) {
  const track = (options?: TrackOptions): TrackDecorator => telemetry.track(options);
  let mode: DecoratorMode | undefined;
  /** What decorators below `@track()` received: the originals, before tracking replaced anything. */
  const originals = new Map<string, unknown>();

  const detect: AnyDecorator = (_value: unknown, context: unknown) => {
    mode = isStandard(context) ? 'tc39' : 'legacy';
  };
  const keep =
    (label: string): AnyDecorator =>
    (value: unknown, context?: unknown, descriptor?: PropertyDescriptor) => {
      const original = descriptor === undefined ? value : (descriptor.value ?? descriptor.get ?? descriptor.set);
      originals.set(label, original);
      if (context === undefined || (isStandard(context) && (context as { kind: string }).kind === 'class')) {
        const cls = original as Function;
        for (const [holder, separator] of [[cls.prototype as object, '#'], [cls, '.']] as const) {
          for (const key of Object.getOwnPropertyNames(holder)) {
            const member = Object.getOwnPropertyDescriptor(holder, key);
            if (typeof member?.value === 'function') originals.set(`${label}${separator}${key}`, member.value);
          }
        }
      }
    };

  @detect
  class Probe {}

  /** Objects the shapes hand out, so that tests can check identity. */
  const seen = { error: new Error('secret-detail-from-argument'), promise: undefined as Promise<number> | undefined };

  @track()
  @keep('Tracked')
  class Tracked {
    static kind = 'tracked';
    static helper = (): string => 'static field';
    handler = (): string => 'instance field';
    constructor(public start = 0) {}
    add(a: number, b: number): number {
      return this.start + a + b;
    }
    self(): this {
      return this;
    }
    fail(): never {
      throw seen.error;
    }
    *gen(n: number): Generator<number> {
      for (let i = 0; i < n; i++) yield i + this.start;
    }
    promised(): Promise<number> {
      seen.promise = Promise.resolve(this.start);
      return seen.promise;
    }
    async later(): Promise<number> {
      await Promise.resolve();
      return this.start;
    }
    async rejects(): Promise<never> {
      throw seen.error;
    }
    get value(): number {
      return this.start;
    }
    set value(v: number) {
      this.start = v;
    }
    static twice(n: number): number {
      return n * 2;
    }
    static where(): unknown {
      return this;
    }
  }

  class MethodOnly {
    constructor(public start = 0) {}
    @track()
    @keep('MethodOnly#add')
    add(a: number, b: number): number {
      return this.start + a + b;
    }
    @track()
    self(): this {
      return this;
    }
    @track()
    fail(): never {
      throw seen.error;
    }
    @track()
    *gen(n: number): Generator<number> {
      for (let i = 0; i < n; i++) yield i + this.start;
    }
    @track()
    promised(): Promise<number> {
      seen.promise = Promise.resolve(this.start);
      return seen.promise;
    }
    @track()
    async later(): Promise<number> {
      await Promise.resolve();
      return this.start;
    }
    @track()
    async rejects(): Promise<never> {
      throw seen.error;
    }
    @track()
    @keep('MethodOnly#get reading')
    get reading(): number {
      return this.start;
    }
    @track()
    set writing(v: number) {
      this.start = v;
    }
    untracked(): number {
      return this.start;
    }
    @track()
    @keep('MethodOnly.twice')
    static twice(n: number): number {
      return n * 2;
    }
    static untrackedStatic(): number {
      return 0;
    }
  }

  /** A class decorator must not count accessors: only methods. */
  @track()
  class WithAccessors {
    stored = 0;
    get v(): number {
      return this.stored;
    }
    set v(next: number) {
      this.stored = next;
    }
    @track()
    get counted(): number {
      return this.stored;
    }
  }

  /** track() put on a field, which it cannot count: the field must be left as it is. */
  class FieldHolder {
    @(track() as AnyDecorator)
    handler = (): string => 'field';
  }

  class PlainBase {
    inherited(): string {
      return 'plain base';
    }
  }

  @track()
  class TrackedChild extends PlainBase {
    own(): string {
      return 'child';
    }
  }

  @track()
  class Base {
    m(): string {
      return 'base';
    }
    shared(): string {
      return 'shared';
    }
    static create(): string {
      return 'created';
    }
  }

  @track()
  class Derived extends Base {
    override m(): string {
      return `derived+${super.m()}`;
    }
  }

  class UntrackedDerived extends Base {}

  @track()
  class Both {
    @track()
    m(): string {
      return 'm';
    }
    @track()
    static s(): string {
      return 's';
    }
  }

  class NamedMethod {
    @track({ name: 'custom.method' })
    m(): string {
      return 'm';
    }
  }

  @track({ name: 'Renamed' })
  class Minified {
    m(): string {
      return 'm';
    }
    static s(): string {
      return 's';
    }
    @track()
    decorated(): string {
      return 'd';
    }
    @track({ name: 'explicit.name' })
    explicit(): string {
      return 'e';
    }
  }

  @track()
  class Widget {
    static label = 'widget';
    constructor(public size = 1) {}
    static build(size: number): Widget {
      return new this(size);
    }
    area(): number {
      return this.size * this.size;
    }
  }

  class Gadget extends Widget {}

  @track()
  class Gizmo extends Widget {}

  @track()
  class Fragile {
    constructor(fail: boolean) {
      if (fail) throw seen.error;
    }
  }

  @track({ construct: false })
  @keep('Unwrapped')
  class Unwrapped {
    m(): string {
      return 'm';
    }
    static s(): string {
      return 's';
    }
  }

  /** Refers to its own name inside its body: esbuild's TC39 lowering binds that to the undecorated class. */
  @track()
  class SelfMaker {
    static make(): SelfMaker {
      return new SelfMaker();
    }
  }

  /** Compares new.target with its own name, as guards of abstract and final classes do. */
  @track()
  class Guarded {
    readonly direct: boolean;
    constructor() {
      this.direct = new.target === Guarded;
    }
  }

  class GuardedKid extends Guarded {}

  /** Keys what it records by new.target, which a decorated subclass must still be. */
  class Registering {
    static readonly made = new Set<Function>();
    constructor() {
      Registering.made.add(new.target);
    }
  }

  @track()
  class Registered extends Registering {}

  class Dependency {}

  @track()
  @meta.onClass('role', 'service')
  class Service {
    constructor(public readonly dependency: Dependency) {}
    @track()
    @meta.onMethod('route', '/items')
    list(): string {
      return 'items';
    }
    @meta.onMethod('route', '/one')
    one(): string {
      return 'one';
    }
    @meta.onMethod('route', '/static')
    static find(): string {
      return 'found';
    }
  }

  class Lazy {
    @track()
    m(): string {
      return 'm';
    }
    @track()
    static s(): string {
      return 's';
    }
  }

  class LazyParent {
    @track()
    m(): string {
      return 'm';
    }
  }

  class LazyKid extends LazyParent {}

  return {
    mode,
    originals,
    seen,
    Probe,
    Tracked,
    MethodOnly,
    WithAccessors,
    FieldHolder,
    PlainBase,
    TrackedChild,
    Base,
    Derived,
    UntrackedDerived,
    Both,
    NamedMethod,
    Minified,
    Widget,
    Gadget,
    Gizmo,
    Fragile,
    Unwrapped,
    SelfMaker,
    Guarded,
    GuardedKid,
    Registering,
    Registered,
    Dependency,
    Service,
    Lazy,
    LazyParent,
    LazyKid,
  };
}

/** The classes {@link defineShapes} returns. */
export type Shapes = ReturnType<typeof defineShapes>;
