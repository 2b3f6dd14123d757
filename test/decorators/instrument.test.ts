/*
 * instrument(): the decorator suite's cases, for code without decorators. The same plain JavaScript
 * module text is loaded as an ES module (its namespace instrumented), as CommonJS (module.exports
 * instrumented, as a CommonJS library does it), and as CommonJS whose exports are getters (the live
 * bindings bundlers compile ES exports to). Each case loads a fresh copy, counting into a project of
 * its own.
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EventEmitter } from 'node:events';
import { inherits } from 'node:util';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTelemetry, type Telemetry } from '../../src/telemetry.js';
import { installTestKit, type TestKit } from '../../src/testing.js';

const root = mkdtempSync(join(tmpdir(), 'tallyho-instrument-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const require = createRequire(import.meta.url);

/** The library: plain JavaScript, no decorators. `seen` hands out objects whose identity tests check. */
const LIBRARY = `
const seen = { error: new Error('secret-detail-from-argument'), promise: undefined };

function parse(text, strict) {
  return { text: String(text).length, strict: strict === true, self: this };
}
parse.defaults = { strict: false };

const format = (value) => '[' + value + ']';

async function load(n) {
  return n * 2;
}

function* count(n) {
  for (let i = 0; i < n; i++) yield i;
}

function fail() {
  throw seen.error;
}

// ES5 constructors, as plain JavaScript packages write their classes.
function Conn(host) {
  // Callable without new, as many ES5 constructors are.
  if (!(this instanceof Conn)) return new Conn(host);
  if (host === 'bad') throw seen.error;
  this.host = host;
}
Conn.prototype.query = function (sql) {
  return this.host + ':' + sql;
};
Conn.prototype.self = function () {
  return this;
};
Conn.prototype.options = { retries: 1 };
Object.defineProperty(Conn.prototype, 'close', { value: function close() { return 'closed ' + this.host; }, writable: true, configurable: true });
Object.defineProperty(Conn.prototype, 'port', { get: function () { return 5432; }, configurable: true });
Conn.create = function (host) {
  return new Conn(host);
};
Conn.Error = function ConnError(message) {
  this.message = message;
};
Conn.Error.prototype.describe = function () {
  return 'conn error: ' + this.message;
};
Conn.VERSION = 2;

function Pool(host, size) {
  Conn.call(this, host);
  this.size = size;
}
inherits(Pool, Conn);
Pool.prototype.query = function (sql) {
  return 'pool ' + Conn.prototype.query.call(this, sql);
};
Pool.prototype.drain = function () {
  return this.size;
};

function Replica(host) {
  Conn.call(this, host);
}
Replica.prototype = Object.create(Conn.prototype);
Replica.prototype.constructor = Replica;
Replica.prototype.readOnly = function () {
  return true;
};

function Mirror(host) {
  Conn.call(this, host);
}
Mirror.prototype = Object.create(Conn.prototype);

function Bag(size) {
  this.size = size;
}
Bag.prototype = { kind: 'bag' };

const Sized = Conn.bind(null, 'bound');

class Base {
  m() {
    return 'base';
  }
  shared() {
    return 'shared';
  }
  static create() {
    return 'created';
  }
}

class Client extends Base {
  static kind = 'client';
  static helper = () => 'static field';
  handler = () => 'instance field';
  #secret = 'hidden';
  constructor(start = 0) {
    super();
    this.start = start;
    if (start < 0) throw seen.error;
  }
  add(a, b) {
    return this.start + a + b;
  }
  self() {
    return this;
  }
  m() {
    return 'client+' + super.m();
  }
  reveal() {
    return this.#secret;
  }
  fail() {
    throw seen.error;
  }
  async later() {
    return this.start;
  }
  promised() {
    seen.promise = Promise.resolve(this.start);
    return seen.promise;
  }
  async rejects() {
    throw seen.error;
  }
  *gen(n) {
    for (let i = 0; i < n; i++) yield this.start + i;
  }
  get value() {
    return this.start;
  }
  set value(v) {
    this.start = v;
  }
  static twice(n) {
    return n * 2;
  }
  static build(start) {
    return new this(start);
  }
}

class Guarded {
  constructor() {
    this.direct = new.target === Guarded;
    this.target = new.target;
  }
}

const VERSION = '1.0.0';
`;

