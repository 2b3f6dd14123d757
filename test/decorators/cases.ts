/*
 * The assertions of the decorator suite, run once per compilation of the shapes: esbuild and tsc, each
 * with TC39 and with legacy decorators. Every case defines fresh classes counting into a project of its
 * own, so cases never see each other's counts.
 */
import 'reflect-metadata';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTelemetry, type Telemetry } from '../../src/telemetry.js';
import { countsOf, installTestKit, type CountSnapshot, type TestKit } from '../../src/testing.js';
import type { DecoratorMode, defineShapes, MetadataDecorators, Shapes, Tracker } from './shapes.js';

/**
 * What private-shapes.ts defines, spelled out here because that file does not compile under legacy
 * decorators, which the legacy suites type-check this file with.
 */
export type DefinePrivateShapes = (telemetry: Tracker) => {
  Secretive: new () => { reveal(): string };
  SecretiveKid: new () => { reveal(): string };
};

/** One way of compiling the shapes. */
export interface Compilation {
  readonly compiler: 'esbuild' | 'tsc';
  /** The decorator standard the compilation is configured for; the suite checks that it really ran. */
  readonly mode: DecoratorMode;
  readonly defineShapes: typeof defineShapes;
  /** TC39 only: decorated #private members do not exist in legacy decorators. */
  readonly definePrivateShapes?: DefinePrivateShapes;
  /** Whatever the compiler reported while building the shapes, for the compilations done ahead of the run. */
  readonly diagnostics?: string;
}

/**
 * Stores reflect-metadata the way frameworks do, under either standard: a TC39 decorator receives the
 * method itself, a legacy one receives (prototype, key, descriptor).
 */
export const metadataDecorators: MetadataDecorators = {
  onMethod: (key, value) => (target: object, _context: unknown, descriptor?: PropertyDescriptor) => {
    Reflect.defineMetadata(key, value, descriptor === undefined ? target : (descriptor.value as object));
  },
  onClass: (key, value) => (cls: object) => {
    Reflect.defineMetadata(key, value, cls);
  },
};

/** What became of a promise that was expected to reject. */
interface Rejection {
  /** Whether Node reported it as unhandled: no one, tallyho included, attached a handler in time. */
  readonly unhandled: boolean;
  readonly reason: unknown;
}

/**
 * Calls `run` with vitest's own unhandled-rejection reporting held off, lets the current task end (Node
 * reports rejections left without a handler then), and only afterwards handles the rejection itself.
 */
async function rejectionOf(run: () => Promise<unknown>): Promise<Rejection> {
  const saved = process.listeners('unhandledRejection');
  const reported = new Set<Promise<unknown>>();
  const onUnhandled = (_reason: unknown, promise: Promise<unknown>): void => {
    reported.add(promise);
  };
  let promise: Promise<unknown> | undefined;
  let lateHandled = (): void => {};
  const onHandled = (handled: Promise<unknown>): void => {
    if (handled === promise) lateHandled();
  };
  process.removeAllListeners('unhandledRejection');
  process.on('unhandledRejection', onUnhandled);
  // Listening also keeps Node from warning that the rejection was handled late.
  process.on('rejectionHandled', onHandled);
  try {
    promise = run();
    await new Promise((resolve) => setImmediate(resolve));
    const unhandled = reported.has(promise);
    const handledNoticed = new Promise<void>((resolve) => (lateHandled = resolve));
    const reason = await promise.then(
      () => undefined,
      (error: unknown) => error,
    );
    if (unhandled) await handledNoticed;
    return { unhandled, reason };
  } finally {
    process.off('unhandledRejection', onUnhandled);
    process.off('rejectionHandled', onHandled);
    for (const listener of saved) process.on('unhandledRejection', listener);
  }
}

