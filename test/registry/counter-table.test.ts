import { describe, expect, it } from 'vitest';
import { allocateCell, createCounterTable, isIdle, recordDropped, takeDelta } from '../../src/registry/counter-table.js';
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
    recordDropped(table, 'overflow', 1);
    expect(isIdle(table)).toBe(false);
  });

  it('takes each period\'s counts once, with its start and end', () => {
    const table = createCounterTable(1000);
    const query = allocateCell(table, 'Client#query');
    const unused = allocateCell(table, 'Client#unused');
    query.calls += 3;
    query.errors += 1;
    recordDropped(table, 'invalid', 2);
    recordDropped(table, 'invalid', 1);

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

describe('shared state', () => {
  it('is one object per process, under a global symbol that every copy finds', () => {
    const state = sharedState();
    expect(sharedState()).toBe(state);
    expect((globalThis as Record<symbol, unknown>)[Symbol.for('tallyho.shared.v1')]).toBe(state);
    // Never shows in a dump of globalThis.
    expect(Object.keys(globalThis)).not.toContain(Symbol.for('tallyho.shared.v1'));
    expect(Object.getOwnPropertyDescriptor(globalThis, Symbol.for('tallyho.shared.v1'))?.enumerable).toBe(false);
  });
});