const NAMES = ['parse', 'format', 'load', 'count', 'fail', 'Conn', 'Pool', 'Replica', 'Mirror', 'Bag', 'Sized', 'Base', 'Client', 'Guarded', 'VERSION', 'seen'];

/**
 * A package that re-exports built-ins (EventEmitter from node:events, the Buffer and URL globals)
 * beside its own subclasses of them. The module text gets `inherits` and `EventEmitter` as LIBRARY does.
 */
const BUILTINS = `
const { Buffer, URL } = globalThis;

// A subclass, ES5 style, of a built-in written in JavaScript.
function Emitter(name) {
  EventEmitter.call(this);
  this.name = name;
}
inherits(Emitter, EventEmitter);
Emitter.prototype.ping = function () {
  return this.emit('ping', this.name);
};

class Bus extends EventTarget {
  send(type) {
    return this.dispatchEvent(new Event(type));
  }
}

// Wears EventEmitter's very prototype, not one inheriting from it.
function Alias() {
  EventEmitter.call(this);
}
Alias.prototype = EventEmitter.prototype;
`;

const BUILTIN_NAMES = ['EventEmitter', 'Buffer', 'URL', 'Emitter', 'Bus', 'Alias'];

type Builtins = {
  EventEmitter: typeof EventEmitter;
  Buffer: typeof Buffer;
  URL: typeof URL;
  Emitter: (new (name: string) => EventEmitter & { name: string; ping(): boolean }) & { super_: unknown };
  Bus: new () => EventTarget & { send(type: string): boolean };
  Alias: new () => EventEmitter;
};

/** The keys of `holder` whose property is no longer the very one described in `before`. */
function changedKeys(holder: object, before: Record<PropertyKey, PropertyDescriptor>): string[] {
  const now = Object.getOwnPropertyDescriptors(holder) as Record<PropertyKey, PropertyDescriptor>;
  const keys = new Set<PropertyKey>([...Reflect.ownKeys(before), ...Reflect.ownKeys(now)]);
  const same = (a: PropertyDescriptor | undefined, b: PropertyDescriptor | undefined) =>
    a !== undefined && b !== undefined && (['value', 'get', 'set', 'writable', 'enumerable', 'configurable'] as const).every((field) => Object.is(a[field], b[field]));
  return [...keys].filter((key) => !same(before[key], now[key])).map(String);
}

/** The built-ins' own properties and prototypes, as the process shares them. */
function builtinHolders(): object[] {
  return [EventEmitter, EventEmitter.prototype, Buffer, Buffer.prototype, Object.getPrototypeOf(Buffer.prototype) as object, URL, URL.prototype, EventTarget, EventTarget.prototype];
}

type Library = {
  parse: ((text: string, strict?: boolean) => { text: number; strict: boolean; self: unknown }) & { defaults: { strict: boolean } };
  format: (value: unknown) => string;
  load: (n: number) => Promise<number>;
  count: (n: number) => Generator<number>;
  fail: () => never;
  Conn: ConnClass;
  Pool: new (host: string, size: number) => ConnInstance & { size: number; drain(): number };
  Replica: new (host: string) => ConnInstance & { readOnly(): boolean };
  Mirror: new (host: string) => ConnInstance;
  Bag: new (size: number) => { size: number; kind: string };
  Sized: new () => ConnInstance;
  Base: new () => { m(): string; shared(): string };
  Client: ClientClass;
  Guarded: new () => { direct: boolean; target: unknown };
  VERSION: string;
  seen: { error: Error; promise: Promise<number> | undefined };
};
interface ConnInstance {
  host: string;
  options: { retries: number };
  port: number;
  query(sql: string): string;
  self(): unknown;
  close(): string;
}
interface ConnClass {
  new (host: string): ConnInstance;
  (host: string): ConnInstance;
  prototype: ConnInstance;
  create(host: string): ConnInstance;
  Error: new (message: string) => { message: string; describe(): string };
  VERSION: number;
}
interface ClientInstance {
  start: number;
  value: number;
  handler(): string;
  add(a: number, b: number): number;
  self(): unknown;
  m(): string;
  shared(): string;
  reveal(): string;
  fail(): never;
  later(): Promise<number>;
  promised(): Promise<number>;
  rejects(): Promise<never>;
  gen(n: number): Generator<number>;
}
interface ClientClass {
  new (start?: number): ClientInstance;
  prototype: ClientInstance;
  kind: string;
  helper(): string;
  twice(n: number): number;
  build(start: number): ClientInstance;
  create(): string;
}

