import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNTIMES, runChild } from './runtimes.js';

// The command as a user of each runtime starts it, from a project that has tallyho installed.
const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tallyho-cli-'));
const project = join(dir, 'app');

beforeAll(() => {
  mkdirSync(join(project, 'node_modules/.bin'), { recursive: true });
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', dependencies: { tallyho: '*' } }));
  symlinkSync(root, join(project, 'node_modules/tallyho'));
  symlinkSync('../tallyho/dist/cli.js', join(project, 'node_modules/.bin/tallyho'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function env(): Record<string, string> {
  const home = mkdtempSync(join(dir, 'home-'));
  return { PATH: process.env.PATH ?? '', HOME: home, TALLYHO_HOME: join(home, 'tallyho'), NO_COLOR: '1' };
}

describe.concurrent('the tallyho command under Bun and Deno', { timeout: 60_000 }, () => {
  it.each([
    ['bunx tallyho status', `${root}node_modules/.bin/bunx`, ['tallyho', 'status', '--json']],
    ['bunx --bun tallyho status', `${root}node_modules/.bin/bunx`, ['--bun', 'tallyho', 'status', '--json']],
    ['deno run -A npm:tallyho status', RUNTIMES.deno.command, ['run', '--no-prompt', '-A', 'npm:tallyho', 'status', '--json']],
  ])('%s', async (_name, command, args) => {
    const run = await runChild(command, args, { env: env(), cwd: project });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ globalSwitch: 'on', projects: [] });
  });

  it('deno run npm:tallyho without permissions says which to grant, and fails', async () => {
    const run = await runChild(RUNTIMES.deno.command, ['run', '--no-prompt', 'npm:tallyho', 'status'], { env: env(), cwd: project });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^tallyho: Deno was not given --allow-env, --allow-read, --allow-write, --allow-sys, --allow-net: .*; run it as: deno run -A npm:tallyho status\n$/);
  });
});
