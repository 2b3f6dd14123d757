import { basename } from 'node:path';
import { detectRuntime, type RuntimeName } from './runtime.js';

/** How to start the detached sender: the executable and its arguments, or why it cannot be started. */
export type SenderCommand = { readonly command: string; readonly args: readonly string[] } | { readonly skip: string };

/** What the sender does under Deno, and so the only permissions it gets (never `--allow-run`, never `-A`). */
const DENO_SENDER_FLAGS = ['run', '--no-prompt', '--no-config', '--allow-env', '--allow-read', '--allow-write', '--allow-net', '--allow-sys'];

interface Globals {
  readonly process?: { readonly execPath?: string; readonly versions?: Readonly<Record<string, string | undefined>> };
  readonly Deno?: { readonly permissions?: { querySync?(descriptor: { name: string }): { readonly state: string } } };
}

/**
 * The sender runs with the runtime that runs its host: `node sender.js`, `bun sender.js`, or
 * `deno run` with the permissions it needs, and only when the executable is that runtime itself (not
 * a single-executable application, Electron, `bun build --compile` or `deno compile`, whose executable
 * would start the host program again). Under Deno, only when the host may start programs
 * (`--allow-run`): tallyho never asks for a permission.
 */
export function senderCommand(entry: string, runtime: RuntimeName = detectRuntime().name, globals: Globals = globalThis as Globals): SenderCommand {
  const execPath = globals.process?.execPath ?? '';
  const executable = basename(execPath);
  const plain = (name: string) => new RegExp(`^${name}(\\.exe)?$`, 'i').test(executable);
  switch (runtime) {
    case 'node':
      if (!plain('node') || globals.process?.versions?.electron !== undefined) return { skip: `${executable} is not a plain node` };
      return { command: execPath, args: [entry] };
    case 'bun':
      if (!plain('bun')) return { skip: `${executable} is not a plain bun` };
      return { command: execPath, args: [entry] };
    case 'deno': {
      if (!plain('deno')) return { skip: `${executable} is not a plain deno` };
      let run: string;
      try {
        run = globals.Deno?.permissions?.querySync?.({ name: 'run' }).state ?? 'unknown';
      } catch {
        run = 'unknown';
      }
      if (run !== 'granted') return { skip: 'Deno was not given --allow-run' };
      return { command: execPath, args: [...DENO_SENDER_FLAGS, entry] };
    }
    default:
      return { skip: `no sender in ${runtime}` };
  }
}
