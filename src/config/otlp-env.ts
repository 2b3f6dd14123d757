import { type Env, envValue } from './env-value.js';

/**
 * The OpenTelemetry exporter variables as an OTLP transport uses them: the user's collector, its
 * credentials, and how to reach it. Plain JSON, so that it can be kept in a transport's spec.
 */
export interface OtlpEnv {
  /**
   * The metrics URL and the variable it came from: `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` as it is,
   * else `OTEL_EXPORTER_OTLP_ENDPOINT` with `v1/metrics` appended. Not checked here: a transport that
   * cannot use it says so, naming the variable.
   */
  readonly endpoint?: {
    /** The metrics URL, as the variable gives it. */
    readonly url: string;
    /** The variable the URL came from, so that a message about it can name it. */
    readonly variable: string;
  };
  /** `OTEL_EXPORTER_OTLP_HEADERS`, overridden key by key by `OTEL_EXPORTER_OTLP_METRICS_HEADERS`. */
  readonly headers?: Readonly<Record<string, string>>;
  /** `OTEL_EXPORTER_OTLP_METRICS_TIMEOUT`, else `OTEL_EXPORTER_OTLP_TIMEOUT`, in milliseconds. */
  readonly timeoutMs?: number;
  /** `gzip` (true) or `none` (false), from `OTEL_EXPORTER_OTLP_METRICS_COMPRESSION`, else `OTEL_EXPORTER_OTLP_COMPRESSION`. */
  readonly gzip?: boolean;
}

/** {@link OtlpEnv} with one line per value that could not be used, naming the variable and what was done instead. */
export interface OtlpEnvReading extends OtlpEnv {
  readonly warnings: readonly string[];
}

/**
 * Reads the OTLP exporter variables from `env`, as the OpenTelemetry specification defines them for
 * metrics. Pure: it reads only the object it is given and never throws. Empty or blank values mean
 * unset; a bad value is left out and named in `warnings`.
 */
export function readOtlpEnv(env: Env): OtlpEnvReading {
  const warnings: string[] = [];
  const value = (name: string): string | undefined => envValue(env, name);

  let endpoint: OtlpEnv['endpoint'];
  const metricsEndpoint = value('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT');
  const baseEndpoint = value('OTEL_EXPORTER_OTLP_ENDPOINT');
  if (metricsEndpoint !== undefined) {
    endpoint = { url: metricsEndpoint, variable: 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT' };
  } else if (baseEndpoint !== undefined) {
    // The specification appends the signal's path to the base, whatever path the base already has.
    endpoint = { url: `${baseEndpoint}${baseEndpoint.endsWith('/') ? '' : '/'}v1/metrics`, variable: 'OTEL_EXPORTER_OTLP_ENDPOINT' };
  }

  const general = parseHeaders('OTEL_EXPORTER_OTLP_HEADERS', value('OTEL_EXPORTER_OTLP_HEADERS'), warnings);
  const specific = parseHeaders('OTEL_EXPORTER_OTLP_METRICS_HEADERS', value('OTEL_EXPORTER_OTLP_METRICS_HEADERS'), warnings);
  const headers = general === undefined && specific === undefined ? undefined : { ...general, ...specific };

  const timeoutMs = firstOf(['OTEL_EXPORTER_OTLP_METRICS_TIMEOUT', 'OTEL_EXPORTER_OTLP_TIMEOUT'], value, (name, raw) => {
    const n = Number(raw);
    if (/^\d+$/.test(raw) && Number.isSafeInteger(n) && n > 0) return n;
    warnings.push(`${name}=${JSON.stringify(raw)} is not a positive whole number of milliseconds; using the transport's timeout`);
    return undefined;
  });

  const gzip = firstOf(['OTEL_EXPORTER_OTLP_METRICS_COMPRESSION', 'OTEL_EXPORTER_OTLP_COMPRESSION'], value, (name, raw) => {
    const word = raw.toLowerCase();
    if (word === 'gzip') return true;
    if (word === 'none') return false;
    warnings.push(`${name}=${JSON.stringify(raw)} is not gzip or none; using the transport's compression`);
    return undefined;
  });

  return {
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(headers === undefined ? {} : { headers }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(gzip === undefined ? {} : { gzip }),
    warnings,
  };
}

/** The first variable that is set decides, even when its value is bad: a bad specific value never falls back to the general one silently. */
function firstOf<T>(
  names: readonly string[],
  value: (name: string) => string | undefined,
  parse: (name: string, raw: string) => T | undefined,
): T | undefined {
  for (const name of names) {
    const raw = value(name);
    if (raw !== undefined) return parse(name, raw);
  }
  return undefined;
}

/**
 * `key1=value1,key2=value2`, each key and value trimmed and percent-decoded (the W3C Baggage format the
 * specification refers to). A malformed entry is skipped and named, never the whole list.
 */
function parseHeaders(name: string, raw: string | undefined, warnings: string[]): Record<string, string> | undefined {
  if (raw === undefined) return undefined;
  const headers: Record<string, string> = {};
  raw.split(',').forEach((entry, index) => {
    if (entry.trim() === '') return;
    const at = entry.indexOf('=');
    const key = at < 0 ? '' : safeDecode(entry.slice(0, at).trim());
    const val = at < 0 ? undefined : safeDecode(entry.slice(at + 1).trim());
    if (key === undefined || key === '' || val === undefined || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(key) || /[\r\n\0]/.test(val)) {
      // The entry may hold a secret: name its position, never its text.
      warnings.push(`${name}: entry ${index + 1} is not key=value with a valid header name and value; skipped`);
      return;
    }
    headers[key] = val;
  });
  return headers;
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
