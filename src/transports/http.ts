import type { Report } from '../report/report.js';
import { VERSION } from '../version.js';
import { errorText } from '../config/error-text.js';
import { authorHeaders, authorUrl, flag, reservedHeaders, wholeNumber } from './factory-options.js';
import { postBody } from './http-post.js';
import { checkEndpointUrl, displayRaw, displayUrl } from './loopback.js';
import type { SendOutcome, Transport, TransportSpec } from './transport.js';
import { registerFactoryBuilt } from './rebuildable.js';

/** Options of {@link httpTransport}. */
export interface HttpTransportOptions {
  /**
   * Extra request headers, such as an API key. The headers tallyho sets itself (`content-type`,
   * `content-encoding`, `content-length`, `idempotency-key`, `user-agent`, `host`, `connection`,
   * `transfer-encoding`) cannot be replaced. Default: none.
   */
  readonly headers?: Readonly<Record<string, string>>;
  /** How long one attempt may take, from connecting to the last byte read. Default: 5000. */
  readonly timeoutMs?: number;
  /** Bodies larger than this many bytes are sent gzip-compressed. Default: 1024. */
  readonly gzipAboveBytes?: number;
  /**
   * Allows plain `http:` to hosts that are not loopback. Reports then cross the network readable by
   * anyone on the path: meant for a proxy inside a trusted network. Default: false.
   */
  readonly allowInsecure?: boolean;
  /** At most this many bytes of a reply are read; the connection is closed after them. Default: 65536. */
  readonly maxResponseBytes?: number;
}

/**
 * The serializable description of an HTTP transport, from which `transportFromSpec()` rebuilds it in
 * another process (the detached sender). `url` is the author's; `endpoint` is the user's override as it
 * was when the transport was built, kept so that reports made under an override never go to the
 * author's URL.
 */
export interface HttpTransportSpec extends TransportSpec {
  /** Tells `transportFromSpec()` to rebuild an HTTP transport. */
  readonly type: 'http';
  /** The author's URL, as checked and normalized when the transport was built. */
  readonly url: string;
  /** The user's `TALLYHO_ENDPOINT` when the transport was built; absent when none was set. */
  readonly endpoint?: string;
  /** The author's extra request headers; empty when none were given. */
  readonly headers: Readonly<Record<string, string>>;
  /** How long one attempt may take, in milliseconds (5000 unless the author set it). */
  readonly timeoutMs: number;
  /** Bodies larger than this many bytes are sent gzip-compressed (1024 unless the author set it). */
  readonly gzipAboveBytes: number;
  /** Whether plain `http:` to a host that is not loopback was allowed (false unless the author set it). */
  readonly allowInsecure: boolean;
  /** At most this many bytes of a reply are read (65536 unless the author set it). */
  readonly maxResponseBytes: number;
}

/** An HTTP transport together with its {@link HttpTransportSpec}. */
export interface HttpTransport extends Transport {
  readonly spec: HttpTransportSpec;
}



/** Headers whose values tallyho's own framing depends on. */
const RESERVED_HEADERS = reservedHeaders('idempotency-key');


/**
 * A transport that POSTs each report as JSON to `url`, one attempt per send: tallyho retries it
 * (OpenTelemetry's schedule: 1 s, x1.5, at most 5 s, +/-20 % jitter, within 10 s), once, wherever it
 * sends. The report's `id` goes in an `idempotency-key` header so that a receiver can drop a delivery
 * it has already taken. The user's `TALLYHO_ENDPOINT`, where set, replaces `url`.
 *
 * Outcomes: 2xx is success; 429, 502, 503, 504, network errors and timeouts are retryable (with
 * `retryAfterMs` from `Retry-After`, at most 60 s); 410 is a failure with `gone: true`; any other
 * status is a failure.
 *
 * The socket never keeps the process alive, and no connection is reused.
 *
 * @param url - Must be `https:`, unless the host is loopback (`localhost`, `127.0.0.0/8`, `[::1]`)
 *   or `allowInsecure` is set.
 * @throws TypeError when `url` or an option is unusable; the message says what to change.
 */
export function httpTransport(url: string, options: HttpTransportOptions = {}): HttpTransport {
  return buildHttpTransport(url, options, undefined);
}

/**
 * {@link httpTransport} under the user's override of the URL (`TALLYHO_ENDPOINT`), held to the same
 * `https:` rule: tallyho's own plumbing, for `createTelemetry` and the detached sender. The spec
 * records the override, so that what is rebuilt from it sends where this one does. When the override
 * is set but invalid, nothing is sent: every send fails with a reason naming `TALLYHO_ENDPOINT`,
 * because a user who points reports at their own proxy must never have them go to the author's URL.
 *
 * @throws TypeError as {@link httpTransport} does.
 */
