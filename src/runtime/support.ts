import { detectRuntime, type RuntimeFacts } from './runtime.js';

/**
 * The oldest version of each server runtime that tallyho is tested on (package.json's `engines` says
 * the same): older ones lack `process.getBuiltinModule` (Node before 20.16, Bun 1.1) or were never
 * tried, so tallyho stays off there rather than risk its host.
 */
export const MINIMUM_VERSIONS = { node: '20.16.0', bun: '1.4.5', deno: '2.9.6' } as const;

/** Why tallyho cannot run here: the runtime itself, or what the host was allowed to do. */
export interface Unsupported {
  readonly rule: 'unsupported-runtime' | 'no-permission';
  readonly reason: string;
}

/** The Deno permissions tallyho uses, with the flag that grants each. */
const DENO_PERMISSIONS = [
  { name: 'env', flag: '--allow-env', why: 'the opt-out variables' },
  { name: 'read', flag: '--allow-read', why: 'consent files' },
  { name: 'write', flag: '--allow-write', why: 'the spool' },
  { name: 'sys', flag: '--allow-sys', why: 'the home folder and platform facts' },
  { name: 'net', flag: '--allow-net', why: 'sending' },
] as const;

interface DenoPermissions {
  readonly permissions?: { querySync?(descriptor: { name: string }): { readonly state: string } };
}

/**
 * Whether the Node entry can run in this process: a server runtime (Node, Bun, Deno) at or above its
 * minimum version, with `process.getBuiltinModule`, and under Deno every permission tallyho uses,
 * granted up front (tallyho never triggers a permission prompt). Returns `undefined` when it can,
 * otherwise the rule and a sentence for `status()`. Never throws.
 */
export function serverRuntimeSupport(runtime: RuntimeFacts = detectRuntime(), globals: object = globalThis): Unsupported | undefined {
  const unsupported = (reason: string): Unsupported => ({ rule: 'unsupported-runtime', reason });
  const { name, version } = runtime;
  if (name !== 'node' && name !== 'bun' && name !== 'deno') {
    return unsupported(
      name === 'unknown'
        ? 'no Node, Bun or Deno runtime here; in browsers and edge workers, bundle tallyho for them (the browser and worker export conditions)'
        : `this is tallyho's Node entry, loaded in ${name === 'edge' ? 'an edge worker' : `a ${name}`}; bundle for the ${name === 'edge' ? 'worker' : name} export condition to get the web entry`,
    );
  }
  const minimum = MINIMUM_VERSIONS[name];
  if (compareVersions(version, minimum) < 0) return unsupported(`${name} ${version} is older than ${minimum}, the oldest ${name} tallyho is tested on`);
  const process = (globals as { process?: { getBuiltinModule?: unknown } }).process;
  if (typeof process?.getBuiltinModule !== 'function') return unsupported(`${name} ${version} has no process.getBuiltinModule`);
  if (name === 'deno') return denoPermissions((globals as { Deno?: DenoPermissions }).Deno);
  return undefined;
}

function denoPermissions(deno: DenoPermissions | undefined): Unsupported | undefined {
  const missing: string[] = [];
  for (const permission of DENO_PERMISSIONS) {
    let state: string;
    try {
      state = deno?.permissions?.querySync?.({ name: permission.name }).state ?? 'unknown';
    } catch {
      state = 'unknown';
    }
    // `prompt` counts as missing: asking would stop the host program at a question it did not ask.
    if (state !== 'granted') missing.push(permission.flag);
  }
  if (missing.length === 0) return undefined;
  return {
    rule: 'no-permission',
    reason: `Deno was not given ${missing.join(', ')}: tallyho needs ${DENO_PERMISSIONS.map((p) => p.flag).join(' ')} (${DENO_PERMISSIONS.map((p) => p.why).join(', ')}), so it is off and sends nothing`,
  };
}

/** Compares dotted versions numerically (`1.10.0` after `1.9.9`); a part that is not a number counts as 0. */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string) => v.split(/[.+-]/).slice(0, 3).map((p) => Number.parseInt(p, 10) || 0);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
