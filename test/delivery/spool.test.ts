import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Claim, DEFAULT_SPOOL_LIMITS, realSpoolFs, Spool, type SpoolEntry, type SpoolFs, type SpoolLimits } from '../../src/delivery/spool.js';

let root: string;
let dir: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'tallyho-spool-'));
  dir = join(root, 'spool', 'acme-sdk');
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const DAY = 24 * 3600_000;
const now = Date.now();

/** A spooled report counting `calls` calls, made at `createdAt`. */
function entry(calls: number, overrides: Partial<SpoolEntry> = {}): SpoolEntry {
  const createdAt = overrides.createdAt ?? now;
  return {
    project: 'acme-sdk',
    version: '1.0.0',
    consent: 'opt-out',
    optOutEnv: undefined,
    transport: { name: 'https://telemetry.acme.dev/v1/reports' },
    report: {
      schema: 1,
      id: randomUUID(),
      project: 'acme-sdk',
      version: '1.0.0',
      level: 'basic',
      trigger: 'exit',
      period: { start: new Date(createdAt - 1000).toISOString(), end: new Date(createdAt).toISOString() },
      counts: { 'Client#query': calls },
      dropped: {},
    },
    createdAt,
    attempts: 0,
    nextAttemptAt: createdAt,
    ...overrides,
  };
}

const spool = (limits: Partial<SpoolLimits> = {}, fs: SpoolFs = realSpoolFs) => new Spool(dir, fs, { ...DEFAULT_SPOOL_LIMITS, ...limits });
const ids = (entries: readonly { report: { id: string } }[]) => entries.map((e) => e.report.id);
const files = () => readdirSync(dir).sort();
const dropFiles = () => files().filter((n) => n.startsWith('drops-'));

/** Adds entries made one millisecond apart, oldest first. */
function addAll(s: Spool, calls: readonly number[]): SpoolEntry[] {
  return calls.map((n, i) => {
    const e = entry(n, { createdAt: now - 60_000 + i });
    expect(s.add(e, 0)).toBe(true);
    return e;
  });
}

describe('Spool: adding and listing', () => {
  it('keeps an entry whole, readable by another Spool on the same folder, in owner-only files', () => {
    const e = entry(3);
    expect(spool().add(e, 0)).toBe(true);
    expect(spool().list()).toEqual([e]);
    if (process.platform !== 'win32') {
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      expect(statSync(join(dir, files()[0]!)).mode & 0o777).toBe(0o600);
    }
  });

  it('never throws when the folder cannot be written: add says false, addClaimed undefined', () => {
    const failing: SpoolFs = {
      ...realSpoolFs,
      writeAtomic: () => {
        throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      },
    };
    const s = spool({}, failing);
    expect(s.add(entry(1), 0)).toBe(false);
    expect(s.addClaimed(entry(1), 0)).toBeUndefined();
    expect(() => s.recordDrops({ quota: 1 })).not.toThrow();
    // A folder that does not exist holds nothing.
    expect(s.list()).toEqual([]);
    expect(s.claimBatch(now)).toEqual([]);
    // The losses that could not be written are kept in memory, for this process's next report.
    expect(s.takeDrops()).toEqual({ quota: 1 });
  });
});