export function buildHttpTransport(url: string, options: HttpTransportOptions, override: string | undefined): HttpTransport {
  const settings = readOptions(options);
  const checked = authorUrl('httpTransport', url, settings.allowInsecure, 'https://telemetry.example.com/v1/reports');
  const endpoint = override?.trim() || undefined;
  const spec: HttpTransportSpec = { type: 'http', url: checked.href, ...(endpoint === undefined ? {} : { endpoint }), ...settings };
  const resolved = resolveEndpoint(url, endpoint, settings.allowInsecure);
  if ('error' in resolved) {
    const reason = resolved.error;
    return registerFactoryBuilt({
      name: `${displayUrl(checked)} (not used: TALLYHO_ENDPOINT is invalid)`,
      spec,
      send: () => Promise.resolve({ kind: 'failure', reason }),
    });
  }

  const target = new URL(resolved.url);
  return registerFactoryBuilt({
    name: displayUrl(target),
    spec,
    async send(report, sendOptions) {
      try {
        return await post(target, report, settings, sendOptions.signal);
      } catch (error) {
        // Reached only by a bug or an unserializable report: still an outcome, never a rejection.
        return { kind: 'failure', reason: `could not send: ${errorText(error)}` };
      }
    },
  });
}

/**
 * Applies the user's `TALLYHO_ENDPOINT` override to the author's URL, under the same rule as
 * {@link httpTransport}: `https:`, or `http:` to a loopback host or with `allowInsecure`.
 *
 * An override that is set but invalid yields an error, never the author's URL: the user asked for
 * reports to go elsewhere, and sending them to the author instead would break that trust.
 *
 * @param authorUrl - The URL given to `httpTransport()`.
 * @param envEndpoint - The override; `undefined` or blank means none.
 * @param allowInsecure - The author's `allowInsecure`. Default: false.
 * @returns `{ url }` (normalized) or `{ error }`, a sentence naming the variable.
 */
export function resolveEndpoint(
  authorUrl: string,
  envEndpoint: string | undefined,
  allowInsecure = false,
): { readonly url: string } | { readonly error: string } {
  if (envEndpoint === undefined || envEndpoint.trim() === '') {
    const checked = checkEndpointUrl(authorUrl, allowInsecure);
    return typeof checked === 'string'
      ? { error: `the URL ${JSON.stringify(displayRaw(authorUrl))} ${checked}` }
      : { url: checked.href };
  }
  const checked = checkEndpointUrl(envEndpoint.trim(), allowInsecure);
  if (typeof checked === 'string') {
    return {
      error: `TALLYHO_ENDPOINT=${JSON.stringify(displayRaw(envEndpoint.trim()))} ${checked}; reports are not sent until it is fixed or unset`,
    };
  }
  return { url: checked.href };
}

/** The author's options, checked, with defaults filled in: what the spec records besides the URLs. */
type Settings = Pick<HttpTransportSpec, 'headers' | 'timeoutMs' | 'gzipAboveBytes' | 'allowInsecure' | 'maxResponseBytes'>;

function readOptions(options: HttpTransportOptions): Settings {
  if (typeof options !== 'object' || options === null) throw new TypeError('httpTransport(url, options): options must be an object');
  const factory = 'httpTransport';
  return {
    headers: authorHeaders(factory, options.headers, RESERVED_HEADERS),
    timeoutMs: wholeNumber(factory, 'timeoutMs', options.timeoutMs, 5000, 1),
    gzipAboveBytes: wholeNumber(factory, 'gzipAboveBytes', options.gzipAboveBytes, 1024, 0),
    allowInsecure: flag(factory, 'allowInsecure', options.allowInsecure, false),
    maxResponseBytes: wholeNumber(factory, 'maxResponseBytes', options.maxResponseBytes, 64 * 1024, 0),
  };
}

async function post(target: URL, report: Report, settings: Settings, signal: AbortSignal): Promise<SendOutcome> {
  const headers: Record<string, string> = {
    ...settings.headers,
    'content-type': 'application/json',
    'idempotency-key': report.id,
    'user-agent': `tallyho/${VERSION}`,
  };
  return (await postBody(target, Buffer.from(JSON.stringify(report), 'utf8'), headers, settings, signal)).outcome;
}
