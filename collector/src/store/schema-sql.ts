/** The store's format version, kept in `meta`: a store written by a newer format is refused, not misread. */
export const STORE_FORMAT = 1;

/**
 * The tables. Raw reports are kept for the retention period; the weekly aggregates forever. No table
 * has a column for a client's network address: the collector never stores one.
 */
export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

-- Every report id taken, so that a retried delivery is acknowledged and not counted again. Kept at
-- least as long as a client may retry (its spool keeps a report 30 days), even under a shorter retention.
CREATE TABLE IF NOT EXISTS report_ids (
  id TEXT PRIMARY KEY,
  received INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS report_ids_received ON report_ids (received);

-- The reports as received (after gzip), for the retention period.
CREATE TABLE IF NOT EXISTS reports (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  project TEXT NOT NULL,
  received INTEGER NOT NULL,
  source TEXT NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reports_received ON reports (received);
CREATE INDEX IF NOT EXISTS reports_project ON reports (project);

-- Weekly aggregates by project, ISO week (YYYYWW), version ('' = all versions), dimension and key:
-- the sum of what reports added, and how many distinct installs (weekly ids) contributed.
CREATE TABLE IF NOT EXISTS weekly (
  project TEXT NOT NULL,
  week INTEGER NOT NULL,
  version TEXT NOT NULL,
  dim TEXT NOT NULL,
  key TEXT NOT NULL,
  value INTEGER NOT NULL,
  installs INTEGER NOT NULL,
  PRIMARY KEY (project, week, version, dim, key)
) WITHOUT ROWID;

-- Which cells each install (weekly id) has already contributed to in a week, so that counting
-- distinct installs stays incremental. Deleted with the raw reports.
CREATE TABLE IF NOT EXISTS install_cells (
  project TEXT NOT NULL,
  week INTEGER NOT NULL,
  week_id TEXT NOT NULL,
  cells TEXT NOT NULL,
  PRIMARY KEY (project, week, week_id)
) WITHOUT ROWID;

-- Requests refused, by ISO week and reason (invalid report, body too large, rate limited, ...).
CREATE TABLE IF NOT EXISTS rejected (
  week INTEGER NOT NULL,
  reason TEXT NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (week, reason)
) WITHOUT ROWID;
`;
