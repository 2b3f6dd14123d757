import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Home, homePaths, resolveHome } from '../../src/config/home.js';
import { Spool } from '../../src/delivery/spool.js';
import { sampleEntry } from '../telemetry/support.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(repo, 'dist/cli.js');
const root = mkdtempSync(join(tmpdir(), 'tallyho-cli-'));

beforeAll(() => {
  if (!existsSync(cli)) execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: repo, stdio: 'inherit' });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Machine {
  /** TALLYHO_HOME: not created until the command writes to it. */
  readonly homeDir: string;
  readonly home: Home;
  /** The working directory the command runs in. */
  readonly cwd: string;
  /** Runs `tallyho ...args` with an explicit environment: PATH, HOME, TALLYHO_HOME and `env`. */
  run(args: string[], env?: Record<string, string>): { code: number | null; stdout: string; stderr: string };
  /** `tallyho status <project> --json`, parsed: the project's entry. */
  status(project: string, env?: Record<string, string>): StatusEntry;
}

interface StatusEntry {
  project: string;
  enabled: boolean;
  rule: string;
  reason: string;
  waitingReports: number;
}

let made = 0;
function machine(): Machine {
  const dir = join(root, String(made++));
  const homeDir = join(dir, 'tallyho-home');
  const cwd = join(dir, 'project');
  mkdirSync(cwd, { recursive: true });
  const run = (args: string[], env: Record<string, string> = {}) => {
    const result = spawnSync(process.execPath, [cli, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: dir, TALLYHO_HOME: homeDir, ...env },
      encoding: 'utf8',
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  return {
    homeDir,
    home: resolveHome(homeDir),
    cwd,
    run,
    status(project, env) {
      const result = run(['status', project, '--json'], env);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const parsed = JSON.parse(result.stdout) as { projects: StatusEntry[] };
      expect(parsed.projects.map((p) => p.project)).toEqual([project]);
      return parsed.projects[0]!;
    },
  };
}

const spoolOf = (m: Machine, project: string) => new Spool(homePaths.spool(m.home, project));
const P = 'acme-sdk';

describe('tallyho --help and --version', () => {
  it.each([['--help'], ['-h'], ['help'], []])('%j prints the commands and exits 0', (...args) => {
    const { code, stdout, stderr } = machine().run(args);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toContain('Usage: tallyho <command>');
    for (const command of ['status', 'disable', 'enable', 'optout <project>', 'optin <project>', 'show', 'purge']) expect(stdout).toContain(command);
  });

  it('--version prints the package version and exits 0', () => {
    const { version } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string };
    const { code, stdout } = machine().run(['--version']);
    expect(code).toBe(0);
    expect(stdout).toBe(`${version}\n`);
  });
});

describe('tallyho: usage errors exit 2 and give the right form', () => {
  it.each([
    [['frobnicate'], 'unknown command "frobnicate"'],
    [['optout'], 'usage: tallyho optout <project>'],
    [['optin', 'a', 'b'], 'usage: tallyho optin <project>'],
    [['disable', P], `tallyho optout <project>`],
    [['enable', P], `tallyho optin <project>`],
    [['status', '--yaml'], 'does not take --yaml'],
    [['optout', P, '--force'], 'does not take --force'],
  ])('%j', (args, message) => {
    const m = machine();
    const { code, stdout, stderr } = m.run(args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(message);
    expect(stderr).toContain('tallyho --help');
    expect(existsSync(m.homeDir)).toBe(false);
  });

  it.each([['optout', 'Acme SDK'], ['optin', '../../etc'], ['optout', 'a b'], ['status', 'acme!'], ['show', 'a..b'], ['purge', 'UPPER!']])(
    '%s %j is not a project name',
    (command, name) => {
      const m = machine();
      const { code, stderr } = m.run([command, name]);
      expect(code).toBe(2);
      expect(stderr).toContain(`"${name}" is not a project name`);
      expect(stderr).toContain('a-z 0-9 @ / . _ -');
      expect(existsSync(m.homeDir)).toBe(false);
    },
  );
});

describe('tallyho optout / optin / disable / enable', () => {
  it('takes a project name in any case, as TALLYHO_OPTOUT does, and says when no such project has run here', () => {
    const m = machine();
    const { code, stdout } = m.run(['optout', P.toUpperCase()]);
    expect(code).toBe(0);
    expect(stdout).toContain(`${P} is off on this machine`);
    expect(stdout).toContain(`tallyho knows no project named ${P} on this machine yet`);
    expect(m.status(P)).toMatchObject({ enabled: false, rule: 'project-optout' });
    // Known now (its switch): no note; and an opt-in, the usual first step of an opt-in project, has none.
    expect(m.run(['optout', P]).stdout).not.toContain('knows no project');
    expect(m.run(['optin', 'never-seen']).stdout).not.toContain('knows no project');
  });

  it('optout and optin write the project switch, and status follows it', () => {
    const m = machine();
    expect(m.status(P)).toMatchObject({ enabled: true, rule: 'default-on' });

    const out = m.run(['optout', P]);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain(`${P} is off`);
    expect(JSON.parse(readFileSync(homePaths.consent(m.home, P), 'utf8'))).toMatchObject({ project: P, consent: 'out' });
    expect(m.status(P)).toMatchObject({ enabled: false, rule: 'project-optout' });
    expect(m.status('other-lib')).toMatchObject({ enabled: true, rule: 'default-on' });

    expect(m.run(['optin', P]).code).toBe(0);
    expect(JSON.parse(readFileSync(homePaths.consent(m.home, P), 'utf8'))).toMatchObject({ consent: 'in' });
    expect(m.status(P)).toMatchObject({ enabled: true, rule: 'opted-in' });
    // An opt-in holds in CI.
    expect(m.status(P, { CI: 'true' })).toMatchObject({ enabled: true, rule: 'opted-in' });
  });

  it('disable and enable write the global switch, and status follows it', () => {
    const m = machine();
    const off = m.run(['disable']);
    expect(off.code).toBe(0);
    expect(JSON.parse(readFileSync(homePaths.settings(m.home), 'utf8'))).toMatchObject({ disabled: true });
    expect(m.status(P)).toMatchObject({ enabled: false, rule: 'global-switch' });
    expect(JSON.parse(m.run(['status', '--json']).stdout)).toMatchObject({ globalSwitch: 'off' });

    expect(m.run(['enable']).code).toBe(0);
    expect(JSON.parse(readFileSync(homePaths.settings(m.home), 'utf8'))).toMatchObject({ disabled: false });
    expect(m.status(P)).toMatchObject({ enabled: true, rule: 'default-on' });
    expect(JSON.parse(m.run(['status', '--json']).stdout)).toMatchObject({ globalSwitch: 'on' });
  });

  it('optout deletes that project\'s waiting reports, and only those', () => {
    const m = machine();
    spoolOf(m, P).add(sampleEntry(P), 0);
    spoolOf(m, P).add(sampleEntry(P), 1);
    spoolOf(m, 'other-lib').add(sampleEntry('other-lib'), 0);
    expect(m.status(P).waitingReports).toBe(2);

    const { code, stdout } = m.run(['optout', P]);
    expect(code).toBe(0);
    expect(stdout).toContain('2 waiting reports deleted');
    expect(spoolOf(m, P).list()).toEqual([]);
    expect(spoolOf(m, 'other-lib').list()).toHaveLength(1);
    expect(m.status(P).waitingReports).toBe(0);
  });

  it('disable deletes every project\'s waiting reports', () => {
    const m = machine();
    spoolOf(m, P).add(sampleEntry(P), 0);
    spoolOf(m, '@acme/cli').add(sampleEntry('@acme/cli'), 0);
    const { code, stdout } = m.run(['disable']);
    expect(code).toBe(0);
    expect(stdout).toContain('2 waiting reports deleted');
    expect(spoolOf(m, P).list()).toEqual([]);
    expect(spoolOf(m, '@acme/cli').list()).toEqual([]);
  });
});

describe('tallyho status <project> names the rule that turned it off', () => {
  it.each([
    ['DO_NOT_TRACK=1', { DO_NOT_TRACK: '1' }, 'do-not-track', 'DO_NOT_TRACK'],
    ['TALLYHO_DISABLE=1', { TALLYHO_DISABLE: '1' }, 'tallyho-disable', 'TALLYHO_DISABLE'],
    ['TALLYHO_OPTOUT', { TALLYHO_OPTOUT: `other,${P}` }, 'tallyho-optout', 'TALLYHO_OPTOUT'],
    ['CI=true', { CI: 'true' }, 'ci', 'CI'],
    ['GITHUB_ACTIONS=true', { GITHUB_ACTIONS: 'true' }, 'ci', 'CI'],
  ])('%s', (_name, env, rule, mention) => {
    const m = machine();
    const entry = m.status(P, env);
    expect(entry).toMatchObject({ enabled: false, rule });
    expect(entry.reason).toContain(mention);
    const text = m.run(['status', P], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`${P}: OFF (${rule})`);
  });

  it('a .tallyho-do-not-track file in the directory or above', () => {
    const m = machine();
    const file = join(m.cwd, '.tallyho-do-not-track');
    writeFileSync(file, '');
    const nested = join(m.cwd, 'packages', 'app');
    mkdirSync(nested, { recursive: true });
    const entry = m.status(P);
    expect(entry).toMatchObject({ enabled: false, rule: 'directory-file' });
    expect(entry.reason).toContain(file);
    // From a subdirectory too.
    const result = spawnSync(process.execPath, [cli, 'status', P, '--json'], {
      cwd: nested,
      env: { PATH: process.env.PATH ?? '', HOME: root, TALLYHO_HOME: m.homeDir },
      encoding: 'utf8',
    });
    expect(JSON.parse(result.stdout).projects[0]).toMatchObject({ enabled: false, rule: 'directory-file' });
  });

  it('the global switch', () => {
    const m = machine();
    m.run(['disable']);
    const entry = m.status(P);
    expect(entry).toMatchObject({ enabled: false, rule: 'global-switch' });
    expect(entry.reason).toContain('tallyho disable');
    expect(m.run(['status', P]).stdout).toContain(`${P}: OFF (global-switch)`);
  });

  it('the project switch', () => {
    const m = machine();
    m.run(['optout', P]);
    const entry = m.status(P);
    expect(entry).toMatchObject({ enabled: false, rule: 'project-optout' });
    expect(entry.reason).toContain(`tallyho optout ${P}`);
    expect(m.run(['status', P]).stdout).toContain(`${P}: OFF (project-optout)`);
  });

  it('an unreadable settings file', () => {
    const m = machine();
    mkdirSync(m.home.config, { recursive: true });
    writeFileSync(homePaths.settings(m.home), '{ not json');
    const entry = m.status(P);
    expect(entry).toMatchObject({ enabled: false, rule: 'unreadable-file' });
    expect(entry.reason).toContain(homePaths.settings(m.home));
    expect(JSON.parse(m.run(['status', '--json']).stdout)).toMatchObject({ globalSwitch: 'unreadable' });
  });

  it('and says ON, with how to turn it off, when nothing turned it off', () => {
    const m = machine();
    const { stdout } = m.run(['status', P]);
    expect(stdout).toContain(`${P}: ON (default-on)`);
    expect(stdout).toContain(`tallyho optout ${P}`);
  });
});

describe('tallyho status --json', () => {
  it('parses, and lists the projects this machine knows', () => {
    const m = machine();
    m.run(['optout', P]);
    spoolOf(m, '@acme/cli').add(sampleEntry('@acme/cli'), 0);
    const { code, stdout } = m.run(['status', '--json']);
    expect(code).toBe(0);
    const status = JSON.parse(stdout) as { home: Home; globalSwitch: string; projects: StatusEntry[] };
    expect(status.home.config).toBe(m.homeDir);
    expect(status.globalSwitch).toBe('on');
    expect(status.projects.map((p) => p.project)).toEqual(['@acme/cli', P]);
    expect(status.projects.find((p) => p.project === '@acme/cli')).toMatchObject({ enabled: true, waitingReports: 1 });
    expect(status.projects.find((p) => p.project === P)).toMatchObject({ enabled: false, rule: 'project-optout' });
  });
});

describe('tallyho show / purge', () => {
  it('show prints each waiting report exactly as it will be sent', () => {
    const m = machine();
    const a = sampleEntry(P, 'https://telemetry.acme.dev/v1/reports');
    const b = sampleEntry('other-lib', 'https://other.example/ingest');
    spoolOf(m, P).add(a, 0);
    spoolOf(m, 'other-lib').add(b, 0);

    const { code, stdout } = m.run(['show']);
    expect(code).toBe(0);
    expect(stdout).toContain(`# ${P} -> https://telemetry.acme.dev/v1/reports`);
    expect(stdout).toContain('# other-lib -> https://other.example/ingest');
    const reports = stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
    expect(reports).toEqual(expect.arrayContaining([a.report, b.report]));
    expect(reports).toHaveLength(2);

    const one = m.run(['show', 'other-lib']).stdout;
    expect(one).toContain('# other-lib');
    expect(one).not.toContain(`# ${P}`);
    // Showing leaves them waiting.
    expect(spoolOf(m, P).list()).toHaveLength(1);
  });

  it('show prints the waiting batch merged, as it will leave, and when it leaves; purge deletes it unsent', () => {
    const m = machine();
    const now = Date.now();
    const first = { ...sampleEntry(P, 'https://telemetry.acme.dev/v1/reports', now - 600_000), nextAttemptAt: now + 3_000_000 };
    const second = { ...sampleEntry(P, 'https://telemetry.acme.dev/v1/reports', now - 60_000), nextAttemptAt: now + 3_540_000 };
    const retry = { ...sampleEntry(P, 'https://telemetry.acme.dev/v1/reports', now - 120_000), attempts: 2, nextAttemptAt: now + 240_000 };
    for (const e of [first, second, retry]) spoolOf(m, P).add(e, 0);

    const { code, stdout } = m.run(['show', P]);
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    const batch = lines.find((l) => l.includes('batch of'));
    expect(batch).toContain('batch of 2 reports (2 runs)');
    expect(batch).toContain(`leaves at ${new Date(first.nextAttemptAt).toISOString()} (in 50 min)`);
    expect(lines.find((l) => l.includes('being retried'))).toContain(`next attempt at ${new Date(retry.nextAttemptAt).toISOString()}`);
    const reports = lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
    expect(reports).toHaveLength(2);
    const merged = reports.find((r) => r.runs === 2);
    expect(merged.counts).toEqual({ 'Client#query': 6 });
    expect(merged.id).not.toBe(first.report.id);
    expect(reports).toContainEqual(retry.report);

    expect(m.run(['purge', P]).stdout).toContain('3 waiting reports deleted');
    expect(m.run(['show', P]).stdout).toContain('no reports are waiting');
  });

  it('show says so when nothing is waiting', () => {
    const { code, stdout } = machine().run(['show']);
    expect(code).toBe(0);
    expect(stdout).toContain('no reports are waiting');
  });

  it('purge <project> deletes that project\'s waiting reports; purge deletes all', () => {
    const m = machine();
    spoolOf(m, P).add(sampleEntry(P), 0);
    spoolOf(m, P).add(sampleEntry(P), 1);
    spoolOf(m, 'other-lib').add(sampleEntry('other-lib'), 0);

    const some = m.run(['purge', P]);
    expect(some.code).toBe(0);
    expect(some.stdout).toContain('2 waiting reports deleted');
    expect(spoolOf(m, P).list()).toEqual([]);
    expect(spoolOf(m, 'other-lib').list()).toHaveLength(1);

    const rest = m.run(['purge']);
    expect(rest.stdout).toContain('1 waiting report deleted');
    expect(spoolOf(m, 'other-lib').list()).toEqual([]);
    expect(m.run(['show']).stdout).toContain('no reports are waiting');
  });
});
