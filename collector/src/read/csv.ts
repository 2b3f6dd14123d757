import { weekLabel } from '../iso-week.js';
import type { Store } from '../store/store.js';

/**
 * The weekly aggregates of a project as CSV: one row per week, version (empty for all versions
 * together), dimension and key, with the sum and the distinct installs. A row that fewer than
 * `minInstalls` installs contributed to keeps its week, version, dimension and key but not its
 * numbers, and says `suppressed`; except that a counted name no row of the export shows is left
 * out, as on the page.
 */
export function aggregatesCsv(
  store: Store,
  project: string,
  weeks: readonly number[],
  minInstalls: number,
): {
  /** The CSV text, CRLF line ends, with a header row. */
  csv: string;
  /** How many rows had their numbers suppressed. */
  suppressed: number;
} {
  const rows = store
    .weekly(project, weeks[0]!, weeks[weeks.length - 1]!)
    .sort((a, b) => a.week - b.week || a.version.localeCompare(b.version) || a.dim.localeCompare(b.dim) || a.key.localeCompare(b.key));
  const visibleNames = new Set(rows.filter((r) => (r.dim === 'calls' || r.dim === 'errors') && r.installs >= minInstalls).map((r) => `${r.dim}\u0000${r.key}`));
  const lines = ['week,version,dimension,key,value,installs,note'];
  let suppressed = 0;
  for (const row of rows) {
    const ok = row.installs >= minInstalls;
    if (!ok) suppressed += 1;
    if (!ok && (row.dim === 'calls' || row.dim === 'errors') && !visibleNames.has(`${row.dim}\u0000${row.key}`)) continue;
    const note = ok ? '' : `suppressed: fewer than ${minInstalls} installs`;
    lines.push([weekLabel(row.week), row.version, row.dim, row.key, ok ? String(row.value) : '', ok ? String(row.installs) : '', note].map(csvField).join(','));
  }
  return { csv: `${lines.join('\r\n')}\r\n`, suppressed };
}

/**
 * One CSV field (RFC 4180 quoting). Names come from clients: a field that a spreadsheet would run as
 * a formula (`=`, `+`, `-`, `@`, tab, carriage return first) is prefixed with `'`, as OWASP advises.
 */
function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