type ModuleSystem = 'esm' | 'cjs' | 'cjs-getters';

/**
 * Node's own import(), from a CommonJS file Node loads itself: the test runner would hand back its own
 * stand-in of a module instead of a real module namespace.
 */
writeFileSync(join(root, 'native-import.cjs'), 'module.exports = (url) => import(url);\n');
const nativeImport = require(join(root, 'native-import.cjs')) as (url: string) => Promise<unknown>;
let files = 0;

/** Loads a fresh copy of the library (or of another module text), its exports as the module system gives them. */
async function loadLibrary<T = Library>(system: ModuleSystem, text = LIBRARY, names = NAMES): Promise<T> {
  const base = join(root, `library-${++files}`);
  if (system === 'esm') {
    writeFileSync(`${base}.mjs`, `import { inherits } from 'node:util';\nimport { EventEmitter } from 'node:events';\n${text}\nexport { ${names.join(', ')} };\n`);
    return (await nativeImport(pathToFileURL(`${base}.mjs`).href)) as T;
  }
  const footer =
    system === 'cjs'
      ? `module.exports = { ${names.join(', ')} };`
      : // As esbuild compiles ES exports to CommonJS: enumerable getters, and __esModule.
        `Object.defineProperty(exports, '__esModule', { value: true });\n${names.map((n) => `Object.defineProperty(exports, '${n}', { enumerable: true, get: () => ${n} });`).join('\n')}`;
  writeFileSync(`${base}.cjs`, `'use strict';\nconst { inherits } = require('node:util');\nconst { EventEmitter } = require('node:events');\n${text}\n${footer}\n`);
  return require(`${base}.cjs`) as T;
}

