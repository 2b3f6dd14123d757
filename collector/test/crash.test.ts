import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { startCollectorProcess, stopProcess } from './cli-process.js';
import { makeReport, post, tempDir } from './helpers.js';

const temp = tempDir();
afterAll(() => temp.remove());

/** Posts reports with `concurrency` requests in flight; resolves with the ids answered 200, whatever else happens. */
async function load(url: string, reports: readonly Record<string, any>[], concurrency: number, onAck?: (n: number) => void): Promise<Set<string>> {
  const acked = new Set<string>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < reports.length) {
      const report = reports[next++]!;
      try {
        const answer = await post(`${url}/v1/reports`, report, { headers: { 'idempotency-key': report.id }, gzip: next % 2 === 0 });
        if (answer.status === 200) {
          acked.add(report.id);
          onAck?.(acked.size);
        }
      } catch {
        // The connection died with the server: this report was not acknowledged, and will be retried.
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return acked;
}

it('SIGKILL during ingest under load: no report answered 200 is lost, none is stored twice after clients retry', async () => {
  const db = join(temp.dir, 'usage.db');
  const installs = Array.from({ length: 40 }, () => randomBytes(32).toString('hex'));
  const reports = Array.from({ length: 1500 }, (_, i) =>
    makeReport({ weekId: installs[i % installs.length], counts: { 'feature.a': 1, [`feature.n${i % 100}`]: 2 } }),
  );

  const first = await startCollectorProcess(['--db', db, '--rate-limit', '0', '--log-level', 'info']);
  let killed: Promise<unknown> | undefined;
  const acked = await load(first.url, reports, 32, (n) => {
    // Killed mid-stream, with requests in flight and a group commit likely under way.
    if (n === 400) killed = stopProcess(first.child, 'SIGKILL');
  });
  expect(await killed).toEqual({ code: null, signal: 'SIGKILL' });
  expect(acked.size).toBeGreaterThanOrEqual(400);
  expect(acked.size).toBeLessThan(reports.length);

  // Straight after the kill, before anything else opens the file: every acknowledged report is there.
  const check = new Database(db, { readonly: true, fileMustExist: true });
  const stored = new Set(check.prepare('SELECT id FROM reports').pluck().all() as string[]);
  check.close();
  for (const id of acked) expect(stored.has(id), id).toBe(true);

  // Clients retry everything they had no 200 for; some whose 200 was lost retry too.
  const second = await startCollectorProcess(['--db', db, '--rate-limit', '0', '--log-level', 'info']);
  const retried = await load(second.url, reports, 32);
  expect(retried.size).toBe(reports.length);
  expect(await stopProcess(second.child, 'SIGTERM')).toEqual({ code: 0, signal: null });

  const after = new Database(db, { readonly: true, fileMustExist: true });
  const rows = after.prepare('SELECT id, COUNT(*) AS n FROM reports GROUP BY id HAVING n > 1').all();
  expect(rows).toEqual([]);
  expect(after.prepare('SELECT COUNT(*) FROM reports').pluck().get()).toBe(reports.length);
  const agg = (dim: string, key: string) =>
    after.prepare("SELECT SUM(value) FROM weekly WHERE project = 'acme-sdk' AND version = '' AND dim = ? AND key = ?").pluck().get(dim, key);
  expect(agg('reports', '')).toBe(reports.length);
  expect(agg('calls', 'feature.a')).toBe(reports.length);
  expect(agg('calls', 'feature.n7')).toBe(2 * 15);
  expect(after.prepare("SELECT SUM(installs) FROM weekly WHERE project = 'acme-sdk' AND version = '' AND dim = 'reports'").pluck().get()).toBe(installs.length);
  after.close();
});
