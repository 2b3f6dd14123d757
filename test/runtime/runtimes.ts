import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The runtimes under test: Node itself, and the binaries the `bun` and `deno` dev dependencies install. */
export const RUNTIMES = {
  node: { command: process.execPath, args: [] as string[] },
  bun: { command: `${root}node_modules/.bin/bun`, args: [] as string[] },
  deno: { command: `${root}node_modules/.bin/deno`, args: ['run', '--no-prompt', '-A'] },
} as const;

export type RuntimeName = keyof typeof RUNTIMES;

const DENO_CACHE = `${root}node_modules/.cache/tallyho-deno`;

export interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface ChildOptions {
  env: Record<string, string>;
  /** Sent once the child prints a `ready` line. */
  signal?: NodeJS.Signals;
  cwd?: string;
}

/** Runs `command args` with exactly `env` (never the test runner's), to its end. */
export function runChild(command: string, args: readonly string[], options: ChildOptions): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    // Deno keeps its caches under HOME, which the tests point at fresh folders: one cache for every run.
    const env = command === RUNTIMES.deno.command ? { DENO_DIR: DENO_CACHE, ...options.env } : options.env;
    const child = spawn(command, args, { env, cwd: options.cwd ?? root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let signalled = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (options.signal !== undefined && !signalled && stdout.split('\n').includes('ready')) {
        signalled = true;
        child.kill(options.signal);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** The version a runtime binary reports of itself. */
export async function runtimeVersion(name: RuntimeName): Promise<string> {
  if (name === 'node') return process.versions.node;
  const { stdout } = await runChild(RUNTIMES[name].command, ['--version'], { env: { PATH: process.env.PATH ?? '' } });
  return /(\d+\.\d+\.\d+)/.exec(stdout)![1]!;
}
