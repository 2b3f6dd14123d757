/**
 * Which JavaScript runtime tallyho is in, read from globals only: nothing here loads a module, reads
 * the environment or asks for a permission, so it is safe at import and in every runtime.
 */
export type RuntimeName = 'node' | 'bun' | 'deno' | 'browser' | 'worker' | 'edge' | 'unknown';

/** A runtime and its own version (`unknown` where it does not tell). */
export interface RuntimeFacts {
  readonly name: RuntimeName;
  readonly version: string;
}

/** The globals tallyho looks at, all optional: any of them may be missing. */
interface Globals {
  readonly process?: { readonly versions?: Readonly<Record<string, string | undefined>> };
  readonly Bun?: { readonly version?: string };
  readonly Deno?: { readonly version?: { readonly deno?: string } };
  readonly document?: unknown;
  readonly navigator?: { readonly userAgent?: string };
  readonly EdgeRuntime?: unknown;
  readonly WorkerGlobalScope?: unknown;
}

/** Reads the runtime from `globals` (the real global object unless a test passes its own). */
export function detectRuntime(globals: Globals = globalThis as Globals): RuntimeFacts {
  const versions = globals.process?.versions;
  if (globals.Bun !== undefined || versions?.bun !== undefined) return { name: 'bun', version: versions?.bun ?? globals.Bun?.version ?? 'unknown' };
  if (globals.Deno !== undefined) return { name: 'deno', version: globals.Deno.version?.deno ?? versions?.deno ?? 'unknown' };
  // Vercel's edge runtime names itself; Cloudflare's workerd says so in its user agent.
  if (globals.EdgeRuntime !== undefined || globals.navigator?.userAgent === 'Cloudflare-Workers') return { name: 'edge', version: 'unknown' };
  if (typeof versions?.node === 'string') return { name: 'node', version: versions.node };
  if (globals.document !== undefined) return { name: 'browser', version: engineVersion(globals.navigator?.userAgent) };
  if (globals.WorkerGlobalScope !== undefined) return { name: 'worker', version: engineVersion(globals.navigator?.userAgent) };
  return { name: 'unknown', version: 'unknown' };
}

/**
 * The browser engine and its major version (`chromium 156`, `firefox 140`, `safari 19`): coarse on
 * purpose, so that a report does not carry a user agent string, which is half a fingerprint.
 */
export function engineVersion(userAgent: string | undefined): string {
  if (userAgent === undefined) return 'unknown';
  const firefox = /\bFirefox\/(\d+)/.exec(userAgent);
  if (firefox !== null) return `firefox ${firefox[1]}`;
  const chromium = /(?:\b|Headless)(?:Chrome|Chromium)\/(\d+)/.exec(userAgent);
  if (chromium !== null) return `chromium ${chromium[1]}`;
  const safari = /\bVersion\/(\d+)\S* .*\bSafari\//.exec(userAgent);
  if (safari !== null) return `safari ${safari[1]}`;
  return 'unknown';
}
