import { userInfo } from 'node:os';
import { builtins } from '../config/builtins.js';
import { readJsonFile, writeJsonFile } from '../config/files.js';
import { type Home, homePaths } from '../config/home.js';
import type { Log } from '../config/log.js';

/** Where the salt came from: the home's salt file, the machine id, or this process only. */
export type SaltSource = 'file' | 'machine' | 'memory';

/** The salted identifiers of one project on this machine. */
export interface Identity {
  readonly saltSource: SaltSource;
  /** The id of the ISO week that contains `date` (rotates weekly). */
  weekId(date: Date): string;
  readonly installId: string;
  readonly userHash: string | undefined;
  readonly machineHash: string | undefined;
}

/** The ISO 8601 week of a date, as `2026-W48`. */
export function isoWeek(date: Date): string {
  const day = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  // Thursday decides the year a week belongs to.
  day.setUTCDate(day.getUTCDate() + 4 - (day.getUTCDay() || 7));
  const yearStart = Date.UTC(day.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((day.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${day.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

/** SHA-256 over (salt, project, kind, value): two projects, or two kinds of value, never share a hash. */
export function saltedHash(salt: Buffer, project: string, kind: string, value: string): string {
  return builtins.crypto().createHash('sha256').update(salt).update('\0').update(project).update('\0').update(kind).update('\0').update(value).digest('hex');
}

/**
 * The salt: 32 random bytes kept in the tallyho home (file 0600, folder 0700) and never sent, or,
 * with `TALLYHO_SALT_TYPE=machine`, derived from the machine id. Where the home cannot be written, a
 * salt for this process only: identifiers then change every run, which is the safe failure.
 */
export function loadSalt(home: Home, type: 'random' | 'machine', machineId: string | undefined, log: Log): { salt: Buffer; source: SaltSource } {
  if (type === 'machine') {
    if (machineId !== undefined) return { salt: builtins.crypto().createHash('sha256').update('tallyho salt\0').update(machineId).digest(), source: 'machine' };
    log.warn('TALLYHO_SALT_TYPE=machine, but this machine has no machine id; using a random salt');
  }
  const path = homePaths.salt(home);
  const existing = readJsonFile(path);
  if (existing.kind === 'ok' && typeof existing.value.salt === 'string' && /^[0-9a-f]{64}$/.test(existing.value.salt)) {
    return { salt: Buffer.from(existing.value.salt, 'hex'), source: 'file' };
  }
  const salt = builtins.crypto().randomBytes(32);
  if (existing.kind === 'newer') {
    // A newer tallyho owns that file: leave it alone, and salt this process only.
    return { salt, source: 'memory' };
  }
  try {
    writeJsonFile(path, { salt: salt.toString('hex') });
    return { salt, source: 'file' };
  } catch (error) {
    log.warn(`could not keep a salt in ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'}); identifiers last for this process only`);
    return { salt, source: 'memory' };
  }
}

/** Builds a project's identifiers. The machine id is read by the caller, never on the exit path. */
export function createIdentity(project: string, salted: { salt: Buffer; source: SaltSource }, machineId: string | undefined): Identity {
  const { salt } = salted;
  let user: string | undefined;
  try {
    user = userInfo().username || undefined;
  } catch {
    // No user entry (some containers): the field is left out.
  }
  return {
    saltSource: salted.source,
    weekId: (date) => saltedHash(salt, project, 'week', isoWeek(date)),
    installId: saltedHash(salt, project, 'install', ''),
    userHash: user === undefined ? undefined : saltedHash(salt, project, 'user', user),
    machineHash: machineId === undefined ? undefined : saltedHash(salt, project, 'machine', machineId),
  };
}

/**
 * Identifiers made on first use, by the first report: hashing loads node:crypto, and a program that
 * never reports must not pay for it at start-up.
 */
export function lazyIdentity(make: () => Identity): Identity {
  let made: Identity | undefined;
  const get = (): Identity => (made ??= make());
  return {
    get saltSource() {
      return get().saltSource;
    },
    weekId: (date) => get().weekId(date),
    get installId() {
      return get().installId;
    },
    get userHash() {
      return get().userHash;
    },
    get machineHash() {
      return get().machineHash;
    },
  };
}
