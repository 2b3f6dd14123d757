import { closeSync, existsSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { constants, setPriority } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtins } from '../config/builtins.js';
import { readTrustedFile } from '../config/trusted-files.js';
import { senderEnvironment } from '../config/env.js';
import type { Home } from '../config/home.js';
import { homePaths } from '../config/home.js';
import type { Log } from '../config/log.js';
import { errorText } from '../config/error-text.js';
import { senderCommand } from '../runtime/sender-command.js';

/** The CommonJS bundle's own file name, set by its banner; undefined in the ES module bundle. */
declare const __tallyhoModuleFile: string | undefined;

/** How long a detached sender may live, whatever the network does. */
export const SENDER_WATCHDOG_MS = 30_000;

/** The sender program, beside this bundle on disk; `undefined` when tallyho runs from source or a bundle of the host's. */
export function senderEntry(): string | undefined {
  try {
    const self = typeof __tallyhoModuleFile === 'string' ? __tallyhoModuleFile : fileURLToPath(import.meta.url);
    const path = join(dirname(self), 'sender.js');
    return existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

/** The lock a running sender holds on the spool; stale once its watchdog has passed. */
export function senderLockPath(home: Home): string {
  return join(homePaths.spoolRoot(home), 'sender.lock');
}

/** True when a sender that is still within its watchdog holds the lock. */
export function senderRunning(home: Home, now: number): boolean {
  try {
    const read = readTrustedFile(senderLockPath(home));
    if (read.kind !== 'ok') return false;
    const { pid, startedAt } = JSON.parse(read.text) as { pid: number; startedAt: number };
    if (now - startedAt > SENDER_WATCHDOG_MS + 5000) return false;
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts the detached sender at exit, when it can outlive its host and deliver: the host runs on a
 * plain node, bun or deno, which starts the sender too (see `senderCommand`), tallyho's sender file exists on
 * disk (not bundled into the host), the process is not PID 1 (a container's init takes its children
 * down with it), and no sender is already draining the spool. It gets a scrubbed environment and no
 * inherited `execArgv`, so it loads no host code. Never throws; returns whether it started one.
 */
export function launchSender(home: Home, log: Log): boolean {
  try {
    const entry = senderEntry();
    if (entry === undefined) return skip(log, 'no sender file beside tallyho (bundled host)');
    const command = senderCommand(entry);
    if ('skip' in command) return skip(log, command.skip);
    if (process.pid === 1) return skip(log, 'running as PID 1: a sender would die with this process');
    // A running sender looks again for due reports before it exits: it takes this one in.
    if (senderRunning(home, Date.now())) {
      log.debug('no detached sender: one is running, and it takes in what is due before it exits');
      return false;
    }
    const child = builtins.childProcess().spawn(command.command, [...command.args, home.config, home.cache], {
      detached: true,
      stdio: 'ignore',
      windowsHide: true,
      env: senderEnvironment(),
      cwd: process.cwd(),
    });
    child.on('error', () => {});
    child.unref();
    lowerPriority(child.pid);
    log.debug(`detached sender started (pid ${child.pid ?? '?'})`);
    return true;
  } catch (error) {
    return skip(log, `could not start the sender: ${errorText(error)}`);
  }
}

/**
 * The sender is background work: below normal priority (nice 10; Windows' below-normal class), it
 * never competes with the program the user is running, nor with its host's last milliseconds.
 */
function lowerPriority(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    setPriority(pid, constants.priority.PRIORITY_BELOW_NORMAL);
  } catch {
    // Not allowed here, or the sender is already gone: it runs at its inherited priority.
  }
}

function skip(log: Log, why: string): false {
  log.debug(`no detached sender: ${why}; the next run delivers what is waiting`);
  return false;
}

/**
 * Takes the sender lock, at most one holder per home: the lock file is created exclusively, and a
 * stale one (its sender died or outlived its watchdog) is first moved aside by a rename, which only
 * one of several senders can win. False when another live sender holds it.
 */
export function takeSenderLock(home: Home, now: number): boolean {
  const path = senderLockPath(home);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      const fd = openSync(path, 'wx', 0o600);
      try {
        writeSync(fd, JSON.stringify({ pid: process.pid, startedAt: now }));
      } finally {
        closeSync(fd);
      }
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || senderRunning(home, now) || !moveAsideStale(path)) return false;
    }
  }
  return false;
}

function moveAsideStale(path: string): boolean {
  const aside = `${path}.stale-${process.pid}`;
  try {
    renameSync(path, aside);
    rmSync(aside, { force: true });
    return true;
  } catch {
    return false;
  }
}

/** Gives the lock up, if this process holds it. */
export function releaseSenderLock(home: Home): void {
  const path = senderLockPath(home);
  try {
    const read = readTrustedFile(path);
    if (read.kind === 'ok' && (JSON.parse(read.text) as { pid?: number }).pid === process.pid) rmSync(path, { force: true });
  } catch {
    // Gone already.
  }
}
