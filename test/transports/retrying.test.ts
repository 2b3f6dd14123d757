import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Report } from '../../src/report/report.js';
import { fileTransport } from '../../src/transports/file.js';
import { retryingTransport, type RetryingTransportOptions } from '../../src/transports/retrying.js';
import type { SendOptions, SendOutcome, Transport } from '../../src/transports/transport.js';
import { sampleReport } from './receiver.js';

afterEach(() => {
  vi.useRealTimers();
});

const live = () => ({ signal: new AbortController().signal });
const retry = (retryAfterMs?: number): SendOutcome =>
  retryAfterMs === undefined ? { kind: 'retryable', reason: 'HTTP 503' } : { kind: 'retryable', reason: 'HTTP 503', retryAfterMs };

/** An inner transport that answers from a script, then repeats its last answer; it records when it was called. */
function scripted(outcomes: SendOutcome[], clock?: { now: number }) {
  const calls: { at: number; signal: AbortSignal }[] = [];
  const transport: Transport = {
    name: 'scripted',
    send(_report: Report, options: SendOptions) {
      calls.push({ at: clock?.now ?? 0, signal: options.signal });
      return Promise.resolve(outcomes[Math.min(calls.length - 1, outcomes.length - 1)]!);
    },
  };
  return { transport, calls };
}

/** A clock that only moves when the wrapper sleeps. */
function virtualTime(random = () => 0.5) {
  const clock = { now: 1_000_000 };
  const delays: number[] = [];
  const options: RetryingTransportOptions = {
    now: () => clock.now,
    random,
    sleep: async (ms) => {
      delays.push(ms);
      clock.now += ms;
    },
  };
  return { clock, delays, options };
}

describe('retryingTransport: the schedule', () => {
  it('waits 1000, 1500, 2250, 3375, then 5000 ms (x1.5, capped)', async () => {
    const { clock, delays, options } = virtualTime();
    const { transport, calls } = scripted([retry(), retry(), retry(), retry(), retry(), retry(), { kind: 'success' }], clock);
    const outcome = await retryingTransport(transport, { ...options, deadlineMs: 60_000 }).send(sampleReport(), live());
    expect(outcome).toEqual({ kind: 'success' });
    expect(delays).toEqual([1000, 1500, 2250, 3375, 5000, 5000]);
    expect(calls.map((c) => c.at - 1_000_000)).toEqual([0, 1000, 2500, 4750, 8125, 13125, 18125]);
  });

  it.each([
    [0, 0.8],
    [0.999999, 1.2],
    [0.25, 0.9],
  ])('random() = %f moves each wait by the factor %f (jitter 20 %%)', async (r, factor) => {
    const { delays, options } = virtualTime(() => r);
    const { transport } = scripted([retry(), retry(), retry(), retry(), retry(), { kind: 'success' }]);
    await retryingTransport(transport, { ...options, deadlineMs: 60_000 }).send(sampleReport(), live());
    const expected = [1000, 1500, 2250, 3375, 5000].map((d) => d * factor);
    delays.forEach((d, i) => expect(d).toBeCloseTo(expected[i], 1));
  });

  it('takes its own schedule', async () => {
    const { delays, options } = virtualTime();
    const { transport } = scripted([retry(), retry(), retry(), { kind: 'success' }]);
    await retryingTransport(transport, { ...options, initialDelayMs: 100, multiplier: 2, maxDelayMs: 300, jitter: 0 }).send(sampleReport(), live());
    expect(delays).toEqual([100, 200, 300]);
  });

  it('honours a Retry-After longer than the backoff, and ignores a shorter one', async () => {
    const { delays, options } = virtualTime();
    const { transport } = scripted([retry(4000), retry(10), { kind: 'success' }]);
    expect(await retryingTransport(transport, options).send(sampleReport(), live())).toEqual({ kind: 'success' });
    expect(delays).toEqual([4000, 1500]);
  });
});

