import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { FILE_FORMAT } from '../../src/config/files.js';
import { homePaths, resolveHome } from '../../src/config/home.js';

const fixture = fileURLToPath(new URL('../fixtures/security/host.mjs', import.meta.url));
const P = 'hostile-fixture';
// Reachable by an unprivileged user: each case's folders are made inside.
const root = mkdtempSync(join(tmpdir(), 'tallyho-hostile-'));
chmodSync(root, 0o755);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The unprivileged user the ownership cases run as (the victim); root plays the other local user. */
const NOBODY = { uid: 65534, gid: 65534 };
const isRoot = process.getuid?.() === 0;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  status: { enabled: boolean; rule: string; reason: string } | undefined;
}

/**
 * Runs the fixture host with exactly `env` (never the runner's own), as `user` if given. A run that
 * has not ended by itself within `boundMs` is killed: a hang shows as `signal: 'SIGKILL'`.
 */
function runHost(env: Record<string, string>, options: { user?: typeof NOBODY; args?: object; cwd?: string; boundMs?: number } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture, JSON.stringify(options.args ?? {})], {
      env: { PATH: process.env.PATH ?? '', ...env },
      cwd: options.cwd ?? root,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.boundMs ?? 20_000,
      killSignal: 'SIGKILL',
      ...(options.user ?? {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      resolve({ code, signal, stdout, stderr, status: line === undefined ? undefined : (JSON.parse(line) as Run['status']) });
    });
  });
}

let made = 0;
/** A fresh folder for one case, reachable by every user; its home is `<dir>/home` (not created). */
function caseDir(): string {
  const dir = join(root, String(made++));
  mkdirSync(dir, { mode: 0o755 });
  chmodSync(dir, 0o755);
  return dir;
}

const json = (value: Record<string, unknown>): string => JSON.stringify({ format: FILE_FORMAT, ...value });

/** Plants a home as the attacker would: a consent file opting the project in, and a salt of theirs. */
function plant(home: string, owner?: typeof NOBODY): void {
  mkdirSync(join(home, 'consent'), { recursive: true });
  writeFileSync(join(home, 'consent', `${P}.json`), json({ project: P, consent: 'in' }));
  writeFileSync(join(home, 'salt.json'), json({ salt: 'a'.repeat(64) }));
  if (owner !== undefined) for (const path of [home, join(home, 'consent'), join(home, 'consent', `${P}.json`), join(home, 'salt.json')]) chownSync(path, owner.uid, owner.gid);
}

// CI=true: only the user's explicit opt-in (or a planted one) can turn the project on.
const inCI = (home: string): Record<string, string> => ({ CI: 'true', TALLYHO_HOME: home });

