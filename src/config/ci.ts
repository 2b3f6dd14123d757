import vendors from 'ci-info/vendors.json' with { type: 'json' };
import type { Env } from './env-value.js';

/** One entry of ci-info's vendor list: the variables that show its CI is running. */
type VendorEnv = string | { readonly env: string; readonly includes: string } | { readonly any: readonly string[] } | Readonly<Record<string, string>>;

/**
 * Whether `env` is a CI environment, by ci-info's rules and its list of vendors. ci-info itself
 * computes its verdict when it is imported, from `process.env`: under Deno without `--allow-env` that
 * import throws, and it could only ever judge the real environment. Its data, applied here to the
 * environment tallyho was given, decides the same way without either problem.
 */
export function isCI(env: Env): boolean {
  if (env.CI === 'false') return false;
  const generic = ['BUILD_ID', 'BUILD_NUMBER', 'CI', 'CI_APP_ID', 'CI_BUILD_ID', 'CI_BUILD_NUMBER', 'CI_NAME', 'CONTINUOUS_INTEGRATION', 'RUN_ID'];
  if (generic.some((name) => Boolean(env[name]))) return true;
  return (vendors as readonly { readonly env: VendorEnv | readonly VendorEnv[] }[]).some((vendor) =>
    (Array.isArray(vendor.env) ? vendor.env : [vendor.env]).every((check: VendorEnv) => matches(env, check)),
  );
}

function matches(env: Env, check: VendorEnv): boolean {
  if (typeof check === 'string') return Boolean(env[check]);
  if ('env' in check && 'includes' in check) return env[check.env]?.includes(check.includes as string) ?? false;
  if ('any' in check && Array.isArray(check.any)) return check.any.some((name: string) => Boolean(env[name]));
  return Object.entries(check as Readonly<Record<string, string>>).every(([name, value]) => env[name] === value);
}
