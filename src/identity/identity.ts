import { userInfo } from 'node:os';
import { builtins } from '../config/builtins.js';
import { randomBytes } from '../config/random.js';
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
  const salt = randomBytes(32);
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

/** The user's login name, or `undefined` where there is none (some containers). */
function userName(): string | undefined {
  try {
    return userInfo().username || undefined;
  } catch {
    return undefined;
  }
}

/** Builds a project's identifiers. The machine id is read by the caller, never on the exit path. */
export function createIdentity(project: string, salted: { salt: Buffer; source: SaltSource }, machineId: string | undefined): Identity {
  const { salt } = salted;
  const user = userName();
  return {
    saltSource: salted.source,
    weekId: (date) => saltedHash(salt, project, 'week', isoWeek(date)),
    installId: saltedHash(salt, project, 'install', ''),
    userHash: user === undefined ? undefined : saltedHash(salt, project, 'user', user),
    machineHash: machineId === undefined ? undefined : saltedHash(salt, project, 'machine', machineId),
  };
}

/** How many week ids the cache keeps: this week's, and a few before it for reports spooled then. */
const CACHED_WEEKS = 4;

/**
 * A project's identifiers, kept in the home beside the salt (`ids/<project>.json`, 0600) with a salted
 * digest of what they were computed from: the salt, the user's name and the machine id, none of which
 * the file holds. Hashing loads `node:crypto` (a visible part of the bench's exit rows, README
 * "Cost"), and the report built at exit needs this week's id; so a program pays for hashing once a week, not at every exit. A different digest, or an
 * unreadable file, means computing them again. Only for a salt kept in the home: a machine-derived or
 * in-memory salt hashes every time.
 */
export function cachedIdentity(home: Home, project: string, salted: { salt: Buffer; source: SaltSource }, machineId: string | undefined, log: Log): Identity {
  if (salted.source !== 'file') return createIdentity(project, salted, machineId);
  const path = homePaths.ids(home, project);
  const source = sourceDigest(salted.salt, userName(), machineId);
  const found = readJsonFile(path);
  const cached = found.kind === 'ok' ? found.value : undefined;
  const fresh = isStoredIds(cached) && cached.source === source;

  let stored: StoredIds;
  if (fresh) {
    stored = cached;
  } else {
    const made = createIdentity(project, salted, machineId);
    stored = { source, installId: made.installId, userHash: made.userHash ?? null, machineHash: made.machineHash ?? null, weeks: {} };
  }
  let dirty = !fresh;
  const save = (): void => {
    if (!dirty || found.kind === 'newer') return;
    try {
      writeJsonFile(path, { ...stored });
      dirty = false;
    } catch (error) {
      log.debug(`could not keep identifiers in ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  };
  return {
    saltSource: salted.source,
    weekId(date) {
      const week = isoWeek(date);
      let id = stored.weeks[week];
      if (id === undefined) {
        id = saltedHash(salted.salt, project, 'week', week);
        const kept = Object.keys(stored.weeks).sort().slice(-(CACHED_WEEKS - 1));
        stored = { ...stored, weeks: Object.fromEntries([...kept.map((w) => [w, stored.weeks[w]!]), [week, id]]) };
        dirty = true;
      }
      save();
      return id;
    },
    installId: stored.installId,
    userHash: stored.userHash ?? undefined,
    machineHash: stored.machineHash ?? undefined,
  };
}

interface StoredIds {
  /** The {@link sourceDigest} of what the ids were computed from. */
  readonly source: string;
  readonly installId: string;
  readonly userHash: string | null;
  readonly machineHash: string | null;
  readonly weeks: Readonly<Record<string, string>>;
}

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * A salted digest of the salt, the user's name and the machine id, to tell whether the cached ids
 * still belong to them: FNV-1a, 64 bits, written here rather than SHA-256 because SHA-256 would load
 * `node:crypto` at every exit, which is what the cache is for avoiding. It only detects a change: it
 * never leaves the machine, is compared with nothing but the next run's, and, keyed by the 32-byte
 * salt, tells nothing of the name or the id to whoever lacks the salt.
 */
function sourceDigest(salt: Buffer, user: string | undefined, machine: string | undefined): string {
  const bytes = Buffer.concat([salt, Buffer.from(`\0${user === undefined ? '-' : `u${user}`}\0${machine === undefined ? '-' : `m${machine}`}`, 'utf8')]);
  let hash = 0xcbf29ce484222325n;
  for (const byte of bytes) hash = ((hash ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return hash.toString(16).padStart(16, '0');
}

function isStoredIds(value: Record<string, unknown> | undefined): value is Record<string, unknown> & StoredIds {
  if (value === undefined) return false;
  const hashOrNull = (v: unknown): boolean => v === null || (typeof v === 'string' && HEX64.test(v));
  const weeks = value.weeks;
  return (
    typeof value.source === 'string' &&
    typeof value.installId === 'string' &&
    HEX64.test(value.installId) &&
    hashOrNull(value.userHash) &&
    hashOrNull(value.machineHash) &&
    typeof weeks === 'object' &&
    weeks !== null &&
    Object.entries(weeks).every(([week, id]) => /^\d{4}-W\d{2}$/.test(week) && typeof id === 'string' && HEX64.test(id))
  );
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