describe('Spool: tidy', () => {
  it('over maxFiles, drops the oldest and returns their calls as quota losses, for the caller to report once', () => {
    // Written by a spool without the limit (an older copy of tallyho, say): tidy applies it.
    const added = addAll(spool(), [1, 2, 4, 8, 16]);
    const s = spool({ maxFiles: 3 });
    expect(s.tidy(now)).toEqual({ quota: 3 });
    expect(ids(s.list())).toEqual(ids(added.slice(2)));
    // Returned, not also written: reported twice otherwise.
    expect(dropFiles()).toEqual([]);
    expect(s.tidy(now)).toEqual({});
  });

  it('over maxBytes, drops the oldest until the rest fit', () => {
    const probe = spool();
    addAll(probe, [1]);
    const size = statSync(join(dir, files()[0]!)).size;
    probe.purge();

    const added = addAll(spool(), [1, 2, 4, 8]);
    const s = spool({ maxBytes: Math.floor(size * 2.5) });
    expect(s.tidy(now)).toEqual({ quota: 3 });
    expect(ids(s.list())).toEqual(ids(added.slice(2)));
  });

  it('under both limits, drops nothing and records nothing', () => {
    const s = spool({ maxFiles: 3 });
    addAll(s, [1, 2, 4]);
    expect(s.tidy(now)).toEqual({});
    expect(s.list()).toHaveLength(3);
    expect(dropFiles()).toEqual([]);
  });

  it('drops reports older than maxAgeMs as expired, and keeps younger ones', () => {
    const s = spool();
    const old = entry(4, { createdAt: now - 31 * DAY });
    const young = entry(2, { createdAt: now - 29 * DAY });
    s.add(old, 0);
    s.add(young, 0);
    expect(s.tidy(now)).toEqual({ expired: 4 });
    expect(ids(s.list())).toEqual(ids([young]));
    expect(s.tidy(now)).toEqual({});
  });

  it('removes unreadable files (counting the calls they still show), and leaves a newer format alone', () => {
    const s = spool();
    const good = entry(1);
    s.add(good, 0);
    const stamp = String(now - 1000).padStart(13, '0');
    const name = (n: number) => `${stamp}-00000000-0000-4000-8000-${String(n).padStart(12, '0')}-0.json`;
    writeFileSync(join(dir, name(1)), '{"format":1,"report":');
    writeFileSync(join(dir, name(2)), JSON.stringify({ format: 1 }));
    writeFileSync(join(dir, name(3)), JSON.stringify({ format: 1, report: { counts: { 'Client#query': 6 } } }));
    writeFileSync(join(dir, name(4)), JSON.stringify({ ...good, format: 2, report: { ...good.report, id: randomUUID() } }));

    expect(s.tidy(now)).toEqual({ invalid: 6 });
    expect(files().filter((n) => !n.startsWith('drops-'))).toEqual([name(4), files().find((n) => n.includes(good.report.id))].sort());
    // The newer file is neither listed nor claimed by this older copy.
    expect(ids(s.list())).toEqual(ids([good]));
    expect(ids(s.claimBatch(now).map((c) => c.entry))).toEqual(ids([good]));
    expect(files()).toContain(name(4));
  });

  it('takes back a claim once it is stale (its process died), not before', () => {
    const s = spool();
    const e = entry(2);
    const claim = s.addClaimed(e, 0)!;
    expect(claim.name).not.toBe(claim.path);
    expect(s.list()).toEqual([]);
    expect(s.claimBatch(now)).toEqual([]);

    s.tidy(Date.now() + DEFAULT_SPOOL_LIMITS.staleClaimMs - 10_000);
    expect(s.list()).toEqual([]);

    s.tidy(Date.now() + DEFAULT_SPOOL_LIMITS.staleClaimMs + 10_000);
    // Its process may have sent it before dying: it comes back sealed, never to be merged under another id.
    expect(s.list()).toEqual([{ ...e, sealed: true }]);
    expect(ids(s.claimBatch(now).map((c) => c.entry))).toEqual(ids([e]));
  });

  // claimBatch() claims by a rename, which keeps the file's modification time; tidy() judges a claim
  // by that time (src/delivery/spool.ts, tidy()), so a report spooled more than staleClaimMs ago is
  // taken back the moment it is claimed, and a second process sends it too.
  it('does not take back a fresh claim on a report spooled long ago', () => {
    const s = spool();
    const e = entry(2, { createdAt: now - 3_600_000 });
    s.add(e, 0);
    const path = join(dir, files()[0]!);
    const hourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(path, hourAgo, hourAgo);
    expect(s.claimBatch(now)).toHaveLength(1);

    const other = spool();
    other.tidy(Date.now());
    expect(other.claimBatch(now)).toEqual([]);
  });
});

