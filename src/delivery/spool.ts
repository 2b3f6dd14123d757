import * as nodeFs from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from '../config/random.js';
import { lossOf, totalCalls } from '../report/build-report.js';
import { FILE_FORMAT, removeOrphans, writeFileAtomic } from '../config/files.js';
import { readTrustedFile } from '../config/trusted-files.js';
import { addDropped, anyDropped, type DropReason, type Dropped, type ExitCounts } from '../registry/counter-table.js';
import { addExits, readExits } from '../report/merge-signals.js';
import type { Report } from '../report/report.js';
import type { TransportSpec } from '../transports/transport.js';

/** The largest spool file read: a report is a few kilobytes, 2,000 names about 50 KB. */
export const MAX_SPOOL_FILE_BYTES = 1_000_000;

/** One report waiting for one transport. */
export interface SpoolEntry {
  readonly project: string;
  readonly version: string;
  /** The author's consent model and opt-out variable, so a sender can check consent again. */
  readonly consent: 'opt-out' | 'opt-in';
  readonly optOutEnv: string | undefined;
  /** The transport's name, and how a process without the host's code can rebuild it (if it can). */
  readonly transport: { readonly name: string; readonly spec?: TransportSpec };
  readonly report: Report;
  readonly createdAt: number;
  readonly attempts: number;
  /**
   * When the entry may leave: for a report not yet tried, when its batch is due (written at
   * `createdAt` plus the batch interval); after a try, the next attempt time. The file name starts
   * with it, so that whether anything is due is known from the folder's listing alone.
   */
  readonly nextAttemptAt: number;
  /**
   * True once the report may have reached a receiver under its id (it was sent, or was being sent by
   * a process that died or exited): it is never merged again, only sent again as it is, so that a
   * receiver that dedupes by id counts it once. Entries tried before (`attempts > 0`) are sealed too.
   */
  readonly sealed?: boolean;
  /** For a merged report: the ids of the reports it merges. Once it is written, their files are stale copies. */
  readonly merges?: readonly string[];
}

/** A spool file claimed by one process: nobody else sends it until it is released or removed. */
export interface Claim {
  readonly entry: SpoolEntry;
  /** The claimed file's path; `undefined` for a report that could not be written (a read-only home, the test kit). */
  readonly path: string | undefined;
  /** The name the file goes back to when released unchanged. */
  readonly name: string;
  /** The transport's position in the host's list, which keeps the files of one report apart. */
  readonly index: number;
  /** Set once the claim is removed or released: a settled claim is never touched again. */
  settled: boolean;
}

/** The file operations the spool needs; injectable so that tests can drive crashes and clocks. */
export interface SpoolFs {
  readdir(dir: string): string[];
  readFile(path: string): string;
  /** Writes atomically (temporary file, then rename), creating folders 0700 and the file 0600. */
  writeAtomic(path: string, data: string): void;
  /** Renames; throws if `from` is gone (someone else claimed it). */
  rename(from: string, to: string): void;
  unlink(path: string): void;
  /** Size in bytes and modification time (ms), or `undefined` when gone. */
  stat(path: string): { size: number; mtimeMs: number } | undefined;
}

/** The real file system. */
export const realSpoolFs: SpoolFs = {
  readdir: (dir) => nodeFs.readdirSync(dir),
  readFile: (path) => {
    // Only a regular file of this user's, never blocking: a FIFO named like a report must not hang a sender.
    const read = readTrustedFile(path, MAX_SPOOL_FILE_BYTES);
    if (read.kind === 'ok') return read.text;
    throw Object.assign(new Error(read.kind === 'absent' ? 'gone' : read.why), { code: read.kind === 'absent' ? 'ENOENT' : 'EUNTRUSTED' });
  },
  writeAtomic: (path, data) => writeFileAtomic(path, data),
  rename: (from, to) => nodeFs.renameSync(from, to),
  unlink: (path) => nodeFs.rmSync(path, { force: true }),
  stat: (path) => {
    const stats = nodeFs.statSync(path, { throwIfNoEntry: false });
    return stats === undefined ? undefined : { size: stats.size, mtimeMs: stats.mtimeMs };
  },
};

