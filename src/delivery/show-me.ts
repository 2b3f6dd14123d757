import { closeSync, constants, fstatSync, openSync, writeSync } from 'node:fs';
import type { ShowMe } from '../config/env.js';
import type { Log } from '../config/log.js';
import type { Report } from '../report/report.js';
import { errorText } from '../config/error-text.js';

// No-follow: a link planted at the path must not redirect reports into a file of the attacker's
// choosing. Non-blocking: a FIFO with no reader fails at once (ENXIO) instead of hanging the exit.
const APPEND_FLAGS =
  constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/**
 * Shows a report exactly as it will be sent, synchronously (it runs at exit too): to stderr with a
 * header line, or appended to a file as one JSON line (created 0600). The file must be a regular file
 * of this user's: a symbolic link, a FIFO, a device or another user's file is refused, and said so.
 * Never throws, never blocks.
 */
export function showReport(report: Report, showMe: ShowMe, log: Log): void {
  const json = JSON.stringify(report);
  try {
    if (showMe.to === 'stderr') {
      process.stderr.write(`tallyho: report for ${report.project} (${report.trigger}), exactly as sent:\n${json}\n`);
    } else {
      appendLine(showMe.path, `${json}\n`);
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ELOOP' ? 'it is a symbolic link, which is not followed'
      : code === 'ENXIO' ? 'it is a FIFO with no reader'
      : errorText(error);
    log.warn(`TALLYHO_SHOW_ME could not write to ${showMe.to === 'file' ? showMe.path : 'stderr'}: ${why}`);
  }
}

function appendLine(path: string, line: string): void {
  const fd = openSync(path, APPEND_FLAGS, 0o600);
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new Error('it is not a regular file');
    const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
    if (uid !== undefined && stats.uid !== uid) throw new Error(`it belongs to uid ${stats.uid}, not to this user`);
    const data = Buffer.from(line);
    for (let written = 0; written < data.length; ) written += writeSync(fd, data, written);
  } finally {
    closeSync(fd);
  }
}
