import type { Report } from '../report/report.js';

/**
 * The result of one delivery attempt. Outcomes, not exceptions, cross this boundary:
 * - `success`: delivered; `rejected` counts data points the receiver declined (partial success);
 *   `note` says anything worth knowing under debug (nothing recorded, a receiver's message).
 * - `retryable`: try again later (network error, 429, 502/503/504); `retryAfterMs` from `Retry-After`.
 * - `failure`: final; the report is dropped and counted under `reason`.
 */
export type SendOutcome =
  | { readonly kind: 'success'; readonly rejected?: number; readonly note?: string }
  | { readonly kind: 'retryable'; readonly reason: string; readonly retryAfterMs?: number }
  | { readonly kind: 'failure'; readonly reason: string; readonly gone?: boolean };

/** Options of one {@link Transport.send} call. */
export interface SendOptions {
  /** Aborted when the caller stops waiting (timeout, shutdown, sender watchdog). */
  readonly signal: AbortSignal;
}

/**
 * A transport described as plain JSON, so that a process without the host's code (the detached
 * sender) can rebuild it: `{ type: 'http', url, ... }`, `{ type: 'file', path }`. A transport without
 * one is served only by the host's own process (its next run drains what was left at exit).
 */
export interface TransportSpec {
  readonly type: string;
  readonly [option: string]: unknown;
}

/**
 * Where reports go. Implementations never throw and never reject: every failure is an outcome.
 * Build one with a factory such as `consoleTransport()`; add behaviour by wrapping, not subclassing.
 */
export interface Transport {
  /** A short label for status output and debug lines, such as `https://telemetry.acme.dev/v1/reports`. */
  readonly name: string;
  /** How the detached sender rebuilds this transport, if it can. */
  readonly spec?: TransportSpec;
  /** Sends one report. */
  send(report: Report, options: SendOptions): Promise<SendOutcome>;
}