describe.runIf(isRoot)('a home another local user could write into is not used (run as nobody)', () => {
  it('a home owned by another user: off, rule unsafe-home, planted consent and salt unread', async () => {
    const home = join(caseDir(), 'home');
    plant(home);
    chmodSync(home, 0o755);
    const run = await runHost(inCI(home), { user: NOBODY });
    expect(run).toMatchObject({ code: 0, signal: null });
    expect(run.status).toMatchObject({ enabled: false, rule: 'unsafe-home' });
    expect(run.status!.reason).toContain(`owned by uid 0`);
  });

  it('a home of this user that group or others can write: off, rule unsafe-home', async () => {
    const home = join(caseDir(), 'home');
    plant(home, NOBODY);
    chmodSync(home, 0o777);
    const run = await runHost(inCI(home), { user: NOBODY });
    expect(run.status).toMatchObject({ enabled: false, rule: 'unsafe-home' });
    expect(run.status!.reason).toContain('writable by');
  });

  it('a home below a folder others can write that is not sticky: off, rule unsafe-home', async () => {
    const shared = join(caseDir(), 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    const home = join(shared, 'home');
    plant(home, NOBODY);
    chmodSync(home, 0o700);
    const run = await runHost(inCI(home), { user: NOBODY });
    expect(run.status).toMatchObject({ enabled: false, rule: 'unsafe-home' });
    expect(run.status!.reason).toContain('not sticky');
  });

  it('a file in a safe home that another user owns is not read: its opt-in does not count', async () => {
    const home = join(caseDir(), 'home');
    plant(home, NOBODY);
    chmodSync(home, 0o700);
    chownSync(join(home, 'consent', `${P}.json`), 0, 0);
    const run = await runHost(inCI(home), { user: NOBODY });
    expect(run.status).toMatchObject({ enabled: false, rule: 'unreadable-file' });
    expect(run.status!.reason).toContain('consent');
  });

  it("a salt file that another user owns is not used: the user's own salt replaces it", async () => {
    const home = join(caseDir(), 'home');
    plant(home, NOBODY);
    chmodSync(home, 0o700);
    chownSync(join(home, 'salt.json'), 0, 0);
    const run = await runHost({ ...inCI(home), TALLYHO_OPTIN: P }, { user: NOBODY });
    expect(run.status).toMatchObject({ enabled: true, rule: 'opted-in' });
    const salt = statSync(join(home, 'salt.json'));
    expect(salt.uid).toBe(NOBODY.uid);
    expect((JSON.parse(readFileSync(join(home, 'salt.json'), 'utf8')) as { salt: string }).salt).not.toBe('a'.repeat(64));
  });

  it('the same home, owned by the user and writable by nobody else, is trusted (the control case)', async () => {
    const home = join(caseDir(), 'home');
    plant(home, NOBODY);
    chmodSync(home, 0o700);
    const run = await runHost(inCI(home), { user: NOBODY });
    expect(run.status).toMatchObject({ enabled: true, rule: 'opted-in' });
    // The planted salt was this user's own, so it is the one kept.
    expect((JSON.parse(readFileSync(join(home, 'salt.json'), 'utf8')) as { salt: string }).salt).toBe('a'.repeat(64));
  });

  it('the tallyho command refuses to write switches into an unsafe home, and status says why', () => {
    const home = join(caseDir(), 'home');
    plant(home);
    chmodSync(home, 0o755);
    const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
    const env = { PATH: process.env.PATH ?? '', TALLYHO_HOME: home };
    let failure: { status: number; stderr: string } | undefined;
    try {
      execFileSync(process.execPath, [cli, 'optin', P], { env, uid: NOBODY.uid, gid: NOBODY.gid, stdio: 'pipe', timeout: 20_000 });
    } catch (error) {
      failure = { status: (error as { status: number }).status, stderr: String((error as { stderr: Buffer }).stderr) };
    }
    expect(failure?.status).toBe(1);
    expect(failure?.stderr).toContain('not safe to use');
    const status = execFileSync(process.execPath, [cli, 'status', P], { env, uid: NOBODY.uid, gid: NOBODY.gid, encoding: 'utf8', timeout: 20_000 });
    expect(status).toContain('OFF (unsafe-home)');
  });
});

describe.concurrent('FIFOs and devices where tallyho keeps files never hang the host', () => {
  /** A home with `kind` (a FIFO, or a link to /dev/zero) in place of one of its files. */
  function homeWith(file: (home: string) => string, kind: 'fifo' | 'dev-zero'): string {
    const home = join(caseDir(), 'home');
    const path = file(home);
    mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
    chmodSync(home, 0o700);
    if (kind === 'fifo') execFileSync('mkfifo', [path]);
    else symlinkSync('/dev/zero', path);
    return home;
  }
  const h = (dir: string) => resolveHome(dir);

  it.each([
    ['settings', (home: string) => homePaths.settings(h(home))],
    ['consent', (home: string) => homePaths.consent(h(home), P)],
  ] as const)('a FIFO as the %s file: off (unreadable-file), at once', async (_name, file) => {
    const home = homeWith(file, 'fifo');
    const run = await runHost({ TALLYHO_OPTIN: P, TALLYHO_HOME: home });
    expect(run).toMatchObject({ code: 0, signal: null });
    expect(run.status).toMatchObject({ enabled: false, rule: 'unreadable-file' });
    expect(run.status!.reason).toContain('FIFO');
  });

  it('a link to /dev/zero as the settings file: off (unreadable-file), at once', async () => {
    const home = homeWith((dir) => homePaths.settings(h(dir)), 'dev-zero');
    const run = await runHost({ TALLYHO_OPTIN: P, TALLYHO_HOME: home });
    expect(run).toMatchObject({ code: 0, signal: null });
    expect(run.status).toMatchObject({ enabled: false, rule: 'unreadable-file' });
    expect(run.status!.reason).toContain('character device');
  });

  it.each([
    ['gone', (home: string) => homePaths.gone(h(home), P)],
    ['projects', (home: string) => homePaths.knownProject(h(home), P)],
    ['ids', (home: string) => homePaths.ids(h(home), P)],
    ['salt', (home: string) => homePaths.salt(h(home))],
  ] as const)('a FIFO as the %s file: on, and the host starts and exits by itself', async (_name, file) => {
    const home = homeWith(file, 'fifo');
    const run = await runHost({ TALLYHO_OPTIN: P, TALLYHO_HOME: home }, { args: { level: 'full' } });
    expect(run).toMatchObject({ code: 0, signal: null });
    expect(run.status).toMatchObject({ enabled: true });
  });
});

describe.concurrent('TALLYHO_SHOW_ME=PATH', () => {
  it('does not follow a symbolic link planted at the path, and says so', async () => {
    const dir = caseDir();
    const target = join(dir, 'victim-file');
    writeFileSync(target, 'precious\n');
    symlinkSync(target, join(dir, 'show-me.jsonl'));
    const run = await runHost({ TALLYHO_OPTIN: P, TALLYHO_HOME: join(dir, 'home'), TALLYHO_SHOW_ME: join(dir, 'show-me.jsonl'), TALLYHO_DEBUG: '1' });
    expect(run).toMatchObject({ code: 0, signal: null });
    expect(readFileSync(target, 'utf8')).toBe('precious\n');
    expect(run.stderr).toContain('symbolic link');
  });

  it('at a FIFO with no reader: the host exits by itself, and it says so', async () => {
    const dir = caseDir();
    execFileSync('mkfifo', [join(dir, 'show-me.fifo')]);
    const run = await runHost({ TALLYHO_OPTIN: P, TALLYHO_HOME: join(dir, 'home'), TALLYHO_SHOW_ME: join(dir, 'show-me.fifo'), TALLYHO_DEBUG: '1' });
    expect(run).toMatchObject({ code: 0, signal: null });
    expect(run.stderr).toContain('FIFO');
  });

  it('writes to a regular file (the control case)', async () => {
    const dir = caseDir();
    const run = await runHost({ TALLYHO_OPTIN: P, TALLYHO_HOME: join(dir, 'home'), TALLYHO_SHOW_ME: join(dir, 'show-me.jsonl') });
    expect(run).toMatchObject({ code: 0, signal: null });
    expect(readFileSync(join(dir, 'show-me.jsonl'), 'utf8')).toContain('"feature.used":1');
  });
});

describe('a relative TALLYHO_HOME', () => {
  it('is resolved once, at creation: a later chdir does not move the salt and ids', async () => {
    const dir = caseDir();
    mkdirSync(join(dir, 'elsewhere'));
    const run = await runHost({ TALLYHO_OPTIN: P, TALLYHO_HOME: 'th-home' }, { cwd: dir, args: { chdir: 'elsewhere', level: 'full' } });
    expect(run).toMatchObject({ code: 0, signal: null });
    expect(existsSync(join(dir, 'th-home', 'salt.json'))).toBe(true);
    expect(existsSync(join(dir, 'elsewhere', 'th-home'))).toBe(false);
  });
});

describe('TALLYHO_OPTOUT and TALLYHO_OPTIN', () => {
  it.each(['HOSTILE-FIXTURE', 'other hostile-fixture', 'other,\tHostile-Fixture', ' other , hostile-fixture '])(
    'TALLYHO_OPTOUT=%j turns the project off',
    async (value) => {
      const run = await runHost({ TALLYHO_OPTIN: P, TALLYHO_OPTOUT: value, TALLYHO_HOME: join(caseDir(), 'home') });
      expect(run.status).toMatchObject({ enabled: false, rule: 'tallyho-optout' });
    },
  );

  it('a name that matches no project seen on this machine is named under debug', async () => {
    const run = await runHost({ TALLYHO_OPTIN: P, TALLYHO_OPTOUT: 'hostile-fixtur', TALLYHO_HOME: join(caseDir(), 'home'), TALLYHO_DEBUG: '1' });
    expect(run.status).toMatchObject({ enabled: true });
    expect(run.stderr).toContain('TALLYHO_OPTOUT names "hostile-fixtur", which matches no project seen on this machine');
    expect(run.stderr).not.toContain('TALLYHO_OPTIN names "');
  });
});
