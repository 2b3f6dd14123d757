import type { Transport } from './transport.js';
import { errorText } from '../config/error-text.js';

/**
 * A transport that writes each report to stderr as one line of JSON, never to stdout (which belongs
 * to the host program).
 */
export function consoleTransport(): Transport {
  return {
    name: 'console (stderr)',
    send(report) {
      try {
        process.stderr.write(`${JSON.stringify(report)}\n`);
        return Promise.resolve({ kind: 'success' });
      } catch (error) {
        return Promise.resolve({ kind: 'failure', reason: `stderr: ${errorText(error)}` });
      }
    },
  };
}
