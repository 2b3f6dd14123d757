import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import vendors from 'ci-info/vendors.json' with { type: 'json' };
import { isCI } from '../../src/config/ci.js';

const require = createRequire(import.meta.url);
const realEnv = process.env;
afterEach(() => {
  process.env = realEnv;
});

/** ci-info's own verdict on `env`: it reads process.env when it is loaded, so it is loaded afresh. */
function ciInfoSays(env: Record<string, string>): boolean {
  process.env = env;
  const path = require.resolve('ci-info');
  delete require.cache[path];
  try {
    return (require(path) as { isCI: boolean }).isCI;
  } finally {
    process.env = realEnv;
    delete require.cache[path];
  }
}

/** An environment in which `vendor`'s CI is running. */
function vendorEnv(vendor: { env: unknown }): Record<string, string> {
  const env: Record<string, string> = {};
  for (const check of Array.isArray(vendor.env) ? vendor.env : [vendor.env]) {
    if (typeof check === 'string') env[check] = '1';
    else if ('includes' in check) env[check.env] = `/x/${check.includes}/y`;
    else if ('any' in check) env[check.any[0]] = '1';
    else Object.assign(env, check);
  }
  return env;
}

describe('isCI decides as ci-info does, on the environment it is given', () => {
  const cases = (vendors as { name: string; env: unknown }[]).map((vendor) => [vendor.name, vendorEnv(vendor)] as const);

  it.each(cases)('%s', (_name, env) => {
    expect(isCI(env)).toBe(true);
    expect(isCI(env)).toBe(ciInfoSays(env));
    // CI=false turns every vendor off, in ci-info as here.
    expect(isCI({ ...env, CI: 'false' })).toBe(ciInfoSays({ ...env, CI: 'false' }));
  });

  it.each([{}, { CI: 'true' }, { BUILD_NUMBER: '7' }, { CI: '' }, { PATH: '/usr/bin', HOME: '/root' }])('%j', (env) => {
    expect(isCI(env)).toBe(ciInfoSays(env as Record<string, string>));
  });
});