/** Limits of one project's spool. */
export interface SpoolLimits {
  /** Default 5 MB. */
  readonly maxBytes: number;
  /** Default 500. */
  readonly maxFiles: number;
  /** Reports older than this are dropped as `expired`. Default 30 days. */
  readonly maxAgeMs: number;
  /** A claim older than this belongs to a process that died: it is taken back. Default 5 minutes. */
  readonly staleClaimMs: number;
  /** At this share of `maxFiles`, the batch leaves early rather than lose reports to the quota. Default 0.8. */
  readonly nearQuota: number;
}

export const DEFAULT_SPOOL_LIMITS: SpoolLimits = {
  maxBytes: 5_000_000,
  maxFiles: 500,
  maxAgeMs: 30 * 24 * 3600 * 1000,
  staleClaimMs: 5 * 60 * 1000,
  nearQuota: 0.8,
};

// `<nextAttemptAt>-<report id>-<transport index>.json`
const ENTRY = /^(\d{13})-([0-9a-f-]{36})-(\d+)\.json$/;
// A claim's name carries the time it was made: a rename keeps the file's old modification time, so
// the file's own times cannot tell a fresh claim of an old report from a claim whose process died.
const CLAIMED = /^(\d{13}-[0-9a-f-]{36}-\d+\.json)\.claim-(\d{13})-[0-9a-z-]+(-releasing)?$/;
const DROPS = /^drops-[0-9a-f-]{36}\.json$/;
const RUN_ENDS = /^runs-[0-9a-f-]{36}\.json$/;
// A record being taken: `<record>.taking-<pid>-<time>`, left behind by a process that died while
// taking it. The time is in the name, as a claim's is: a rename keeps the record's old modification time.
const TAKING = /^((?:drops|runs)-[0-9a-f-]{36}\.json)\.taking-\d+-(\d{13})$/;

/** Whether an entry may still be merged: never tried, never possibly seen by a receiver. */
export function mergeable(entry: SpoolEntry): boolean {
  return entry.attempts === 0 && entry.sealed !== true && entry.merges === undefined;
}

/**
 * One project's folder of reports waiting to be sent: the one queue every report goes through. Every
 * copy of tallyho on the machine, and the detached sender, share it: files are written whole
 * (temporary file, then rename), claimed by an atomic rename so that two processes never send one
 * file twice, and carry a format version so that a copy leaves files of a newer format alone. Losses
 * are written as small `drops-*.json` files, and the ends of runs that reported everything before
 * they ended as `runs-*.json`, which the project's next report collects.
 */
export class Spool {
  constructor(
    readonly dir: string,
    private readonly fs: SpoolFs = realSpoolFs,
    readonly limits: SpoolLimits = DEFAULT_SPOOL_LIMITS,
  ) {}

  /** Adds a report for one transport. Never throws; returns whether it was written. */
  add(entry: SpoolEntry, index: number): boolean {
    try {
      this.fs.writeAtomic(join(this.dir, entryName(entry, index)), serialize(entry));
    } catch {
      return false;
    }
    this.limit(entry.createdAt);
    return true;
  }

  /**
   * Applies the quota and the age limit as a report is written, not only when a sender tidies: where
   * no sender can run (PID 1, a bundled host, an executable not named node) the spool must not grow
   * past its limits run after run. Cheap when within them: a listing and a stat of each waiting file.
   * What goes is recorded for the project's next report. Never throws. (A name carries the time its
   * report may leave, never before it was written: judged by names, the age check is lenient by at
   * most the batch interval; tidy() judges each file's own time.)
   */
  private limit(now: number): void {
    try {
      const entries = this.names().filter((name) => ENTRY.test(name));
      const oldest = entries.reduce((min, name) => Math.min(min, Number(name.slice(0, 13))), Number.POSITIVE_INFINITY);
      let over = entries.length > this.limits.maxFiles || now - oldest > this.limits.maxAgeMs;
      if (!over) {
        let bytes = 0;
        for (const name of entries) bytes += this.fs.stat(join(this.dir, name))?.size ?? 0;
        over = bytes > this.limits.maxBytes;
      }
      if (over) this.recordDrops(this.tidy(now));
    } catch {
      // The limits are applied again by the next write, the next tidy, or a sender.
    }
  }

