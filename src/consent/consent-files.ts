import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readJsonFile, writeJsonFile } from '../config/files.js';
import { type Home, homePaths, homeProblem } from '../config/home.js';
import type { ConsentFiles } from './decide.js';

/** The file a team commits to opt a whole project directory tree out. */
export const DIRECTORY_FILE = '.tallyho-do-not-track';

/** Reads the persisted switches and looks for a directory opt-out file from `cwd` up. Never throws. */
export function readConsentFiles(home: Home, project: string, cwd: string): ConsentFiles {
  const unreadable: string[] = [];
  // Nothing in a home that someone else could write into is read: not even a switch that says off.
  const unsafeHome = homeProblem(home);
  if (unsafeHome !== undefined) return { globalDisabled: false, project: undefined, directoryFile: undefined, unreadable, unsafeHome };

  const settingsPath = homePaths.settings(home);
  const settings = readJsonFile(settingsPath);
  let globalDisabled: ConsentFiles['globalDisabled'] = false;
  if (settings.kind === 'ok') globalDisabled = settings.value.disabled === true;
  else if (settings.kind !== 'absent') {
    globalDisabled = 'unreadable';
    unreadable.push(`${settingsPath} (${settings.kind === 'newer' ? `format ${settings.format}` : settings.why})`);
  }

  const consentPath = homePaths.consent(home, project);
  const consent = readJsonFile(consentPath);
  let projectConsent: ConsentFiles['project'];
  if (consent.kind === 'ok') {
    projectConsent = consent.value.consent === 'in' ? 'in' : consent.value.consent === 'out' ? 'out' : 'unreadable';
    if (projectConsent === 'unreadable') unreadable.push(`${consentPath} (an unknown consent value)`);
  } else if (consent.kind !== 'absent') {
    projectConsent = 'unreadable';
    unreadable.push(`${consentPath} (${consent.kind === 'newer' ? `format ${consent.format}` : consent.why})`);
  }

  const directoryFile = findDirectoryFile(cwd);
  if (directoryFile === 'unreadable') unreadable.push(`${DIRECTORY_FILE} in ${cwd} or above`);

  return { globalDisabled, project: projectConsent, directoryFile, unreadable };
}

function findDirectoryFile(cwd: string): string | undefined | 'unreadable' {
  let dir = cwd;
  for (;;) {
    const candidate = join(dir, DIRECTORY_FILE);
    try {
      if (statSync(candidate, { throwIfNoEntry: false }) !== undefined) return candidate;
    } catch {
      return 'unreadable';
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Persists the global switch (`tallyho disable` / `enable`). Throws on failure (CLI and setConsent report it). */
export function writeGlobalSwitch(home: Home, enabled: boolean): void {
  writeJsonFile(homePaths.settings(home), { disabled: !enabled, at: new Date().toISOString() });
}

/** Persists a project's consent (`tallyho optin/optout`, `telemetry.setConsent()`). Throws on failure. */
export function writeProjectConsent(home: Home, project: string, allow: boolean): void {
  writeJsonFile(homePaths.consent(home, project), { project, consent: allow ? 'in' : 'out', at: new Date().toISOString() });
}
