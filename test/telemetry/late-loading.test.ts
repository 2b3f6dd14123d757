import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { shownReports } from '../examples/shown-reports.js';

const home = mkdtempSync(join(tmpdir(), 'tallyho-late-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

function host(format: 'esm' | 'cjs', mode: 'exit' | 'flush') {
  const run = spawnSync(process.execPath, ['test/fixtures/globals/late.mjs', format, mode], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: home, TALLYHO_HOME: home, TALLYHO_OPTIN: 'late-host', TALLYHO_SHOW_ME: '1', TALLYHO_DRY_RUN: '1' },
    timeout: 20_000,
  });
  expect(run.status).toBe(0);
  return { seen: JSON.parse(run.stdout) as { atStartUp: boolean; afterFlush: boolean; schemaAfterFlush: boolean }, reports: shownReports(run.stderr, 'late-host') };
}

describe.each(['esm', 'cjs'] as const)('the %s build', (format) => {
  it('loads the reporting code only at exit, synchronously, and the exit report is whole', () => {
    const { seen, reports } = host(format, 'exit');
    expect(seen).toEqual({ atStartUp: false, afterFlush: false, schemaAfterFlush: false });
    expect(reports.map(({ trigger, report }) => [trigger, report.counts])).toEqual([['exit', { 'new Client': 1, 'Client#query': 1 }]]);
  });

  it('loads it with the first flush, and zod (tallyho/schema) to validate the report before it is sent', () => {
    const { seen, reports } = host(format, 'flush');
    expect(seen).toEqual({ atStartUp: false, afterFlush: true, schemaAfterFlush: true });
    expect(reports.map(({ trigger }) => trigger)).toEqual(['manual']);
  });
});

it("keeps zod out of the host's bundles and the late code: tallyho/schema carries it", () => {
  // A message of zod's own, present in every bundle that includes zod's core.
  const zod = (file: string) => readFileSync(join('dist', file), 'utf8').includes('Invalid input');
  expect(['index.js', 'index.cjs', 'late.cjs', 'schema.js', 'schema.cjs'].map(zod)).toEqual([false, false, false, true, true]);
});

it('is off, and says why, when its ES module bundle was copied without late.cjs', () => {
  const copy = mkdtempSync(join(tmpdir(), 'tallyho-rebundled-'));
  try {
    writeFileSync(join(copy, 'index.js'), readFileSync('dist/index.js'));
    const program = `const { createTelemetry } = await import(${JSON.stringify(pathToFileURL(join(copy, 'index.js')).href)});
      const t = createTelemetry({ project: 'late-host', version: '1.0.0' });
      t.count('feature.x');
      console.log(JSON.stringify(t.status()));`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', program], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: home, TALLYHO_HOME: home, TALLYHO_OPTIN: 'late-host' },
      timeout: 20_000,
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ enabled: false, rule: 'incomplete-package', reason: expect.stringContaining('late.cjs') });
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
});
