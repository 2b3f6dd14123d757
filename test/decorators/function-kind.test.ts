import { describe, expect, it } from 'vitest';
import { constructible } from '../../src/decorators/function-kind.js';

describe('constructible()', () => {
  it('tells what can be called with new from what cannot', () => {
    class Class {}
    function plain(): void {}
    const bound = plain.bind(null);
    const object = { method(): void {} };
    const cases: [string, Function, boolean][] = [
      ['class', Class, true],
      ['function', plain, true],
      ['bound function', bound, true],
      ['built-in', Map, true],
      ['arrow function', () => {}, false],
      ['method', object.method, false],
      ['async function', async () => {}, false],
      ['generator', function* () {}, false],
      ['bound arrow function', (() => {}).bind(null), false],
    ];
    expect(cases.map(([label, fn]) => [label, constructible(fn)])).toEqual(cases.map(([label, , expected]) => [label, expected]));
  });

  it('neither calls the function nor reads anything of it, not even its prototype', () => {
    const touched: PropertyKey[] = [];
    let called = 0;
    const watched = new Proxy(
      function Watched(): void {
        called++;
      },
      {
        get(target, key, receiver) {
          touched.push(key);
          return Reflect.get(target, key, receiver) as unknown;
        },
        getOwnPropertyDescriptor(target, key) {
          touched.push(key);
          return Reflect.getOwnPropertyDescriptor(target, key);
        },
      },
    );
    expect(constructible(watched)).toBe(true);
    expect([touched, called]).toEqual([[], 0]);
  });
});
