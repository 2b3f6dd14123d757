import envPaths from 'env-paths';
import { join } from 'node:path';
import { projectFileName } from './options.js';

/** Where tallyho keeps its files on this machine. Every copy of tallyho shares them. */
export interface Home {
  /** Switches, consent, salt and the list of known projects. */
  readonly config: string;
  /** The spool of reports waiting to be sent. */
  readonly cache: string;
}

/** `TALLYHO_HOME` if set (everything below it), else the OS's config and cache folders. */
export function resolveHome(override: string | undefined): Home {
  if (override !== undefined) return { config: override, cache: join(override, 'cache') };
  const paths = envPaths('tallyho', { suffix: '' });
  return { config: paths.config, cache: paths.cache };
}

/** The paths of every file tallyho keeps. */
export const homePaths = {
  /** The global switch (`tallyho disable` / `enable`). */
  settings: (home: Home) => join(home.config, 'settings.json'),
  /** A project's consent (`tallyho optin/optout`, `setConsent()`). */
  consent: (home: Home, project: string) => join(home.config, 'consent', `${projectFileName(project)}.json`),
  /** Projects that ran here while on, for `tallyho status`. */
  known: (home: Home) => join(home.config, 'projects'),
  knownProject: (home: Home, project: string) => join(home.config, 'projects', `${projectFileName(project)}.json`),
  /** The salt of every identifier (0600); never sent. */
  salt: (home: Home) => join(home.config, 'salt.json'),
  /** A project's salted identifiers as last computed, with what they were computed from (0600). */
  ids: (home: Home, project: string) => join(home.config, 'ids', `${projectFileName(project)}.json`),
  /** A project's `410 Gone`, with the version it was answered for. */
  gone: (home: Home, project: string) => join(home.config, 'gone', `${projectFileName(project)}.json`),
  /** The spool folder of one project. */
  spool: (home: Home, project: string) => join(home.cache, 'spool', projectFileName(project)),
  spoolRoot: (home: Home) => join(home.cache, 'spool'),
};