export function runTrackCases(compilation: Compilation): void {
  const { compiler, mode } = compilation;
  // esbuild's TC39 lowering binds a class's own name inside its body to the undecorated class; tsc, and
  // both compilers' legacy lowering, bind it to the decorated one, as the standard says.
  const ownNameCounted = !(compiler === 'esbuild' && mode === 'tc39');

  describe(`track() compiled by ${compiler} with ${mode} decorators`, () => {
    let kit: TestKit;
    let serial = 0;

    beforeEach(() => {
      kit = installTestKit();
    });
    afterEach(() => {
      kit.uninstall();
      vi.unstubAllEnvs();
    });

    interface Fresh {
      readonly project: string;
      readonly telemetry: Telemetry;
      readonly shapes: Shapes;
      readonly snapshot: () => CountSnapshot;
      readonly counts: () => Record<string, number>;
    }

    /** Fresh classes counting into a project of their own. */
    function fresh(): Fresh {
      const project = `decorators-${compiler}-${mode}-${++serial}`;
      const telemetry = createTelemetry({ project, version: '1.0.0' });
      expect(telemetry.status().enabled).toBe(true);
      const shapes = compilation.defineShapes(telemetry, metadataDecorators);
      return { project, telemetry, shapes, snapshot: () => kit.counts(project), counts: () => kit.counts(project).counts };
    }

    it('runs the decorator standard it is configured for', () => {
      expect(fresh().shapes.mode).toBe(mode);
    });

    if (compilation.diagnostics !== undefined) {
      it('compiles the shapes without type errors', () => {
        expect(compilation.diagnostics).toBe('');
      });
    }

    describe('on a class', () => {
      it('counts new and every method declared in the class, instance and static', () => {
        const { shapes, counts } = fresh();
        const { Tracked } = shapes;
        const tracked = new Tracked(1);
        tracked.add(1, 2);
        tracked.add(3, 4);
        tracked.self();
        Tracked.twice(2);
        Tracked.where();
        expect(counts()).toEqual({ 'new Tracked': 1, 'Tracked#add': 2, 'Tracked#self': 1, 'Tracked.twice': 1, 'Tracked.where': 1 });
      });

      it('counts neither accessors nor fields that hold functions', () => {
        const { shapes, counts } = fresh();
        const tracked = new shapes.Tracked(1);
        tracked.value = 5;
        expect(tracked.value).toBe(5);
        expect(tracked.handler()).toBe('instance field');
        expect(shapes.Tracked.helper()).toBe('static field');
        const accessors = new shapes.WithAccessors();
        accessors.v = 3;
        expect(accessors.v).toBe(3);
        expect(accessors.counted).toBe(3);
        expect(counts()).toEqual({ 'new Tracked': 1, 'new WithAccessors': 1, 'WithAccessors#get counted': 1 });
      });

      it("leaves the parent class's methods to the parent's own decorator", () => {
        const { shapes, counts } = fresh();
        const child = new shapes.TrackedChild();
        expect(child.inherited()).toBe('plain base');
        expect(child.own()).toBe('child');
        expect(counts()).toEqual({ 'new TrackedChild': 1, 'TrackedChild#own': 1 });
      });
    });

    describe('on single members', () => {
      it('counts an instance method as Class#m and a static one as Class.s', () => {
        const { shapes, counts } = fresh();
        const { MethodOnly } = shapes;
        const instance = new MethodOnly(1);
        expect(instance.add(1, 2)).toBe(4);
        expect(MethodOnly.twice(3)).toBe(6);
        instance.untracked();
        MethodOnly.untrackedStatic();
        expect(counts()).toEqual({ 'MethodOnly#add': 1, 'MethodOnly.twice': 1 });
      });

      it('counts a getter and a setter decorated one by one', () => {
        const { shapes, counts } = fresh();
        const instance = new shapes.MethodOnly(1);
        expect(instance.reading).toBe(1);
        instance.writing = 7;
        expect(instance.reading).toBe(7);
        expect(counts()).toEqual({ 'MethodOnly#get reading': 2, 'MethodOnly#set writing': 1 });
      });

      it('leaves a field it was put on as it is', () => {
        const { shapes, counts } = fresh();
        const holder = new shapes.FieldHolder();
        expect(Object.getOwnPropertyDescriptor(holder, 'handler')?.enumerable).toBe(true);
        expect(holder.handler()).toBe('field');
        expect(counts()).toEqual({});
      });
    });

    describe.each([
      ['a class decorator', 'Tracked'],
      ['method decorators', 'MethodOnly'],
    ] as const)('methods counted by %s keep their behaviour', (_how, name) => {
      function setup() {
        const made = fresh();
        const Class = made.shapes[name];
        return { ...made, Class, instance: new Class(10) };
      }

      it('return what the original returns, with the same this', () => {
        const { instance } = setup();
        expect(instance.add(1, 2)).toBe(13);
        expect(instance.self()).toBe(instance);
      });

      it('see this as undefined when called unbound', () => {
        const { instance, counts } = setup();
        const unbound = instance.self;
        expect(unbound()).toBeUndefined();
        expect(counts()[`${name}#self`]).toBe(1);
      });

      it('keep name and length, on wrappers that replaced the originals', () => {
        const { Class, shapes } = setup();
        expect(Class.prototype.add).not.toBe(shapes.originals.get(`${name}#add`));
        expect(Class.twice).not.toBe(shapes.originals.get(`${name}.twice`));
        expect([Class.prototype.add.name, Class.prototype.add.length]).toEqual(['add', 2]);
        expect([Class.prototype.gen.name, Class.prototype.gen.length]).toEqual(['gen', 1]);
        expect([Class.twice.name, Class.twice.length]).toEqual(['twice', 1]);
      });

      it('rethrow the very error, counted in errors without its message', async () => {
        const { instance, shapes, snapshot, telemetry } = setup();
        let thrown: unknown;
        try {
          instance.fail();
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toBe(shapes.seen.error);
        expect(snapshot().errors).toEqual({ [`${name}#fail`]: 1 });
        expect(snapshot().counts[`${name}#fail`]).toBe(1);
        await telemetry.flush();
        expect(kit.reports).toHaveLength(1);
        expect(JSON.stringify(kit.reports)).toContain(`${name}#fail`);
        expect(JSON.stringify(kit.reports)).not.toContain(shapes.seen.error.message);
      });

      it('count an async method at the call and resolve as the original', async () => {
        const { instance, counts } = setup();
        const pending = instance.later();
        expect(counts()[`${name}#later`]).toBe(1);
        await expect(pending).resolves.toBe(10);
        expect(counts()[`${name}#later`]).toBe(1);
      });

      it('hand back the very promise the original returned', async () => {
        const { instance, shapes } = setup();
        const returned = instance.promised();
        expect(returned).toBe(shapes.seen.promise);
        await expect(returned).resolves.toBe(10);
      });

      it('leave a rejection unhandled and out of the errors', async () => {
        const { instance, shapes, snapshot } = setup();
        const rejection = await rejectionOf(() => instance.rejects());
        expect(rejection.unhandled).toBe(true);
        expect(rejection.reason).toBe(shapes.seen.error);
        expect(snapshot().errors).toEqual({});
        expect(snapshot().counts[`${name}#rejects`]).toBe(1);
      });

      it('count a generator when it is created, and iterate as the original', () => {
        const { instance, counts } = setup();
        const generator = instance.gen(3);
        expect(counts()[`${name}#gen`]).toBe(1);
        expect([...generator]).toEqual([10, 11, 12]);
        expect(counts()[`${name}#gen`]).toBe(1);
      });
    });

    describe('with inheritance', () => {
      it('counts both an override and the super method it calls', () => {
        const { shapes, counts } = fresh();
        expect(new shapes.Derived().m()).toBe('derived+base');
        expect(counts()).toEqual({ 'new Derived': 1, 'Derived#m': 1, 'Base#m': 1 });
      });

      it('counts an inherited method under the class that declares it', () => {
        const { shapes, counts } = fresh();
        expect(new shapes.Derived().shared()).toBe('shared');
        expect(new shapes.UntrackedDerived().shared()).toBe('shared');
        expect(shapes.Derived.create()).toBe('created');
        expect(counts()).toEqual({ 'new Derived': 1, 'Base#shared': 2, 'Base.create': 1 });
      });
    });

    describe('names', () => {
      it('counts a method once when both the class and the method are decorated', () => {
        const { shapes, counts } = fresh();
        expect(new shapes.Both().m()).toBe('m');
        expect(shapes.Both.s()).toBe('s');
        expect(counts()).toEqual({ 'new Both': 1, 'Both#m': 1, 'Both.s': 1 });
      });

      it('takes track({ name }) on a method as the whole name', () => {
        const { shapes, counts } = fresh();
        new shapes.NamedMethod().m();
        expect(counts()).toEqual({ 'custom.method': 1 });
      });

      it('takes track({ name }) on a class as the class part of every name', () => {
        const { shapes, counts } = fresh();
        const { Minified } = shapes;
        const instance = new Minified();
        instance.m();
        instance.decorated();
        instance.explicit();
        Minified.s();
        expect(Minified.name).toBe('Minified');
        expect(counts()).toEqual({
          'new Renamed': 1,
          'Renamed#m': 1,
          'Renamed.s': 1,
          'Renamed#decorated': 1,
          'explicit.name': 1,
        });
      });

      it('names method-decorated members after their class, even when a subclass calls first', () => {
        const { shapes, counts } = fresh();
        expect(new shapes.LazyKid().m()).toBe('m');
        expect(new shapes.Lazy().m()).toBe('m');
        expect(shapes.Lazy.s()).toBe('s');
        expect(counts()).toEqual({ 'LazyParent#m': 1, 'Lazy#m': 1, 'Lazy.s': 1 });
      });

      it('names a call made through the prototype before any instance by its class once it is known, at report time', () => {
        const { shapes, counts } = fresh();
        const { LazyParent } = shapes;
        expect(LazyParent.prototype.m.call(undefined)).toBe('m');
        // TC39 member decorators learn their class from the first instance; legacy ones are told it.
        expect(counts()).toEqual(mode === 'tc39' ? { '(unknown class)#m': 1 } : { 'LazyParent#m': 1 });
        new LazyParent();
        // The name is resolved when the counts are taken, so the earlier call is not left behind.
        expect(counts()).toEqual({ 'LazyParent#m': 1 });
      });

      it('reports a method called only through its prototype under the documented fallback, never with a ?', async () => {
        const { shapes, telemetry } = fresh();
        shapes.LazyParent.prototype.m.call(undefined);
        await telemetry.flush();
        const names = kit.reports.flatMap((report) => Object.keys(report.counts));
        expect(names).toEqual([mode === 'tc39' ? '(unknown class)#m' : 'LazyParent#m']);
        expect(names.some((name) => name.startsWith('?'))).toBe(false);
      });
    });

    describe('the class stand-in', () => {
      it('counts direct instantiation only, not that of subclasses', () => {
        const { shapes, counts } = fresh();
        const { Widget, Gadget, Gizmo } = shapes;
        new Widget(2);
        Widget.build(3);
        new Gadget();
        Gadget.build(1);
        new Gizmo();
        expect(counts()).toEqual({ 'new Widget': 2, 'Widget.build': 2, 'new Gizmo': 1 });
      });

      it('behaves as the original class', () => {
        const { shapes } = fresh();
        const { Tracked, Widget, Gadget, Gizmo } = shapes;
        expect(Tracked).not.toBe(shapes.originals.get('Tracked'));
        expect(Widget.name).toBe('Widget');
        expect(Widget.label).toBe('widget');
        expect(Widget.prototype.constructor).toBe(Widget);
        const widget = new Widget(3);
        expect(widget).toBeInstanceOf(Widget);
        expect(widget.constructor).toBe(Widget);
        expect(Object.getPrototypeOf(widget)).toBe(Widget.prototype);
        expect(widget.area()).toBe(9);
        expect(Widget.build(2)).toBeInstanceOf(Widget);

        const gadget = new Gadget(2);
        expect(Object.getPrototypeOf(Gadget)).toBe(Widget);
        expect(gadget).toBeInstanceOf(Gadget);
        expect(gadget).toBeInstanceOf(Widget);
        expect(gadget.area()).toBe(4);
        expect(Gadget.label).toBe('widget');
        expect(Gadget.build(1)).toBeInstanceOf(Gadget);

        const gizmo = new Gizmo(4);
        expect(Gizmo.name).toBe('Gizmo');
        expect(Gizmo.prototype.constructor).toBe(Gizmo);
        expect(gizmo).toBeInstanceOf(Gizmo);
        expect(gizmo).toBeInstanceOf(Widget);
        expect(gizmo.area()).toBe(16);

        class Later extends Widget {
          twiceSize(): number {
            return this.size * 2;
          }
        }
        const later = new Later(5);
        expect(later).toBeInstanceOf(Widget);
        expect(later.twiceSize()).toBe(10);
        expect(later.area()).toBe(25);
      });

      it('counts a constructor that throws in errors, and rethrows the very error', () => {
        const { shapes, snapshot } = fresh();
        new shapes.Fragile(false);
        let thrown: unknown;
        try {
          new shapes.Fragile(true);
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toBe(shapes.seen.error);
        expect(snapshot()).toEqual({ counts: { 'new Fragile': 2 }, errors: { 'new Fragile': 1 }, dropped: {} });
      });

      it('is left out by track({ construct: false }), which still counts the methods', () => {
        const { shapes, counts } = fresh();
        const { Unwrapped } = shapes;
        expect(Unwrapped).toBe(shapes.originals.get('Unwrapped'));
        expect(new Unwrapped().m()).toBe('m');
        expect(Unwrapped.s()).toBe('s');
        expect(counts()).toEqual({ 'Unwrapped#m': 1, 'Unwrapped.s': 1 });
      });

      it(`${ownNameCounted ? 'counts' : 'cannot count'} new written inside the class's own body`, () => {
        const { shapes, counts } = fresh();
        expect(shapes.SelfMaker.make()).toBeInstanceOf(shapes.SelfMaker);
        expect(counts()).toEqual({ 'SelfMaker.make': 1, ...(ownNameCounted ? { 'new SelfMaker': 1 } : {}) });
      });
    });

    describe('new.target', () => {
      it('is the class binding in constructors of the class and its parents', () => {
        const { shapes, counts } = fresh();
        const { Registering, Registered } = shapes;
        const instance = new Registered();
        expect([...Registering.made]).toEqual([Registered]);
        expect(instance).toBeInstanceOf(Registered);
        expect(counts()).toEqual({ 'new Registered': 1 });
      });

      // Where the class's own name inside its body is the undecorated class (see above), so is the
      // comparison's left-hand side.
      it(`${ownNameCounted ? 'equals' : 'cannot equal'} the class's own name inside its body`, () => {
        const { shapes } = fresh();
        expect(new shapes.Guarded().direct).toBe(ownNameCounted);
        expect(new shapes.GuardedKid().direct).toBe(false);
      });
    });

    describe('reflect-metadata', () => {
      it('keeps metadata stored on a method readable on the counting method', () => {
        const { shapes, counts } = fresh();
        const { Service, Dependency } = shapes;
        expect(Reflect.getMetadata('route', Service.prototype.list)).toBe('/items');
        expect(Reflect.getMetadata('route', Service.prototype.one)).toBe('/one');
        expect(Reflect.getMetadata('route', Service.find)).toBe('/static');
        const service = new Service(new Dependency());
        service.list();
        service.one();
        Service.find();
        expect(counts()).toEqual({ 'new Service': 1, 'Service#list': 1, 'Service#one': 1, 'Service.find': 1 });
      });

      // Only tsc emits design-time types, and only for legacy decorators.
      const paramTypes = compiler === 'tsc' && mode === 'legacy';
      it(`keeps class metadata readable on the stand-in${paramTypes ? ', design:paramtypes included' : ''}`, () => {
        const { shapes } = fresh();
        const { Service, Dependency } = shapes;
        expect(Reflect.getMetadata('role', Service)).toBe('service');
        expect(Reflect.getMetadata('design:paramtypes', Service)).toEqual(paramTypes ? [Dependency] : undefined);
        expect(new Service(new Dependency()).dependency).toBeInstanceOf(Dependency);
      });
    });

    const { definePrivateShapes } = compilation;
    if (definePrivateShapes !== undefined) {
      describe('a #private method', () => {
        const privateShapes = () => {
          const project = `decorators-${compiler}-${mode}-${++serial}`;
          return { ...definePrivateShapes(createTelemetry({ project, version: '1.0.0' })), counts: () => kit.counts(project).counts };
        };

        it('is counted under its class', () => {
          const { Secretive, counts } = privateShapes();
          expect(new Secretive().reveal()).toBe('hidden');
          expect(counts()).toEqual({ 'Secretive##hidden': 1 });
        });

        // Only the class's decorator metadata object tells the declaring class from a subclass, and tsc
        // creates one only where Symbol.metadata exists (not on Node 20 unless polyfilled).
        const metadataKnown = compiler === 'esbuild' || typeof (Symbol as { metadata?: unknown }).metadata === 'symbol';
        it(`is counted under ${metadataKnown ? 'its class' : "the first instance's class"} when a subclass is instantiated first`, () => {
          const { Secretive, SecretiveKid, counts } = privateShapes();
          expect(new SecretiveKid().reveal()).toBe('hidden');
          expect(new Secretive().reveal()).toBe('hidden');
          expect(counts()).toEqual({ [metadataKnown ? 'Secretive##hidden' : 'SecretiveKid##hidden']: 2 });
        });
      });
    }

    it('returns everything untouched when telemetry is off', () => {
      kit.uninstall();
      vi.stubEnv('DO_NOT_TRACK', '1');
      const project = `decorators-${compiler}-${mode}-${++serial}`;
      const telemetry = createTelemetry({ project, version: '1.0.0' });
      expect(telemetry.status().enabled).toBe(false);
      const { originals, Tracked, MethodOnly, Unwrapped } = compilation.defineShapes(telemetry, metadataDecorators);

      expect(Tracked).toBe(originals.get('Tracked'));
      expect(Tracked.prototype.add).toBe(originals.get('Tracked#add'));
      expect(Tracked.twice).toBe(originals.get('Tracked.twice'));
      expect(MethodOnly.prototype.add).toBe(originals.get('MethodOnly#add'));
      expect(MethodOnly.twice).toBe(originals.get('MethodOnly.twice'));
      expect(Object.getOwnPropertyDescriptor(MethodOnly.prototype, 'reading')?.get).toBe(originals.get('MethodOnly#get reading'));
      expect(Unwrapped).toBe(originals.get('Unwrapped'));

      new Tracked(1).add(1, 2);
      new MethodOnly(1).add(1, 2);
      expect(countsOf(project)).toEqual({ counts: {}, errors: {}, dropped: {} });
    });
  });
}
