// Copies of tallyho's counting wrapper (src/decorators/track.ts, `wrap`), each changed in one way, to
// find where the per-call cost goes. They live here, not in src: they are measurements, not proposals
// applied. Each variant is compiled from its own source text, so its feedback is its own.

import { callLoop } from './lib/measure.mjs';

/** The wrapper factory `(fn, cell) => wrapper` with the given body, as tallyho builds it. */
function factorySource(body, params = '') {
  return `return function wrap(fn, cell) {
    const wrapper = {
      tracked(${params}) {
        ${body}
      },
    }.tracked;
    Object.defineProperty(wrapper, 'name', { value: fn.name, configurable: true });
    Object.defineProperty(wrapper, 'length', { value: fn.length, configurable: true });
    return wrapper;
  };`;
}

const BODIES = {
  // Exactly the shipped wrapper: increment, then Reflect.apply(fn, this, arguments) inside try/catch.
  tallyho: `cell.calls++;
        try {
          return Reflect.apply(fn, this, arguments);
        } catch (error) {
          cell.errors++;
          throw error;
        }`,
  fnApply: `cell.calls++;
        try {
          return fn.apply(this, arguments);
        } catch (error) {
          cell.errors++;
          throw error;
        }`,
  forward: `return Reflect.apply(fn, this, arguments);`,
  noTry: `cell.calls++;
        return Reflect.apply(fn, this, arguments);`,
  // The count without the call: what the increment alone costs, the floor of any exact counter.
  countOnly: `cell.calls++;
        return undefined;`,
  rest: `cell.calls++;
        try {
          return Reflect.apply(fn, this, args);
        } catch (error) {
          cell.errors++;
          throw error;
        }`,
};

function compile(tag, source) {
  return new Function(`// variant: ${tag}\n${source}`)();
}

/** A class of its own (own source text, so its method has its own feedback) with an empty method `m`. */
export function freshClass(tag) {
  return new Function(`// class: ${tag}\nreturn class Subject { m(x) {} };`)();
}

/**
 * Wraps `Subject.prototype.m` the way a legacy method decorator does, and returns an instance. With
 * `deleteFirst`, the method is deleted before the wrapper is defined, so V8 adds it as a new property
 * instead of turning the class's constant method into a mutable field.
 */
function install(tag, wrapFactory, cell, deleteFirst = false, refresh = false) {
  const Subject = freshClass(tag);
  const descriptor = Object.getOwnPropertyDescriptor(Subject.prototype, 'm');
  if (deleteFirst) delete Subject.prototype.m;
  Object.defineProperty(Subject.prototype, 'm', { ...descriptor, value: wrapFactory(descriptor.value, cell) });
  if (refresh) refreshShape(Subject.prototype);
  return new Subject();
}

/** As tallyho's `refreshShape` (src/decorators/track.ts) does after a redefinition: use the prototype as one. */
function refreshShape(holder) {
  function Shape() {}
  Shape.prototype = holder;
  new Shape();
}

/** Cells shaped like tallyho's ({ owner, calls, errors }). */
const cell = (owner) => ({ owner, calls: 0, errors: 0 });

function callCase(id, label, subject) {
  const loop = callLoop(id);
  return { id, label, group: 'variant', run: (n) => loop(subject, n) };
}

