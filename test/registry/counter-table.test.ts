import { describe, expect, it } from 'vitest';
import {
  allocateCell,
  count,
  createCounterTable,
  isCounterName,
  isIdle,
  reset,
  snapshot,
  takeDelta,
  UNKNOWN_CLASS,
} from '../../src/registry/counter-table.js';
import { sharedState } from '../../src/registry/shared-state.js';

describe('counter table', () => {
  it('starts idle, and is idle again after a delta is taken', () => {
    const table = createCounterTable(1000);
    const cell = allocateCell(table, 'Client#query');
    expect(isIdle(table)).toBe(true);
    cell.calls++;
    expect(isIdle(table)).toBe(false);
    takeDelta(table, 2000);
    expect(isIdle(table)).toBe(true);
    // A loss found while counting (a name past the cap) is something to report too.
    count(table, 'feature.a', 1, 0);
    expect(table.dropped).toEqual({ overflow: 1 });
    expect(isIdle(table)).toBe(false);
  });

  it('takes each period\'s counts once, with its start and end', () => {
    const table = createCounterTable(1000);
    const query = allocateCell(table, 'Client#query');
    const unused = allocateCell(table, 'Client#unused');
    query.calls += 3;
    query.errors += 1;
    for (const bad of [0, -1, 1.5]) count(table, 'feature.a', bad, 10);

    expect(takeDelta(table, 2000)).toEqual({
      counts: { 'Client#query': 3 },
      errors: { 'Client#query': 1 },
      dropped: { invalid: 3 },
      start: 1000,
      end: 2000,
    });
    expect(unused.calls).toBe(0);
    query.calls += 1;
    expect(takeDelta(table, 3000)).toEqual({ counts: { 'Client#query': 1 }, errors: {}, dropped: {}, start: 2000, end: 3000 });
  });

  it('sums cells that share a name (two copies of one library)', () => {
    const table = createCounterTable(0);
    allocateCell(table, 'new Client').calls = 2;
    allocateCell(table, 'new Client').calls = 5;
    expect(takeDelta(table, 1).counts).toEqual({ 'new Client': 7 });
  });

  it('counts exactly past 2^32 and up to 2^53', () => {
    const table = createCounterTable(0);
    const cell = allocateCell(table, 'hot');
    cell.calls = 2 ** 32 - 1;
    cell.calls++;
    cell.calls++;
    expect(takeDelta(table, 1).counts.hot).toBe(2 ** 32 + 1);
    cell.calls = Number.MAX_SAFE_INTEGER - 1;
    cell.calls++;
    expect(takeDelta(table, 2).counts.hot).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe('names', () => {
  it('resolves a member cell when the counts are taken, under the fallback while its class is unknown', () => {
    const table = createCounterTable(0);
    const owner = { member: '#format', className: undefined as string | undefined };
    const cell = allocateCell(table, owner);
    cell.calls++;
    expect(snapshot(table).counts).toEqual({ [`${UNKNOWN_CLASS}#format`]: 1 });
    owner.className = 'Printer';
    expect(takeDelta(table, 1).counts).toEqual({ 'Printer#format': 1 });
  });

  it('holds one rule for a counter name: 1 to 200 characters, none a control or format character', () => {
    for (const good of ['a', 'x'.repeat(200), 'café ☕', 'new Client', UNKNOWN_CLASS + '#m']) expect(isCounterName(good)).toBe(true);
    for (const bad of ['', 'x'.repeat(201), 'a\nb', '\u202e', 'nul\u0000', 42, undefined]) expect(isCounterName(bad)).toBe(false);
  });
});

describe('count()', () => {
  it('counts by name, and records what it refuses as dropped with a warning', () => {
    const table = createCounterTable(0);
    expect(count(table, 'feature.export', 2, 2)).toBeUndefined();
    expect(count(table, 'bad\nname', 3, 2)).toMatch(/printable/);
    expect(count(table, 'feature.export', 1.5, 2)).toMatch(/positive whole number/);
    expect(count(table, 'second', 1, 2)).toBeUndefined();
    expect(count(table, 'third', 4, 2)).toMatch(/more than 2 distinct/);
    // The cap's warning is said once.
    expect(count(table, 'fourth', 1, 2)).toBeUndefined();
    expect(snapshot(table)).toEqual({ counts: { 'feature.export': 2, second: 1 }, errors: {}, dropped: { invalid: 4, overflow: 5 } });
  });

  it('drops what would pass 2^53 in one counter instead of rounding it', () => {
    const table = createCounterTable(0);
    count(table, 'hot', Number.MAX_SAFE_INTEGER - 1, 10);
    count(table, 'hot', 2, 10);
    expect(snapshot(table)).toEqual({ counts: { hot: Number.MAX_SAFE_INTEGER - 1 }, errors: {}, dropped: { overflow: 2 } });
  });
});

describe('snapshot() and reset()', () => {
  it('shows the counts without taking them; reset() forgets counts and losses and starts a new period', () => {
    const table = createCounterTable(1000);
    allocateCell(table, 'a').calls = 2;
    count(table, 'feature.a', 0, 10);
    expect(snapshot(table)).toEqual(snapshot(table));
    expect(isIdle(table)).toBe(false);
    reset(table, 5000);
    expect(isIdle(table)).toBe(true);
    expect(takeDelta(table, 6000)).toEqual({ counts: {}, errors: {}, dropped: {}, start: 5000, end: 6000 });
  });
});

describe('shared state', () => {
  it('is one object per process, under a global symbol that every copy finds', () => {
    const state = sharedState();
    expect(sharedState()).toBe(state);
    expect((globalThis as Record<symbol, unknown>)[Symbol.for('tallyho.shared.v2')]).toBe(state);
    // Never shows in a dump of globalThis.
    expect(Object.keys(globalThis)).not.toContain(Symbol.for('tallyho.shared.v2'));
    expect(Object.getOwnPropertyDescriptor(globalThis, Symbol.for('tallyho.shared.v2'))?.enumerable).toBe(false);
  });
});
