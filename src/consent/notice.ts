import type { Level } from '../config/level.js';

const WHAT: Record<Level, string> = {
  basic: 'how often its features are used, the Node.js version and the operating system',
  usage: 'how often its features are used and how often they fail, the Node.js version, the operating system, whether it runs in CI, and an anonymous id that changes every week',
  full: 'how often its features are used and how often they fail, the Node.js version, the operating system, whether it runs in CI, and salted hashes that tell installs, users and machines apart',
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
