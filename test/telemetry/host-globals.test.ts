import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';

const home = mkdtempSync(join(tmpdir(), 'tallyho-globals-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

it("changes no host global and no setting of the host's own zod, even after validating a report", () => {
  const run = spawnSync(process.execPath, ['test/fixtures/globals/host.mjs'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: home, TALLYHO_HOME: home, TALLYHO_OPTIN: 'globals-host' },
    timeout: 20_000,
  });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  const seen = JSON.parse(run.stdout) as { flush: string; valid: boolean; zodBefore: string; zodAfter: string; hostSchemaParses: boolean; added: string[] };
  // The flush really sent a report tallyho had validated, so tallyho's zod did its work.
  expect(seen.flush).toBe('sent');
  expect(seen.valid).toBe(true);
  expect(seen.zodAfter).toBe(seen.zodBefore);
  expect(seen.zodAfter).not.toContain('jitless');
  expect(seen.hostSchemaParses).toBe(true);
  // tallyho's own versioned key, and nothing else: the exit hook marks its listeners instead.
  expect(seen.added.sort()).toEqual(['Symbol(tallyho.shared.v2)']);
});
