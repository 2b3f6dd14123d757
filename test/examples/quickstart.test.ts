import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';

const home = mkdtempSync(join(tmpdir(), 'tallyho-example-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

it("README's first command: the example prints its own work, then the report tallyho would send", () => {
  // The runner sets TALLYHO_OPTIN, TALLYHO_SHOW_ME and TALLYHO_DRY_RUN itself, so it shows the report
  // in CI and under this test runner too.
  const run = spawnSync(process.execPath, ['examples/quickstart/run.mjs'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: home, TALLYHO_HOME: home, CI: 'true', VITEST: 'true' },
  });
  expect(run.status).toBe(0);
  expect(run.stdout).toContain('query: 4 words');
  expect(run.stdout).not.toContain('"schema"');
  const marker = 'tallyho: report for acme-sdk (exit), exactly as sent:\n';
  expect(run.stderr).toContain(marker);
  const report = JSON.parse(run.stderr.split(marker)[1]!.split('\n')[0]!);
  expect(report.counts).toEqual({
    'Client#query': 3,
    'Client.parseUrl': 1,
    'new Client': 1,
    'Parser#parse': 2,
    'feature.export-csv': 1,
  });
  expect(report.errors).toEqual({ 'Parser#parse': 1 });
  expect(report.ci).toBe(true);
});
