import type { Report } from '../../report/report.js';
import { checkEndpointUrl, displayRaw, displayUrl } from '../../transports/loopback.js';
import type { SendOutcome, Transport } from '../../transports/transport.js';

/** The most a beacon (and a `keepalive` fetch) may carry: browsers refuse larger bodies. */
export const BEACON_MAX_BYTES = 64 * 1024;

/** Options of the web entry's {@link httpTransport}. */
export interface WebHttpTransportOptions {
  /**
   * Extra request headers for `flush()`, such as an API key. Beacons carry none (browsers allow no
   * headers on them), and a header makes the browser ask the receiver first (a CORS preflight).
   * Default: none.
   */
  readonly headers?: Readonly<Record<string, string>>;
  /** How long one `flush()` request may take. Default: 5000. */
  readonly timeoutMs?: number;
  /** Allows plain `http:` to hosts that are not loopback. Default: false. */
  readonly allowInsecure?: boolean;
}

/** A transport a page can also use while it is being hidden or left: one beacon per body. */
export interface BeaconTransport extends Transport {
  /** Queues `body` (at most {@link BEACON_MAX_BYTES}) with `navigator.sendBeacon`; false when the browser refused it. */
  beacon(body: string): boolean;
}

const TEXT_PLAIN = 'text/plain;charset=UTF-8';

/**
 * The web entry's HTTP transport: the same URL rule and outcomes as on a server. `flush()` POSTs with
 * `fetch`, `keepalive` in a page (the request outlives a page that is closing); when the page is
 * hidden or left, reports go by `navigator.sendBeacon`. Bodies are JSON sent as `text/plain`: a
 * beacon typed `application/json` needs a CORS preflight, which browsers never send for a beacon, so
 * it would never arrive. The report's `id` in the body lets a receiver drop a repeated delivery.
 *
 * @throws TypeError when `url` or an option is unusable; the message says what to change.
 */
export function httpTransport(url: string, options: WebHttpTransportOptions = {}): BeaconTransport {
  if (typeof url !== 'string') throw new TypeError('httpTransport(url): url must be a string, such as "https://telemetry.example.com/v1/reports"');
  const allowInsecure = options.allowInsecure === true;
  const checked = checkEndpointUrl(url, allowInsecure);
  if (typeof checked === 'string') {
    throw new TypeError(`httpTransport(${JSON.stringify(displayRaw(url))}): the URL ${checked}; pass an https: URL` + (checked.includes('plain http:') ? ', or set allowInsecure: true for a trusted network' : ''));
  }
  const timeoutMs = options.timeoutMs ?? 5000;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 60_000) throw new TypeError('httpTransport(url, { timeoutMs }): timeoutMs must be a whole number from 1 to 60000');
  const headers = { ...options.headers, 'content-type': TEXT_PLAIN };
  const target = checked.href;
  const inPage = typeof (globalThis as { document?: unknown }).document !== 'undefined';
  return {
    name: displayUrl(checked),
    async send(report: Report, { signal }): Promise<SendOutcome> {
      const body = JSON.stringify(report);
      try {
        const response = await fetch(target, {
          method: 'POST',
          body,
          headers,
          credentials: 'omit',
          // Only a page can go away under a request; a keepalive body is capped like a beacon's.
          keepalive: inPage && byteLength(body) <= BEACON_MAX_BYTES,
          signal: typeof AbortSignal.any === 'function' ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) : signal,
        });
        // The reply is not needed; reading it frees the connection.
        await response.body?.cancel().catch(() => {});
        return outcomeOf(response.status, response.headers.get('retry-after'));
      } catch (error) {
        return { kind: 'retryable', reason: `could not reach ${displayUrl(checked)}: ${(error as Error)?.name ?? 'error'}` };
      }
    },
    beacon(body: string): boolean {
      try {
        const navigator = (globalThis as { navigator?: { sendBeacon?(url: string, data: Blob): boolean } }).navigator;
        return navigator?.sendBeacon?.(target, new Blob([body], { type: TEXT_PLAIN })) ?? false;
      } catch {
        return false;
      }
    },
  };
}

/** The same status rules as the server transport: 2xx taken; 429, 502, 503, 504 later; 410 gone; the rest refused. */
function outcomeOf(status: number, retryAfter: string | null): SendOutcome {
  if (status >= 200 && status < 300) return { kind: 'success' };
  if (status === 429 || status === 502 || status === 503 || status === 504) {
    const seconds = retryAfter === null ? Number.NaN : Number(retryAfter);
    return { kind: 'retryable', reason: `HTTP ${status}`, ...(Number.isFinite(seconds) && seconds >= 0 ? { retryAfterMs: Math.min(60_000, seconds * 1000) } : {}) };
  }
  if (status === 410) return { kind: 'failure', reason: 'HTTP 410 Gone', gone: true };
  return { kind: 'failure', reason: `HTTP ${status}` };
}

/** The UTF-8 length of `text`. */
export function byteLength(text: string): number {
  return new TextEncoder().encode(text).length;
}
