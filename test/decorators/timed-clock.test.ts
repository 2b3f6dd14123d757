/*
 * The clock of timed calls. A host's own tests may fake time (vitest's fake timers fake `performance`
 * and `process.hrtime` too, not only the timers): durations stay the real time of each call, and fake
 * time that passes during a call is not counted. The first timed call of this file is made under fake
 * timers, as a host's first one may be.
 */
import { afterAll, afterEach, expect, it, vi } from 'vitest';
import { createTelemetry } from '../../src/telemetry.js';
import { installTestKit } from '../../src/testing.js';

const kit = installTestKit();
afterAll(() => kit.uninstall());
afterEach(() => {
  vi.useRealTimers();
});

/** The duration buckets of `name` in `project`, as bucket bound (ms) to count. */
const buckets = (project: string, name: string) => kit.counts(project).durations?.[name] ?? {};

// A minute of fake time would be counted in the 65.536 s bucket; the calls themselves take far less.
const FAKE_MS = 60_000;

it('a call made under fake timers is timed on the real clock, whatever fake time passes in it', () => {
  vi.useFakeTimers();
  const telemetry = createTelemetry({ project: 'timed-clock-sync', version: '1.0.0' });
  const { wait } = telemetry.instrument({ wait: () => vi.advanceTimersByTime(FAKE_MS) }, { time: true });
  wait();
  const counted = buckets('timed-clock-sync', 'wait');
  expect(Object.values(counted)).toEqual([1]);
  expect(Number(Object.keys(counted)[0])).toBeLessThan(FAKE_MS);
});

it('an async call under fake timers is timed until it settles, on the real clock', async () => {
  vi.useFakeTimers();
  const telemetry = createTelemetry({ project: 'timed-clock-async', version: '1.0.0' });
  const { later } = telemetry.instrument({ later: () => new Promise((resolve) => setTimeout(resolve, FAKE_MS, 'done')) }, { time: true });
  const pending = later();
  expect(buckets('timed-clock-async', 'later')).toEqual({});
  await vi.advanceTimersByTimeAsync(FAKE_MS);
  await expect(pending).resolves.toBe('done');
  const counted = buckets('timed-clock-async', 'later');
  expect(Object.values(counted)).toEqual([1]);
  expect(Number(Object.keys(counted)[0])).toBeLessThan(FAKE_MS);
});
