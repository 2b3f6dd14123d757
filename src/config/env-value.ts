/** An environment as tallyho reads it: names to values, any of them possibly unset. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * One variable's value, trimmed; unset, blank or not a string (a hand-made `env` object) counts as
 * unset. Every variable tallyho reads goes through here, so that `FOO=" 1 "` and `FOO=1` mean the same.
 */
export function envValue(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (typeof raw !== 'string') return undefined;
  const trimmed = raw.trim();
  return trimmed === '' ? undefined : trimmed;
}
