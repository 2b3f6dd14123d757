import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bucketsOf,
  DURATION_BOUNDS_MS,
  DURATION_BUCKETS,
  DURATION_SLOTS,
  durationSlot,
  emptySlots,
  SIZE_BOUNDS,
  SIZE_BUCKETS,
  SIZE_SLOTS,
  sizeSlot,
} from '../../src/registry/buckets.js';

describe('duration buckets', () => {
  it('are powers of two in microseconds, named by their bound in milliseconds, then +Inf', () => {
    expect(DURATION_BUCKETS.slice(0, 4)).toEqual(['0.001', '0.002', '0.004', '0.008']);
    expect(DURATION_BUCKETS).toContain('1.024');
    expect(DURATION_BUCKETS.at(-2)).toBe('2199023255.552');
    expect(DURATION_BUCKETS.at(-1)).toBe('+Inf');
    expect(DURATION_BUCKETS).toHaveLength(DURATION_SLOTS);
  });

  it('put each duration below its bucket bound and at or above the bound before it', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 5e9, noNaN: true }), (ms) => {
        const slot = durationSlot(ms);
        if (slot < DURATION_BOUNDS_MS.length) expect(ms * 1000).toBeLessThan(DURATION_BOUNDS_MS[slot]! * 1000 + 1e-9);
        else expect(ms).toBeGreaterThanOrEqual(DURATION_BOUNDS_MS.at(-1)!);
        if (slot > 0) expect(ms * 1000).toBeGreaterThanOrEqual(DURATION_BOUNDS_MS[slot - 1]! * 1000 - 1e-9);
      }),
    );
    expect(durationSlot(0)).toBe(0);
    expect(durationSlot(0.0009)).toBe(0);
    expect(durationSlot(0.0015)).toBe(1);
    expect(durationSlot(1)).toBe(10); // 1000 µs is in [512, 1024)
    expect(durationSlot(2 ** 33 / 1000)).toBe(34);
    expect(durationSlot(40 * 86_400_000)).toBe(DURATION_SLOTS - 1);
  });
});

describe('buckets of recorded numbers', () => {
  it('are 0, then powers of two minus one, each an inclusive upper bound, then +Inf', () => {
    expect(SIZE_BUCKETS.slice(0, 6)).toEqual(['0', '1', '3', '7', '15', '31']);
    expect(SIZE_BUCKETS.at(-2)).toBe(String(Number.MAX_SAFE_INTEGER));
    expect(SIZE_BUCKETS.at(-1)).toBe('+Inf');
    expect(SIZE_BUCKETS).toHaveLength(SIZE_SLOTS);
    expect([0, 1, 2, 3, 4, 7, 8, 42, 0.5, 3.99].map((v) => SIZE_BUCKETS[sizeSlot(v)])).toEqual(['0', '1', '3', '3', '7', '7', '15', '63', '0', '3']);
  });

  it('put every whole number in the bucket whose bound is the smallest at or above it', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (v) => {
        const slot = sizeSlot(v);
        expect(v).toBeLessThanOrEqual(SIZE_BOUNDS[slot]!);
        if (slot > 0) expect(v).toBeGreaterThan(SIZE_BOUNDS[slot - 1]!);
      }),
    );
    for (let k = 1; k < 54; k++) {
      expect(sizeSlot(2 ** k - 1)).toBe(k);
      expect(sizeSlot(2 ** k)).toBe(k + 1);
    }
    expect(sizeSlot(2 ** 60)).toBe(SIZE_SLOTS - 1);
    expect(sizeSlot(Number.MAX_VALUE)).toBe(SIZE_SLOTS - 1);
  });
});

it('a histogram lists only the buckets that counted something', () => {
  const slots = emptySlots(SIZE_SLOTS);
  slots[sizeSlot(5)]++;
  slots[sizeSlot(6)]++;
  slots[sizeSlot(0)]++;
  expect(bucketsOf(slots, SIZE_BUCKETS)).toEqual({ '0': 1, '7': 2 });
});