describe('Spool: claiming', () => {
  it('claims a retry when its time has come, and leaves one that waits', () => {
    const s = spool();
    const later = entry(1, { createdAt: now - 3000, attempts: 2, nextAttemptAt: now + 60_000 });
    const dueB = entry(2, { createdAt: now - 1000, attempts: 1, nextAttemptAt: now - 10 });
    const dueA = entry(4, { createdAt: now - 2000, attempts: 1, nextAttemptAt: now - 20 });
    for (const e of [later, dueB, dueA]) s.add(e, 0);

    expect(ids(s.claimBatch(now).map((c) => c.entry))).toEqual(ids([dueA, dueB]));
    // Claimed: nobody else gets them, and they are not listed as waiting.
    expect(s.claimBatch(now)).toEqual([]);
    expect(ids(s.list())).toEqual(ids([later]));
    expect(ids(s.claimBatch(now + 60_000).map((c) => c.entry))).toEqual(ids([later]));
  });

  it('a batch leaves whole once its oldest report is due: every report not yet tried goes with it', () => {
    const s = spool();
    const oldest = entry(1, { createdAt: now - 3_600_000, nextAttemptAt: now });
    const young = entry(2, { createdAt: now - 60_000, nextAttemptAt: now + 3_540_000 });
    const retry = entry(4, { createdAt: now - 60_000, attempts: 1, nextAttemptAt: now + 60_000 });
    for (const e of [young, retry]) s.add(e, 0);
    // Not due yet: the folder's listing says so without reading a file.
    expect(s.due(now)).toBe(false);
    expect(s.claimBatch(now)).toEqual([]);
    s.add(oldest, 0);
    expect(s.due(now)).toBe(true);
    // The retry keeps its own schedule; the two waiting reports leave together.
    expect(ids(s.claimBatch(now).map((c) => c.entry)).sort()).toEqual(ids([oldest, young]).sort());
    expect(ids(s.list())).toEqual(ids([retry]));
  });

  it('near its quota, the batch leaves early rather than lose reports to the quota', () => {
    const s = spool({ maxFiles: 5, nearQuota: 0.8 });
    const waiting = [1, 2, 3].map((n) => entry(n, { createdAt: now - n, nextAttemptAt: now + 3_600_000 }));
    for (const e of waiting) s.add(e, 0);
    expect(s.due(now)).toBe(false);
    s.add(entry(4, { nextAttemptAt: now + 3_600_000 }), 0);
    expect(s.due(now)).toBe(true);
    expect(s.claimBatch(now)).toHaveLength(4);
  });

  it('claimBatch with all claims everything waiting but a retry that must wait', () => {
    const s = spool();
    const a = entry(1, { nextAttemptAt: now + 3_600_000 });
    const retry = entry(2, { attempts: 1, nextAttemptAt: now + 60_000 });
    s.add(a, 0);
    s.add(retry, 0);
    expect(s.claimBatch(now)).toEqual([]);
    expect(ids(s.claimBatch(now, { all: true }).map((c) => c.entry))).toEqual(ids([a]));
  });

  it('remove deletes the file; release puts it back with its next attempt; a settled claim is never touched again', () => {
    const s = spool();
    const [a, b] = addAll(s, [1, 2]);
    const [ca, cb] = s.claimBatch(now) as [Claim, Claim];
    s.remove(ca);
    s.release(cb, { attempts: 3, nextAttemptAt: now + 120_000 });
    expect(ca.settled && cb.settled).toBe(true);
    expect(s.list()).toEqual([{ ...b!, attempts: 3, nextAttemptAt: now + 120_000, sealed: true }]);
    expect(s.claimBatch(now)).toEqual([]);

    // Settled: a second release or remove changes nothing.
    s.release(ca, { attempts: 0, nextAttemptAt: now });
    s.remove(cb);
    expect(ids(s.list())).toEqual(ids([b!]));
    expect(ids(s.list())).not.toContain(a!.report.id);
  });

  it('two Spool objects on one folder never claim the same file, whenever the second one runs', () => {
    // The second claimer runs in the middle of the first one's claimDue, after each of its file
    // operations in turn: every interleaving of the two, one at a time.
    let shared = 0;
    for (let at = 0; ; at++) {
      rmSync(dir, { recursive: true, force: true });
      const added = addAll(spool(), [1, 2, 4, 8]);
      const second = spool();
      let secondClaims: Claim[] = [];
      let ops = 0;
      const interleaving: SpoolFs = {
        ...realSpoolFs,
        readdir: (d) => step(() => realSpoolFs.readdir(d)),
        readFile: (p) => step(() => realSpoolFs.readFile(p)),
        rename: (from, to) => step(() => realSpoolFs.rename(from, to)),
      };
      function step<T>(op: () => T): T {
        const result = op();
        if (ops++ === at) secondClaims = second.claimBatch(now);
        return result;
      }
      const firstClaims = spool({}, interleaving).claimBatch(now);

      const claimedIds = [...firstClaims, ...secondClaims].map((c) => c.entry.report.id);
      expect(claimedIds.sort(), `second claimer after operation ${at}`).toEqual(ids(added).sort());
      expect(new Set([...firstClaims, ...secondClaims].map((c) => c.path)).size).toBe(4);
      if (firstClaims.length > 0 && secondClaims.length > 0) shared++;
      if (ops <= at) break;
    }
    // Some interleavings did split the files between the two.
    expect(shared).toBeGreaterThan(0);
  });
});

