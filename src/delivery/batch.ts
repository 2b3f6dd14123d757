import { builtins } from '../config/builtins.js';
import { envelopeKey, mergeReports } from '../report/merge-reports.js';
import type { Report } from '../report/report.js';
import { type Claim, mergeable, type Spool, type SpoolEntry } from './spool.js';

/**
 * The id of a merged report, derived from the ids it merges (order aside): a process that dies
 * between writing a batch and deleting its parts, merged again from the same parts, sends the same
 * id, which a receiver dedupes. A UUID of version 8 (RFC 9562's custom kind) made from SHA-256.
 */
export function mergedId(ids: readonly string[]): string {
  const hash = builtins.crypto().createHash('sha256').update([...ids].sort().join('\n')).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x80;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Merges the claimed reports of one transport and one envelope into one report before they leave:
 * the merged report is written (claimed) first, then its parts are deleted. A process that dies in
 * between leaves both; the merged entry names its parts, and the spool deletes them when it finds
 * them (see `Spool.tidy`). Reports tried before (sealed) are never merged: a receiver may have them
 * under their own id. If the merged report cannot be written, the parts leave one by one.
 * Returns the claims to send, oldest first.
 */
export function mergeBatch(spool: Spool | undefined, claims: readonly Claim[], now: number): Claim[] {
  const groups = new Map<string, Claim[]>();
  const out: Claim[] = [];
  for (const claim of claims) {
    if (!mergeable(claim.entry) || spool === undefined) {
      out.push(claim);
      continue;
    }
    const key = `${claim.entry.transport.name}\n${envelopeKey(claim.entry.report)}`;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [claim]);
    else group.push(claim);
  }
  for (const parts of groups.values()) {
    if (parts.length === 1) {
      out.push(parts[0]!);
      continue;
    }
    const ids = parts.map((p) => p.entry.report.id);
    const latest = parts.reduce((a, b) => (b.entry.createdAt > a.entry.createdAt ? b : a));
    const entry: SpoolEntry = {
      ...latest.entry,
      report: mergeReports(
        parts.map((p) => p.entry.report),
        mergedId(ids),
      ),
      createdAt: Math.min(...parts.map((p) => p.entry.createdAt)),
      attempts: 0,
      nextAttemptAt: now,
      sealed: true,
      merges: ids,
    };
    const merged = spool!.addClaimed(entry, latest.index, now);
    if (merged === undefined) {
      out.push(...parts);
      continue;
    }
    for (const part of parts) spool!.remove(part);
    out.push(merged);
  }
  return out.sort((a, b) => a.entry.createdAt - b.entry.createdAt);
}

/** One report as it will leave the queue, for `tallyho show`. */
export interface Departure {
  readonly transport: string;
  /** The report as it will be sent: the batch merged, or a report being retried as it is. */
  readonly report: Report;
  /** How many waiting reports it is made of (1 for a retry). */
  readonly parts: number;
  /** When it was first written (its oldest part). */
  readonly since: number;
  /** When it may leave: the batch's due time, or the retry's next attempt time. */
  readonly leavesAt: number;
  /** Attempts made so far (retries only). */
  readonly attempts: number;
}

/**
 * What a project's waiting reports will look like when they leave, and when: the reports not yet
 * tried merged per transport and envelope (leaving together once the oldest is due), the ones being
 * retried as they are. The merged id is the one the batch will carry.
 */
export function departures(entries: readonly SpoolEntry[]): Departure[] {
  const waiting = entries.filter((e) => mergeable(e));
  const batchLeavesAt = Math.min(...waiting.map((e) => e.nextAttemptAt));
  const groups = new Map<string, SpoolEntry[]>();
  for (const entry of waiting) {
    const key = `${entry.transport.name}\n${envelopeKey(entry.report)}`;
    groups.set(key, [...(groups.get(key) ?? []), entry]);
  }
  const out: Departure[] = [...groups.values()].map((parts) => ({
    transport: parts[0]!.transport.name,
    report: parts.length === 1 ? parts[0]!.report : mergeReports(parts.map((p) => p.report), mergedId(parts.map((p) => p.report.id))),
    parts: parts.length,
    since: Math.min(...parts.map((p) => p.createdAt)),
    leavesAt: batchLeavesAt,
    attempts: 0,
  }));
  for (const entry of entries.filter((e) => !mergeable(e))) {
    out.push({ transport: entry.transport.name, report: entry.report, parts: 1, since: entry.createdAt, leavesAt: entry.nextAttemptAt, attempts: entry.attempts });
  }
  return out.sort((a, b) => a.leavesAt - b.leavesAt || a.since - b.since);
}