  /**
   * Writes a report that this process is about to send, already claimed: if the process dies while
   * sending, the file is still there (taken back once the claim is stale, or released at exit).
   * Returns `undefined` when it cannot be written.
   */
  addClaimed(entry: SpoolEntry, index: number, now: number = entry.createdAt): Claim | undefined {
    const name = entryName(entry, index);
    const path = join(this.dir, `${name}${claimSuffix(now)}`);
    try {
      this.fs.writeAtomic(path, serialize(entry));
      return { entry, path, name, index, settled: false };
    } catch {
      return undefined;
    }
  }

  /**
   * Whether a sender has work here, from the folder's listing alone (no file is read): some entry's
   * time has come, or the folder is near its quota. This is what exit asks before starting a sender.
   */
  due(now: number): boolean {
    let waiting = 0;
    let due = false;
    for (const name of this.names()) {
      const match = ENTRY.exec(name);
      if (match === null) continue;
      waiting++;
      if (Number(match[1]) <= now) due = true;
    }
    return due || this.nearQuota(waiting);
  }

  /**
   * Applies the quota and the age limit, removes files that cannot be read, takes back claims of
   * processes that died (sealed: they may have been sent), and deletes reports already merged into a
   * written batch (a process that died between writing a batch and deleting its parts). Returns the
   * counts lost, by reason: the caller reports them once, either in its own next report or, without
   * one, through {@link Spool.recordDrops}.
   */
  tidy(now: number): Dropped {
    const lost: Dropped = {};
    const lose = (reason: DropReason, n: number) => (lost[reason] = (lost[reason] ?? 0) + n);
    const loseReport = (report: Report, reason: DropReason) => addDropped(lost, lossOf(report, reason));
    for (const name of this.names()) {
      const claimed = CLAIMED.exec(name);
      if (claimed && now - Number(claimed[2]) > this.limits.staleClaimMs) this.takeBack(join(this.dir, name), claimed[1]!);
      const taking = TAKING.exec(name);
      // A record a dead process was taking goes back, for the next report to take whole.
      if (taking && now - Number(taking[2]) > this.limits.staleClaimMs) this.tryRename(join(this.dir, name), join(this.dir, taking[1]!));
    }
    const live: { name: string; size: number; entry: SpoolEntry }[] = [];
    for (const name of this.names()) {
      if (RUN_ENDS.test(name)) {
        // A run's end no report of its version took in time: as old as an expired report, and as gone.
        const path = join(this.dir, name);
        const modified = this.fs.stat(path)?.mtimeMs;
        if (modified !== undefined && now - modified > this.limits.maxAgeMs) this.fs.unlink(path);
        continue;
      }
      if (!ENTRY.test(name)) continue;
      const path = join(this.dir, name);
      const read = this.read(path);
      if (read.kind === 'newer' || read.kind === 'gone') continue;
      if (read.kind === 'invalid') {
        this.fs.unlink(path);
        lose('invalid', read.calls);
        continue;
      }
      if (now - read.entry.createdAt > this.limits.maxAgeMs) {
        this.fs.unlink(path);
        loseReport(read.entry.report, 'expired');
        continue;
      }
      live.push({ name, size: this.fs.stat(path)?.size ?? 0, entry: read.entry });
    }
    const merged = mergedParts(live.map((f) => f.entry));
    const kept = live.filter((f) => {
      if (!merged.has(partKey(f.entry.report.id, f.entry.transport.name))) return true;
      this.fs.unlink(join(this.dir, f.name));
      return false;
    });
    // Oldest first: over the quota, the oldest go.
    kept.sort((a, b) => a.entry.createdAt - b.entry.createdAt || (a.name < b.name ? -1 : 1));
    let bytes = kept.reduce((sum, f) => sum + f.size, 0);
    while (kept.length > 0 && (kept.length > this.limits.maxFiles || bytes > this.limits.maxBytes)) {
      const oldest = kept.shift()!;
      this.fs.unlink(join(this.dir, oldest.name));
      bytes -= oldest.size;
      loseReport(oldest.entry.report, 'quota');
    }
    return lost;
  }

