import { readJsonFile, writeJsonFile } from '../config/files.js';
import { type Home, homePaths } from '../config/home.js';

/**
 * `410 Gone` from a project's endpoint means its author has stopped collecting: the project stops
 * sending from this machine until its version changes. The answer is kept in the home.
 */
export function goneVersion(home: Home, project: string): string | undefined {
  const result = readJsonFile(homePaths.gone(home, project));
  return result.kind === 'ok' && typeof result.value.version === 'string' ? result.value.version : undefined;
}

/** Records a `410 Gone` for this project and version. Never throws. */
export function recordGone(home: Home, project: string, version: string): void {
  try {
    writeJsonFile(homePaths.gone(home, project), { project, version, at: new Date().toISOString() });
  } catch {
    // Not kept: the next run asks the endpoint again and hears the same answer.
  }
}

