import type { Transport } from '../../transports/transport.js';

/** The web entry's console transport: each report as one line of JSON on `console.info`. */
export function consoleTransport(): Transport {
  return {
    name: 'console',
    send(report) {
      console.info(JSON.stringify(report));
      return Promise.resolve({ kind: 'success' });
    },
  };
}

/**
 * The web entry's file transport, so that code shared with a server bundles unchanged: there is no
 * file system here, so every send fails with that reason and the report's counts are counted as
 * dropped (`refused`).
 */
export function fileTransport(path: string): Transport {
  if (typeof path !== 'string' || path.trim() === '') throw new TypeError('fileTransport(path): path must be a non-empty string');
  return {
    name: `file ${path} (no file system here)`,
    send: () => Promise.resolve({ kind: 'failure', reason: 'no file system in this runtime' }),
  };
}
