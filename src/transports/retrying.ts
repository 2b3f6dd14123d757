import { rebuildableSpec } from './rebuildable.js';
import type { SendOutcome, Transport } from './transport.js';
import { errorText } from '../config/error-text.js';

/**
 * Options of {@link retryingTransport}. The defaults are OpenTelemetry's OTLP exporter schedule:
 * 1 s, then x1.5 per retry up to 5 s, +/-20 % jitter, 10 s in all.
 */
export interface RetryingTransportOptions {
  /** All attempts and waits of one send fit in this many milliseconds; 0 sends nothing (retryable). Default: 10000. */
  readonly deadlineMs?: number;
  /** The wait before the first retry. Default: 1000. */
  readonly initialDelayMs?: number;
  /** Each wait is this many times the one before. Default: 1.5. */
  readonly multiplier?: number;
  /** No wait (before jitter) is longer than this. Default: 5000. */
  readonly maxDelayMs?: number;
  /** Each wait is moved by up to this fraction either way, so that many clients do not retry in step. Default: 0.2. */
  readonly jitter?: number;
  /**
   * Waits `ms`, or less when `signal` aborts (resolving or rejecting, either is fine). Default: a timer
   * that does not keep the process alive.
   */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** A number in [0, 1), for jitter. Default: `Math.random`. */
  readonly random?: () => number;
  /** The current time in milliseconds, for the deadline. Default: `Date.now`. */
  readonly now?: () => number;
}

/**
 * Wraps a transport so that retryable outcomes are tried again with exponential backoff and jitter,
 * within one overall deadline and the caller's signal.
 *
 * A `Retry-After` (`retryAfterMs`) longer than the backoff is waited for instead. When the next wait
 * would pass the deadline, or the caller stops waiting, the last retryable outcome is returned so the
 * caller can keep the report for later. Success and final failures are returned at once.
 *
 * Each attempt is aborted at the deadline, so a hanging attempt cannot outlive it. The name is the
 * inner transport's, and so is the spec when the inner transport can be rebuilt from it: what is
 * rebuilt elsewhere (the detached sender) is the inner transport, retried there in the same way.
 *
 * Retries are tallyho's job, applied once: `createTelemetry` wraps each author transport, the sender
 * each rebuilt one. It is not part of the public API, so that no transport is retried twice.
 *
 * @throws TypeError when an option is out of range; the message says what to change.
 */
export function retryingTransport(inner: Transport, options: RetryingTransportOptions = {}): Transport {
  const deadlineMs = positive('deadlineMs', options.deadlineMs, 10_000, 0);
  const initialDelayMs = positive('initialDelayMs', options.initialDelayMs, 1000, 0);
  const multiplier = positive('multiplier', options.multiplier, 1.5, 1);
  const maxDelayMs = positive('maxDelayMs', options.maxDelayMs, 5000, 0);
  const jitter = positive('jitter', options.jitter, 0.2, 0);
  if (jitter > 1) throw new TypeError(`retryingTransport: jitter must be a fraction from 0 to 1 (default 0.2); got ${jitter}`);
  const sleep = options.sleep ?? sleepUnref;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const spec = rebuildableSpec(inner);

  async function send(report: Parameters<Transport['send']>[0], signal: AbortSignal): Promise<SendOutcome> {
    const deadline = now() + deadlineMs;
    // A caller out of time (a sender near its watchdog) gets the report back untouched, not a doomed request.
    if (deadlineMs === 0) return { kind: 'retryable', reason: 'not sent: no time left before the deadline' };
    let base = Math.min(initialDelayMs, maxDelayMs);
    for (let attempts = 1; ; attempts++) {
      const outcome = await attempt(inner, report, signal, deadline - now());
      if (outcome.kind !== 'retryable') return outcome;
      if (signal.aborted) return gaveUp(outcome, attempts);
      const backoff = base * (1 + jitter * (2 * random() - 1));
      base = Math.min(base * multiplier, maxDelayMs);
      const wait = Math.max(backoff, outcome.retryAfterMs ?? 0);
      if (wait >= deadline - now()) return gaveUp(outcome, attempts);
      await sleep(wait, signal).catch(() => undefined);
      if (signal.aborted) return gaveUp(outcome, attempts);
    }
  }

  return {
    name: inner.name,
    ...(spec === undefined ? {} : { spec }),
    async send(report, sendOptions) {
      try {
        return await send(report, sendOptions.signal);
      } catch (error) {
        // Only a misbehaving injected sleep or clock gets here; the contract still holds.
        return { kind: 'failure', reason: `retrying failed: ${errorText(error)}` };
      }
    },
  };
}

/** One attempt, aborted when the caller stops waiting or the deadline comes. */
async function attempt(
  inner: Transport,
  report: Parameters<Transport['send']>[0],
  signal: AbortSignal,
  remainingMs: number,
): Promise<SendOutcome> {
  const controller = new AbortController();
  const stop = (): void => controller.abort(signal.reason);
  if (signal.aborted) stop();
  else signal.addEventListener('abort', stop, { once: true });
  const timer = setTimeout(() => controller.abort(new Error('retry deadline reached')), Math.max(0, remainingMs));
  timer.unref?.();
  try {
    return await inner.send(report, { signal: controller.signal });
  } catch (error) {
    return { kind: 'failure', reason: `transport threw: ${errorText(error)}` };
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', stop);
  }
}

function gaveUp(outcome: SendOutcome & { kind: 'retryable' }, attempts: number): SendOutcome {
  return attempts === 1 ? outcome : { ...outcome, reason: `${outcome.reason} (after ${attempts} attempts)` };
}

function positive(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new TypeError(`retryingTransport: ${name} must be a finite number of at least ${min} (default ${fallback}); got ${String(value)}`);
  }
  return value;
}

/** Waits without keeping the process alive: an exit during backoff is the spool's business, not a reason to linger. */
function sleepUnref(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref?.();
    signal.addEventListener('abort', done, { once: true });
  });
}
