import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { folderProblem } from './trusted-files.js';

/** Where tallyho keeps its files on this machine. Every copy of tallyho shares them. */
export interface Home {
  /** Switches, consent, salt and the list of known projects. */
  readonly config: string;
  /** The spool of reports waiting to be sent. */
  readonly cache: string;
}

/** The variables that move the OS's folders, as config/env.ts read them. */
export interface FolderVariables {
  readonly XDG_CONFIG_HOME?: string | undefined;
  readonly XDG_CACHE_HOME?: string | undefined;
  readonly APPDATA?: string | undefined;
  readonly LOCALAPPDATA?: string | undefined;
}

/**
 * `TALLYHO_HOME` if set (everything below it), else the OS's config and cache folders, as env-paths
 * names them: XDG folders on Linux, `~/Library` on macOS, `%APPDATA%` and `%LOCALAPPDATA%` on Windows.
 * Written out rather than taken from env-paths, which reads the home folder and `process.env` when it
 * is imported: under Deno without `--allow-sys` or `--allow-env` that import throws, and config/env.ts
 * is the one reader of the environment.
 */
export function resolveHome(override: string | undefined, folders: FolderVariables = {}): Home {
  if (override !== undefined) {
    // Resolved once, here: a relative TALLYHO_HOME means relative to the working directory at
    // creation, and a later process.chdir() moves nothing.
    const config = resolve(override);
    return { config, cache: join(config, 'cache') };
  }
  const home = homedir();
  switch (process.platform) {
    case 'darwin':
      return { config: join(home, 'Library', 'Preferences', 'tallyho'), cache: join(home, 'Library', 'Caches', 'tallyho') };
    case 'win32':
      return {
        config: join(folders.APPDATA ?? join(home, 'AppData', 'Roaming'), 'tallyho', 'Config'),
        cache: join(folders.LOCALAPPDATA ?? join(home, 'AppData', 'Local'), 'tallyho', 'Cache'),
      };
    default:
      return {
        config: join(folders.XDG_CONFIG_HOME ?? join(home, '.config'), 'tallyho'),
        cache: join(folders.XDG_CACHE_HOME ?? join(home, '.cache'), 'tallyho'),
      };
  }
}

/**
 * Why this home must not be used, or `undefined` when it may: each of its folders that exists is owned
 * by this user and writable by nobody else, and so is every folder above it (or it is root's, or
 * sticky). A home someone else could write into could opt the user in, fix their salt, or plant
 * reports; tallyho then stays off and says why.
 */
export function homeProblem(home: Home): string | undefined {
  return folderProblem(home.config) ?? folderProblem(home.cache);
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

/** The project name as it appears in a file name: nothing in it can reach outside its folder. */
export function projectFileName(project: string): string {
  return encodeURIComponent(project).replace(/\./g, '%2E');
}
