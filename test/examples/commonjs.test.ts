import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { exampleEnv, shownReports } from './shown-reports.js';

const home = mkdtempSync(join(tmpdir(), 'tallyho-example-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

it('commonjs: a library that requires tallyho reports its counts as the program exits', () => {
  const run = spawnSync(process.execPath, ['examples/commonjs/run.mjs'], { encoding: 'utf8', env: exampleEnv(home), timeout: 20_000 });
  expect(run.status).toBe(0);
  expect(run.stdout).toContain('query: 4 words');
  expect(run.stdout).not.toContain('"schema"');
  const shown = shownReports(run.stderr, 'acme-sdk');
  expect(shown.map(({ trigger }) => trigger)).toEqual(['exit']);
  const { report } = shown[0]!;
  expect(report.counts).toEqual({ 'new Client': 1, 'Client.parseUrl': 1, 'Client#query': 2, 'feature.export-csv': 2 });
  expect(report.errors).toEqual({});
  expect(report.ci).toBe(true);
});
