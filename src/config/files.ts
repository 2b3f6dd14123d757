import { lstatSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from './random.js';
import { readTrustedFile } from './trusted-files.js';

/** The format version of every file tallyho writes; a copy leaves files of a newer format alone. */
export const FILE_FORMAT = 1;

/** What reading a JSON file found. */
export type ReadResult =
  | { readonly kind: 'absent' }
  | { readonly kind: 'ok'; readonly value: Record<string, unknown> }
  | { readonly kind: 'newer'; readonly format: number }
  | { readonly kind: 'unreadable'; readonly why: string };

/**
 * Reads a tallyho JSON file and checks its format version. Never throws, never blocks: only a regular
 * file that this user owns and nobody else can write is read (see trusted-files); anything else is
 * `unreadable`, with why.
 */
export function readJsonFile(path: string): ReadResult {
  const read = readTrustedFile(path);
  if (read.kind === 'absent') return { kind: 'absent' };
  if (read.kind === 'untrusted') return { kind: 'unreadable', why: read.why };
  const text = read.text;
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return { kind: 'unreadable', why: 'not a JSON object' };
    const format = (value as { format?: unknown }).format;
    if (typeof format !== 'number') return { kind: 'unreadable', why: 'no format version' };
    if (format > FILE_FORMAT) return { kind: 'newer', format };
    return { kind: 'ok', value: value as Record<string, unknown> };
  } catch {
    return { kind: 'unreadable', why: 'invalid JSON' };
  }
}

/**
 * Writes a file atomically: a temporary file in the same folder, then a rename, so a reader sees the
 * old file or the new one, never half of one. Folders are created 0700, files `mode` (default 0600).
 * There is no fsync: it would cost every exit milliseconds, and a file left empty by a power cut reads
 * as unreadable, which every reader treats safely (a switch file: off; a spool file: counted, removed).
 * Throws on failure: callers turn that into an outcome.
 */
export function writeFileAtomic(path: string, data: string, mode = 0o600): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(temporary, data, { flag: 'wx', mode });
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/** A temporary file of {@link writeFileAtomic}: `<name>.<pid>.<8 hex>.tmp`. */
const TEMPORARY = /\.\d+\.[0-9a-f]{8}\.tmp$/;

/** How old a temporary file must be before it is taken for an orphan: no write takes a minute. */
export const ORPHAN_AGE_MS = 60_000;

/**
 * Removes, from the `names` listed in `dir`, temporary files of {@link writeFileAtomic} older than a
 * minute: orphans of a process killed (SIGKILL, a power cut) between writing and renaming, which
 * nothing else would ever delete. Returns the names that are left. Never throws.
 */
export function removeOrphans(dir: string, names: readonly string[], now: number, fs: OrphanFs = realOrphanFs): string[] {
  const left: string[] = [];
  for (const name of names) {
    if (!TEMPORARY.test(name)) {
      left.push(name);
      continue;
    }
    try {
      const mtimeMs = fs.mtimeMs(join(dir, name));
      if (mtimeMs !== undefined && now - mtimeMs > ORPHAN_AGE_MS) fs.unlink(join(dir, name));
    } catch {
      // Gone already, or renamed into place by the process that wrote it.
    }
  }
  return left;
}

/** What {@link removeOrphans} needs of the file system (the spool injects its own in tests). */
export interface OrphanFs {
  mtimeMs(path: string): number | undefined;
  unlink(path: string): void;
}

const realOrphanFs: OrphanFs = {
  mtimeMs: (path) => lstatSync(path, { throwIfNoEntry: false })?.mtimeMs,
  unlink: (path) => rmSync(path, { force: true }),
};

/** Writes `{ format, ...value }` as JSON, atomically. */
export function writeJsonFile(path: string, value: Record<string, unknown>): void {
  writeFileAtomic(path, `${JSON.stringify({ format: FILE_FORMAT, ...value })}\n`);
}
