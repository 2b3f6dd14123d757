import { appendFileSync } from 'node:fs';
import type { ShowMe } from '../config/env.js';
import type { Log } from '../config/log.js';
import type { Report } from '../report/report.js';
import { errorText } from '../config/error-text.js';

/**
 * Shows a report exactly as it will be sent, synchronously (it runs at exit too): to stderr with a
 * header line, or appended to a file as one JSON line (created 0600). Never throws.
 */
export function showReport(report: Report, showMe: ShowMe, log: Log): void {
  const json = JSON.stringify(report);
  try {
    if (showMe.to === 'stderr') {
      process.stderr.write(`tallyho: report for ${report.project} (${report.trigger}), exactly as sent:\n${json}\n`);
    } else {
      appendFileSync(showMe.path, `${json}\n`, { mode: 0o600 });
    }
  } catch (error) {
    log.warn(`TALLYHO_SHOW_ME could not write to ${showMe.to === 'file' ? showMe.path : 'stderr'}: ${errorText(error)}`);
  }
}
