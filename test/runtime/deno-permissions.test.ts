import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startReceiver } from '../transports/receiver.js';
import { RUNTIMES, runChild } from './runtimes.js';

const root = mkdtempSync(join(tmpdir(), 'tallyho-deno-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const PERMISSIONS = ['--allow-env', '--allow-read', '--allow-write', '--allow-sys', '--allow-net', '--allow-run'];

/** Runs the status fixture under Deno with exactly `flags`, never prompting. */
async function underDeno(flags: readonly string[], url?: string) {
  const home = mkdtempSync(join(root, 'home-'));
  const run = await runChild(
    RUNTIMES.deno.command,
    ['run', '--no-prompt', ...flags, 'test/fixtures/runtime/status.mjs', ...(url === undefined ? [] : [url])],
    { env: { PATH: process.env.PATH ?? '', HOME: home, TALLYHO_HOME: home, TALLYHO_OPTIN: 'runtime-fixture', NO_COLOR: '1' } },
  );
  const [status, flush] = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  return { ...run, status, flush };
}

describe.concurrent('Deno with fewer permissions: the import succeeds, and the telemetry is off with its rule', () => {
  it.each([[], ...PERMISSIONS.map((p) => [p])].map((flags) => ({ flags, label: flags.join(' ') || '(no permission)' })))('deno run $label', async ({ flags }) => {
    const run = await underDeno(flags);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.status).toMatchObject({ enabled: false, rule: 'no-permission' });
    expect(run.status!.reason).toMatch(/^Deno was not given --allow-/);
    for (const flag of PERMISSIONS.filter((p) => p !== '--allow-run')) {
      expect(String(run.status!.reason).split(':')[0]!.includes(flag)).toBe(!flags.includes(flag));
    }
    expect(run.flush).toEqual({ status: 'off', calls: 0 });
  });

  it('every permission but the network: nothing is sent, and flush() does not wait', async () => {
    const receiver = await startReceiver();
    try {
      const run = await underDeno(PERMISSIONS.filter((p) => p !== '--allow-net'), receiver.url);
      expect(run.code).toBe(0);
      expect(run.status).toMatchObject({ enabled: false, rule: 'no-permission' });
      expect(run.status!.reason).toMatch(/^Deno was not given --allow-net:/);
      expect(run.flush).toEqual({ status: 'off', calls: 0 });
      expect(receiver.received).toHaveLength(0);

      // The same program with every permission does send: the assertions above can fail.
      const granted = await underDeno(PERMISSIONS, receiver.url);
      expect(granted.status).toMatchObject({ enabled: true, rule: 'opted-in' });
      expect(granted.flush).toEqual({ status: 'sent', calls: 1 });
      expect(receiver.received).toHaveLength(1);
    } finally {
      await receiver.close();
    }
  });
});

describe.concurrent('deno test is a test runner', () => {
  const env = (extra: Record<string, string> = {}) => {
    const home = mkdtempSync(join(root, 'home-'));
    return { PATH: process.env.PATH ?? '', HOME: home, TALLYHO_HOME: home, NO_COLOR: '1', ...extra };
  };
  const statusLine = (stdout: string) => JSON.parse(stdout.split('\n').find((line) => line.startsWith('{'))!) as Record<string, unknown>;

  it('off under deno test, unless opted in; on under deno run', async () => {
    const fixture = 'test/fixtures/runtime/deno-test.mjs';
    const [tested, optedIn, ran] = await Promise.all([
      runChild(RUNTIMES.deno.command, ['test', '--no-check', '--no-prompt', '-A', fixture], { env: env() }),
      runChild(RUNTIMES.deno.command, ['test', '--no-check', '--no-prompt', '-A', fixture], { env: env({ TALLYHO_OPTIN: 'runtime-fixture' }) }),
      runChild(RUNTIMES.deno.command, ['run', '--no-prompt', '-A', fixture, 'now'], { env: env() }),
    ]);
    expect(tested.code).toBe(0);
    expect(statusLine(tested.stdout)).toMatchObject({ enabled: false, rule: 'test-runner', reason: expect.stringContaining('(deno test)') });
    expect(statusLine(optedIn.stdout)).toMatchObject({ enabled: true, rule: 'opted-in' });
    expect(statusLine(ran.stdout)).toMatchObject({ enabled: true, rule: 'default-on' });
  });
});
