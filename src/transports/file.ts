import { dirname, resolve } from 'node:path';
import { registerFactoryBuilt } from './rebuildable.js';
import type { Transport, TransportSpec } from './transport.js';
import { builtins } from '../config/builtins.js';
import { errorText } from '../config/error-text.js';

/** The serializable description of a file transport, from which `transportFromSpec()` rebuilds it. */
export interface FileTransportSpec extends TransportSpec {
  /** Tells `transportFromSpec()` to rebuild a file transport. */
  readonly type: 'file';
  /** Absolute: a rebuilt transport may run in a process with another working directory. */
  readonly path: string;
}

/** A file transport together with its {@link FileTransportSpec}. */
export interface FileTransport extends Transport {
  readonly spec: FileTransportSpec;
}

/**
 * A transport that appends each report to `path` as one line of JSON (JSON Lines), for authors who
 * collect reports themselves or want a local record.
 *
 * The file is created readable by its owner only (mode 0600), and missing folders with mode 0700:
 * reports say what a person ran. A write error is a failure outcome, never an exception.
 *
 * @param path - The file; a relative path is resolved against the working directory now, once.
 * @throws TypeError when `path` is not a non-empty string.
 */
export function fileTransport(path: string): FileTransport {
  if (typeof path !== 'string' || path.trim() === '' || path.includes('\0')) {
    throw new TypeError('fileTransport(path): path must be a non-empty file path, such as "./telemetry.jsonl"');
  }
  const absolute = resolve(path);
  return registerFactoryBuilt({
    name: `file ${absolute}`,
    spec: { type: 'file', path: absolute },
    async send(report, options) {
      if (options.signal.aborted) return { kind: 'retryable', reason: 'not written: the caller stopped waiting' };
      try {
        // One write per line, in append mode: lines from concurrent writers do not interleave.
        const line = `${JSON.stringify(report)}\n`;
        await builtins.fsPromises().mkdir(dirname(absolute), { recursive: true, mode: 0o700 });
        await builtins.fsPromises().appendFile(absolute, line, { mode: 0o600 });
        return { kind: 'success' };
      } catch (error) {
        return { kind: 'failure', reason: `could not append to ${absolute}: ${errorText(error)}` };
      }
    },
  });
}