  /**
   * Claims the batch that may leave now, oldest first: every report not yet tried when the batch is
   * due (one of them has waited its interval, the folder is near its quota, or `all` says so: an
   * explicit flush), and every report tried before whose next attempt time has come. With `only`,
   * just the entries it accepts, leaving the others as they are.
   */
  claimBatch(now: number, options: { all?: boolean; only?: (entry: SpoolEntry) => boolean } = {}): Claim[] {
    const found: { name: string; path: string; entry: SpoolEntry; index: number }[] = [];
    let waiting = 0;
    for (const name of this.names().sort()) {
      const match = ENTRY.exec(name);
      if (match === null) continue;
      waiting++;
      const path = join(this.dir, name);
      const read = this.read(path);
      if (read.kind !== 'ok') continue;
      if (options.only !== undefined && !options.only(read.entry)) continue;
      found.push({ name, path, entry: read.entry, index: Number(match[3]) });
    }
    const batchDue = options.all === true || this.nearQuota(waiting) || found.some((f) => mergeable(f.entry) && f.entry.nextAttemptAt <= now);
    const claims: Claim[] = [];
    for (const { name, path, entry, index } of found) {
      if (mergeable(entry) ? !batchDue : entry.nextAttemptAt > now) continue;
      const claimedPath = `${path}${claimSuffix(now)}`;
      if (!this.tryRename(path, claimedPath)) continue;
      // Read again: the file we claimed is the one we send, whatever was read before the rename.
      const claimed = this.read(claimedPath);
      if (claimed.kind !== 'ok') {
        this.tryRename(claimedPath, path);
        continue;
      }
      claims.push({ entry: claimed.entry, path: claimedPath, name, index, settled: false });
    }
    // A batch written by a process that died before deleting its parts: the parts are stale copies.
    const merged = mergedParts(claims.map((c) => c.entry));
    return claims.filter((claim) => {
      if (!merged.has(partKey(claim.entry.report.id, claim.entry.transport.name))) return true;
      this.remove(claim);
      return false;
    });
  }

  /** Delivered, refused for good, or merged into a batch: the file goes. */
  remove(claim: Claim): void {
    if (claim.settled) return;
    claim.settled = true;
    if (claim.path !== undefined) this.fs.unlink(claim.path);
  }

  /** Not sent: the file goes back as it was, for this process's next flush, a sender or a later run. */
  putBack(claim: Claim): void {
    if (claim.settled) return;
    claim.settled = true;
    if (claim.path !== undefined) this.tryRename(claim.path, join(this.dir, claim.name));
  }

  /**
   * Not delivered yet: the file goes back with its next attempt time, sealed (it may have arrived).
   * Throws only if the spool cannot be written at all; the claim is then left for tidy() to take back.
   */
  release(claim: Claim, next: { attempts: number; nextAttemptAt: number }): void {
    if (claim.settled || claim.path === undefined) return;
    claim.settled = true;
    // Moved aside first: if the file is gone (purged by an opt-out while it was being sent), the
    // rename fails and the report stays gone, never written back.
    const holding = `${claim.path}-releasing`;
    try {
      this.fs.rename(claim.path, holding);
    } catch {
      return;
    }
    const entry: SpoolEntry = { ...claim.entry, ...next, sealed: true };
    try {
      this.fs.writeAtomic(join(this.dir, entryName(entry, claim.index)), serialize(entry));
      this.fs.unlink(holding);
    } catch {
      // Left aside as a claim: tidy() takes it back once it is stale.
      this.tryRename(holding, claim.path);
    }
  }

  /** Entries waiting (unclaimed), without claiming them: for `tallyho show` and `status`. */
  list(): SpoolEntry[] {
    const entries: SpoolEntry[] = [];
    for (const name of this.names().sort()) {
      if (!ENTRY.test(name)) continue;
      const read = this.read(join(this.dir, name));
      if (read.kind === 'ok') entries.push(read.entry);
    }
    return entries;
  }

  /** Deletes every waiting report, claimed or not (consent withdrawn, `tallyho purge`). Returns how many. */
  purge(): number {
    let removed = 0;
    for (const name of this.names()) {
      if (ENTRY.test(name) || CLAIMED.test(name)) {
        this.fs.unlink(join(this.dir, name));
        removed++;
      } else if (RUN_ENDS.test(name)) {
        // Not a report, but data that would leave with one.
        this.fs.unlink(join(this.dir, name));
      }
    }
    return removed;
  }

  /** Losses that could not be written (a full disk): kept here, for this process's next report. */
  private unwritten: Dropped = {};

