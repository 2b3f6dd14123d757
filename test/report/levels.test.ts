import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { resolveHome } from '../../src/config/home.js';
import type { Log } from '../../src/config/log.js';
import { createIdentity, type Identity, loadSalt } from '../../src/identity/identity.js';
import { readMachineId } from '../../src/identity/machine-id.js';
import type { Delta } from '../../src/registry/counter-table.js';
import { buildReport, type ReportContext } from '../../src/report/build-report.js';
import { environmentFacts } from '../../src/report/environment.js';
import { type Level, LEVELS, type Report } from '../../src/report/report.js';
import { ReportSchema } from '../../src/report/schema.js';
import { createTelemetry } from '../../src/telemetry.js';
import { memoryTransport } from '../../src/testing.js';
import { stubTallyhoEnv } from '../telemetry/support.js';
import { caseOwner, runUnprivileged } from '../fixtures/unprivileged/run.js';

const root = mkdtempSync(join(tmpdir(), 'tallyho-levels-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => vi.unstubAllEnvs());

let made = 0;
const freshDir = () => join(root, String(made++));

// The fields of each level, as report.ts documents them: each level adds to the one below.
const ENVELOPE = ['schema', 'id', 'project', 'version', 'level', 'trigger', 'period', 'dropped', 'runs'];
const ADDED: Record<Level, string[]> = {
  basic: ['counts', 'runtime', 'platform'],
  usage: ['errors', 'ci', 'weekId', 'durations', 'numbers', 'choices', 'dependencies', 'exits'],
  full: ['installId', 'userHash', 'machineHash'],
};
const allowed = (level: Level) => [...ENVELOPE, ...LEVELS.slice(0, LEVELS.indexOf(level) + 1).flatMap((l) => ADDED[l])];
const above = (level: Level) => LEVELS.slice(LEVELS.indexOf(level) + 1).flatMap((l) => ADDED[l]);

const HEX64 = /^[0-9a-f]{64}$/;
const silent = (): Log & { warnings: string[] } => {
  const warnings: string[] = [];
  return { debug: () => {}, warn: (message) => warnings.push(message), warnings };
};

function delta(end = Date.UTC(2026, 2, 4, 12)): Delta {
  return {
    counts: { 'Client#query': 3, 'new Client': 1 },
    errors: { 'Client#query': 1 },
    dropped: { invalid: 2 },
    start: end - 3600_000,
    end,
    durations: { 'Client#query': { '0.512': 2, '1.024': 1 } },
    numbers: { 'project.files': { '63': 1 } },
    choices: { 'input.format': { hic: 2, other: 1 } },
    exits: { normal: 1, nonZero: 0, signal: 0, duration: { '1048.576': 1 } },
  };
}

const salt = { salt: randomBytes(32), source: 'file' as const };
function context(level: Level, identity: Identity | undefined = createIdentity('acme-sdk', salt, 'machine-1'), project = 'acme-sdk'): ReportContext {
  return { project, version: '1.4.0', level, facts: environmentFacts(), ci: false, identity, dependencies: () => ({ zod: '4.1.0', react: null }) };
}

function build(level: Level, identity?: Identity, end?: number, project?: string): Report {
  const report = buildReport(delta(end), 'manual', context(level, identity ?? createIdentity(project ?? 'acme-sdk', salt, 'machine-1'), project));
  expect(report).toBeDefined();
  return report!;
}

describe('buildReport: each level carries its own fields and nothing of a higher level', () => {
  it.each(LEVELS)('%s', (level) => {
    const report = build(level);
    const keys = Object.keys(report);
    expect(keys.filter((key) => !allowed(level).includes(key))).toEqual([]);
    for (const key of above(level)) expect(report).not.toHaveProperty(key);
    // And it does carry what its level allows (userHash only where the user name can be read).
    const expected = allowed(level).filter((key) => key !== 'userHash');
    expect(keys).toEqual(expect.arrayContaining(expected));
    expect(report.level).toBe(level);
    expect(ReportSchema.safeParse(report).success).toBe(true);
  });

  it('basic carries the counts but not which of them failed', () => {
    const report = build('basic');
    expect(report.counts).toEqual({ 'Client#query': 3, 'new Client': 1 });
    expect(report.dropped).toEqual({ invalid: 2 });
    expect(report).not.toHaveProperty('errors');
    expect(build('usage').errors).toEqual({ 'Client#query': 1 });
  });

  it('usage without identifiers still has no identifier fields', () => {
    const report = buildReport(delta(), 'manual', { ...context('usage'), identity: undefined });
    expect(report).toBeDefined();
    expect(report).not.toHaveProperty('weekId');
    expect(report).not.toHaveProperty('installId');
    expect(report!.ci).toBe(false);
  });

  it('full identifiers are 64-hex and never the salt', () => {
    const report = build('full');
    for (const key of ['weekId', 'installId', 'machineHash', 'userHash'] as const) {
      if (report[key] === undefined) continue;
      expect(report[key]).toMatch(HEX64);
    }
    expect(JSON.stringify(report)).not.toContain(salt.salt.toString('hex'));
    expect(JSON.stringify(report)).not.toContain('machine-1');
  });
});

describe('identifiers over time and across projects', () => {
  it('weekId changes across an ISO week boundary and not within a week', () => {
    const identity = createIdentity('acme-sdk', salt, undefined);
    const at = (iso: string) => build('usage', identity, Date.parse(iso)).weekId;
    const monday = at('2026-01-05T00:00:00Z');
    expect(monday).toMatch(HEX64);
    expect(at('2026-01-07T15:30:00Z')).toBe(monday);
    expect(at('2026-01-11T23:59:59Z')).toBe(monday);
    expect(at('2026-01-04T23:59:59Z')).not.toBe(monday);
    expect(at('2026-01-12T00:00:00Z')).not.toBe(monday);
  });

  it('ids differ per project, from the same salt', () => {
    const a = build('full', undefined, undefined, 'acme-sdk');
    const b = build('full', undefined, undefined, 'other-lib');
    for (const key of ['weekId', 'installId', 'machineHash', 'userHash'] as const) {
      if (a[key] === undefined) continue;
      expect(a[key]).toMatch(HEX64);
      expect(b[key]).toMatch(HEX64);
      expect(a[key]).not.toBe(b[key]);
    }
  });
});

describe('loadSalt', () => {
  it('keeps a random salt in the home (file 0600), the same on every load', () => {
    const home = resolveHome(freshDir());
    const log = silent();
    const first = loadSalt(home, 'random', undefined, log);
    const second = loadSalt(home, 'random', undefined, log);
    expect(first.source).toBe('file');
    expect(second.salt.equals(first.salt)).toBe(true);
    expect(statSync(join(home.config, 'salt.json')).mode & 0o777).toBe(0o600);
    expect(log.warnings).toEqual([]);
    // Another home, another salt.
    expect(loadSalt(resolveHome(freshDir()), 'random', undefined, log).salt.equals(first.salt)).toBe(false);
  });

  it('with TALLYHO_SALT_TYPE=machine derives a stable salt from the machine id, and writes nothing', () => {
    const home = resolveHome(freshDir());
    const log = silent();
    const a = loadSalt(home, 'machine', 'machine-1', log);
    const b = loadSalt(resolveHome(freshDir()), 'machine', 'machine-1', log);
    expect(a.source).toBe('machine');
    expect(b.salt.equals(a.salt)).toBe(true);
    expect(loadSalt(home, 'machine', 'machine-2', log).salt.equals(a.salt)).toBe(false);
    expect(a.salt.toString('hex')).not.toContain(Buffer.from('machine-1').toString('hex'));
    expect(existsSync(home.config)).toBe(false);
  });

  it('with TALLYHO_SALT_TYPE=machine and no machine id, falls back to a random salt with a warning', () => {
    const home = resolveHome(freshDir());
    const log = silent();
    const salted = loadSalt(home, 'machine', undefined, log);
    expect(salted.source).toBe('file');
    expect(log.warnings.join()).toContain('TALLYHO_SALT_TYPE=machine');
  });

  it('in a home that cannot be written, salts this process only, with a warning, and does not throw', () => {
    const blocker = join(freshDir());
    writeFileSync(blocker, 'a file, not a folder\n');
    const log = silent();
    const salted = loadSalt(resolveHome(join(blocker, 'home')), 'random', undefined, log);
    expect(salted.source).toBe('memory');
    expect(salted.salt).toHaveLength(32);
    expect(log.warnings).toHaveLength(1);
  });

  it('in a read-only home (chmod 0500), salts this process only, and does not throw (run as nobody under root)', async () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (let p = dir; p.startsWith(root); p = join(p, '..')) chmodSync(p, 0o755);
    // The home is the user's own, and read-only to them.
    if (caseOwner !== undefined) chownSync(dir, caseOwner.uid, caseOwner.gid);
    chmodSync(dir, 0o500);
    try {
      const result = (await runUnprivileged(`
        import { resolveHome } from './config/home.js';
        import { loadSalt } from './identity/identity.js';
        const warnings = [];
        const salted = loadSalt(resolveHome(${JSON.stringify(dir)}), 'random', undefined, { warn: (m) => warnings.push(m), debug: () => {} });
        console.log(JSON.stringify({ source: salted.source, bytes: salted.salt.length, warnings }));
      `)) as { source: string; bytes: number; warnings: string[] };
      expect(result).toMatchObject({ source: 'memory', bytes: 32 });
      expect(result.warnings).toHaveLength(1);
      expect(existsSync(join(dir, 'salt.json'))).toBe(false);
    } finally {
      chmodSync(dir, 0o700);
    }
  });

  it('leaves a salt file of a newer format alone', () => {
    const home = resolveHome(freshDir());
    mkdirSync(home.config, { recursive: true });
    const text = JSON.stringify({ format: 99, salt: 'x' });
    writeFileSync(join(home.config, 'salt.json'), text);
    expect(loadSalt(home, 'random', undefined, silent()).source).toBe('memory');
    expect(readFileSync(join(home.config, 'salt.json'), 'utf8')).toBe(text);
  });
});

describe('createTelemetry: TALLYHO_LEVEL lowers the level, never raises it', () => {
  let projects = 0;

  async function reportAt(authorLevel: Level, envLevel: string | undefined, extra: Record<string, string> = {}, home = freshDir()) {
    const project = `levels-${projects++}`;
    stubTallyhoEnv({ TALLYHO_OPTIN: project, TALLYHO_HOME: home, ...(envLevel === undefined ? {} : { TALLYHO_LEVEL: envLevel }), ...extra });
    const transport = memoryTransport();
    const telemetry = createTelemetry({ project, version: '1.0.0', level: authorLevel, transports: [transport] });
    telemetry.count('feature.export', 2);
    const result = await telemetry.flush();
    await telemetry.shutdown();
    expect(result.status).toBe('sent');
    expect(transport.reports).toHaveLength(1);
    return { status: telemetry.status(), report: transport.reports[0]! };
  }

  it.each([
    ['usage', 'basic', 'basic'],
    ['full', 'basic', 'basic'],
    ['full', 'usage', 'usage'],
    ['usage', 'full', 'usage'],
    ['basic', 'full', 'basic'],
    ['basic', 'usage', 'basic'],
    ['usage', undefined, 'usage'],
    ['usage', 'nonsense', 'usage'],
  ] as const)('author %s, TALLYHO_LEVEL=%s: reports at %s', async (author, env, expected) => {
    const { status, report } = await reportAt(author, env);
    expect(status.level).toBe(expected);
    expect(report.level).toBe(expected);
    expect(Object.keys(report).filter((key) => !allowed(expected).includes(key))).toEqual([]);
    if (expected !== 'basic') expect(report.weekId).toMatch(HEX64);
  });

  it('full reports carry the install id; with TALLYHO_SALT_TYPE=machine it is the same in any home', async () => {
    // The random salts of two homes give two install ids.
    const r1 = await reportAt('full', undefined, {});
    const r2 = await reportAt('full', undefined, {});
    expect(r1.report.installId).toMatch(HEX64);
    expect(r1.report.installId).not.toBe(createIdentity(r1.report.project, loadSalt(resolveHome(freshDir()), 'random', undefined, silent()), undefined).installId);
    expect(r2.report.installId).toMatch(HEX64);

    const { report } = await reportAt('full', undefined, { TALLYHO_SALT_TYPE: 'machine' });
    expect(report.installId).toMatch(HEX64);
    if (readMachineId() === undefined) return; // no machine id here: the random salt was used
    const elsewhere = loadSalt(resolveHome(freshDir()), 'machine', readMachineId(), silent());
    expect(elsewhere.source).toBe('machine');
    expect(report.installId).toBe(createIdentity(report.project, elsewhere, undefined).installId);
  });

  it('a home that cannot be written still reports with identifiers, and does not throw', async () => {
    const blocker = freshDir();
    writeFileSync(blocker, 'a file, not a folder\n');
    const { report } = await reportAt('full', undefined, {}, join(blocker, 'home'));
    expect(report.installId).toMatch(HEX64);
    expect(report.counts).toEqual({ 'feature.export': 2 });
  });
});
