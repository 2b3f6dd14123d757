import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createIdentity, isoWeek, saltedHash } from '../../src/identity/identity.js';

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
