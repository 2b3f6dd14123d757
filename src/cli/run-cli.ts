import { readdirSync } from 'node:fs';
import { readEnv } from '../config/env.js';
import { readJsonFile, removeOrphans } from '../config/files.js';
import { type Home, homePaths, homeProblem, resolveHome } from '../config/home.js';
import { writeGlobalSwitch, writeProjectConsent } from '../consent/consent-files.js';
import { currentConsent } from '../consent/current-consent.js';
import { listKnownProjects, readKnownProject } from '../consent/known-projects.js';
import { type Departure, departures } from '../delivery/batch.js';
import { Spool } from '../delivery/spool.js';
import { VERSION } from '../version.js';
import { errorText } from '../config/error-text.js';

/** Where the command writes. */
export interface CliStreams {
  readonly out: { write(text: string): unknown };
  readonly err: { write(text: string): unknown };
}

const USAGE = `Usage: tallyho <command> [options]

See and control the usage telemetry of libraries built with tallyho, on this machine.

Commands:
  status [project...] [--json]   whether each project reports, which rule decided it, its level,
                                 where it sends (for firewalls) and the reports waiting to be sent
  disable                        turn telemetry off for every project (deletes waiting reports)
  enable                         undo "disable"
  optout <project>               turn one project off (deletes its waiting reports)
  optin <project>                turn one project on, also where it asks first, in CI or under tests
  show [project...]              print the waiting batch, exactly as it will be sent, and when it leaves
  purge [project...]             delete the waiting reports, unsent
  --help                         show this help
  --version                      print tallyho's version

Without a command: the same as --help. Environment: DO_NOT_TRACK=1 or TALLYHO_DISABLE=1 turn
everything off; TALLYHO_OPTOUT=a,b turns projects off; TALLYHO_SHOW_ME=1 prints every report sent;
TALLYHO_HOME=DIR moves tallyho's files; TALLYHO_BATCH_INTERVAL_SEC=N sets how long reports wait
on disk before they leave together (0: at every exit).
`;

const PROJECT = /^[a-z0-9@/._-]{1,100}$/;

class UsageError extends Error {}

/** Runs the `tallyho` command; returns the exit code (0 success, 1 failure, 2 usage error). */
export function runCli(args: readonly string[], streams: CliStreams, cwd = process.cwd()): number {
  try {
    return run(args, streams, cwd);
  } catch (error) {
    if (error instanceof UsageError) {
      streams.err.write(`tallyho: ${error.message}\nRun "tallyho --help" for the commands.\n`);
      return 2;
    }
    streams.err.write(`tallyho: ${errorText(error)}\n`);
    return 1;
  }
}

