import Database from 'better-sqlite3';
import { isoWeek } from '../iso-week.js';
import type { Observation } from '../ingest/observation.js';
import { SCHEMA_SQL, STORE_FORMAT } from './schema-sql.js';

const DAY_MS = 86_400_000;

/** How long a report id is remembered at least, whatever the retention: a client retries a report for up to 30 days. */
export const MIN_ID_DAYS = 35;

/** Options of {@link openStore}. */
export interface StoreOptions {
  /** The SQLite file; created when missing. */
  readonly path: string;
  /** Days raw reports are kept before they are deleted. Default: 60. */
  readonly retentionDays?: number;
  /** The clock, in milliseconds since the epoch. Default: `Date.now`. */
  readonly now?: () => number;
}

/** One report to store: its id, the body as received, and what it adds to the aggregates. */
export interface IngestItem {
  /** The report's id: a report with an id taken before is not stored again. */
  readonly id: string;
  /** `http` (`/v1/reports`) or `otlp` (`/v1/metrics`). */
  readonly source: 'http' | 'otlp';
  /** The body as received (after gzip), kept raw for the retention period. */
  readonly body: string;
  /** What the report adds to the weekly aggregates. */
  readonly observation: Observation;
}

/** `stored`: committed now; `duplicate`: a report with this id was taken before, and nothing was added. */
export type IngestResult = 'stored' | 'duplicate';

/** One row of the weekly aggregates. `version` is `''` for all versions together. */
export interface WeeklyRow {
  /** The ISO week, as `YYYYWW`. */
  readonly week: number;
  /** The project's version; `''` for all versions together. */
  readonly version: string;
  /** The dimension (see {@link Observation}). */
  readonly dim: string;
  /** The key within the dimension: a counted name, a runtime, a reason, ... */
  readonly key: string;
  /** The sum of what the week's reports added. */
  readonly value: number;
  /** How many distinct installs (weekly ids) contributed. */
  readonly installs: number;
}

/** Refused requests of one week and reason. */
export interface RejectedRow {
  /** The ISO week, as `YYYYWW`. */
  readonly week: number;
  /** Why: `malformed`, `invalid:counts` (the report's first bad field), `too-large`, `rate-limited`, `retired`, ... */
  readonly reason: string;
  /** How many requests. */
  readonly count: number;
}

/** A project and the weeks it has aggregates for. */
export interface ProjectRow {
  /** The project's name. */
  readonly project: string;
  /** Its first week with aggregates, as `YYYYWW`. */
  readonly firstWeek: number;
  /** Its last week with aggregates, as `YYYYWW`. */
  readonly lastWeek: number;
}

/** The SQLite store: raw reports, the weekly aggregates, and the ledger of report ids. */
export interface Store {
  /**
   * Stores a report and adds it to the aggregates, in one transaction with the other reports that
   * arrived meanwhile (a group commit). Resolves once committed; rejects when the transaction failed,
   * in which case nothing of the report was stored.
   */
  ingest(item: IngestItem): Promise<IngestResult>;
  /** Counts a refused request by reason, in the week it was refused. */
  countRejected(reason: string): void;
  /** Projects with aggregates, by name. */
  projects(): ProjectRow[];
  /** The aggregate rows of a project between two weeks, inclusive. */
  weekly(project: string, fromWeek: number, toWeek: number): WeeklyRow[];
  /** Refused requests by reason between two weeks, inclusive. */
  rejected(fromWeek: number, toWeek: number): RejectedRow[];
  /** Deletes raw reports (and the installs' cell lists) past the retention; returns how many reports went. */
  applyRetention(): number;
  /** How many raw reports are stored. */
  rawCount(): number;
  /** Commits what is waiting and closes the file. */
  close(): void;
}

interface Waiting {
  readonly item: IngestItem;
  readonly resolve: (result: IngestResult) => void;
  readonly reject: (error: unknown) => void;
}

interface InstallCells {
  readonly project: string;
  readonly week: number;
  readonly weekId: string;
  readonly cells: Set<string>;
  readonly isNew: boolean;
  dirty: boolean;
}

