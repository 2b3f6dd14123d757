import { describe, expect, it } from 'vitest';
import { retryDelayMs } from '../../src/delivery/settle.js';

describe('retryDelayMs', () => {
  it('waits 1 minute after the first attempt, doubling, at most 6 hours, or what Retry-After asks', () => {
    expect([1, 2, 3, 4].map((attempts) => retryDelayMs(attempts))).toEqual([60_000, 120_000, 240_000, 480_000]);
    expect(retryDelayMs(9)).toBe(256 * 60_000);
    expect(retryDelayMs(10)).toBe(6 * 3600_000);
    expect(retryDelayMs(1000)).toBe(6 * 3600_000);
    expect(retryDelayMs(1, 300_000)).toBe(300_000);
    expect(retryDelayMs(3, 1000)).toBe(240_000);
  });
});
