import type { Level } from '../config/level.js';

/** What the usage level adds to how often features are used: every field a `usage` report may carry. */
const USAGE =
  'how often its features are used and how often they fail, how long they take and how runs end (as ranges, never exact times), numbers and choices it counts the same way, the versions of the packages it names, the runtime, the operating system, whether it runs in CI';

const WHAT: Record<Level, string> = {
  basic: 'how often its features are used, the runtime and the operating system',
  usage: `${USAGE}, and an anonymous id that changes every week`,
  full: `${USAGE}, an anonymous id that changes every week, and salted hashes that tell installs, users and machines apart`,
};

/**
 * The first-run notice. An author may replace the first part with `notice`; the lines that say how
 * to see and how to stop what is sent are always there.
 */
export function noticeText(project: string, level: Level, custom: string | undefined): string {
  const intro =
    custom?.trim() ||
    `${project} collects anonymous usage counts: ${WHAT[level]}. Never arguments, file contents, paths, user names or host names.`;
  return [
    `${intro}`,
    `  See exactly what is sent:  TALLYHO_SHOW_ME=1`,
    `  Turn it off:               TALLYHO_OPTOUT=${project} (or DO_NOT_TRACK=1 for every project), or run: npx tallyho optout ${project}`,
    '',
  ].join('\n');
}

/** The notice is shown once per project and machine, only to a person: on a terminal, never in CI. */
export function noticeDue(alreadyShown: boolean, onTerminal: boolean, ci: boolean): boolean {
  return !alreadyShown && onTerminal && !ci;
}
