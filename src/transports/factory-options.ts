import { builtins } from '../config/builtins.js';
import { checkEndpointUrl, displayRaw } from './loopback.js';

/*
 * The checks every transport factory makes of its author's options, written once. Each throws a
 * TypeError that names the factory and the option, and says what is allowed: the factories run inside
 * `createTelemetry`'s caller, where a bad option is the author's to fix.
 */

/** The headers tallyho's own framing depends on, for every HTTP-based transport. */
const FRAMING_HEADERS = ['content-type', 'content-encoding', 'content-length', 'user-agent', 'host', 'connection', 'transfer-encoding'];

/** The headers a factory sets itself: the framing ones and `extra` (such as `idempotency-key`). */
export function reservedHeaders(...extra: string[]): ReadonlySet<string> {
  return new Set([...FRAMING_HEADERS, ...extra]);
}

/** A `true`/`false` option, or its default when absent. */
export function flag(factory: string, name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TypeError(`${factory}: ${name} must be true or false (default ${fallback})`);
  return value;
}

/** A whole-number option of at least `min`, or its default when absent. */
export function wholeNumber(factory: string, name: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new TypeError(`${factory}: ${name} must be a whole number of at least ${min} (default ${fallback}); got ${String(value)}`);
  }
  return value;
}

/** The author's extra request headers, checked one by one and frozen; none of them may be `reserved`. */
export function authorHeaders(factory: string, headers: unknown, reserved: ReadonlySet<string>): Readonly<Record<string, string>> {
  if (headers === undefined) return {};
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
    throw new TypeError(`${factory}: headers must be an object of header names to string values`);
  }
  const copy: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (reserved.has(name.toLowerCase())) throw new TypeError(`${factory}: the header ${JSON.stringify(name)} is set by tallyho; remove it from headers`);
    if (typeof value !== 'string') throw new TypeError(`${factory}: the header ${JSON.stringify(name)} must have a string value`);
    if (!validHeader(name, value)) {
      throw new TypeError(`${factory}: the header ${JSON.stringify(name)} has an invalid name or value (no spaces in names, no line breaks)`);
    }
    copy[name] = value;
  }
  return Object.freeze(copy);
}

/** Whether Node would send the header as it is. */
export function validHeader(name: string, value: string): boolean {
  try {
    builtins.http().validateHeaderName(name);
    builtins.http().validateHeaderValue(name, value);
    return true;
  } catch {
    return false;
  }
}

/** The author's URL, parsed, under the transport rule (`https:`, or loopback, or `allowInsecure`). */
export function authorUrl(factory: string, url: unknown, allowInsecure: boolean, example: string): URL {
  if (typeof url !== 'string') throw new TypeError(`${factory}(url): url must be a string, such as "${example}"`);
  const checked = checkEndpointUrl(url, allowInsecure);
  if (typeof checked === 'string') {
    throw new TypeError(
      `${factory}(${JSON.stringify(displayRaw(url))}): the URL ${checked}; pass an https: URL` +
        (checked.includes('plain http:') ? ', or set allowInsecure: true for a trusted network' : ''),
    );
  }
  return checked;
}

/**
 * A numeric field of a spec read from disk: `undefined` when absent, `NaN` when it is not a number
 * (so that the factory's own check names it, rather than quietly taking the default).
 */
export function specNumber(spec: Readonly<Record<string, unknown>>, key: string): number | undefined {
  const value = spec[key];
  return value === undefined ? undefined : typeof value === 'number' ? value : Number.NaN;
}
