import type { Report } from '../report/report.js';

/**
 * The result of one delivery attempt. Outcomes, not exceptions, cross this boundary:
 * - `success`: delivered; `rejected` counts data points the receiver declined (partial success);
 *   `note` says anything worth knowing under debug (nothing recorded, a receiver's message).
 * - `retryable`: try again later (network error, 429, 502/503/504); `retryAfterMs` from `Retry-After`.
 * - `failure`: final; the report is dropped and counted under `reason`.
 */
export type SendOutcome =
  | {
      /** The receiver took the report. */
      readonly kind: 'success';
      /** Data points the receiver declined; they are counted as dropped (`refused`). Absent when none. */
      readonly rejected?: number;
      /** Something worth knowing under `TALLYHO_DEBUG`, such as the receiver's message. */
      readonly note?: string;
    }
  | {
      /** The report did not arrive this time and may be sent again later. */
      readonly kind: 'retryable';
      /** Why, in words for the debug output. */
      readonly reason: string;
      /** How long the receiver asked to be left alone (`Retry-After`); waited for before the next try. */
      readonly retryAfterMs?: number;
    }
  | {
      /** The report is refused for good: it is dropped and its counts are reported as dropped. */
      readonly kind: 'failure';
      /** Why, in words for the debug output. */
      readonly reason: string;
      /** The receiver answered `410 Gone`: this machine stops sending for the project until its version changes. */
      readonly gone?: boolean;
    };

/** Options of one {@link Transport.send} call. */
export interface SendOptions {
  /** Aborted when the caller stops waiting (timeout, shutdown, sender watchdog). */
  readonly signal: AbortSignal;
}

/**
 * A transport described as plain JSON, so that a process without the host's code (the detached
 * sender) can rebuild it: `{ type: 'http', url, ... }`, `{ type: 'file', path }`. It describes exactly
 * what is rebuilt: tallyho's factories set it, and it is used only on the very object a factory
 * returned. A transport without one (an author's own, or a wrapper around a factory's transport, even
 * one that copies its spec) is served only by the host's own process: its next run drains what was
 * left at exit.
 */
export interface TransportSpec {
  /** Which factory rebuilds the transport: `'http'`, `'file'` or `'otlp'`. */
  readonly type: string;
  readonly [option: string]: unknown;
}

/**
 * Where reports go. Implementations never throw and never reject: every failure is an outcome.
 * Build one with a factory such as `httpTransport()`, or write your own; add behaviour by wrapping,
 * not subclassing. Retries are tallyho's job, applied once to every transport: `send` makes one
 * attempt and answers `retryable` when a later one may succeed.
 */
export interface Transport {
  /** A short label for status output and debug lines, such as `https://telemetry.acme.dev/v1/reports`. */
  readonly name: string;
  /** How the detached sender rebuilds this transport: set by tallyho's factories, see {@link TransportSpec}. */
  readonly spec?: TransportSpec;
  /** Sends one report. */
  send(report: Report, options: SendOptions): Promise<SendOutcome>;
}
