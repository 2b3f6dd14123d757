import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { exampleEnv, shownReports } from './shown-reports.js';

const home = mkdtempSync(join(tmpdir(), 'tallyho-example-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

it('cli-tool: the tool exits at once, and its report reaches the endpoint afterwards, sent by the detached sender', () => {
  const run = spawnSync(process.execPath, ['examples/cli-tool/run.mjs'], { encoding: 'utf8', env: exampleEnv(home), timeout: 20_000 });
  expect(run.stdout).toContain('"count these words": 3 words, 1 lines');
  expect(run.stdout).toMatch(/^acme-cli exited with code 0 after \d+ ms/m);
  expect(run.status).toBe(0);

  const counts = { 'new TextStats': 1, 'TextStats#words': 2, 'TextStats#lines': 2, 'command.stats': 1 };
  const received = /^received by the endpoint after the tool exited: (.+)$/m.exec(run.stdout);
  expect(received).not.toBeNull();
  expect(JSON.parse(received![1]!)).toEqual(counts);

  // The report shown at exit is the one the endpoint received.
  const shown = shownReports(run.stderr, 'acme-cli');
  expect(shown.map(({ trigger }) => trigger)).toEqual(['exit']);
  expect(shown[0]!.report.counts).toEqual(counts);
  expect(run.stdout).toContain(`(report ${shown[0]!.report.id}, `);
});