  /**
   * Writes losses for the project's next report to collect. Where they cannot be written (a full disk,
   * a read-only home) they are kept in memory, and {@link Spool.takeDrops} of this process returns them.
   */
  recordDrops(dropped: Dropped): void {
    const all = addDropped({ ...this.unwritten }, dropped);
    if (!anyDropped(all)) return;
    try {
      this.fs.writeAtomic(join(this.dir, `drops-${randomUUID()}.json`), JSON.stringify({ format: FILE_FORMAT, dropped: all }));
      this.unwritten = {};
    } catch {
      this.unwritten = all;
    }
  }

  /**
   * Collects and deletes the recorded losses, and those kept in memory. A file is deleted only after it
   * has been read whole.
   */
  takeDrops(): Dropped {
    const total: Dropped = { ...this.unwritten };
    this.unwritten = {};
    this.takeRecords(DROPS, (record) => (addDropped(total, record.dropped as Record<string, unknown> | undefined), true));
    return total;
  }

  /**
   * Writes how a run of `version` ended, when the run reported everything before its end: the
   * project's next report of the same version carries it, rather than a report of its own (which
   * would count the run twice in `runs`). A record that cannot be written is not a count: nothing is
   * lost that a report would show.
   */
  recordRunEnd(version: string, exits: ExitCounts): void {
    try {
      this.fs.writeAtomic(join(this.dir, `runs-${randomUUID()}.json`), JSON.stringify({ format: FILE_FORMAT, version, exits }));
    } catch {
      // See above.
    }
  }

  /**
   * Collects and deletes the recorded ends of runs of `version`, summed; `undefined` when there are
   * none. Records of other versions wait for a report of theirs, or for the age limit.
   */
  takeRunEnds(version: string): ExitCounts | undefined {
    let total: ExitCounts | undefined;
    this.takeRecords(RUN_ENDS, (record) => {
      if (record.version !== version) return false;
      const exits = readExits(record.exits);
      if (exits !== undefined) total = addExits(total, exits);
      return true;
    });
    return total;
  }

  /**
   * Takes every record whose name matches `pattern`: each is claimed by a rename, read whole, given to
   * `take` and deleted, unless `take` returns false (then it is put back). A record of a newer format
   * is left for the copy of tallyho that wrote it; an unreadable one adds nothing.
   */
  private takeRecords(pattern: RegExp, take: (record: Record<string, unknown>) => boolean): void {
    for (const name of this.names()) {
      if (!pattern.test(name)) continue;
      const path = join(this.dir, name);
      const claimed = `${path}.taking-${process.pid}-${stamp(Date.now())}`;
      if (!this.tryRename(path, claimed)) continue;
      try {
        const parsed = JSON.parse(this.fs.readFile(claimed)) as Record<string, unknown>;
        if (typeof parsed.format === 'number' && parsed.format > FILE_FORMAT) {
          this.tryRename(claimed, path);
          continue;
        }
        if (!take(parsed)) {
          this.tryRename(claimed, path);
          continue;
        }
      } catch {
        // An unreadable record: nothing to add.
      }
      this.fs.unlink(claimed);
    }
  }

  private nearQuota(waiting: number): boolean {
    return waiting >= Math.max(1, Math.floor(this.limits.maxFiles * this.limits.nearQuota));
  }

  /**
   * Takes back the claim of a process that died. It may have sent the report before dying, so the
   * entry comes back sealed (never merged into a batch with another id), due now.
   */
  private takeBack(path: string, name: string): void {
    const read = this.read(path);
    if (read.kind !== 'ok') {
      this.tryRename(path, join(this.dir, name));
      return;
    }
    const entry: SpoolEntry = { ...read.entry, sealed: true };
    const index = Number(ENTRY.exec(name)?.[3] ?? 0);
    try {
      this.fs.rename(path, `${path}-releasing`);
    } catch {
      return;
    }
    try {
      this.fs.writeAtomic(join(this.dir, entryName(entry, index)), serialize(entry));
      this.fs.unlink(`${path}-releasing`);
    } catch {
      this.tryRename(`${path}-releasing`, join(this.dir, name));
    }
  }