describe('retryingTransport: when to stop', () => {
  it('returns the last retryable outcome when the next wait would pass the 10 s deadline', async () => {
    const { clock, delays, options } = virtualTime();
    const { transport, calls } = scripted([retry()], clock);
    const outcome = await retryingTransport(transport, options).send(sampleReport(), live());
    // 1000 + 1500 + 2250 + 3375 = 8125 ms; a further 5000 would end after 10000.
    expect(delays).toEqual([1000, 1500, 2250, 3375]);
    expect(calls).toHaveLength(5);
    expect(outcome).toEqual({ kind: 'retryable', reason: 'HTTP 503 (after 5 attempts)' });
    expect(clock.now - 1_000_000).toBeLessThanOrEqual(10_000);
  });

  it('counts the time attempts take against the deadline', async () => {
    const clock = { now: 0 };
    const delays: number[] = [];
    const slow: Transport = {
      name: 'slow',
      send: () => {
        clock.now += 3000;
        return Promise.resolve(retry());
      },
    };
    const outcome = await retryingTransport(slow, {
      now: () => clock.now,
      random: () => 0.5,
      sleep: async (ms) => {
        delays.push(ms);
        clock.now += ms;
      },
    }).send(sampleReport(), live());
    // 3000 + 1000 + 3000 + 1500 + 3000: the third attempt ends at 11500, past the deadline, so no third wait.
    expect(delays).toEqual([1000, 1500]);
    expect(outcome).toEqual({ kind: 'retryable', reason: 'HTTP 503 (after 3 attempts)' });
  });

  it('gives up at once on a Retry-After beyond the deadline, keeping it for the caller', async () => {
    const { delays, options } = virtualTime();
    const { transport, calls } = scripted([retry(60_000)]);
    const outcome = await retryingTransport(transport, options).send(sampleReport(), live());
    expect(delays).toEqual([]);
    expect(calls).toHaveLength(1);
    expect(outcome).toEqual(retry(60_000));
  });

  it('takes its own deadline', async () => {
    const { delays, options } = virtualTime();
    const { transport } = scripted([retry()]);
    await retryingTransport(transport, { ...options, deadlineMs: 3000 }).send(sampleReport(), live());
    expect(delays).toEqual([1000, 1500]);
  });

  it('with deadlineMs 0, sends nothing and hands the report back', async () => {
    const { options } = virtualTime();
    const { transport, calls } = scripted([{ kind: 'success' }]);
    const outcome = await retryingTransport(transport, { ...options, deadlineMs: 0 }).send(sampleReport(), live());
    expect(outcome.kind).toBe('retryable');
    expect(calls).toHaveLength(0);
  });

  it.each([
    [{ kind: 'failure', reason: 'HTTP 400' }],
    [{ kind: 'failure', reason: 'HTTP 410', gone: true }],
    [{ kind: 'success' }],
    [{ kind: 'success', rejected: 3 }],
  ] as const)('returns %o as soon as it comes', async (final) => {
    const { delays, options } = virtualTime();
    const { transport, calls } = scripted([retry(), final]);
    expect(await retryingTransport(transport, options).send(sampleReport(), live())).toEqual(final);
    expect(calls).toHaveLength(2);
    expect(delays).toEqual([1000]);
  });

  it('stops when the caller stops waiting during a wait', async () => {
    const caller = new AbortController();
    const { transport, calls } = scripted([retry()]);
    const outcome = await retryingTransport(transport, {
      sleep: async () => caller.abort(),
    }).send(sampleReport(), { signal: caller.signal });
    expect(calls).toHaveLength(1);
    expect(outcome).toEqual(retry());
  });

  it("passes the caller's abort on to the attempt in flight", async () => {
    const caller = new AbortController();
    let seen: AbortSignal | undefined;
    const hanging: Transport = {
      name: 'hanging',
      send: (_r, { signal }) =>
        new Promise((resolve) => {
          seen = signal;
          signal.addEventListener('abort', () => resolve({ kind: 'retryable', reason: 'aborted' }));
        }),
    };
    const pending = retryingTransport(hanging).send(sampleReport(), { signal: caller.signal });
    caller.abort();
    expect(await pending).toEqual({ kind: 'retryable', reason: 'aborted' });
    expect(seen?.aborted).toBe(true);
  });

  it('aborts an attempt still in flight at the deadline', async () => {
    vi.useFakeTimers();
    let attempts = 0;
    const hanging: Transport = {
      name: 'hanging',
      send: (_r, { signal }) => {
        attempts++;
        return new Promise((resolve) => signal.addEventListener('abort', () => resolve({ kind: 'retryable', reason: 'aborted' })));
      },
    };
    let outcome: SendOutcome | undefined;
    const pending = retryingTransport(hanging).send(sampleReport(), live()).then((o) => (outcome = o));
    await vi.advanceTimersByTimeAsync(9999);
    expect(outcome).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    await pending;
    expect(outcome).toEqual({ kind: 'retryable', reason: 'aborted' });
    expect(attempts).toBe(1);
  });

  it('with the default sleep and clock, the whole schedule runs on timers', async () => {
    vi.useFakeTimers();
    const { transport, calls } = scripted([retry(), retry(), { kind: 'success' }]);
    let outcome: SendOutcome | undefined;
    void retryingTransport(transport, { random: () => 0.5 }).send(sampleReport(), live()).then((o) => (outcome = o));
    await vi.advanceTimersByTimeAsync(999);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1500);
    expect(calls).toHaveLength(3);
    expect(outcome).toEqual({ kind: 'success' });
  });

  it('waits on a timer that does not keep the process alive', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const caller = new AbortController();
    const { transport, calls } = scripted([retry()]);
    const pending = retryingTransport(transport, { initialDelayMs: 60_000, maxDelayMs: 60_000, deadlineMs: 600_000 }).send(sampleReport(), {
      signal: caller.signal,
    });
    while (calls.length === 0) await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    // At most as many as before: a timer of the runner's may end meanwhile, and the retry's must not count.
    expect(timers()).toBeLessThanOrEqual(before);
    caller.abort();
    expect(await pending).toEqual(retry());
    expect(calls).toHaveLength(1);
  });
});

