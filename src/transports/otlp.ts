import { randomUUID } from '../config/random.js';
import type { Report } from '../report/report.js';
import { VERSION } from '../version.js';
import { postBody, type PostSettings } from './http-post.js';
import { authorHeaders, authorUrl, flag, reservedHeaders, specNumber, validHeader, wholeNumber } from './factory-options.js';
import { checkEndpointUrl, displayRaw, displayUrl } from './loopback.js';
import { registerFactoryBuilt } from './rebuildable.js';
import { dataPointCount, encodeMetricsRequest } from './otlp-encode.js';
import type { OtlpEnv } from '../config/otlp-env.js';
import type { SendOutcome, Transport, TransportSpec } from './transport.js';
import { errorText } from '../config/error-text.js';

/** Options of {@link otlpTransport}. */
export interface OtlpTransportOptions {
  /**
   * Extra request headers, such as the collector's API key. `content-type`, `content-encoding`,
   * `content-length`, `user-agent`, `host`, `connection` and `transfer-encoding` are tallyho's own
   * and cannot be replaced. Default: none.
   */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Gzip request bodies (OTLP's `compression: gzip`): every OTLP/HTTP receiver takes it, and the
   * resource and descriptions repeated in each request compress well. Default: true.
   */
  readonly gzip?: boolean;
  /** How long one attempt may take, from connecting to the last byte read. Default: 5000. */
  readonly timeoutMs?: number;
  /**
   * Allows plain `http:` to hosts that are not loopback: metrics then cross the network readable by
   * anyone on the path, so this is for a collector inside a trusted network. Default: false.
   */
  readonly allowInsecure?: boolean;
  /** At most this many bytes of a reply are read; the connection is closed after them. Default: 65536. */
  readonly maxResponseBytes?: number;
  /**
   * Lets the user's OpenTelemetry exporter variables redirect the metrics to their own collector:
   * `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`, else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/metrics`, with
   * the headers of `OTEL_EXPORTER_OTLP_HEADERS` / `OTEL_EXPORTER_OTLP_METRICS_HEADERS`, and the
   * timeout and compression variables. Default: false (the variables are ignored).
   *
   * The headers travel with the endpoint: the author's `headers` never go to the user's collector,
   * and the user's never go to the author's URL. The user's endpoint may be plain `http:` to any
   * host, as for every other OTLP exporter in the process: it is the user's own network.
   */
  readonly useOtelEnv?: boolean;
}

/**
 * The serializable description of an OTLP transport, from which `transportFromSpec()` rebuilds it in
 * another process (the detached sender). `otelEnv` is the OpenTelemetry variables as they were when
 * the transport was built, kept so that metrics made under the user's endpoint never go to the
 * author's URL.
 */
export interface OtlpTransportSpec extends TransportSpec {
  /** Tells `transportFromSpec()` to rebuild an OTLP transport. */
  readonly type: 'otlp';
  /** The author's metrics URL, as checked and normalized when the transport was built. */
  readonly url: string;
  /** The author's extra request headers; never sent to the user's collector. Empty when none were given. */
  readonly headers: Readonly<Record<string, string>>;
  /** Whether request bodies are gzip-compressed (true unless the author set it). */
  readonly gzip: boolean;
  /** How long one attempt may take, in milliseconds (5000 unless the author set it). */
  readonly timeoutMs: number;
  /** Whether plain `http:` to a host that is not loopback was allowed (false unless the author set it). */
  readonly allowInsecure: boolean;
  /** At most this many bytes of a reply are read (65536 unless the author set it). */
  readonly maxResponseBytes: number;
  /** Whether the user's OpenTelemetry exporter variables may redirect the metrics (false unless the author set it). */
  readonly useOtelEnv: boolean;
  /** The variables as read when the transport was built; present only under `useOtelEnv`. */
  readonly otelEnv?: OtlpEnv;
}

/** An OTLP transport together with its {@link OtlpTransportSpec}. */
export interface OtlpTransport extends Transport {
  readonly spec: OtlpTransportSpec;
}

/** A success that has something to say under `TALLYHO_DEBUG`, such as a collector's partial-success message. */
type NotedSuccess = Extract<SendOutcome, { kind: 'success' }>;

/** Headers whose values tallyho's own framing depends on. */
const RESERVED_HEADERS = reservedHeaders();

/** A report with no counts, errors or drops (one that only carries ids) has no OTLP points to send. */
const NOTHING_TO_SEND: NotedSuccess = { kind: 'success', note: 'nothing to send: the report counts nothing' };

/**
 * A transport that sends each report as OTLP/HTTP JSON metrics (`POST .../v1/metrics`) to an
 * OpenTelemetry Collector or any OTLP receiver, with no OpenTelemetry SDK in the process. One attempt
 * per send; tallyho retries it on OTLP's schedule.
 *
 * Each report is one resource (`service.name` = project, `service.version`, `telemetry.sdk.*`,
 * `host.arch`, `os.type`, `process.runtime.*`, a random `service.instance.id` per process, and the
 * salted ids the report's level carries as `tallyho.week_id`, `tallyho.install_id`, ...), one scope
 * `tallyho`, and monotonic delta Sums `tallyho.calls`, `tallyho.errors` and `tallyho.dropped` (unit
 * `{call}`) whose points carry the counted name as `code.function.name` and span the report's period.
 * Receivers that keep cumulative series (Prometheus) need the Collector's `deltatocumulative` processor.
 *
 * Outcomes follow OTLP: 2xx is success, and a partial success is not retried, its
 * `rejectedDataPoints` given as `rejected`; 429, 502, 503, 504, network errors and timeouts are
 * retryable (honouring `Retry-After`, at most 60 s); any other status is a failure.
 *
 * @param url - The full metrics URL, normally ending in `/v1/metrics`. Must be `https:`, unless the
 *   host is loopback (`localhost`, `127.0.0.0/8`, `[::1]`) or `allowInsecure` is set.
 * @throws TypeError when `url` or an option is unusable; the message says what to change.
 *
 * @example
 * ```ts
 * otlpTransport('https://otlp.acme.dev/v1/metrics', { headers: { authorization: 'Bearer ...' }, useOtelEnv: true })
 * ```
 */
export function otlpTransport(url: string, options: OtlpTransportOptions = {}): OtlpTransport {
  return buildOtlpTransport(url, options, undefined);
}

/**
 * {@link otlpTransport} under the user's OpenTelemetry exporter variables, as read where it runs:
 * tallyho's own plumbing, for `createTelemetry` and the detached sender. They apply only when the
 * author set `useOtelEnv`; the spec records them, so that what is rebuilt from it sends where this
 * one does.
 *
 * @throws TypeError as {@link otlpTransport} does.
 */
export function buildOtlpTransport(url: string, options: OtlpTransportOptions, variables: OtlpEnv | undefined): OtlpTransport {
  const factory = 'otlpTransport';
  if (typeof options !== 'object' || options === null) throw new TypeError('otlpTransport(url, options): options must be an object');
  const allowInsecure = flag(factory, 'allowInsecure', options.allowInsecure, false);
  const useOtelEnv = flag(factory, 'useOtelEnv', options.useOtelEnv, false);
  const checked = authorUrl(factory, url, allowInsecure, 'https://otlp.example.com/v1/metrics');
  const otelEnv = useOtelEnv ? readOtelEnvOption(variables) : undefined;
  const spec: OtlpTransportSpec = {
    type: 'otlp',
    url: checked.href,
    headers: authorHeaders(factory, options.headers, RESERVED_HEADERS),
    gzip: flag(factory, 'gzip', options.gzip, true),
    timeoutMs: wholeNumber(factory, 'timeoutMs', options.timeoutMs, 5000, 1),
    allowInsecure,
    maxResponseBytes: wholeNumber(factory, 'maxResponseBytes', options.maxResponseBytes, 64 * 1024, 0),
    useOtelEnv,
    ...(otelEnv === undefined ? {} : { otelEnv }),
  };

  const target = resolveTarget(spec, checked);
  if ('error' in target) {
    const reason = target.error;
    return registerFactoryBuilt({
      name: `OTLP ${displayUrl(checked)} (not used: ${target.variable} is invalid)`,
      spec,
      send: () => Promise.resolve({ kind: 'failure', reason }),
    });
  }
  const headers: Record<string, string> = {
    ...target.headers,
    'content-type': 'application/json',
    'user-agent': `tallyho/${VERSION}`,
  };
  const settings: PostSettings = {
    timeoutMs: target.timeoutMs,
    gzipAboveBytes: target.gzip ? 0 : Number.POSITIVE_INFINITY,
    maxResponseBytes: spec.maxResponseBytes,
  };
  return registerFactoryBuilt({
    name: `OTLP ${displayUrl(target.url)}`,
    spec,
    async send(report, sendOptions) {
      try {
        return await send(target.url, report, headers, settings, sendOptions.signal);
      } catch (error) {
        // Reached only by a bug or a report that cannot be encoded: still an outcome, never a rejection.
        return { kind: 'failure', reason: `could not send: ${errorText(error)}` };
      }
    },
  });
}

/**
 * Rebuilds an OTLP transport from its spec in another process (the detached sender). The spec comes
 * from a file on disk, so anything may be in it: every field is checked, and this never throws.
 *
 * @param otelEnv - The OpenTelemetry variables where this runs. When they name an endpoint they win
 *   over the ones recorded in the spec; otherwise the recorded ones stand, so that metrics meant for
 *   the user's collector never go to the author's URL. Default: none.
 * @returns `{ transport }`, or `{ error }` saying why the spec cannot be used.
 */
export function otlpTransportFromSpec(
  spec: Readonly<Record<string, unknown>>,
  otelEnv?: OtlpEnv,
): { readonly transport: OtlpTransport } | { readonly error: string } {
  if (typeof spec.url !== 'string') return { error: 'the otlp transport spec has no url' };
  const recorded = spec.otelEnv as OtlpEnv | undefined;
  try {
    const options: OtlpTransportOptions = {
      headers: spec.headers as Record<string, string> | undefined,
      gzip: spec.gzip as boolean | undefined,
      timeoutMs: specNumber(spec, 'timeoutMs'),
      allowInsecure: spec.allowInsecure as boolean | undefined,
      maxResponseBytes: specNumber(spec, 'maxResponseBytes'),
      useOtelEnv: spec.useOtelEnv as boolean | undefined,
    };
    return { transport: buildOtlpTransport(spec.url, options, otelEnv?.endpoint !== undefined ? otelEnv : recorded) };
  } catch (error) {
    // The factory's TypeErrors are written for authors; here they describe a damaged spec.
    return { error: `unusable transport spec: ${errorText(error)}` };
  }
}

interface Target {
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly gzip: boolean;
}

/**
 * Where and how metrics go: the user's endpoint with the user's headers, or the author's URL with the
 * author's; the user's timeout and compression either way. A user endpoint that cannot be used is an
 * error, never a fall-back to the author's URL: the user asked for the metrics to go elsewhere.
 */
function resolveTarget(spec: OtlpTransportSpec, authorUrl: URL): Target | { readonly error: string; readonly variable: string } {
  const env = spec.otelEnv;
  const timeoutMs = env?.timeoutMs ?? spec.timeoutMs;
  const gzip = env?.gzip ?? spec.gzip;
  if (env?.endpoint === undefined) return { url: authorUrl, headers: spec.headers, timeoutMs, gzip };
  const { url, variable } = env.endpoint;
  // The same rule as every OTLP exporter the user points there: their collector, their network.
  const checked = checkEndpointUrl(url, true);
  if (typeof checked === 'string') {
    return { variable, error: `${variable}=${JSON.stringify(displayRaw(url))} ${checked}; metrics are not sent until it is fixed or unset` };
  }
  const headers = env.headers ?? {};
  return { url: checked, headers, timeoutMs, gzip };
}

async function send(
  target: URL,
  report: Report,
  headers: Readonly<Record<string, string>>,
  settings: PostSettings,
  signal: AbortSignal,
): Promise<SendOutcome> {
  const request = encodeMetricsRequest(report, instanceId());
  const points = dataPointCount(request);
  if (points === 0) return NOTHING_TO_SEND;
  const { outcome, reply } = await postBody(target, Buffer.from(JSON.stringify(request), 'utf8'), headers, settings, signal);
  if (outcome.kind !== 'success') return outcome;
  return partialSuccess(reply, points);
}

/**
 * Reads an `ExportMetricsServiceResponse`. A partial success is final (OTLP: never retried); its
 * rejected points are reported, and the receiver's message is kept for debug output. A reply that is
 * not JSON (an empty body, a proxy's page) is a plain success: the status already said so.
 */
function partialSuccess(reply: Buffer, points: number): SendOutcome {
  let body: unknown;
  try {
    body = JSON.parse(reply.toString('utf8'));
  } catch {
    return { kind: 'success' };
  }
  const partial = (body as { partialSuccess?: unknown } | null)?.partialSuccess;
  if (typeof partial !== 'object' || partial === null) return { kind: 'success' };
  const { rejectedDataPoints, errorMessage } = partial as { rejectedDataPoints?: unknown; errorMessage?: unknown };
  // int64 in OTLP/JSON: a number or a decimal string.
  const raw = typeof rejectedDataPoints === 'string' && /^\d+$/.test(rejectedDataPoints) ? Number(rejectedDataPoints) : rejectedDataPoints;
  const rejected = typeof raw === 'number' && Number.isSafeInteger(raw) && raw > 0 ? Math.min(raw, points) : 0;
  const message = typeof errorMessage === 'string' ? errorMessage.replace(/[\p{C}\s]+/gu, ' ').trim().slice(0, 200) : '';
  const note = message === '' ? undefined : `the receiver said: ${message}`;
  const outcome: NotedSuccess = {
    kind: 'success',
    ...(rejected > 0 ? { rejected } : {}),
    ...(note === undefined ? {} : { note }),
  };
  return outcome;
}

let processInstanceId: string | undefined;

/** `service.instance.id`: made on the first send, never at import, and kept for the process's life. */
function instanceId(): string {
  processInstanceId ??= randomUUID();
  return processInstanceId;
}

/**
 * The user's headers that can be sent: tallyho's own framing headers and unusable ones are left out,
 * not thrown for, since a throw here would send the metrics to the author's URL instead.
 */
function usableHeaders(headers: unknown): Readonly<Record<string, string>> {
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) return {};
  const usable: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    // Left out: the reader of the variables has already named the bad entry.
    if (RESERVED_HEADERS.has(name.toLowerCase()) || typeof value !== 'string' || !validHeader(name, value)) continue;
    usable[name] = value;
  }
  return Object.freeze(usable);
}

/** Checks a recorded or passed {@link OtlpEnv} field by field: a spec file may hold anything. */
function readOtelEnvOption(env: OtlpEnv | undefined): OtlpEnv | undefined {
  if (env === undefined) return undefined;
  if (typeof env !== 'object' || env === null) throw new TypeError('otlpTransport: otelEnv must be the object readOtlpEnv() returns');
  const factory = 'otlpTransport';
  const out: { -readonly [K in keyof OtlpEnv]: OtlpEnv[K] } = {};
  if (env.endpoint !== undefined) {
    const { url, variable } = env.endpoint as { url?: unknown; variable?: unknown };
    if (typeof url !== 'string' || typeof variable !== 'string') throw new TypeError('otlpTransport: otelEnv.endpoint must be { url, variable }');
    out.endpoint = { url, variable };
  }
  if (env.headers !== undefined) out.headers = usableHeaders(env.headers);
  if (env.timeoutMs !== undefined) out.timeoutMs = wholeNumber(factory, 'otelEnv.timeoutMs', env.timeoutMs, 5000, 1);
  if (env.gzip !== undefined) out.gzip = flag(factory, 'otelEnv.gzip', env.gzip, true);
  return out;
}
