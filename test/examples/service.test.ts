import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { exampleEnv, shownReports } from './shown-reports.js';

const home = mkdtempSync(join(tmpdir(), 'tallyho-example-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

it('service: a timer report, then on SIGTERM a last report with the counts since, and exit code 0', () => {
  // The runner waits for the first timer report (10 s, the shortest interval) before stopping the service.
  const run = spawnSync(process.execPath, ['examples/service/run.mjs'], { encoding: 'utf8', env: exampleEnv(home), timeout: 25_000 });
  expect(run.stdout).toContain('a report every 10 s');
  expect(run.stdout).toContain('last report: shown, 3 calls');
  expect(run.stdout).toContain('the service exited with code 0');
  expect(run.status).toBe(0);

  const shown = shownReports(run.stderr, 'acme-server');
  expect(shown.map(({ trigger }) => trigger)).toEqual(['timer', 'manual']);
  const [timer, last] = shown.map(({ report }) => report);
  expect(timer!.counts).toEqual({ 'new OrderStore': 1, 'OrderStore#create': 1, 'OrderStore#list': 2 });
  expect(timer!.errors).toEqual({});
  expect(last!.counts).toEqual({ 'OrderStore#create': 2, 'OrderStore#list': 1 });
  expect(last!.errors).toEqual({ 'OrderStore#create': 1 });
  // The last report starts where the timer's ended: nothing is counted twice or lost between them.
  expect(last!.period.start).toBe(timer!.period.end);
}, 30_000);
