import { describe, expect, it } from 'vitest';
import { detectRuntime, engineVersion } from '../../src/runtime/runtime.js';
import { compareVersions, MINIMUM_VERSIONS, serverRuntimeSupport } from '../../src/runtime/support.js';

const withBuiltins = { process: { getBuiltinModule: () => ({}) } };

describe('detectRuntime reads the runtime from globals', () => {
  it.each([
    [{ process: { versions: { node: '20.20.0' } } }, { name: 'node', version: '20.20.0' }],
    [{ process: { versions: { node: '24.3.0', bun: '1.4.5' } }, Bun: { version: '1.4.5' } }, { name: 'bun', version: '1.4.5' }],
    [{ process: { versions: { node: '24.2.0', deno: '2.9.6' } }, Deno: { version: { deno: '2.9.6' } } }, { name: 'deno', version: '2.9.6' }],
    [{ EdgeRuntime: 'edge-runtime', navigator: { userAgent: 'x' } }, { name: 'edge', version: 'unknown' }],
    [{ navigator: { userAgent: 'Cloudflare-Workers' } }, { name: 'edge', version: 'unknown' }],
    [{ document: {}, navigator: { userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36' } }, { name: 'browser', version: 'chromium 156' }],
    [{ WorkerGlobalScope: class {}, navigator: { userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0' } }, { name: 'worker', version: 'firefox 140' }],
    [{}, { name: 'unknown', version: 'unknown' }],
  ])('%j is %j', (globals, facts) => {
    expect(detectRuntime(globals as never)).toEqual(facts);
  });

  it('the real one here is node', () => {
    expect(detectRuntime()).toEqual({ name: 'node', version: process.versions.node });
  });

  it('names a browser engine by its major version only', () => {
    expect(engineVersion('Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/19.1 Safari/605.1.15')).toBe('safari 19');
    expect(engineVersion('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36')).toBe('chromium 156');
    expect(engineVersion('curl/8.0')).toBe('unknown');
    expect(engineVersion(undefined)).toBe('unknown');
  });
});

describe('serverRuntimeSupport: where the Node entry can run', () => {
  it('node, bun and deno at their minimum versions with getBuiltinModule (and every Deno permission)', () => {
    const granted = { permissions: { querySync: () => ({ state: 'granted' }) } };
    expect(serverRuntimeSupport({ name: 'node', version: MINIMUM_VERSIONS.node }, withBuiltins)).toBeUndefined();
    expect(serverRuntimeSupport({ name: 'bun', version: MINIMUM_VERSIONS.bun }, withBuiltins)).toBeUndefined();
    expect(serverRuntimeSupport({ name: 'deno', version: MINIMUM_VERSIONS.deno }, { ...withBuiltins, Deno: granted })).toBeUndefined();
    expect(serverRuntimeSupport()).toBeUndefined();
  });

  it.each([
    [{ name: 'bun', version: '1.1.30' }, withBuiltins, /bun 1\.1\.30 is older than/],
    [{ name: 'node', version: '20.15.1' }, withBuiltins, /node 20\.15\.1 is older than 20\.16\.0/],
    [{ name: 'bun', version: '9.0.0' }, { process: {} }, /bun 9\.0\.0 has no process\.getBuiltinModule/],
    [{ name: 'browser', version: 'chromium 156' }, {}, /loaded in a browser; bundle for the browser export condition/],
    [{ name: 'edge', version: 'unknown' }, {}, /loaded in an edge worker; bundle for the worker export condition/],
    [{ name: 'unknown', version: 'unknown' }, {}, /no Node, Bun or Deno runtime here/],
  ] as const)('%j is unsupported-runtime', (runtime, globals, reason) => {
    const verdict = serverRuntimeSupport(runtime, globals);
    expect(verdict?.rule).toBe('unsupported-runtime');
    expect(verdict?.reason).toMatch(reason);
  });

  it('Deno without a permission is no-permission, naming what is missing; a prompt counts as missing', () => {
    const states: Record<string, string> = { env: 'granted', read: 'granted', write: 'prompt', sys: 'granted', net: 'denied' };
    const asked: string[] = [];
    const deno = { permissions: { querySync: ({ name }: { name: string }) => (asked.push(name), { state: states[name]! }) } };
    const verdict = serverRuntimeSupport({ name: 'deno', version: MINIMUM_VERSIONS.deno }, { ...withBuiltins, Deno: deno });
    expect(verdict?.rule).toBe('no-permission');
    expect(verdict?.reason).toMatch(/^Deno was not given --allow-write, --allow-net: /);
    expect(asked.sort()).toEqual(['env', 'net', 'read', 'sys', 'write']);
    const throwing = { permissions: { querySync: () => { throw new Error('no such permission'); } } };
    expect(serverRuntimeSupport({ name: 'deno', version: MINIMUM_VERSIONS.deno }, { ...withBuiltins, Deno: throwing })?.rule).toBe('no-permission');
  });

  it('compares versions by number', () => {
    expect(compareVersions('1.10.0', '1.9.9')).toBeGreaterThan(0);
    expect(compareVersions('2.9.6', '2.9.6')).toBe(0);
    expect(compareVersions('1.4.5-canary.1+abc', '1.4.5')).toBe(0);
    expect(compareVersions('20.2.0', '20.16.0')).toBeLessThan(0);
  });
});
