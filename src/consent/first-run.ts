import { fstatSync } from 'node:fs';
import type { Home } from '../config/home.js';
import type { Level } from '../config/level.js';
import { errorText } from '../config/error-text.js';
import type { Log } from '../config/log.js';
import { type KnownProject, readKnownProject, recordKnownProject } from './known-projects.js';
import { noticeDue, noticeText } from './notice.js';

/** What the first run of a project that is on needs to know. */
export interface FirstRun extends Omit<KnownProject, 'noticeShown' | 'level'> {
  /** The level reports are built at. */
  readonly level: Level;
  /** The author's own first part of the notice, if any. */
  readonly notice: string | undefined;
  /** Whether the process runs in CI, where no notice is shown. */
  readonly ci: boolean;
}

/**
 * The first time a project is on for this machine: the notice, once, on a terminal and never in CI;
 * and the project's entry in the list `tallyho status` reads (written only when it changes).
 */
export function firstRun(home: Home, run: FirstRun, log: Log): void {
  const { notice, ci, ...entry } = run;
  try {
    const previous = readKnownProject(home, entry.project);
    let noticeShown = previous?.noticeShown ?? false;
    // The terminal is looked at only while the notice is still due: a stat of stderr on every run is waste.
    if (!noticeShown && noticeDue(noticeShown, stderrIsTerminal(), ci)) {
      process.stderr.write(noticeText(entry.project, entry.level, notice));
      noticeShown = true;
    }
    recordKnownProject(home, { ...entry, noticeShown }, previous);
  } catch (error) {
    log.warn(`could not record ${entry.project} in ${home.config}: ${errorText(error)}`);
  }
}

/**
 * Whether stderr is a terminal, without touching `process.stderr` when it plainly is not: creating
 * that stream loads Node's stream and tty modules, milliseconds of start-up for a program that never
 * writes to it. Only a character device can be a terminal (`/dev/null` is one too, hence `isTTY`).
 */
function stderrIsTerminal(): boolean {
  try {
    return fstatSync(2).isCharacterDevice() && process.stderr.isTTY === true;
  } catch {
    return false;
  }
}
