import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { exampleEnv, shownReports } from './shown-reports.js';

const home = mkdtempSync(join(tmpdir(), 'tallyho-example-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

it("otel-sdk: the host's OpenTelemetry SDK holds the counts of the report tallyho handed over", () => {
  const run = spawnSync(process.execPath, ['examples/otel-sdk/run.mjs'], { encoding: 'utf8', env: exampleEnv(home), timeout: 20_000 });
  expect(run.status).toBe(0);
  const counts = { 'Client#query': 5, 'Client#close': 1, 'new Client': 1, 'feature.export': 2 };
  const shown = shownReports(run.stderr, 'acme-sdk');
  expect(shown.map(({ trigger }) => trigger)).toEqual(['manual']);
  expect(shown[0]!.report.counts).toEqual(counts);

  const lines = run.stdout.split('\n');
  expect(lines[0]).toBe('meter acme-sdk@1.4.0');
  const collected = Object.fromEntries(
    lines.flatMap((line) => {
      const point = /^ {2}tallyho\.calls\{code\.function\.name="(.+)"\} (\d+) \{call\}$/.exec(line);
      return point === null ? [] : [[point[1]!, Number(point[2])]];
    }),
  );
  expect(collected).toEqual(counts);
  expect(run.stdout).not.toContain('tallyho.errors');
});
