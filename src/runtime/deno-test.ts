import { readFileSync } from 'node:fs';

interface DenoGlobal {
  readonly internal?: symbol;
  readonly [key: symbol]: unknown;
}

/**
 * Whether this process is `deno test`. Deno sets no variable for its test runner, and its
 * `process.argv` reads the same under `deno run` and `deno test`: the command line the kernel keeps
 * (`/proc/self/cmdline`, Linux) names the subcommand; elsewhere, the hooks Deno installs only for its
 * test runner tell. Call it only once Deno's read permission is known to be granted. Never throws.
 */
export function runningUnderDenoTest(globals: object = globalThis): boolean {
  const deno = (globals as { Deno?: DenoGlobal }).Deno;
  if (deno === undefined) return false;
  try {
    const words = readFileSync('/proc/self/cmdline', 'utf8').split('\0').slice(1);
    const subcommand = words.find((word) => !word.startsWith('-'));
    if (subcommand !== undefined) return subcommand === 'test';
  } catch {
    // No /proc here (macOS, Windows): the test runner's hooks tell instead.
  }
  try {
    const internal = deno.internal === undefined ? undefined : deno[deno.internal];
    return typeof internal === 'object' && internal !== null && 'installTestIsolateExitHandler' in internal;
  } catch {
    return false;
  }
}