describe.each(['esm', 'cjs', 'cjs-getters'] as const)('instrument() of a plain module loaded as %s', (system) => {
  let kit: TestKit;
  let serial = 0;
  beforeEach(() => {
    kit = installTestKit();
  });
  afterEach(() => {
    kit.uninstall();
    vi.unstubAllEnvs();
  });

  async function fresh(options?: { time?: boolean }, whole = true) {
    const project = `instrument-${system}-${++serial}`;
    const telemetry = createTelemetry({ project, version: '1.0.0' });
    const original = await loadLibrary(system);
    const lib = whole ? telemetry.instrument(original, options) : original;
    return { project, telemetry, original, lib, snapshot: () => kit.counts(project), counts: () => kit.counts(project).counts };
  }

  describe('the result', () => {
    it('is a new object with the same keys, the target left as it was', async () => {
      const { original, lib } = await fresh();
      expect(lib).not.toBe(original);
      expect(Object.keys(lib).sort()).toEqual(Object.keys(original).sort());
      expect(lib.VERSION).toBe('1.0.0');
      expect(lib.seen).toBe(original.seen);
      expect(original.parse).not.toBe(lib.parse);
      expect(Object.getPrototypeOf(lib)).toBe(Object.getPrototypeOf(original));
      if (system === 'esm') {
        // A namespace cannot be changed: it is why a new object is returned.
        expect(Object.isExtensible(original)).toBe(false);
        expect(Object.prototype.toString.call(lib)).toBe('[object Module]');
      }
      if (system === 'cjs-getters') {
        expect((lib as unknown as { __esModule: boolean }).__esModule).toBe(true);
        expect(typeof Object.getOwnPropertyDescriptor(lib, 'parse')?.get).toBe('function');
      }
    });

    it('of a frozen object is a frozen new object', async () => {
      const { telemetry, original, counts } = await fresh();
      const frozen = Object.freeze({ parse: original.parse, format: original.format });
      const counted = telemetry.instrument(frozen);
      expect(counted).not.toBe(frozen);
      expect(Object.isFrozen(counted)).toBe(true);
      counted.format(1);
      expect(counts()).toEqual({ format: 1 });
    });
  });

  describe('plain functions', () => {
    it('are counted under their export names, returning what the original returns with the same this', async () => {
      const { lib, counts } = await fresh();
      expect(lib.parse('abc', true)).toMatchObject({ text: 3, strict: true });
      const receiver = { parse: lib.parse };
      expect(receiver.parse('x').self).toBe(receiver);
      expect(lib.format(2)).toBe('[2]');
      expect(counts()).toEqual({ parse: 2, format: 1 });
    });

    it('see this as undefined when called unbound', async () => {
      const { lib, counts } = await fresh();
      const { parse } = lib;
      expect(parse('a').self).toBeUndefined();
      expect(counts()).toEqual({ parse: 1 });
    });

    it('keep name, length and the properties hung on them', async () => {
      const { lib } = await fresh();
      expect([lib.parse.name, lib.parse.length]).toEqual(['parse', 2]);
      expect([lib.format.name, lib.format.length]).toEqual(['format', 1]);
      expect(lib.parse.defaults).toEqual({ strict: false });
    });

    it('rethrow the very error, counted in errors without its message', async () => {
      const { lib, snapshot, telemetry } = await fresh();
      expect(() => lib.fail()).toThrow(lib.seen.error);
      expect(snapshot()).toMatchObject({ counts: { fail: 1 }, errors: { fail: 1 } });
      await telemetry.flush();
      expect(JSON.stringify(kit.reports)).toContain('"fail"');
      expect(JSON.stringify(kit.reports)).not.toContain(lib.seen.error.message);
    });

    it('count an async function at the call and a generator when it is created', async () => {
      const { lib, counts } = await fresh();
      const pending = lib.load(2);
      const generator = lib.count(3);
      expect(counts()).toEqual({ load: 1, count: 1 });
      await expect(pending).resolves.toBe(4);
      expect([...generator]).toEqual([0, 1, 2]);
      expect(counts()).toEqual({ load: 1, count: 1 });
    });

    it('keep a plain function usable with new, with instanceof on either', async () => {
      const { lib, original, counts } = await fresh();
      // Its prototype was replaced by an object with no methods: still a plain function.
      const bag = new lib.Bag(3);
      expect([bag.size, bag.kind]).toEqual([3, 'bag']);
      expect(bag).toBeInstanceOf(lib.Bag);
      expect(bag).toBeInstanceOf(original.Bag);
      // A bound constructor has no prototype of its own: a plain function too, and constructible.
      expect(new lib.Sized().host).toBe('bound');
      expect(new lib.Sized()).toBeInstanceOf(lib.Conn);
      expect(counts()).toEqual({ Bag: 1, Sized: 2 });
      // An arrow function cannot be constructed, and neither can its counted version.
      expect(() => new (lib.format as unknown as new () => object)()).toThrow(TypeError);
    });
  });

  describe('classes', () => {
    it('count new and every method declared in the class, instance and static, under the export name', async () => {
      const { lib, counts } = await fresh();
      const client = new lib.Client(1);
      client.add(1, 2);
      client.add(3, 4);
      client.self();
      lib.Client.twice(2);
      expect(counts()).toEqual({ 'new Client': 1, 'Client#add': 2, 'Client#self': 1, 'Client.twice': 1 });
    });

    it('count neither accessors nor fields that hold functions, and keep them working', async () => {
      const { lib, counts } = await fresh();
      const client = new lib.Client(1);
      client.value = 5;
      expect(client.value).toBe(5);
      expect(client.handler()).toBe('instance field');
      expect(lib.Client.helper()).toBe('static field');
      expect(lib.Client.kind).toBe('client');
      expect(counts()).toEqual({ 'new Client': 1 });
    });

    it('count an override and the super method it calls, and an inherited method under the class that declares it', async () => {
      const { lib, counts } = await fresh();
      const client = new lib.Client();
      expect(client.m()).toBe('client+base');
      expect(client.shared()).toBe('shared');
      expect(lib.Client.create()).toBe('created');
      expect(counts()).toEqual({ 'new Client': 1, 'Client#m': 1, 'Base#m': 1, 'Base#shared': 1, 'Base.create': 1 });
    });

    it('keep #private fields working through the counted methods', async () => {
      const { lib, counts } = await fresh();
      expect(new lib.Client().reveal()).toBe('hidden');
      expect(counts()).toEqual({ 'new Client': 1, 'Client#reveal': 1 });
    });

    it('keep this, name and length; count unbound calls with this undefined', async () => {
      const { lib, counts, original } = await fresh();
      const client = new lib.Client(10);
      expect(client.add(1, 2)).toBe(13);
      expect(client.self()).toBe(client);
      const unbound = client.self;
      expect(unbound()).toBeUndefined();
      expect([lib.Client.prototype.add.name, lib.Client.prototype.add.length]).toEqual(['add', 2]);
      expect([lib.Client.prototype.gen.name, lib.Client.prototype.gen.length]).toEqual(['gen', 1]);
      expect(lib.Client.name).toBe('Client');
      expect(lib.Client).not.toBe(original.Client);
      expect(counts()).toEqual({ 'new Client': 1, 'Client#add': 1, 'Client#self': 2 });
    });

    it('rethrow the very error of a method and of a constructor, counted in errors', async () => {
      const { lib, snapshot } = await fresh();
      expect(() => new lib.Client(1).fail()).toThrow(lib.seen.error);
      expect(() => new lib.Client(-1)).toThrow(lib.seen.error);
      expect(snapshot()).toMatchObject({ counts: { 'new Client': 2, 'Client#fail': 1 }, errors: { 'new Client': 1, 'Client#fail': 1 } });
    });

    it('hand back the very promise, leave a rejection to the caller and out of the errors, and iterate generators', async () => {
      const { lib, snapshot } = await fresh();
      const client = new lib.Client(10);
      const returned = client.promised();
      expect(returned).toBe(lib.seen.promise);
      await expect(client.later()).resolves.toBe(10);
      await expect(client.rejects()).rejects.toBe(lib.seen.error);
      expect([...client.gen(2)]).toEqual([10, 11]);
      expect(snapshot()).toMatchObject({ errors: {}, counts: { 'Client#promised': 1, 'Client#later': 1, 'Client#rejects': 1, 'Client#gen': 1 } });
    });

    it('behave as the original class: statics, instanceof, prototype, subclassing, new.target', async () => {
      const { lib, original, counts } = await fresh();
      const { Client, Guarded } = lib;
      expect(Client.prototype.constructor).toBe(Client);
      const client = Client.build(3);
      expect(client).toBeInstanceOf(Client);
      expect(client).toBeInstanceOf(original.Client);
      expect(Object.getPrototypeOf(client)).toBe(Client.prototype);
      class Later extends Client {
        twice(): number {
          return this.start * 2;
        }
      }
      const later = new Later(5);
      expect(later.twice()).toBe(10);
      expect(later.add(0, 0)).toBe(5);
      const guarded = new Guarded();
      expect(guarded.target).toBe(Guarded);
      // `new this()` in a static method is direct instantiation; a subclass's `super()` is not.
      expect(counts()).toEqual({ 'Client.build': 1, 'new Client': 1, 'Client#add': 1, 'new Guarded': 1 });
    });
  });

  describe('ES5 constructors (a function whose prototype has methods, or inherits)', () => {
    it('count new, a call without new, and every method and static function declared on them', async () => {
      const { lib, counts } = await fresh();
      const conn = new lib.Conn('db');
      expect(conn.query('q')).toBe('db:q');
      expect(conn.close()).toBe('closed db');
      const called = lib.Conn('other');
      expect(called.query('r')).toBe('other:r');
      expect(called).toBeInstanceOf(lib.Conn);
      expect(lib.Conn.create('made').host).toBe('made');
      expect(counts()).toEqual({ 'new Conn': 2, 'Conn#query': 2, 'Conn#close': 1, 'Conn.create': 1 });
    });

    it('count neither accessors nor values that are not methods, and leave a constructor hung on one as it is', async () => {
      const { telemetry, original, counts } = await fresh({}, false);
      const { Error: Nested } = original.Conn;
      const describe = Nested.prototype.describe;
      const Conn = telemetry.instrument(original.Conn);
      const conn = new Conn('db');
      expect(conn.port).toBe(5432);
      expect(conn.options).toEqual({ retries: 1 });
      expect(Conn.VERSION).toBe(2);
      expect(Conn.Error).toBe(Nested);
      expect(Conn.Error.prototype.describe).toBe(describe);
      expect(new Conn.Error('x').describe()).toBe('conn error: x');
      expect(counts()).toEqual({ 'new Conn': 1 });
    });

    it('behave as the original: this, name, length, instanceof, prototype, enumerable methods, subclassing', async () => {
      const { lib, original, counts } = await fresh();
      const { Conn } = lib;
      expect(Conn).not.toBe(original.Conn);
      expect([Conn.name, Conn.length, Conn.create.length, Conn.prototype.close.name]).toEqual(['Conn', 1, 1, 'close']);
      expect(Conn.prototype.constructor).toBe(Conn);
      expect(Object.keys(Conn.prototype)).toEqual(['query', 'self', 'options']);
      const conn = new Conn('db');
      expect(conn).toBeInstanceOf(Conn);
      expect(conn).toBeInstanceOf(original.Conn);
      expect(Object.getPrototypeOf(conn)).toBe(Conn.prototype);
      expect(conn.self()).toBe(conn);
      const { self } = conn;
      expect(self()).toBeUndefined();
      // Subclasses written against the counted constructor: their super calls are not counted, as a
      // class's super() is not.
      function Mine(this: ConnInstance, host: string): void {
        Conn.call(this, host);
      }
      inherits(Mine, Conn);
      const mine = new (Mine as unknown as new (host: string) => ConnInstance)('mine');
      expect(mine.query('x')).toBe('mine:x');
      expect(mine).toBeInstanceOf(Conn);
      class Later extends Conn {}
      expect(new Later('later').host).toBe('later');
      expect(counts()).toEqual({ 'new Conn': 1, 'Conn#self': 2, 'Conn#query': 1 });
    });

    it('count a method under the constructor whose prototype declares it, through util.inherits and Object.create', async () => {
      const { lib, counts } = await fresh();
      const pool = new lib.Pool('p', 3);
      expect(pool.query('q')).toBe('pool p:q');
      expect(pool.drain()).toBe(3);
      expect(pool.close()).toBe('closed p');
      const replica = new lib.Replica('r');
      expect(replica.readOnly()).toBe(true);
      expect(replica.query('q')).toBe('r:q');
      const mirror = new lib.Mirror('m');
      expect(mirror.query('q')).toBe('m:q');
      for (const instance of [pool, replica, mirror]) expect(instance).toBeInstanceOf(lib.Conn);
      expect([pool instanceof lib.Pool, replica instanceof lib.Replica, mirror instanceof lib.Mirror]).toEqual([true, true, true]);
      expect(lib.Pool.prototype.constructor).toBe(lib.Pool);
      expect(lib.Replica.prototype.constructor).toBe(lib.Replica);
      // Mirror's prototype has no constructor of its own: it finds Conn's, as on the original.
      expect(lib.Mirror.prototype.constructor).toBe(lib.Conn);
      expect(counts()).toEqual({
        'new Pool': 1,
        'Pool#query': 1,
        'Pool#drain': 1,
        'Conn#query': 3,
        'Conn#close': 1,
        'new Replica': 1,
        'Replica#readOnly': 1,
        'new Mirror': 1,
      });
    });

    it('of a subclass alone, count what the subclass declares', async () => {
      const { telemetry, original, counts } = await fresh({}, false);
      const Pool = telemetry.instrument(original.Pool);
      const pool = new Pool('p', 2);
      expect(pool.query('q')).toBe('pool p:q');
      expect(pool.close()).toBe('closed p');
      expect(counts()).toEqual({ 'new Pool': 1, 'Pool#query': 1 });
    });

    it('rethrow the very error of a constructor called with or without new, counted in errors', async () => {
      const { lib, snapshot } = await fresh();
      expect(() => new lib.Conn('bad')).toThrow(lib.seen.error);
      expect(() => lib.Conn('bad')).toThrow(lib.seen.error);
      expect(snapshot()).toMatchObject({ counts: { 'new Conn': 2 }, errors: { 'new Conn': 2 } });
    });
  });

  describe('built-ins a package re-exports (EventEmitter, Buffer, URL)', () => {
    async function freshBuiltins() {
      const project = `instrument-builtins-${system}-${++serial}`;
      const telemetry = createTelemetry({ project, version: '1.0.0' });
      const original = await loadLibrary<Builtins>(system, BUILTINS, BUILTIN_NAMES);
      const holders = builtinHolders();
      const before = holders.map((holder) => Object.getOwnPropertyDescriptors(holder));
      const lib = telemetry.instrument(original);
      const changed = () => holders.map((holder, i) => changedKeys(holder, before[i]!)).flat();
      return { telemetry, original, lib, changed, counts: () => kit.counts(project).counts };
    }

    it('are left as they are, prototypes and statics included, and counted as plain functions', async () => {
      const { emit } = EventEmitter.prototype;
      const { toString } = Buffer.prototype;
      const { lib, changed, counts } = await freshBuiltins();
      expect(changed()).toEqual([]);
      expect(EventEmitter.prototype.emit).toBe(emit);
      expect(Buffer.prototype.toString).toBe(toString);
      expect([lib.EventEmitter === EventEmitter, lib.Buffer === Buffer, lib.URL === URL]).toEqual([false, false, false]);
      expect(lib.EventEmitter.prototype).toBe(EventEmitter.prototype);
      expect(lib.Buffer.prototype).toBe(Buffer.prototype);
      expect(lib.URL.prototype).toBe(URL.prototype);
      const emitter = new lib.EventEmitter();
      let heard = 0;
      emitter.on('x', () => heard++);
      emitter.emit('x');
      expect([heard, emitter instanceof EventEmitter]).toEqual([1, true]);
      expect(new lib.URL('https://example.org/a').pathname).toBe('/a');
      // Functions hung on a plain function are kept on its counted version, uncounted.
      expect(lib.Buffer.from('abc').toString('hex')).toBe('616263');
      expect(Buffer.from('x').toString()).toBe('x');
      expect(counts()).toEqual({ EventEmitter: 1, URL: 1 });
    });

    it("count a program's own subclasses of them as classes, and none of the methods the subclasses inherit", async () => {
      const { lib, changed, counts } = await freshBuiltins();
      const emitter = new lib.Emitter('e');
      let pinged: unknown;
      emitter.on('ping', (name: unknown) => (pinged = name));
      expect(emitter.ping()).toBe(true);
      emitter.emit('other');
      expect([pinged, emitter instanceof EventEmitter, lib.Emitter.super_]).toEqual(['e', true, EventEmitter]);
      const bus = new lib.Bus();
      let got = 0;
      bus.addEventListener('x', () => got++);
      bus.send('x');
      expect(got).toBe(1);
      expect(changed()).toEqual([]);
      expect(counts()).toEqual({ 'new Emitter': 1, 'Emitter#ping': 1, 'new Bus': 1, 'Bus#send': 1 });
    });

    it("count a function whose prototype is a built-in's very prototype as a plain function", async () => {
      const { lib, changed, counts } = await freshBuiltins();
      const alias = new lib.Alias();
      alias.emit('x');
      expect(alias).toBeInstanceOf(EventEmitter);
      expect(changed()).toEqual([]);
      expect(counts()).toEqual({ Alias: 1 });
    });

    it('count a single built-in as a plain function', async () => {
      const { telemetry, changed, counts } = await freshBuiltins();
      const Counted = telemetry.instrument(EventEmitter);
      expect(Counted).not.toBe(EventEmitter);
      new Counted().emit('x');
      expect(changed()).toEqual([]);
      expect(counts()).toEqual({ EventEmitter: 1 });
    });
  });

  it('counts nothing twice: decorated or instrumented already', async () => {
    const { telemetry, lib, original, counts } = await fresh();
    const again = telemetry.instrument(original);
    expect(again.parse).toBe(lib.parse);
    expect(again.Client).toBe(lib.Client);
    expect(telemetry.instrument(lib).parse).toBe(lib.parse);
    expect(telemetry.instrument(lib.parse)).toBe(lib.parse);
    const query = lib.Conn.prototype.query;
    expect(again.Conn).toBe(lib.Conn);
    expect(telemetry.instrument(lib.Conn)).toBe(lib.Conn);
    expect(telemetry.instrument(original.Pool)).toBe(lib.Pool);
    expect(lib.Conn.prototype.query).toBe(query);
    new again.Client(1).add(1, 1);
    again.parse('x');
    again.Conn('x').query('y');

    @telemetry.track()
    class Decorated {
      m(): string {
        return 'm';
      }
    }
    const { Decorated: counted } = telemetry.instrument({ Decorated });
    expect(counted).toBe(Decorated);
    expect(new counted().m()).toBe('m');
    expect(counts()).toEqual({ 'new Client': 1, 'Client#add': 1, parse: 1, 'new Conn': 1, 'Conn#query': 1, 'new Decorated': 1, 'Decorated#m': 1 });
  });

  it('instruments a single function or class, named by its own name or the one given', async () => {
    const { telemetry, original, counts } = await fresh({}, false);
    const parse = telemetry.instrument(original.parse);
    const Client = telemetry.instrument(original.Client, { name: 'Renamed' });
    const Conn = telemetry.instrument(original.Conn, { name: 'Db' });
    parse('a');
    new Client().add(1, 1);
    Conn('x').query('y');
    expect(counts()).toEqual({ parse: 1, 'new Renamed': 1, 'Renamed#add': 1, 'new Db': 1, 'Db#query': 1 });
  });

  it('with time: true, counts durations in buckets, an async call until it settles', async () => {
    const { lib, snapshot } = await fresh({ time: true });
    lib.parse('a');
    const client = new lib.Client(1);
    client.add(1, 1);
    new lib.Conn('db').query('q');
    const pending = client.later();
    // Timed, the caller gets a promise of the same outcome, not the very promise.
    expect(client.promised()).not.toBe(lib.seen.promise);
    expect(snapshot().durations?.['Client#later']).toBeUndefined();
    await expect(pending).resolves.toBe(1);
    await expect(client.rejects()).rejects.toBe(lib.seen.error);
    expect(() => lib.fail()).toThrow(lib.seen.error);
    const { durations } = snapshot();
    const total = (name: string) => Object.values(durations?.[name] ?? {}).reduce((a, b) => a + b, 0);
    for (const name of ['parse', 'Client#add', 'Conn#query', 'Client#later', 'Client#rejects', 'Client#promised', 'fail']) expect(total(name), name).toBe(1);
    expect(durations).not.toHaveProperty('new Client');
    expect(durations).not.toHaveProperty('new Conn');
    for (const buckets of Object.values(durations ?? {})) for (const bucket of Object.keys(buckets)) expect(bucket).toMatch(/^\d+(\.\d+)?$|^\+Inf$/);
  });

  it('returns the target itself, untouched, when telemetry is off', async () => {
    kit.uninstall();
    vi.stubEnv('DO_NOT_TRACK', '1');
    const telemetry: Telemetry = createTelemetry({ project: `instrument-off-${system}-${++serial}`, version: '1.0.0' });
    expect(telemetry.status().enabled).toBe(false);
    const original = await loadLibrary(system);
    const holders = [original.Client.prototype, original.Conn.prototype, original.Conn, original.Pool.prototype];
    const before = holders.map((holder) => Object.getOwnPropertyDescriptors(holder));
    expect(telemetry.instrument(original)).toBe(original);
    expect(telemetry.instrument(original.Client)).toBe(original.Client);
    expect(telemetry.instrument(original.Conn)).toBe(original.Conn);
    expect(telemetry.instrument(original.parse, { time: true })).toBe(original.parse);
    expect(holders.map((holder) => Object.getOwnPropertyDescriptors(holder))).toEqual(before);
  });
});

