import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonFile, removeOrphans, writeJsonFile } from '../config/files.js';
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
  /**
   * The transports the author's code declared that a process without it can rebuild, by name: the
   * only ones the detached sender ever builds. A spool file names its transport; what that transport
   * is comes from here, a file only the host writes, never from the spool file itself.
   */
  readonly declared?: readonly DeclaredTransport[];
}

/** A transport the author's code declared, as the detached sender may rebuild it. */
export interface DeclaredTransport {
  readonly name: string;
  /** The transport's spec as plain JSON (a `TransportSpec`); whoever rebuilds it checks every field. */
  readonly spec: Readonly<Record<string, unknown>>;
}

/** The spec the author's code declared under `name` for `project`, if any. */
export function declaredSpec(home: Home, project: string, name: string): DeclaredTransport['spec'] | undefined {
  return readKnownProject(home, project)?.declared?.find((d) => d.name === name)?.spec;
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
    names = removeOrphans(homePaths.known(home), readdirSync(homePaths.known(home)), Date.now()).filter((name) => name.endsWith('.json'));
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
  // Compared as read back, so that the order of fields never makes an ordinary run write.
  if (previous !== undefined && JSON.stringify(previous) === JSON.stringify(parseKnown(JSON.parse(JSON.stringify(known)) as Record<string, unknown>))) return;
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
    ...(Array.isArray(value.declared) ? { declared: value.declared.filter(isDeclared) } : {}),
  };
}

function isDeclared(value: unknown): value is DeclaredTransport {
  if (typeof value !== 'object' || value === null) return false;
  const { name, spec } = value as { name?: unknown; spec?: unknown };
  return typeof name === 'string' && typeof spec === 'object' && spec !== null && typeof (spec as { type?: unknown }).type === 'string';
}