describe('retryingTransport: contract', () => {
  it("keeps the inner transport's name, and its spec when a factory built it", () => {
    const inner = fileTransport('/tmp/r.jsonl');
    const wrapped = retryingTransport(inner);
    expect(wrapped.name).toBe(`file ${inner.spec.path}`);
    expect(wrapped.spec).toBe(inner.spec);
    expect('spec' in retryingTransport({ name: 'x', send: inner.send })).toBe(false);
    // A spec on an object no factory built would rebuild something else than what it describes.
    expect('spec' in retryingTransport({ name: 'x', spec: inner.spec, send: inner.send })).toBe(false);
  });

  it('turns an inner transport that throws into a failure', async () => {
    const throwing: Transport = {
      name: 'throwing',
      send: () => {
        throw new Error('boom');
      },
    };
    const rejecting: Transport = { name: 'rejecting', send: () => Promise.reject(new Error('bang')) };
    expect(await retryingTransport(throwing).send(sampleReport(), live())).toEqual({ kind: 'failure', reason: 'transport threw: boom' });
    expect(await retryingTransport(rejecting).send(sampleReport(), live())).toEqual({ kind: 'failure', reason: 'transport threw: bang' });
  });

  it.each([
    [{ deadlineMs: -1 }, /deadlineMs/],
    [{ initialDelayMs: Number.NaN }, /initialDelayMs/],
    [{ multiplier: 0.5 }, /multiplier must be a finite number of at least 1/],
    [{ maxDelayMs: Infinity }, /maxDelayMs/],
    [{ jitter: 1.5 }, /jitter must be a fraction from 0 to 1/],
  ])('refuses %o with a TypeError', (options, message) => {
    const inner: Transport = { name: 'x', send: () => Promise.resolve({ kind: 'success' }) };
    expect(() => retryingTransport(inner, options)).toThrow(TypeError);
    expect(() => retryingTransport(inner, options)).toThrow(message);
  });
});