describe('instrument() of a class from a built-in module loaded after a first built-in was found', () => {
  it('leaves that class as it is, and counts it as a plain function', () => {
    const kit = installTestKit();
    try {
      const telemetry = createTelemetry({ project: 'instrument-late-builtin', version: '1.0.0' });
      telemetry.instrument({ EventEmitter });
      // A module this process has not loaded yet, and an ES5 constructor it exports.
      const constructors: Record<string, string> = { dgram: 'Socket', tty: 'ReadStream', zlib: 'Gzip' };
      const loaded = (process as unknown as { moduleLoadList: string[] }).moduleLoadList;
      const late = Object.keys(constructors).find((id) => !loaded.includes(`NativeModule ${id}`));
      expect(late).toBeDefined();
      const Late = (process.getBuiltinModule(`node:${late!}`) as Record<string, Function>)[constructors[late!]!]!;
      const holders = [Late, Late.prototype as object];
      const before = holders.map((holder) => Object.getOwnPropertyDescriptors(holder));
      const counted = telemetry.instrument({ Late }).Late;
      expect(counted).not.toBe(Late);
      expect(counted.prototype).toBe(Late.prototype);
      expect(holders.map((holder, i) => changedKeys(holder, before[i]!)).flat()).toEqual([]);
    } finally {
      kit.uninstall();
    }
  });
});

describe('instrument() given what it cannot count', () => {
  it('returns it as it is', () => {
    const kit = installTestKit();
    try {
      const telemetry = createTelemetry({ project: 'instrument-odd', version: '1.0.0' });
      expect(telemetry.instrument(null)).toBeNull();
      expect(telemetry.instrument(42)).toBe(42);
      expect(telemetry.instrument('text')).toBe('text');
      const proxy = new Proxy(
        {},
        {
          ownKeys: () => {
            throw new Error('hostile');
          },
        },
      );
      expect(telemetry.instrument(proxy)).toBe(proxy);
    } finally {
      kit.uninstall();
    }
  });
});
