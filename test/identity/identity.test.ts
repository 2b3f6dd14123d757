import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Home, homePaths } from '../../src/config/home.js';
import { cachedIdentity, createIdentity, isoWeek, saltedHash } from '../../src/identity/identity.js';

const HEX64 = /^[0-9a-f]{64}$/;

describe('isoWeek', () => {
  it.each([
    ['2026-01-01T12:00:00Z', '2026-W01'], // a Thursday: week 1 of its own year
    ['2027-01-01T12:00:00Z', '2026-W53'], // a Friday: the last week of the year before
    ['2024-12-30T12:00:00Z', '2025-W01'], // a Monday whose Thursday is in the next year
    ['2021-01-03T12:00:00Z', '2020-W53'], // a Sunday
    ['2026-12-31T23:59:59Z', '2026-W53'],
    ['2025-12-29T00:00:00Z', '2026-W01'],
    ['2026-01-04T23:59:59Z', '2026-W01'], // Sunday, the week's last second
    ['2026-01-05T00:00:00Z', '2026-W02'], // Monday, the next week's first
    ['2026-06-15T08:00:00Z', '2026-W25'],
  ])('%s is in %s', (date, week) => {
    expect(isoWeek(new Date(date))).toBe(week);
  });

  it('is taken in UTC, whatever the time of day', () => {
    expect(isoWeek(new Date('2026-01-05T00:00:00Z'))).toBe(isoWeek(new Date('2026-01-11T23:59:59.999Z')));
    expect(isoWeek(new Date('2026-01-04T23:59:59.999Z'))).not.toBe(isoWeek(new Date('2026-01-05T00:00:00Z')));
  });
});

describe('saltedHash', () => {
  const salt = Buffer.alloc(32, 7);

  it('is SHA-256 hex, and the same for the same input', () => {
    const hash = saltedHash(salt, 'acme-sdk', 'week', '2026-W01');
    expect(hash).toMatch(HEX64);
    expect(saltedHash(Buffer.alloc(32, 7), 'acme-sdk', 'week', '2026-W01')).toBe(hash);
  });

  it('separates salts, projects, kinds and values', () => {
    const hashes = [
      saltedHash(salt, 'acme-sdk', 'user', 'alice'),
      saltedHash(Buffer.alloc(32, 8), 'acme-sdk', 'user', 'alice'),
      saltedHash(salt, 'other-lib', 'user', 'alice'),
      saltedHash(salt, 'acme-sdk', 'machine', 'alice'),
      saltedHash(salt, 'acme-sdk', 'user', 'bob'),
    ];
    expect(new Set(hashes).size).toBe(hashes.length);
  });

  it('cannot be fooled by moving text from one part to the next', () => {
    expect(saltedHash(salt, 'ab', 'c', '')).not.toBe(saltedHash(salt, 'a', 'bc', ''));
    expect(saltedHash(salt, 'a', 'user', 'x')).not.toBe(saltedHash(salt, 'a', 'use', 'rx'));
  });
});

describe('createIdentity', () => {
  const salted = { salt: randomBytes(32), source: 'file' as const };

  it('builds 64-hex ids, none of which is the salt or a raw value', () => {
    const id = createIdentity('acme-sdk', salted, 'machine-123');
    const values = [id.weekId(new Date('2026-03-01T00:00:00Z')), id.installId, id.machineHash, id.userHash].filter((v) => v !== undefined);
    for (const value of values) {
      expect(value).toMatch(HEX64);
      expect(value).not.toBe(salted.salt.toString('hex'));
    }
    expect(id.machineHash).toBe(saltedHash(salted.salt, 'acme-sdk', 'machine', 'machine-123'));
    expect(id.saltSource).toBe('file');
  });

  it('has no machine hash without a machine id', () => {
    expect(createIdentity('acme-sdk', salted, undefined).machineHash).toBeUndefined();
  });

  it('gives each project its own ids from one salt', () => {
    const a = createIdentity('acme-sdk', salted, 'machine-123');
    const b = createIdentity('other-lib', salted, 'machine-123');
    const date = new Date('2026-03-01T00:00:00Z');
    expect(a.installId).not.toBe(b.installId);
    expect(a.machineHash).not.toBe(b.machineHash);
    expect(a.weekId(date)).not.toBe(b.weekId(date));
    if (a.userHash !== undefined) expect(a.userHash).not.toBe(b.userHash);
  });

  it('rotates the week id at the ISO week boundary, and only there', () => {
    const id = createIdentity('acme-sdk', salted, undefined);
    const monday = id.weekId(new Date('2026-01-05T00:00:00Z'));
    expect(id.weekId(new Date('2026-01-08T13:00:00Z'))).toBe(monday);
    expect(id.weekId(new Date('2026-01-11T23:59:59Z'))).toBe(monday);
    expect(id.weekId(new Date('2026-01-04T23:59:59Z'))).not.toBe(monday);
    expect(id.weekId(new Date('2026-01-12T00:00:00Z'))).not.toBe(monday);
  });
});