/** The investigation rows: each isolates one ingredient of the wrapper's cost. */
export function variantCases() {
  const cases = [];
  const variant = (id, label, bodyName, params, deleteFirst, refresh) => {
    const factory = compile(id, factorySource(BODIES[bodyName], params));
    cases.push(callCase(id, label, install(id, factory, cell(id), deleteFirst, refresh)));
  };

  variant('v-copy', "copy of tallyho's wrapper (control: should match (b))", 'tallyho');

  // The method replaced by an equivalent one, no wrapper: what any redefinition of a method costs.
  {
    const Subject = freshClass('v-redefined');
    const descriptor = Object.getOwnPropertyDescriptor(Subject.prototype, 'm');
    const replacement = new Function('// v-redefined replacement\nreturn { m(x) {} }.m;')();
    Object.defineProperty(Subject.prototype, 'm', { ...descriptor, value: replacement });
    cases.push(callCase('v-redefined', 'method redefined, no wrapper', new Subject()));
  }

  // Redefined with its own descriptor, the same function: what TypeScript's legacy `__decorate` does
  // when a decorator returns nothing (a disabled telemetry, say).
  {
    const Subject = freshClass('v-same');
    Object.defineProperty(Subject.prototype, 'm', Object.getOwnPropertyDescriptor(Subject.prototype, 'm'));
    cases.push(callCase('v-same', 'method redefined with its own descriptor (TS __decorate)', new Subject()));
  }

  variant('v-forward', 'forwarding wrapper, no count', 'forward');
  // As shipped, the prototype's shape is refreshed after the redefinition: with it, forwarding is free
  // and what is left is the increment.
  variant('v-forward-refreshed', 'forwarding wrapper, no count, prototype refreshed', 'forward', '', false, true);
  variant('v-count-only', 'increment only, no call, prototype refreshed (the floor)', 'countOnly', '', false, true);
  variant('v-fn-apply', 'fn.apply(this, arguments) instead of Reflect.apply', 'fnApply');
  variant('v-no-try', 'without try/catch', 'noTry');
  variant('v-rest', 'rest parameters instead of `arguments`', 'rest', '...args');
  variant('v-delete-first', 'method deleted before the wrapper is defined', 'tallyho', '', true);

  // One factory wrapping 16 methods, all of them hot: the wrappers share one feedback vector, so the
  // fn.apply call site inside it sees 16 targets.
  {
    const factory = compile('v-shared-16', factorySource(BODIES.tallyho));
    const subjects = Array.from({ length: 16 }, (_, i) => install(`v-shared-16-${i}`, factory, cell(`s${i}`)));
    const warm = callLoop('v-shared-16 warm-up');
    for (let round = 0; round < 20; round++) for (const s of subjects) warm(s, 2000);
    cases.push(callCase('v-shared-16', "copy, 16 wrapped methods hot (shared feedback)", subjects[0]));
  }

  // A counter that passes 2^30 during warm-up: `calls` no longer fits a small integer and the field
  // becomes a double, as in a long-running service. The cell has a shape of its own (leading field):
  // the change of field representation must stay local to it, not reach tallyho's cells, whose shape
  // is the same as that of any { owner, calls, errors } literal.
  {
    const factory = compile('v-big-count', factorySource(BODIES.tallyho));
    const bigCell = { own: true, owner: 'big', calls: 0, errors: 0 };
    bigCell.calls = 2 ** 30 - 1000;
    cases.push(callCase('v-big-count', 'copy, counter past 2^30 (a double from then on)', install('v-big-count', factory, bigCell)));
  }
  return cases;
}

/** A class of its own whose constructor stores one field, for the construction rows. */
export function freshBuiltClass(tag) {
  return new Function(`// class: ${tag}\nreturn class Built { constructor(k) { this.k = k; } m() {} };`)();
}

/**
 * Copies of tallyho's class stand-in (src/decorators/track.ts, `standIn`): a Proxy of the class with a
 * `construct` trap. `asNewTarget` is what the trap hands to Reflect.construct as new.target for a
 * direct `new`: the original class (as shipped) or the stand-in itself.
 */
function standInCopy(cls, cell, asNewTarget) {
  const stand = new Proxy(cls, {
    construct(target, args, newTarget) {
      if (newTarget !== stand) return Reflect.construct(target, args, newTarget);
      cell.calls++;
      try {
        return asNewTarget === 'class' ? Reflect.construct(target, args) : Reflect.construct(target, args, newTarget);
      } catch (error) {
        cell.errors++;
        throw error;
      }
    },
  });
  const constructor = Reflect.getOwnPropertyDescriptor(cls.prototype, 'constructor');
  Reflect.defineProperty(cls.prototype, 'constructor', { ...constructor, value: stand });
  return stand;
}

/** The construction investigation rows: what the stand-in's `new` costs, and what new.target has to do with it. */
export function constructVariantCases() {
  const row = (id, label, Cls) => {
    const loop = new Function('C', 'n', `// construct loop: ${id}\nlet r = 0;\nfor (let i = 0; i < n; i++) { if (new C(i).k !== i) r++; }\nreturn r;`);
    return { id, label, group: 'construct', run: (n) => loop(Cls, n) };
  };
  return [
    row('c-copy', "copy of tallyho's stand-in (control: close to (f))", standInCopy(freshBuiltClass('c-copy'), cell('c-copy'), 'class')),
    row('c-stand-in', 'stand-in passing itself (a Proxy) as new.target', standInCopy(freshBuiltClass('c-stand-in'), cell('c-stand-in'), 'stand-in')),
  ];
}
