import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { DURATION_BUCKETS } from '../../src/registry/buckets.js';
import { exampleEnv, shownReports } from './shown-reports.js';

const home = mkdtempSync(join(tmpdir(), 'tallyho-example-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

it('plain-js: one line counts a plain module, and the report shows every field of the usage level', () => {
  const run = spawnSync(process.execPath, ['examples/plain-js/run.mjs'], { encoding: 'utf8', env: exampleEnv(home), timeout: 20_000 });
  expect(run.status).toBe(0);
  expect(run.stdout).toBe('2 1\n4 3\n1 2\n3 4\n2 rows loaded\n');
  const shown = shownReports(run.stderr, 'matrix-tools');
  expect(shown.map(({ trigger }) => trigger)).toEqual(['exit']);
  const { report } = shown[0]!;
  // Module-internal `new Matrix` (in identity and multiply) reaches the class itself, not the counted
  // binding, as with a class decorator.
  const counts = { parse: 3, load: 1, 'new Matrix': 3, 'Matrix#multiply': 2, 'Matrix#toString': 2, 'Matrix.identity': 1 };
  expect(report.counts).toEqual(counts);
  // Every timed call is in exactly one duration bucket; load() waited for its timer, so at least 4 ms.
  for (const [name, n] of Object.entries(counts).filter(([name]) => name !== 'new Matrix')) {
    const buckets = report.durations?.[name] ?? {};
    expect(Object.values(buckets).reduce((a, b) => a! + b!, 0), name).toBe(n);
    for (const bucket of Object.keys(buckets)) expect(DURATION_BUCKETS).toContain(bucket);
  }
  expect(Object.keys(report.durations!.load!).every((bound) => Number(bound) >= 4)).toBe(true);
  expect(report.numbers).toEqual({ 'input.cells': { '7': 3 } });
  expect(report.choices).toEqual({ 'input.format': { text: 1, csv: 1, other: 1 } });
  const zod = (JSON.parse(readFileSync('node_modules/zod/package.json', 'utf8')) as { version: string }).version;
  expect(report.dependencies).toEqual({ zod, 'left-pad-not-installed': null });
  expect(report.exits).toMatchObject({ normal: 1, nonZero: 0, signal: 0 });
  expect(Object.values(report.exits!.duration)).toEqual([1]);
  // The user's own format name never leaves.
  expect(run.stderr).not.toContain('a-format-of-the-users-own');
});