describe('Spool: batches', () => {
  it('a merged batch written by a process that died names its parts: tidy deletes the parts, never sends them twice', () => {
    const s = spool();
    const [a, b] = addAll(s, [1, 2]);
    const merged = entry(3, { sealed: true, merges: [a!.report.id, b!.report.id] });
    s.add(merged, 0);
    expect(s.tidy(now)).toEqual({});
    expect(ids(s.list())).toEqual(ids([merged]));
  });

  it('claimBatch leaves out parts of a merged batch it claims with them', () => {
    const s = spool();
    const [a] = addAll(s, [1]);
    s.add(entry(1, { sealed: true, merges: [a!.report.id] }), 0);
    const claims = s.claimBatch(now, { all: true });
    expect(claims.map((c) => c.entry.merges)).toEqual([[a!.report.id]]);
    expect(readdirSync(dir).filter((n) => n.endsWith('.json'))).toEqual([]);
  });
});

describe('Spool: drops and purge', () => {
  it('takeDrops sums every record, deletes them, and leaves a record of a newer format', () => {
    const s = spool();
    s.recordDrops({ quota: 2 });
    s.recordDrops({ quota: 3, expired: 1 });
    s.recordDrops({ refused: 0 });
    writeFileSync(join(dir, `drops-${randomUUID()}.json`), 'garbage');
    const newer = `drops-${randomUUID()}.json`;
    writeFileSync(join(dir, newer), JSON.stringify({ format: 2, dropped: { quota: 100 } }));

    expect(s.takeDrops()).toEqual({ quota: 5, expired: 1 });
    expect(dropFiles()).toEqual([newer]);
    expect(s.takeDrops()).toEqual({});
  });

  it("takeRunEnds sums every record of a run's end, deletes them, and adds nothing of a record that would fail the wire contract", () => {
    const s = spool();
    s.recordRunEnd('1.0.0', { normal: 1, nonZero: 0, signal: 0, duration: { '1048.576': 1 } });
    s.recordRunEnd('1.0.0', { normal: 0, nonZero: 1, signal: 0, duration: { '1048.576': 1 } });
    s.recordRunEnd('2.0.0', { normal: 5, nonZero: 0, signal: 0, duration: {} });
    const bad = [
      { normal: 1, nonZero: 0, signal: 0, duration: { '1000': 1 } }, // not a bucket tallyho has
      { normal: -1, nonZero: 0, signal: 0, duration: {} },
      { normal: 1, nonZero: 0, signal: 0, duration: { '1048.576': 0.5 } },
      { normal: 1, nonZero: 0, duration: {} },
    ];
    for (const exits of bad) writeFileSync(join(dir, `runs-${randomUUID()}.json`), JSON.stringify({ format: 1, version: '1.0.0', exits }));
    writeFileSync(join(dir, `runs-${randomUUID()}.json`), 'garbage');
    expect(s.takeRunEnds('1.0.0')).toEqual({ normal: 1, nonZero: 1, signal: 0, duration: { '1048.576': 2 } });
    // Another version's run waits for a report of its own version.
    expect(files().filter((n) => n.startsWith('runs-'))).toHaveLength(1);
    expect(s.takeRunEnds('1.0.0')).toBeUndefined();
    expect(s.takeRunEnds('2.0.0')).toEqual({ normal: 5, nonZero: 0, signal: 0, duration: {} });
    expect(files().filter((n) => n.startsWith('runs-'))).toEqual([]);
  });

  it('tidy puts back a record that a process died while taking, once its claim is stale', () => {
    const s = spool({ staleClaimMs: 1000 });
    const name = `drops-${randomUUID()}.json`;
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${name}.taking-999999-${String(Date.now()).padStart(13, '0')}`), JSON.stringify({ format: 1, dropped: { quota: 3 } }));
    s.tidy(Date.now());
    expect(s.takeDrops()).toEqual({});
    s.tidy(Date.now() + 2000);
    expect(files()).toEqual([name]);
    expect(s.takeDrops()).toEqual({ quota: 3 });
  });

  it('a record being taken is not put back by a concurrent tidy, however old the record itself is', () => {
    const s = spool({ staleClaimMs: 1000, maxAgeMs: 3600_000 });
    s.recordRunEnd('1.0.0', { normal: 1, nonZero: 0, signal: 0, duration: {} });
    const [record] = files();
    // The record was written long ago (its modification time); another process takes it now.
    const old = (Date.now() - 600_000) / 1000;
    utimesSync(join(dir, record!), old, old);
    const other = spool({ staleClaimMs: 1000, maxAgeMs: 3600_000 });
    const realFs = { ...realSpoolFs, readFile: (path: string) => (other.tidy(Date.now()), realSpoolFs.readFile(path)) };
    const taker = spool({ staleClaimMs: 1000, maxAgeMs: 3600_000 }, realFs);
    expect(taker.takeRunEnds('1.0.0')).toEqual({ normal: 1, nonZero: 0, signal: 0, duration: {} });
    expect(s.takeRunEnds('1.0.0')).toBeUndefined();
  });

  it("tidy deletes a record of a run's end past the age limit", () => {
    const s = spool({ maxAgeMs: 1000 });
    s.recordRunEnd('1.0.0', { normal: 1, nonZero: 0, signal: 0, duration: {} });
    const [record] = files();
    s.tidy(Date.now());
    expect(files()).toEqual([record]);
    s.tidy(Date.now() + 2000);
    expect(files()).toEqual([]);
  });

  it("purge deletes the records of runs' ends too: they would leave with a report", () => {
    const s = spool();
    s.recordRunEnd('1.0.0', { normal: 1, nonZero: 0, signal: 0, duration: {} });
    expect(s.purge()).toBe(0);
    expect(files()).toEqual([]);
  });

  it('purge deletes every waiting report, claimed or not, and says how many', () => {
    const s = spool();
    addAll(s, [1, 2]);
    expect(s.claimBatch(now)).toHaveLength(2);
    s.addClaimed(entry(4), 0);
    s.add(entry(8), 0);
    expect(s.purge()).toBe(4);
    expect(s.list()).toEqual([]);
    expect(s.claimBatch(now, { all: true })).toEqual([]);
    expect(s.tidy(Date.now() + DAY)).toEqual({});
    expect(s.list()).toEqual([]);
  });

  it('a report purged while claimed (an opt-out) stays purged when its claimer releases it', () => {
    const s = spool();
    addAll(s, [1]);
    const [claim] = s.claimBatch(now);
    expect(s.purge()).toBe(1);
    s.release(claim!, { attempts: 1, nextAttemptAt: now });
    expect(readdirSync(dir)).toEqual([]);
  });
});
