import { onExit } from 'signal-exit';
import { detectRuntime, type RuntimeName } from './runtime.js';

/** Called once when the process ends: with the signal that ends it, or `null` for any other end. */
export type ExitCallback = (signal: NodeJS.Signals | null) => void;

interface EventTargetLike {
  addEventListener?(type: string, listener: (event: { readonly defaultPrevented: boolean }) => void): void;
  removeEventListener?(type: string, listener: (event: { readonly defaultPrevented: boolean }) => void): void;
}

/**
 * Runs `callback` once at the process's end, whichever way it ends, in Node, Bun and Deno alike.
 * signal-exit covers Node (normal exit, `process.exit(n)`, uncaught errors, signals it re-raises);
 * each runtime's gaps are filled here:
 * - Bun: a normal end, an uncaught throw or rejection bypass the `process.emit` signal-exit hooks
 *   (oven-sh/bun#12918), while a plain `exit` listener runs.
 * - Deno: after an uncaught throw or rejection no `exit` event comes; Deno dispatches `error` /
 *   `unhandledrejection` on the global scope first, and ends unless a listener prevents it.
 * Never changes how the process ends: no listener here prevents, returns a value or re-throws.
 * Returns the function that detaches every hook.
 */
export function onProcessExit(callback: ExitCallback, runtime: RuntimeName = detectRuntime().name): () => void {
  let ran = false;
  const once = (signal: NodeJS.Signals | null): void => {
    if (ran) return;
    ran = true;
    callback(signal);
  };
  // Never return true from signal-exit's callback: that would stop it from re-raising the host's signal.
  const detachers = [onExit((_code, signal) => void once((signal as NodeJS.Signals | null) ?? null))];

  if (runtime === 'bun') {
    const listener = (): void => once(null);
    process.on('exit', listener);
    detachers.push(() => process.removeListener('exit', listener));
  }

  if (runtime === 'deno') {
    const scope = globalThis as EventTargetLike;
    // A host's listener registered earlier that prevented the end is seen here; one registered later
    // may still prevent it. The process then goes on with its counts so far spooled, and the hook
    // stays armed: its end reports what it counted since (none lost, none counted twice).
    const listener = (event: { readonly defaultPrevented: boolean }): void => {
      if (!event.defaultPrevented && !ran) callback(null);
    };
    for (const type of ['error', 'unhandledrejection']) {
      scope.addEventListener?.(type, listener);
      detachers.push(() => scope.removeEventListener?.(type, listener));
    }
  }

  return () => {
    for (const detach of detachers) detach();
  };
}
