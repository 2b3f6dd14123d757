import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, realpathSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';

/**
 * What tallyho checks before it trusts a file or folder of its own: files planted by another local
 * user (a shared `TALLYHO_HOME` under /tmp, say) must not opt anyone in, salt their ids, or name where
 * reports go; a FIFO or a device where a file should be must never hang the host. Like OpenSSH's
 * StrictModes: owned by the current user, not writable by group or others. On Windows, which has no
 * POSIX owners, only the file type and size are checked.
 */

/** The sticky bit of a folder's mode (S_ISVTX, which Node's constants do not list). */
const STICKY = 0o1000;

/** The largest file tallyho reads from its home: its own files are a few hundred bytes. */
export const MAX_HOME_FILE_BYTES = 64 * 1024;

/** What reading a file found. */
export type TrustedRead =
  | { readonly kind: 'absent' }
  | { readonly kind: 'ok'; readonly text: string }
  | { readonly kind: 'untrusted'; readonly why: string };

const myUid = (): number | undefined => (typeof process.getuid === 'function' ? process.getuid() : undefined);

// O_NONBLOCK: opening a FIFO without a writer returns at once instead of waiting for one (and a read
// of it returns nothing); fstat then refuses it. Absent on Windows, where the flags are 0.
const READ_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/** Why a file of this status cannot be trusted, or `undefined` when it can. */
export function fileProblem(stats: Stats, maxBytes: number): string | undefined {
  if (!stats.isFile()) return `not a regular file (${kindOf(stats)})`;
  const uid = myUid();
  if (uid !== undefined && stats.uid !== uid) return `owned by uid ${stats.uid}, not by this user (uid ${uid})`;
  if (uid !== undefined && (stats.mode & 0o022) !== 0) return `writable by ${(stats.mode & 0o020) !== 0 ? 'its group' : 'others'}`;
  if (stats.size > maxBytes) return `larger than ${maxBytes} bytes`;
  return undefined;
}

/**
 * Reads a regular file that this user owns and that nobody else can write, at most `maxBytes` of it.
 * Never blocks on a FIFO or a device, never throws. A symbolic link is followed (a user may keep
 * settings in a dotfiles repository); its target is what is checked.
 */
export function readTrustedFile(path: string, maxBytes = MAX_HOME_FILE_BYTES): TrustedRead {
  let fd: number;
  try {
    fd = openSync(path, READ_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'absent' };
    return { kind: 'untrusted', why: code ?? 'open failed' };
  }
  try {
    const problem = fileProblem(fstatSync(fd), maxBytes);
    if (problem !== undefined) return { kind: 'untrusted', why: problem };
    // Read up to one byte past the cap: a file that grew since fstat is refused, not cut short.
    const buffer = Buffer.alloc(maxBytes + 1);
    let filled = 0;
    for (;;) {
      const n = readSync(fd, buffer, filled, buffer.length - filled, null);
      if (n <= 0) break;
      filled += n;
      if (filled > maxBytes) return { kind: 'untrusted', why: `larger than ${maxBytes} bytes` };
    }
    return { kind: 'ok', text: buffer.toString('utf8', 0, filled) };
  } catch (error) {
    return { kind: 'untrusted', why: (error as NodeJS.ErrnoException).code ?? 'read failed' };
  } finally {
    try {
      closeSync(fd);
    } catch {
      // Already closed: nothing to release.
    }
  }
}

/**
 * Why tallyho must not use `dir` as (part of) its home, or `undefined` when it may. The folder, if it
 * exists, must be owned by this user and not writable by group or others; every folder above it must
 * belong to this user or to root and be writable by nobody else, unless sticky (as /tmp is, where
 * others cannot rename or delete what is not theirs). A folder that does not exist yet is created
 * 0700 by tallyho itself, so only the folders that exist are judged.
 */
export function folderProblem(dir: string): string | undefined {
  const uid = myUid();
  if (uid === undefined) return undefined;
  // Judge the real folders: a link in the path is as safe as the folders it leads to.
  let existing = dir;
  let missing = false;
  for (;;) {
    try {
      existing = realpathSync(existing);
      break;
    } catch {
      const parent = dirname(existing);
      if (parent === existing) return undefined;
      existing = parent;
      missing = true;
    }
  }
  for (let current = existing, own = !missing; ; own = false) {
    let stats: Stats;
    try {
      stats = lstatSync(current);
    } catch (error) {
      return `${current} cannot be examined (${(error as NodeJS.ErrnoException).code ?? 'error'})`;
    }
    if (own) {
      if (!stats.isDirectory()) return `${current} is not a folder`;
      if (stats.uid !== uid) return `${current} is owned by uid ${stats.uid}, not by this user (uid ${uid})`;
      if ((stats.mode & 0o022) !== 0) return `${current} is writable by ${(stats.mode & 0o020) !== 0 ? 'its group' : 'others'}`;
    } else {
      if (stats.uid !== uid && stats.uid !== 0) return `${current}, above tallyho's folder, is owned by uid ${stats.uid}, neither this user nor root`;
      if ((stats.mode & 0o022) !== 0 && (stats.mode & STICKY) === 0) {
        return `${current}, above tallyho's folder, is writable by ${(stats.mode & 0o020) !== 0 ? 'its group' : 'others'} and not sticky`;
      }
    }
    const parent = dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'not a file';
}
