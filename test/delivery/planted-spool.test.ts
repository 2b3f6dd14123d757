import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILE_FORMAT } from '../../src/config/files.js';
import { homePaths, resolveHome } from '../../src/config/home.js';
import { DEFAULT_SPOOL_LIMITS, realSpoolFs, Spool, type SpoolFs, type SpoolLimits } from '../../src/delivery/spool.js';
import { sampleReport } from '../telemetry/support.js';

const dist = fileURLToPath(new URL('../../dist/', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'tallyho-planted-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const P = 'acme-sdk';

let made = 0;
function newHome(): string {
  const home = join(root, String(made++));
  mkdirSync(home, { recursive: true, mode: 0o700 });
  return home;
}

/** Writes the project's entry as its host would, declaring `declared` transports. */
function declare(home: string, declared: { name: string; spec: Record<string, unknown> }[]): void {
  const path = homePaths.knownProject(resolveHome(home), P);
  mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
  writeFileSync(path, JSON.stringify({ format: FILE_FORMAT, project: P, version: '1.0.0', level: 'basic', consent: 'opt-out', endpoints: declared.map((d) => d.name), noticeShown: true, declared }));
}

/** Plants a spool file, due now, for a transport of the planter's choosing. */
function plant(home: string, transport: { name: string; spec?: Record<string, unknown> }): string {
  const dir = homePaths.spool(resolveHome(home), P);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const report = sampleReport(P, { '$(touch /tmp/pwned)': 1 });
  const at = Date.now() - 1000;
  const name = `${String(at).padStart(13, '0')}-${report.id}-0.json`;
  writeFileSync(join(dir, name), JSON.stringify({ format: FILE_FORMAT, project: P, version: '1.0.0', consent: 'opt-out', transport, report, createdAt: at, attempts: 0, nextAttemptAt: at }));
  return dir;
}

/** Runs the detached sender on `home` in the foreground; killed if it has not ended within 20 s. */
function runSender(home: string): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(dist, 'sender.js'), home, join(home, 'cache'), '--watchdog-ms=8000'], {
      env: { PATH: process.env.PATH ?? '', TALLYHO_OPTIN: P },
      stdio: 'ignore',
      timeout: 20_000,
      killSignal: 'SIGKILL',
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
}

describe('a spool file can only name a transport that the host declared', () => {
  let server: Server;
  let url: string;
  const bodies: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        bodies.push(body);
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/reports`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('a planted file transport is never built: the file it names is not written', async () => {
    const home = newHome();
    const victim = join(home, 'victim-bashrc');
    declare(home, [{ name: url, spec: { type: 'http', url } }]);
    plant(home, { name: 'planted', spec: { type: 'file', path: victim } });
    expect(await runSender(home)).toMatchObject({ code: 0, signal: null });
    expect(existsSync(victim)).toBe(false);
  });

  it('a planted file that names a declared transport with another spec goes where the host declared, not where it says', async () => {
    const home = newHome();
    const victim = join(home, 'victim-bashrc');
    declare(home, [{ name: url, spec: { type: 'http', url } }]);
    plant(home, { name: url, spec: { type: 'file', path: victim } });
    const before = bodies.length;
    expect(await runSender(home)).toMatchObject({ code: 0, signal: null });
    expect(existsSync(victim)).toBe(false);
    expect(bodies.length).toBe(before + 1);
  });

  it('with no project entry at all, nothing is rebuilt', async () => {
    const home = newHome();
    const victim = join(home, 'victim-bashrc');
    const dir = plant(home, { name: 'planted', spec: { type: 'http', url, headers: { 'x-attacker': '1' } } });
    const before = bodies.length;
    expect(await runSender(home)).toMatchObject({ code: 0, signal: null });
    expect(bodies.length).toBe(before);
    expect(existsSync(victim)).toBe(false);
    // Left for a host that declares it, or for the age limit.
    expect(readdirSync(dir).filter((n) => n.endsWith('.json'))).toHaveLength(1);
  });
});

describe('a FIFO named like a spool file', () => {
  function fifoHome(): { home: string; fifo: string } {
    const home = newHome();
    const dir = homePaths.spool(resolveHome(home), P);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const fifo = join(dir, `${String(Date.now() - 1000).padStart(13, '0')}-${randomUUID()}-0.json`);
    execFileSync('mkfifo', [fifo]);
    return { home, fifo };
  }

  it('does not hang the sender, and is removed', async () => {
    const { home, fifo } = fifoHome();
    declare(home, []);
    expect(await runSender(home)).toMatchObject({ code: 0, signal: null });
    expect(existsSync(fifo)).toBe(false);
  });

  it('does not hang `tallyho show`', () => {
    const { home } = fifoHome();
    const out = execFileSync(process.execPath, [join(dist, 'cli.js'), 'show', P], { env: { PATH: process.env.PATH ?? '', TALLYHO_HOME: home }, encoding: 'utf8', timeout: 20_000 });
    expect(out).toContain('no reports are waiting');
  });
});

describe('temporary files orphaned by a process killed while writing', () => {
  /** A temporary file as writeFileAtomic names it, last written `ageMs` ago. */
  function orphan(dir: string, ageMs: number): string {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, `${String(Date.now()).padStart(13, '0')}-${randomUUID()}-0.json.4242.${randomUUID().slice(0, 8)}.tmp`);
    writeFileSync(path, '{"format":1');
    const at = (Date.now() - ageMs) / 1000;
    utimesSync(path, at, at);
    return path;
  }
  const cli = (home: string, ...args: string[]) =>
    execFileSync(process.execPath, [join(dist, 'cli.js'), ...args], { env: { PATH: process.env.PATH ?? '', TALLYHO_HOME: home }, encoding: 'utf8', timeout: 20_000 });

  it('older than a minute, go with `tallyho purge` and `optout`; younger ones (a write under way) stay', () => {
    const home = newHome();
    const dir = homePaths.spool(resolveHome(home), P);
    const old = orphan(dir, 120_000);
    const young = orphan(dir, 0);
    cli(home, 'purge', P);
    expect(existsSync(old)).toBe(false);
    expect(existsSync(young)).toBe(true);
    const older = orphan(dir, 120_000);
    cli(home, 'optout', P);
    expect(existsSync(older)).toBe(false);
  });

  it('go when the sender lists the spool, and when the known projects are listed', async () => {
    const home = newHome();
    declare(home, []);
    const inSpool = orphan(homePaths.spool(resolveHome(home), P), 120_000);
    const inRoot = orphan(homePaths.spoolRoot(resolveHome(home)), 120_000);
    const inProjects = orphan(homePaths.known(resolveHome(home)), 120_000);
    expect(await runSender(home)).toMatchObject({ code: 0, signal: null });
    expect(existsSync(inSpool)).toBe(false);
    expect(existsSync(inRoot)).toBe(false);
    cli(home, 'status');
    expect(existsSync(inProjects)).toBe(false);
  });
});

describe('file names tallyho writes', () => {
  it('do not depend on the host clock returning whole milliseconds: the report is still seen, and purged', () => {
    const home = newHome();
    const env = { PATH: process.env.PATH ?? '', TALLYHO_HOME: home, TALLYHO_OPTIN: 'fraction-fixture' };
    execFileSync(process.execPath, [fileURLToPath(new URL('../fixtures/security/fraction-host.mjs', import.meta.url))], { env, timeout: 20_000 });
    const dir = homePaths.spool(resolveHome(home), 'fraction-fixture');
    expect(readdirSync(dir).filter((n) => n.endsWith('.json'))).toEqual([expect.stringMatching(/^\d{13}-[0-9a-f-]{36}-0\.json$/)]);
    const shown = execFileSync(process.execPath, [join(dist, 'cli.js'), 'show', 'fraction-fixture'], { env, encoding: 'utf8', timeout: 20_000 });
    expect(shown).toContain('"work":3');
    execFileSync(process.execPath, [join(dist, 'cli.js'), 'optout', 'fraction-fixture'], { env, timeout: 20_000 });
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('the quota and the age limit apply when a report is written', () => {
  const entry = (calls: number, createdAt: number) => ({
    project: P,
    version: '1.0.0',
    consent: 'opt-out' as const,
    optOutEnv: undefined,
    transport: { name: 'host-only' },
    report: sampleReport(P, { 'Client#query': calls }),
    createdAt,
    attempts: 0,
    nextAttemptAt: createdAt,
  });
  const spoolOf = (dir: string, limits: Partial<SpoolLimits>) => new Spool(dir, realSpoolFs, { ...DEFAULT_SPOOL_LIMITS, ...limits });
  const waiting = (dir: string) => readdirSync(dir).filter((n) => /^\d{13}-.*\.json$/.test(n));

  it('past maxFiles, the oldest go as the next is written, counted as dropped (quota)', () => {
    const dir = join(newHome(), 'spool');
    const spool = spoolOf(dir, { maxFiles: 3 });
    const now = Date.now();
    for (let i = 0; i < 5; i++) expect(spool.add(entry(i + 1, now + i), 0)).toBe(true);
    expect(waiting(dir)).toHaveLength(3);
    expect(spool.takeDrops()).toEqual({ quota: 1 + 2 });
  });

  it('past maxBytes, likewise', () => {
    const dir = join(newHome(), 'spool');
    const now = Date.now();
    const one = JSON.stringify({ format: FILE_FORMAT, ...entry(1, now) }).length;
    const spool = spoolOf(dir, { maxBytes: one * 2 + 10 });
    for (let i = 0; i < 4; i++) spool.add(entry(10, now + i), 0);
    expect(waiting(dir)).toHaveLength(2);
    expect(spool.takeDrops()).toEqual({ quota: 20 });
  });

  it('a report older than maxAgeMs goes when another is written, counted as dropped (expired)', () => {
    const dir = join(newHome(), 'spool');
    const spool = spoolOf(dir, { maxAgeMs: 60_000 });
    const now = Date.now();
    spool.add(entry(7, now - 120_000), 0);
    spool.add(entry(1, now), 0);
    expect(waiting(dir)).toHaveLength(1);
    expect(spool.takeDrops()).toEqual({ expired: 7 });
  });
});

describe('a full disk', () => {
  it('keeps losses that cannot be written in memory, for the next report this process makes', () => {
    const dir = join(newHome(), 'spool');
    let full = true;
    const fs: SpoolFs = {
      ...realSpoolFs,
      writeAtomic: (path, data) => {
        if (full) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
        realSpoolFs.writeAtomic(path, data);
      },
    };
    const spool = new Spool(dir, fs, DEFAULT_SPOOL_LIMITS);
    spool.recordDrops({ refused: 3 });
    spool.recordDrops({ refused: 2, invalid: 1 });
    expect(spool.takeDrops()).toEqual({ refused: 5, invalid: 1 });
    expect(spool.takeDrops()).toEqual({});
    // Once the disk has room, what was kept in memory is written with the next record.
    spool.recordDrops({ quota: 4 });
    full = false;
    spool.recordDrops({ expired: 1 });
    expect(new Spool(dir).takeDrops()).toEqual({ quota: 4, expired: 1 });
  });
});
