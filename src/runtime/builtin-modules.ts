/**
 * Node's built-in modules, as `instrument()` needs them: whether one of them exports a function, so
 * that the function is known for a built-in and never changed (see decorators/built-ins.ts). Nothing
 * here loads a module the program has not loaded, bar Bun's and Deno's name list said below.
 */

/** What a built-in module looks like to this file: any object, or a function (`node:events`). */
type BuiltinModule = object;

interface NodeProcess {
  getBuiltinModule?(id: string): unknown;
  moduleLoadList?: unknown;
}

/**
 * Whether `fn` is exported by one of Node's built-in modules that are loaded: a module that is not
 * loaded cannot have handed it out, and loading one to find out would cost the host its start-up
 * (`node:https` alone takes milliseconds). Node lists the modules it has loaded in the undocumented
 * `process.moduleLoadList` (`NativeModule events`); `getBuiltinModule()` of a loaded one loads
 * nothing and runs no getter (a few to tens of microseconds, the first time). An export is found
 * under its own name (every constructor Node 20 exports is, bar deprecated ones), or as the module
 * itself (`node:events` is `EventEmitter`). Asked by `instrument()` of classes and ES5 constructors
 * alone; the modules are collected at the first such question, once, and as more are loaded.
 */
export function exportedByBuiltinModule(fn: Function): boolean {
  const node = nodeProcess();
  if (node === undefined) return false;
  const name = ownValue(fn, 'name');
  const key = typeof name === 'string' && name !== '' ? name : undefined;
  const modules = loadedModules(node);
  if (modules !== undefined) return modules.some((module) => exportsFunction(module, fn, key, nodeGetterMayRun(node)));
  // Bun and Deno keep the list empty. Their `node:` modules are JavaScript too; the ones a package
  // most often re-exports are looked up by name, loaded if they are not already: on Bun, about 1 ms
  // for `node:events` and 7 ms for `node:stream`, once. Every one of them but EventEmitter inherits
  // from another prototype, so a program's own `class Transform {}` loads nothing.
  const id = key === undefined ? undefined : FALLBACK.get(key);
  if (id === undefined || (key !== 'EventEmitter' && !extendsAnother(fn))) return false;
  const module = builtinModule(node, id);
  return module !== undefined && exportsFunction(module, fn, key, () => true);
}

/**
 * The lazy exports of Node's modules whose getter loads an internal module (`fs.ReadStream` loads
 * the whole stream stack): the getter runs only when that module is loaded already, for otherwise the
 * program cannot be holding what it returns. Other getters are not run on Node.
 */
const LAZY_EXPORTS: ReadonlyMap<string, string> = new Map([
  ['ReadStream', 'internal/fs/streams'],
  ['WriteStream', 'internal/fs/streams'],
  ['FileReadStream', 'internal/fs/streams'],
  ['FileWriteStream', 'internal/fs/streams'],
]);

function nodeGetterMayRun(node: NodeProcess): (key: string) => boolean {
  return (key) => {
    const internal = LAZY_EXPORTS.get(key);
    if (internal === undefined) return false;
    const list = Reflect.getOwnPropertyDescriptor(node, 'moduleLoadList')?.value as unknown;
    return Array.isArray(list) && list.includes(`NativeModule ${internal}`);
  };
}

/** The modules looked up by export name where the runtime does not say which are loaded. */
const FALLBACK: ReadonlyMap<string, string> = new Map([
  ['EventEmitter', 'events'],
  ['EventEmitterAsyncResource', 'events'],
  ['Buffer', 'buffer'],
  ['Stream', 'stream'],
  ['Readable', 'stream'],
  ['Writable', 'stream'],
  ['Duplex', 'stream'],
  ['Transform', 'stream'],
  ['PassThrough', 'stream'],
]);

function exportsFunction(module: BuiltinModule, fn: Function, key: string | undefined, getterMayRun: (key: string) => boolean): boolean {
  if (module === fn) return true;
  if (ownValue(module, 'default') === fn) return true;
  if (key === undefined) return false;
  const descriptor = Reflect.getOwnPropertyDescriptor(module, key);
  if (descriptor === undefined) return false;
  if (descriptor.value === fn) return true;
  // A few exports stay getters (`fs.ReadStream`, `net.BlockList`). The getter runs only for a class
  // of that very name, and only where it loads nothing the program has not loaded.
  if (typeof descriptor.get !== 'function' || !getterMayRun(key)) return false;
  try {
    return Reflect.apply(descriptor.get, module, []) === fn;
  } catch {
    return false;
  }
}

/** An entry of `process.moduleLoadList` that names a public built-in module, as `events` or `fs/promises`. */
const PUBLIC_MODULE = /^NativeModule (?!internal\/)(\S+)$/gm;

/** The public built-in modules Node has loaded, collected once and extended as the list grows. */
let loaded: { modules: BuiltinModule[]; seen: number } | undefined;

/** The loaded public built-in modules, or `undefined` where the runtime does not list them. */
function loadedModules(node: NodeProcess): BuiltinModule[] | undefined {
  let list: unknown;
  try {
    // The property as it is: a getter, should one replace it, is not run.
    list = Reflect.getOwnPropertyDescriptor(node, 'moduleLoadList')?.value;
  } catch {
    return undefined;
  }
  if (!Array.isArray(list)) return undefined;
  loaded ??= { modules: [], seen: 0 };
  if (list.length > loaded.seen) {
    // One pass in the engine over the entries not seen yet, rather than a loop over each of them.
    for (const [, id] of list.slice(loaded.seen).join('\n').matchAll(PUBLIC_MODULE)) {
      const module = builtinModule(node, id!);
      if (module !== undefined) loaded.modules.push(module);
    }
    loaded.seen = list.length;
  }
  return loaded.modules.length > 0 ? loaded.modules : undefined;
}

function builtinModule(node: NodeProcess, id: string): BuiltinModule | undefined {
  try {
    const module = node.getBuiltinModule?.(`node:${id}`);
    return (typeof module === 'object' || typeof module === 'function') && module !== null ? module : undefined;
  } catch {
    return undefined;
  }
}

function nodeProcess(): NodeProcess | undefined {
  const node = (globalThis as { process?: NodeProcess }).process;
  return typeof node?.getBuiltinModule === 'function' ? node : undefined;
}

/** Whether the instances of `fn` inherit from another prototype than Object's. */
function extendsAnother(fn: Function): boolean {
  const prototype = ownValue(fn, 'prototype');
  if (typeof prototype !== 'object' || prototype === null) return false;
  const parent = Object.getPrototypeOf(prototype) as object | null;
  return parent !== null && Object.getPrototypeOf(parent) !== null;
}

/** An own data property's value; a getter is not run. */
function ownValue(holder: object, key: string): unknown {
  try {
    return Reflect.getOwnPropertyDescriptor(holder, key)?.value;
  } catch {
    return undefined;
  }
}