function run(args: readonly string[], streams: CliStreams, cwd: string): number {
  const [command, ...rest] = args;
  const flags = rest.filter((a) => a.startsWith('-'));
  // Project names are lower case: `ACME-SDK` means `acme-sdk`, as in TALLYHO_OPTOUT.
  const given = rest.filter((a) => !a.startsWith('-'));
  const names = given.map((a) => a.toLowerCase());
  const env = readEnv();
  const home = resolveHome(env.home, env.folders);
  const { out } = streams;

  const allowFlags = (...allowed: string[]) => {
    const bad = flags.find((f) => !allowed.includes(f));
    if (bad !== undefined) throw new UsageError(`"${command}" does not take ${bad}`);
  };
  const checkNames = () => {
    const bad = given.find((n) => !PROJECT.test(n.toLowerCase()) || n.includes('..'));
    if (bad !== undefined) throw new UsageError(`"${bad}" is not a project name (a-z 0-9 @ / . _ -)`);
  };
  // Writing switches into a folder that someone else can also write would protect nothing.
  const safeHome = () => {
    const problem = homeProblem(home);
    if (problem !== undefined) throw new Error(`tallyho's folder is not safe to use: ${problem}. Fix its owner and mode, or set TALLYHO_HOME to a folder only you can write.`);
  };
  const one = (): string => {
    if (names.length !== 1) throw new UsageError(`usage: tallyho ${command} <project>`);
    checkNames();
    return names[0]!;
  };

  switch (command) {
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      out.write(USAGE);
      return 0;
    case '--version':
    case '-v':
      out.write(`${VERSION}\n`);
      return 0;
    case 'status': {
      allowFlags('--json');
      checkNames();
      const report = statusReport(home, names, cwd);
      out.write(flags.includes('--json') ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report));
      return 0;
    }
    case 'disable':
    case 'enable': {
      allowFlags();
      if (names.length > 0) throw new UsageError(`usage: tallyho ${command} (for one project: tallyho ${command === 'disable' ? 'optout' : 'optin'} <project>)`);
      safeHome();
      writeGlobalSwitch(home, command === 'enable');
      if (command === 'disable') {
        const purged = spools(home).reduce((n, s) => n + s.spool.purge(), 0);
        out.write(`tallyho: telemetry is off for every project on this machine${purged ? ` (${purged} waiting reports deleted)` : ''}.\n`);
      } else {
        out.write('tallyho: the global switch is on again; each project follows its own settings (tallyho status).\n');
      }
      return 0;
    }
    case 'optout':
    case 'optin': {
      allowFlags();
      const project = one();
      safeHome();
      // Looked up before the switch is written (it is one of the places a project is known from).
      const known = knownProjectNames(home).includes(project);
      writeProjectConsent(home, project, command === 'optin');
      if (command === 'optout') {
        const purged = new Spool(homePaths.spool(home, project)).purge();
        out.write(`tallyho: ${project} is off on this machine${purged ? ` (${purged} waiting reports deleted)` : ''}.\n`);
      } else {
        out.write(`tallyho: ${project} is opted in on this machine.\n`);
      }
      // Saved all the same (the project may not have run here yet), but an opt-out with a typo in it
      // would protect nothing. An opt-in is the usual first step of a project that has never been on.
      if (command === 'optout' && !known) {
        out.write(`tallyho: note: tallyho knows no project named ${project} on this machine yet (a typo?); \`tallyho status\` lists the ones it knows.\n`);
      }
      return 0;
    }
    case 'show': {
      allowFlags();
      checkNames();
      safeHome();
      let shown = 0;
      const now = Date.now();
      for (const { project, spool } of spools(home, names)) {
        for (const d of departures(spool.list())) {
          out.write(`# ${project} -> ${d.transport}: ${describeDeparture(d, now)}\n`);
          out.write(`${JSON.stringify(d.report)}\n`);
          shown++;
        }
      }
      if (shown === 0) out.write('tallyho: no reports are waiting to be sent.\n');
      else out.write('# Each report is printed exactly as it will be sent. tallyho purge [project] deletes them unsent.\n');
      return 0;
    }
    case 'purge': {
      allowFlags();
      checkNames();
      safeHome();
      const purged = spools(home, names).reduce((n, s) => n + s.spool.purge(), 0);
      out.write(`tallyho: ${purged} waiting report${purged === 1 ? '' : 's'} deleted.\n`);
      return 0;
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

/** When a waiting report leaves, in words. */
function describeDeparture(d: Departure, now: number): string {
  const at = new Date(d.leavesAt).toISOString();
  const when = d.leavesAt <= now ? `due since ${at}: it leaves at the next exit or flush` : `leaves at ${at} (in ${minutes(d.leavesAt - now)}), or at an earlier flush`;
  const since = new Date(d.since).toISOString();
  if (d.attempts > 0) return `being retried (${d.attempts} attempt${d.attempts === 1 ? '' : 's'} so far), waiting since ${since}; ${when.replace(/^leaves/, 'next attempt')}`;
  const runs = d.report.runs ?? 1;
  return `batch of ${d.parts} report${d.parts === 1 ? '' : 's'} (${runs} run${runs === 1 ? '' : 's'}), waiting since ${since}; ${when}`;
}

function minutes(ms: number): string {
  const m = Math.ceil(ms / 60_000);
  return m < 120 ? `${m} min` : `${Math.round(m / 60)} h`;
}

/** What `tallyho status --json` prints. */
export interface StatusReport {
  readonly home: Home;
  /** Why tallyho's folder is not safe to use (every project is then off), if it is not. */
  readonly unsafeHome?: string;
  readonly globalSwitch: 'on' | 'off' | 'unreadable';
  readonly projects: readonly {
    readonly project: string;
    readonly version: string | undefined;
    readonly enabled: boolean;
    readonly rule: string;
    readonly reason: string;
    readonly level: string | undefined;
    readonly consent: string | undefined;
    readonly endpoints: readonly string[];
    readonly waitingReports: number;
  }[];
}

function statusReport(home: Home, named: readonly string[], cwd: string): StatusReport {
  const env = readEnv();
  const settings = readJsonFile(homePaths.settings(home));
  const globalSwitch = settings.kind === 'absent' ? 'on' : settings.kind === 'ok' ? (settings.value.disabled === true ? 'off' : 'on') : 'unreadable';
  const projects = named.length > 0 ? [...named] : knownProjectNames(home);
  const unsafeHome = homeProblem(home);
  return {
    home,
    ...(unsafeHome === undefined ? {} : { unsafeHome }),
    globalSwitch,
    projects: projects.map((project) => {
      const known = readKnownProject(home, project);
      const consent = known?.consent === 'opt-in' ? 'opt-in' : 'opt-out';
      const decision = currentConsent(env, home, cwd, { project, consent, optOutEnv: known?.optOutEnv, version: known?.version });
      return {
        project,
        version: known?.version,
        enabled: decision.enabled,
        rule: decision.rule,
        reason: decision.reason,
        level: known?.level,
        consent: known?.consent,
        endpoints: known?.endpoints ?? [],
        waitingReports: new Spool(homePaths.spool(home, project)).list().length,
      };
    }),
  };
}

function formatStatus(report: StatusReport): string {
  const lines = [
    `tallyho ${VERSION}; files in ${report.home.config} (waiting reports in ${report.home.cache})`,
    `global switch: ${report.globalSwitch}${report.globalSwitch === 'on' ? ' (turn off for every project: tallyho disable)' : ' (tallyho enable to undo)'}`,
    ...(report.unsafeHome === undefined ? [] : [`not safe to use, so every project is off: ${report.unsafeHome}`]),
    '',
  ];
  if (report.projects.length === 0) lines.push('No project has reported from this machine yet. Name one: tallyho status <project>', '');
  for (const p of report.projects) {
    lines.push(`${p.project}${p.version ? ` ${p.version}` : ''}: ${p.enabled ? 'ON' : 'OFF'} (${p.rule}): ${p.reason}`);
    if (p.level !== undefined) lines.push(`  level: ${p.level}; consent: ${p.consent}`);
    lines.push(`  sends to: ${p.endpoints.length > 0 ? p.endpoints.join(', ') : '(unknown until it runs here)'}`);
    lines.push(`  waiting reports: ${p.waitingReports}${p.waitingReports ? ' (tallyho show / tallyho purge)' : ''}`);
    if (p.enabled) lines.push(`  turn off: tallyho optout ${p.project}`);
    lines.push('');
  }
  return `${lines.join('\n')}`;
}

/** Projects this machine knows: from the list of projects that ran, consent files, and the spool. */
function knownProjectNames(home: Home): string[] {
  const names = new Set(listKnownProjects(home).map((k) => k.project));
  for (const dir of [`${home.config}/consent`, homePaths.spoolRoot(home)]) {
    for (const name of safeReaddir(dir)) {
      if (name === 'sender.lock') continue;
      try {
        const project = decodeURIComponent(name.replace(/\.json$/, ''));
        if (PROJECT.test(project)) names.add(project);
      } catch {
        // Not one of ours.
      }
    }
  }
  return [...names].sort();
}

function spools(home: Home, named: readonly string[] = []): { project: string; spool: Spool }[] {
  const projects = named.length > 0 ? named : knownProjectNames(home);
  return projects.map((project) => ({ project, spool: new Spool(homePaths.spool(home, project)) }));
}

function safeReaddir(dir: string): string[] {
  try {
    // Orphaned temporary files (a process killed while writing) go whenever a folder is listed.
    return removeOrphans(dir, readdirSync(dir), Date.now());
  } catch {
    return [];
  }
}
