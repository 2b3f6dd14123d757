/**
 * Whether `hostname` (as `URL.hostname` spells it) names this machine: `localhost`, `127.0.0.0/8`,
 * or `::1`. Plain HTTP is allowed there because the bytes never leave the machine.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  if (host === 'localhost' || host === '[::1]' || host === '::1') return true;
  // The URL parser writes every IPv4 host as a canonical dotted quad (`127.1` becomes `127.0.0.1`),
  // so this needs no address parser of its own (node:net costs start-up time to load).
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Checks an endpoint URL against the transport rule: `https:`, or `http:` to a loopback host or when
 * `allowInsecure` is set. Returns the parsed URL, or a sentence saying what is wrong with it.
 */
export function checkEndpointUrl(raw: string, allowInsecure: boolean): URL | string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol !== 'http:') return `uses ${url.protocol} where https: is required`;
  if (allowInsecure || isLoopbackHost(url.hostname)) return url;
  return 'uses plain http: to a host that is not loopback, where https: is required';
}

/**
 * The URL without credentials, query or fragment: safe to print in status and debug lines, which
 * are meant for firewalls and people, not for secrets.
 */
export function displayUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/** A raw URL as it may be echoed in a message: parsed and stripped when it parses, shortened when not. */
export function displayRaw(raw: string): string {
  try {
    return displayUrl(new URL(raw));
  } catch {
    // Not a URL: credentials cannot be told apart, so show only enough to recognise the value.
    const flat = raw.replace(/\p{C}/gu, '?');
    return flat.length > 40 ? `${flat.slice(0, 40)}...` : flat;
  }
}
