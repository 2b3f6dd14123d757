/**
 * The exit and signal hook: runs a callback once when the process ends, by exit (normal end,
 * `process.exit()`, an uncaught exception or unhandled rejection) or by a signal that would kill it.
 *
 * Hand-written rather than signal-exit, whose hook assigns `process.exitCode` before the host's own
 * `exit` listeners run: Node's listener for an unsettled top-level await (`process.exitCode ??= 13`)
 * then sees 0, and the host exits 0 instead of 13. Here the exit path is a plain `exit` listener, which
 * changes nothing; it also runs in Bun, whose normal exit bypasses `process.emit`.
 *
 * The signal path keeps signal-exit's rules, and cooperates with it: when the host has a listener of
 * its own for the signal, the host decides (and if it exits, the exit listener reports); when only
 * tallyho's listeners (of any copy) and signal-exit's remain, tallyho reports, removes its listeners
 * and raises the signal again, so that the process still dies by it.
 *
 * Deno fires no `exit` event after an uncaught throw or rejection: it dispatches `error` /
 * `unhandledrejection` on the global scope first, and ends unless a listener prevents it. There the
 * hook listens for those too.
 */

import { detectRuntime, type RuntimeName } from '../runtime/runtime.js';

/** Marks a listener as tallyho's, across copies of tallyho in one process. */
const OWN = Symbol.for('tallyho.exit-hook.listener');

/** The signals that end a process by default, as signal-exit lists them. */
function endingSignals(): NodeJS.Signals[] {
  const signals: NodeJS.Signals[] = ['SIGHUP', 'SIGINT', 'SIGTERM'];
  if (process.platform !== 'win32') {
    signals.push('SIGALRM', 'SIGABRT', 'SIGVTALRM', 'SIGXCPU', 'SIGXFSZ', 'SIGUSR2', 'SIGTRAP', 'SIGSYS', 'SIGQUIT', 'SIGIOT');
  }
  if (process.platform === 'linux') signals.push('SIGIO', 'SIGPOLL', 'SIGPWR', 'SIGSTKFLT');
  return signals;
}

/** How many listeners signal-exit (v4, and v3) has on each signal: each loaded copy has one. */
function signalExitListeners(): number {
  const v4 = (globalThis as Record<symbol, { count?: unknown } | undefined>)[Symbol.for('signal-exit emitter')];
  const v3 = (process as unknown as { __signal_exit_emitter__?: { count?: unknown } }).__signal_exit_emitter__;
  const count = (e: { count?: unknown } | undefined): number => (typeof e?.count === 'number' ? e.count : 0);
  return count(v4) + count(v3);
}

/**
 * Calls `callback` once when the process ends: with `null` and the exit code (where the runtime
 * tells it) on exit, with the signal's name on a signal that ends it. Returns a function that removes
 * the hook. Never throws.
 */
export function onProcessExit(callback: (signal: NodeJS.Signals | null, code?: number) => void, runtime: RuntimeName = detectRuntime().name): () => void {
  let done = false;
  const listeners = new Map<NodeJS.Signals, () => void>();
  const run = (signal: NodeJS.Signals | null, code?: number): void => {
    if (done) return;
    done = true;
    callback(signal, code);
  };
  const onExit = Object.assign((code: unknown) => run(null, typeof code === 'number' ? code : undefined), { [OWN]: true });

  const detach = (): void => {
    process.removeListener('exit', onExit);
    for (const [signal, listener] of listeners) process.removeListener(signal, listener);
    listeners.clear();
  };

  try {
    process.on('exit', onExit);
  } catch {
    return () => {};
  }
  for (const signal of endingSignals()) {
    const listener = Object.assign(
      () => {
        const all = process.listeners(signal) as (((...args: unknown[]) => void) & { [OWN]?: boolean })[];
        const hosts = all.filter((l) => l[OWN] !== true).length - signalExitListeners();
        // The host listens for this signal: it decides whether the process ends.
        if (hosts > 0) return;
        detach();
        run(signal);
        try {
          process.kill(process.pid, process.platform === 'win32' && signal === 'SIGHUP' ? 'SIGINT' : signal);
        } catch {
          // Cannot raise it again: the process goes on, as it would have with a listener of the host's.
        }
      },
      { [OWN]: true },
    );
    try {
      process.on(signal, listener);
      listeners.set(signal, listener);
    } catch {
      // A signal this platform does not have.
    }
  }
  const detachDeno = runtime === 'deno' ? onDenoUncaught(() => done, callback) : () => {};
  return () => {
    done = true;
    detach();
    detachDeno();
  };
}

type ScopeListener = (event: { readonly defaultPrevented: boolean }) => void;

/**
 * Deno's end by an uncaught throw or rejection. A host listener registered earlier that prevented the
 * end is seen here; one registered later may still prevent it: the process then goes on with its
 * counts so far spooled, and the hook stays armed, so that its end reports what it counted since
 * (nothing lost, nothing counted twice).
 */
function onDenoUncaught(ended: () => boolean, callback: (signal: null, code: number) => void): () => void {
  const scope = globalThis as {
    addEventListener?(type: string, listener: ScopeListener): void;
    removeEventListener?(type: string, listener: ScopeListener): void;
  };
  const listener: ScopeListener = (event) => {
    // Deno ends with exit code 1 after an uncaught throw or rejection.
    if (!event.defaultPrevented && !ended()) callback(null, 1);
  };
  const types = ['error', 'unhandledrejection'];
  try {
    for (const type of types) scope.addEventListener?.(type, listener);
  } catch {
    return () => {};
  }
  return () => {
    for (const type of types) scope.removeEventListener?.(type, listener);
  };
}
