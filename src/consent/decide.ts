import type { EnvFacts } from '../config/env.js';

/** The rule that decided whether a project's telemetry is on. */
export type ConsentRule =
  | 'do-not-track'
  | 'tallyho-disable'
  | 'author-opt-out-env'
  | 'tallyho-optout'
  | 'unsafe-home'
  | 'unreadable-file'
  | 'global-switch'
  | 'project-optout'
  | 'directory-file'
  | 'ci'
  | 'test-runner'
  | 'opt-in-required'
  | 'opted-in'
  | 'default-on'
  | 'endpoint-gone'
  | 'test-kit'
  | 'unsupported-runtime'
  | 'no-permission'
  | 'incomplete-package'
  | 'global-privacy-control';

/** On or off, the rule that decided it, and a sentence a user can act on. */
export interface ConsentDecision {
  readonly enabled: boolean;
  readonly rule: ConsentRule;
  readonly reason: string;
}

/** What the persisted switches and the directory tree say; `unreadable` when a file could not be read. */
export interface ConsentFiles {
  /** The global switch written by `tallyho disable` / `enable`. */
  readonly globalDisabled: boolean | 'unreadable';
  /** The project's switch written by `tallyho optin/optout` and `setConsent()`. */
  readonly project: 'in' | 'out' | undefined | 'unreadable';
  /** The `.tallyho-do-not-track` file found in the working directory or an ancestor, if any. */
  readonly directoryFile: string | undefined | 'unreadable';
  /** Paths of files that could not be read, for the reason text. */
  readonly unreadable: readonly string[];
  /** Why tallyho's home cannot be trusted (another user could write into it), if it cannot; then no file in it was read. */
  readonly unsafeHome?: string | undefined;
}

/** The author's side of the decision. */
export interface ConsentOptions {
  readonly project: string;
  readonly consent: 'opt-out' | 'opt-in';
  readonly optOutEnv?: string | undefined;
}

/**
 * Decides whether a project's telemetry is on. A pure function of the environment, the files and the
 * author's options. Every explicit opt-out wins over anything that would turn it on; a file that could
 * not be read means off: tallyho never tracks by accident.
 */
export function decideConsent(env: EnvFacts, files: ConsentFiles, options: ConsentOptions): ConsentDecision {
  const { project } = options;
  const off = (rule: ConsentRule, reason: string): ConsentDecision => ({ enabled: false, rule, reason });

  if (env.doNotTrack) return off('do-not-track', 'DO_NOT_TRACK is set');
  if (env.disable) return off('tallyho-disable', 'TALLYHO_DISABLE is set');
  if (env.optedOutBy(options.optOutEnv)) return off('author-opt-out-env', `${options.optOutEnv} is set`);
  if (env.optOut.includes(project)) return off('tallyho-optout', `TALLYHO_OPTOUT names ${project}`);
  if (files.unsafeHome !== undefined) {
    return off('unsafe-home', `tallyho's folder is not safe to use: ${files.unsafeHome}; off until only this user can write it (or TALLYHO_HOME names one that only this user can)`);
  }
  if (files.globalDisabled === 'unreadable' || files.project === 'unreadable' || files.directoryFile === 'unreadable') {
    return off('unreadable-file', `could not read ${files.unreadable.join(', ') || 'a consent file'}, so off to be safe`);
  }
  if (files.globalDisabled) return off('global-switch', 'turned off for every project by `tallyho disable`');
  if (files.project === 'out') return off('project-optout', `${project} was opted out (\`tallyho optout ${project}\` or the project's own setting)`);
  if (files.directoryFile !== undefined) return off('directory-file', `${files.directoryFile} opts this directory tree out`);

  const optedIn = env.optIn.includes(project) || files.project === 'in';
  const how = env.optIn.includes(project) ? `TALLYHO_OPTIN names ${project}` : `${project} was opted in (\`tallyho optin ${project}\`)`;
  if (env.ci && !optedIn) return off('ci', `running in CI; opt in with TALLYHO_OPTIN=${project} to report from CI`);
  if (env.testRunner !== undefined && !optedIn) {
    return off('test-runner', `running under a test runner (${env.testRunner}); opt in with TALLYHO_OPTIN=${project}`);
  }
  if (optedIn) return { enabled: true, rule: 'opted-in', reason: how };
  if (options.consent === 'opt-in') {
    return off('opt-in-required', `${project} asks before collecting: opt in with \`tallyho optin ${project}\` or TALLYHO_OPTIN=${project}`);
  }
  return { enabled: true, rule: 'default-on', reason: 'on by default; turn off with DO_NOT_TRACK=1, TALLYHO_OPTOUT or `tallyho optout`' };
}