describe('cachedIdentity', () => {
  const root = mkdtempSync(join(tmpdir(), 'tallyho-ids-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  let n = 0;
  const freshHome = (): Home => {
    const dir = join(root, String(n++));
    return { config: dir, cache: join(dir, 'cache') };
  };
  const log = { warn: () => {}, debug: () => {} };
  const salted = { salt: randomBytes(32), source: 'file' as const };
  const date = new Date('2026-03-04T10:00:00Z');
  const SENTINEL = 'f'.repeat(64);
  const file = (home: Home): Record<string, unknown> => JSON.parse(readFileSync(homePaths.ids(home, 'acme-sdk'), 'utf8')) as Record<string, unknown>;
  const plant = (home: Home, change: (stored: Record<string, unknown>) => Record<string, unknown>): void => {
    writeFileSync(homePaths.ids(home, 'acme-sdk'), JSON.stringify(change(file(home))));
  };

  it('gives the ids createIdentity computes, and keeps them in the home (0600)', () => {
    const home = freshHome();
    const cached = cachedIdentity(home, 'acme-sdk', salted, 'machine-123', log);
    const computed = createIdentity('acme-sdk', salted, 'machine-123');
    expect(cached.weekId(date)).toBe(computed.weekId(date));
    expect([cached.installId, cached.userHash, cached.machineHash]).toEqual([computed.installId, computed.userHash, computed.machineHash]);
    expect(file(home)).toMatchObject({ format: 1, installId: computed.installId, weeks: { [isoWeek(date)]: computed.weekId(date) } });
    if (process.platform !== 'win32') expect(statSync(homePaths.ids(home, 'acme-sdk')).mode & 0o777).toBe(0o600);
  });

  it('reads them back instead of hashing again', () => {
    const home = freshHome();
    cachedIdentity(home, 'acme-sdk', salted, undefined, log).weekId(date);
    plant(home, (s) => ({ ...s, installId: SENTINEL, weeks: { [isoWeek(date)]: SENTINEL } }));
    const again = cachedIdentity(home, 'acme-sdk', salted, undefined, log);
    expect(again.installId).toBe(SENTINEL);
    expect(again.weekId(date)).toBe(SENTINEL);
  });

  it('computes them again when the salt, the user or the machine id differs from what they came from', () => {
    const other = { salt: randomBytes(32), source: 'file' as const };
    const runs: [typeof salted, string | undefined][] = [
      [other, 'machine-123'],
      [salted, 'another-machine'],
      [salted, undefined],
    ];
    for (const [salt, machine] of runs) {
      const home = freshHome();
      cachedIdentity(home, 'acme-sdk', salted, 'machine-123', log).weekId(date);
      plant(home, (s) => ({ ...s, installId: SENTINEL, weeks: { [isoWeek(date)]: SENTINEL } }));
      const again = cachedIdentity(home, 'acme-sdk', salt, machine, log);
      expect(again.installId).toBe(createIdentity('acme-sdk', salt, machine).installId);
      expect(again.weekId(date)).not.toBe(SENTINEL);
      expect(file(home)).toMatchObject({ installId: again.installId });
    }
    // Another user name gives another digest of what the ids came from: planted here, as the user cannot change.
    const home = freshHome();
    cachedIdentity(home, 'acme-sdk', salted, 'machine-123', log).weekId(date);
    plant(home, (s) => ({ ...s, source: '0123456789abcdef', installId: SENTINEL }));
    expect(cachedIdentity(home, 'acme-sdk', salted, 'machine-123', log).installId).toBe(createIdentity('acme-sdk', salted, 'machine-123').installId);
  });

  it('keeps no identifier in the clear: neither the user name, the machine id nor the salt', () => {
    const home = freshHome();
    const machine = 'machine-0f1e2d3c4b5a';
    cachedIdentity(home, 'acme-sdk', salted, machine, log).weekId(date);
    const text = readFileSync(homePaths.ids(home, 'acme-sdk'), 'utf8');
    const user = userInfo().username;
    expect(text).not.toContain(machine);
    expect(text).not.toContain(salted.salt.toString('hex'));
    expect(Object.values(file(home))).not.toContain(user);
    expect(text).not.toMatch(new RegExp(`"${user}"`));
    // What the ids came from is kept as a salted digest only.
    expect(file(home).source).toMatch(/^[0-9a-f]{16}$/);
    expect(Object.keys(file(home)).sort()).toEqual(['format', 'installId', 'machineHash', 'source', 'userHash', 'weeks']);
  });

  it('computes them again from a damaged file', () => {
    const home = freshHome();
    cachedIdentity(home, 'acme-sdk', salted, undefined, log).weekId(date);
    plant(home, (s) => ({ ...s, installId: 'not a hash' }));
    expect(cachedIdentity(home, 'acme-sdk', salted, undefined, log).installId).toBe(createIdentity('acme-sdk', salted, undefined).installId);
    writeFileSync(homePaths.ids(home, 'acme-sdk'), '{ half');
    expect(cachedIdentity(home, 'acme-sdk', salted, undefined, log).weekId(date)).toBe(createIdentity('acme-sdk', salted, undefined).weekId(date));
  });

  it('keeps the week ids of the last four weeks only', () => {
    const home = freshHome();
    const id = cachedIdentity(home, 'acme-sdk', salted, undefined, log);
    for (let week = 0; week < 6; week++) id.weekId(new Date(Date.UTC(2026, 0, 5 + 7 * week)));
    expect(Object.keys(file(home).weeks as object)).toEqual(['2026-W04', '2026-W05', '2026-W06', '2026-W07']);
  });

  it('leaves a file of a newer format alone, and hashes for itself', () => {
    const home = freshHome();
    mkdirSync(join(home.config, 'ids'), { recursive: true });
    const newer = JSON.stringify({ format: 99, whatever: true });
    writeFileSync(homePaths.ids(home, 'acme-sdk'), newer);
    const id = cachedIdentity(home, 'acme-sdk', salted, undefined, log);
    expect(id.weekId(date)).toBe(createIdentity('acme-sdk', salted, undefined).weekId(date));
    expect(readFileSync(homePaths.ids(home, 'acme-sdk'), 'utf8')).toBe(newer);
  });

  it('hashes every time, and keeps nothing, for a salt that is not kept in the home', () => {
    const home = freshHome();
    const id = cachedIdentity(home, 'acme-sdk', { salt: salted.salt, source: 'memory' }, undefined, log);
    expect(id.weekId(date)).toBe(createIdentity('acme-sdk', salted, undefined).weekId(date));
    expect(existsSync(homePaths.ids(home, 'acme-sdk'))).toBe(false);
  });

  it('never throws where the home cannot be written', () => {
    const home = { config: join(root, 'not-a-folder'), cache: join(root, 'not-a-folder', 'cache') };
    writeFileSync(home.config, 'a file where the folder should be');
    const id = cachedIdentity(home, 'acme-sdk', salted, undefined, log);
    expect(id.weekId(date)).toBe(createIdentity('acme-sdk', salted, undefined).weekId(date));
  });
});