  /** The folder's file names, less orphaned temporary files, which go (every listing tidies them). */
  private names(): string[] {
    try {
      return removeOrphans(this.dir, this.fs.readdir(this.dir), Date.now(), {
        mtimeMs: (path) => this.fs.stat(path)?.mtimeMs,
        unlink: (path) => this.fs.unlink(path),
      });
    } catch {
      return [];
    }
  }

  private tryRename(from: string, to: string): boolean {
    try {
      this.fs.rename(from, to);
      return true;
    } catch {
      return false;
    }
  }

  private read(
    path: string,
  ): { kind: 'ok'; entry: SpoolEntry } | { kind: 'newer' } | { kind: 'gone' } | { kind: 'invalid'; calls: number } {
    let text: string;
    try {
      text = this.fs.readFile(path);
    } catch (error) {
      // Not a regular file of this user's (a FIFO, a device, another user's file): removed when tidied.
      return (error as NodeJS.ErrnoException).code === 'EUNTRUSTED' ? { kind: 'invalid', calls: 0 } : { kind: 'gone' };
    }
    try {
      const parsed = JSON.parse(text) as Record<string, unknown>;
      if (typeof parsed.format === 'number' && parsed.format > FILE_FORMAT) return { kind: 'newer' };
      const entry = parseEntry(parsed);
      if (entry !== undefined) return { kind: 'ok', entry };
      const report = parsed.report as Report | undefined;
      return { kind: 'invalid', calls: report && typeof report.counts === 'object' ? totalCalls(report.counts) : 0 };
    } catch {
      return { kind: 'invalid', calls: 0 };
    }
  }
}

const partKey = (id: string, transport: string) => `${transport}\n${id}`;

/** The parts named by the merged entries among `entries`, per transport. */
function mergedParts(entries: readonly SpoolEntry[]): Set<string> {
  const parts = new Set<string>();
  for (const entry of entries) for (const id of entry.merges ?? []) parts.add(partKey(id, entry.transport.name));
  return parts;
}

function claimSuffix(now: number): string {
  return `.claim-${stamp(now)}-${process.pid}-${randomUUID().slice(0, 8)}`;
}

/**
 * A time as the 13 digits a file name carries. The time comes from the host's clock, which may return
 * fractions, negative or huge values (a patched `Date.now()`, fake timers): a file tallyho names after
 * it must still match its own pattern, or it would never be seen again (never sent, kept after an
 * opt-out).
 */
function stamp(time: number): string {
  const ms = Number.isFinite(time) ? Math.min(9_999_999_999_999, Math.max(0, Math.trunc(time))) : 0;
  return String(ms).padStart(13, '0');
}

function entryName(entry: SpoolEntry, index: number): string {
  return `${stamp(entry.nextAttemptAt)}-${entry.report.id}-${index}.json`;
}

function serialize(entry: SpoolEntry): string {
  return JSON.stringify({ format: FILE_FORMAT, ...entry });
}

function parseEntry(value: Record<string, unknown>): SpoolEntry | undefined {
  const { project, version, consent, optOutEnv, transport, report, createdAt, attempts, nextAttemptAt, sealed, merges } = value;
  if (typeof project !== 'string' || typeof version !== 'string') return undefined;
  if (consent !== 'opt-out' && consent !== 'opt-in') return undefined;
  if (optOutEnv !== undefined && typeof optOutEnv !== 'string') return undefined;
  if (typeof transport !== 'object' || transport === null || typeof (transport as { name?: unknown }).name !== 'string') return undefined;
  if (typeof report !== 'object' || report === null || typeof (report as Report).id !== 'string') return undefined;
  if (typeof (report as Report).counts !== 'object' || (report as Report).counts === null) return undefined;
  if (typeof createdAt !== 'number' || typeof attempts !== 'number' || typeof nextAttemptAt !== 'number') return undefined;
  if (sealed !== undefined && typeof sealed !== 'boolean') return undefined;
  if (merges !== undefined && !(Array.isArray(merges) && merges.every((id) => typeof id === 'string'))) return undefined;
  return {
    project,
    version,
    consent,
    optOutEnv,
    transport: transport as SpoolEntry['transport'],
    report: report as Report,
    createdAt,
    attempts,
    nextAttemptAt,
    ...(sealed === undefined ? {} : { sealed }),
    ...(merges === undefined ? {} : { merges: merges as string[] }),
  };
}
