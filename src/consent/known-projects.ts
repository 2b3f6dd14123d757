import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonFile, writeJsonFile } from '../config/files.js';
import { type Home, homePaths } from '../config/home.js';

/** What `tallyho status` knows of a project that ran on this machine while on. */
export interface KnownProject {
  readonly project: string;
  readonly version: string;
  readonly level: string;
  readonly consent: string;
  /** The author's own opt-out variable, if any. */
  readonly optOutEnv?: string;
  /** Where its reports go (transport names: URLs for HTTP and OTLP), for a firewall's allow list. */
  readonly endpoints: readonly string[];
  /** Whether the first-run notice has been shown on a terminal. */
  readonly noticeShown: boolean;
}

/** Reads one project's entry; `undefined` when absent or unreadable. */
export function readKnownProject(home: Home, project: string): KnownProject | undefined {
  const result = readJsonFile(homePaths.knownProject(home, project));
  return result.kind === 'ok' ? parseKnown(result.value) : undefined;
}

/** Every project entry in the home. */
export function listKnownProjects(home: Home): KnownProject[] {
  let names: string[];
  try {
    names = readdirSync(homePaths.known(home)).filter((name) => name.endsWith('.json'));
  } catch {
    return [];
  }
  const projects: KnownProject[] = [];
  for (const name of names) {
    const result = readJsonFile(join(homePaths.known(home), name));
    const known = result.kind === 'ok' ? parseKnown(result.value) : undefined;
    if (known !== undefined) projects.push(known);
  }
  return projects;
}

/** Writes a project's entry, only when it differs from what is there: no write on an ordinary run. */
export function recordKnownProject(home: Home, known: KnownProject, previous: KnownProject | undefined): void {
  if (previous !== undefined && JSON.stringify(previous) === JSON.stringify(known)) return;
  writeJsonFile(homePaths.knownProject(home, known.project), { ...known });
}

function parseKnown(value: Record<string, unknown>): KnownProject | undefined {
  if (typeof value.project !== 'string') return undefined;
  return {
    project: value.project,
    version: typeof value.version === 'string' ? value.version : '?',
    level: typeof value.level === 'string' ? value.level : '?',
    consent: typeof value.consent === 'string' ? value.consent : '?',
    ...(typeof value.optOutEnv === 'string' ? { optOutEnv: value.optOutEnv } : {}),
    endpoints: Array.isArray(value.endpoints) ? value.endpoints.filter((e): e is string => typeof e === 'string') : [],
    noticeShown: value.noticeShown === true,
  };
}