interface Delta {
  readonly project: string;
  readonly week: number;
  readonly version: string;
  readonly dim: string;
  readonly key: string;
  value: number;
  installs: number;
}

/**
 * Opens (or creates) the store. WAL mode: readers never block the writer, and a commit is one append
 * to the log. `synchronous = NORMAL`: a committed transaction survives the process being killed
 * (SIGKILL included); only a power cut or a kernel crash can lose the last commits before a checkpoint.
 *
 * @throws Error when the file cannot be opened, or was written by a newer format of the store.
 */
export function openStore(options: StoreOptions): Store {
  const now = options.now ?? Date.now;
  const retentionDays = options.retentionDays ?? 60;
  const db = new Database(options.path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  // 64 MiB of page cache (SQLite's default is 2 MiB): the aggregates' and ids' indexes stay in memory.
  db.pragma('cache_size = -65536');
  db.exec(SCHEMA_SQL);
  const format = db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?').get('format');
  if (format === undefined) db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('format', String(STORE_FORMAT));
  else if (Number(format.value) > STORE_FORMAT) {
    db.close();
    throw new Error(`${options.path} was written by a newer tallyho-collector (store format ${format.value}; this one reads ${STORE_FORMAT})`);
  }

  const insertId = db.prepare('INSERT OR IGNORE INTO report_ids (id, received) VALUES (?, ?)');
  const insertReport = db.prepare('INSERT INTO reports (id, project, received, source, body) VALUES (?, ?, ?, ?, ?)');
  const upsertWeekly = db.prepare(
    `INSERT INTO weekly (project, week, version, dim, key, value, installs) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (project, week, version, dim, key) DO UPDATE SET value = value + excluded.value, installs = installs + excluded.installs`,
  );
  const selectInstall = db.prepare<[string, number, string], { cells: string }>(
    'SELECT cells FROM install_cells WHERE project = ? AND week = ? AND week_id = ?',
  );
  const insertInstall = db.prepare('INSERT INTO install_cells (project, week, week_id, cells) VALUES (?, ?, ?, ?)');
  const updateInstall = db.prepare('UPDATE install_cells SET cells = ? WHERE project = ? AND week = ? AND week_id = ?');
  const upsertRejected = db.prepare(
    'INSERT INTO rejected (week, reason, count) VALUES (?, ?, 1) ON CONFLICT (week, reason) DO UPDATE SET count = count + 1',
  );
  const selectProjects = db.prepare<[], ProjectRow>(
    'SELECT project, MIN(week) AS firstWeek, MAX(week) AS lastWeek FROM weekly GROUP BY project ORDER BY project',
  );
  const selectWeekly = db
    .prepare<[string, number, number], WeeklyRow>(
      'SELECT week, version, dim, key, value, installs FROM weekly WHERE project = ? AND week BETWEEN ? AND ?',
    );
  const selectRejected = db.prepare<[number, number], RejectedRow>(
    'SELECT week, reason, count FROM rejected WHERE week BETWEEN ? AND ? ORDER BY week, reason',
  );
  const deleteReports = db.prepare('DELETE FROM reports WHERE received < ?');
  const deleteIds = db.prepare('DELETE FROM report_ids WHERE received < ?');
  const deleteInstalls = db.prepare('DELETE FROM install_cells WHERE week < ?');
  const countReports = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM reports');

  /** Commits a group of reports: raw rows, ids, and the aggregates, merged per cell before writing. */
  const commitGroup = db.transaction((group: readonly Waiting[], received: number): IngestResult[] => {
    const deltas = new Map<string, Delta>();
    const installs = new Map<string, InstallCells>();
    const results: IngestResult[] = [];
    for (const { item } of group) {
      if (insertId.run(item.id, received).changes === 0) {
        results.push('duplicate');
        continue;
      }
      const o = item.observation;
      insertReport.run(item.id, o.project, received, item.source, item.body);
      const seen = o.weekId === undefined ? undefined : installCells(installs, o.project, o.week, o.weekId);
      const prefix = `${escapeKey(o.project)}\u0000${o.week}\u0000`;
      const versions = [escapeKey(o.version), ''];
      for (const cell of o.cells) {
        const cellTail = `\u0000${cell.dim}\u0000${escapeKey(cell.key)}`;
        for (const [v, version] of [o.version, ''].entries()) {
          const cellKey = versions[v] + cellTail;
          const deltaKey = prefix + cellKey;
          let delta = deltas.get(deltaKey);
          if (delta === undefined) {
            delta = { project: o.project, week: o.week, version, dim: cell.dim, key: cell.key, value: 0, installs: 0 };
            deltas.set(deltaKey, delta);
          }
          delta.value += cell.value;
          if (seen !== undefined && !seen.cells.has(cellKey)) {
            seen.cells.add(cellKey);
            seen.dirty = true;
            delta.installs += 1;
          }
        }
      }
      results.push('stored');
    }
    for (const d of deltas.values()) upsertWeekly.run(d.project, d.week, d.version, d.dim, d.key, d.value, d.installs);
    for (const entry of installs.values()) {
      if (!entry.dirty) continue;
      const cells = JSON.stringify([...entry.cells]);
      if (entry.isNew) insertInstall.run(entry.project, entry.week, entry.weekId, cells);
      else updateInstall.run(cells, entry.project, entry.week, entry.weekId);
    }
    return results;
  });

  function installCells(cache: Map<string, InstallCells>, project: string, week: number, weekId: string): InstallCells {
    const key = `${escapeKey(project)}\u0000${week}\u0000${weekId}`;
    let entry = cache.get(key);
    if (entry === undefined) {
      const row = selectInstall.get(project, week, weekId);
      const cells = row === undefined ? new Set<string>() : new Set(JSON.parse(row.cells) as string[]);
      entry = { project, week, weekId, cells, isNew: row === undefined, dirty: false };
      cache.set(key, entry);
    }
    return entry;
  }

  let waiting: Waiting[] = [];
  let scheduled = false;
  let closed = false;

  function flush(): void {
    scheduled = false;
    const group = waiting;
    waiting = [];
    if (group.length === 0) return;
    let results: IngestResult[];
    try {
      results = commitGroup(group, now());
    } catch (error) {
      for (const w of group) w.reject(error);
      return;
    }
    group.forEach((w, i) => w.resolve(results[i]!));
  }

  return {
    ingest(item) {
      if (closed) return Promise.reject(new Error('the store is closed'));
      return new Promise<IngestResult>((resolve, reject) => {
        waiting.push({ item, resolve, reject });
        if (!scheduled) {
          scheduled = true;
          // Reports that arrive in the same turn of the event loop share one transaction.
          setImmediate(flush);
        }
      });
    },
    countRejected(reason) {
      if (closed) return;
      upsertRejected.run(isoWeek(now()), reason);
    },
    projects: () => selectProjects.all(),
    weekly: (project, fromWeek, toWeek) => selectWeekly.all(project, fromWeek, toWeek),
    rejected: (fromWeek, toWeek) => selectRejected.all(fromWeek, toWeek),
    applyRetention() {
      const t = now();
      const cutoff = t - retentionDays * DAY_MS;
      const idCutoff = t - Math.max(retentionDays, MIN_ID_DAYS) * DAY_MS;
      return db.transaction(() => {
        const gone = deleteReports.run(cutoff).changes;
        deleteIds.run(idCutoff);
        // An install's cell list matters only while reports of its week can still arrive.
        deleteInstalls.run(isoWeek(cutoff));
        return gone;
      })();
    },
    rawCount: () => countReports.get()!.n,
    close() {
      if (closed) return;
      flush();
      closed = true;
      db.close();
    },
  };
}

/**
 * A part of a composite key, made safe to join with NUL: counted names cannot hold control characters,
 * but versions and runtime names can, so a backslash and a NUL are escaped (one-to-one, so two
 * different parts never give the same key).
 */
function escapeKey(part: string): string {
  if (!part.includes('\\') && !part.includes('\u0000')) return part;
  return part.replaceAll('\\', '\\\\').replaceAll('\u0000', '\\0');
}
