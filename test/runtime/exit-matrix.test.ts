import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/report.js';
import { startReceiver } from '../transports/receiver.js';
import { type ChildRun, RUNTIMES, type RuntimeName, runChild } from './runtimes.js';

// The exit paths of test/delivery/exit.test.ts, with the same host program, under Bun and Deno: each
// run must end as the same program without tallyho does in that runtime, and report as Node does.

const root = mkdtempSync(join(tmpdir(), 'tallyho-runtimes-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let runs = 0;

interface Run extends ChildRun {
  reports: Report[] | undefined;
}

function run(runtime: RuntimeName, scenario: string, options: { tallyho: boolean; signal?: NodeJS.Signals; env?: Record<string, string> }): Promise<Run> {
  const dir = join(root, String(runs++));
  mkdirSync(dir);
  const showMe = join(dir, 'show-me.jsonl');
  const { command, args } = RUNTIMES[runtime];
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    NO_COLOR: '1',
    TALLYHO_OPTIN: 'exit-fixture',
    TALLYHO_HOME: join(dir, 'home'),
    TALLYHO_SHOW_ME: showMe,
    ...(options.tallyho ? { FIXTURE_TALLYHO: '1' } : {}),
    ...options.env,
  };
  return runChild(command, [...args, 'test/fixtures/exit/host.mjs', scenario], { env, signal: options.signal }).then((child) => ({
    ...child,
    reports: existsSync(showMe)
      ? readFileSync(showMe, 'utf8')
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => JSON.parse(line) as Report)
      : undefined,
  }));
}

/** What a report says about the host's work, whichever runtime ran it. */
const essence = (report: Report) => ({ trigger: report.trigger, counts: report.counts, errors: report.errors, dropped: report.dropped, level: report.level });

const SCENARIOS = [
  { scenario: 'normal' },
  { scenario: 'process-exit' },
  { scenario: 'exit-code' },
  { scenario: 'uncaught' },
  { scenario: 'rejection' },
  { scenario: 'signal', signal: 'SIGINT' },
  { scenario: 'signal', signal: 'SIGTERM' },
  { scenario: 'handler-exit', signal: 'SIGINT' },
  { scenario: 'handler-exit', signal: 'SIGTERM' },
  { scenario: 'handler-continue', signal: 'SIGTERM' },
] as const;

const cases = (['bun', 'deno'] as const).flatMap((runtime) => SCENARIOS.map((s) => ({ runtime, ...s, label: `${s.scenario}${'signal' in s ? ` ${s.signal}` : ''}` })));

describe.concurrent('every exit path under Bun and Deno: ends as without tallyho, reports once, as Node does', { timeout: 60_000 }, () => {
  it.each(cases)('$runtime: $label', async ({ runtime, scenario, ...rest }) => {
    const signal = 'signal' in rest ? rest.signal : undefined;
    const [node, bare, on] = await Promise.all([
      run('node', scenario, { tallyho: true, signal }),
      run(runtime, scenario, { tallyho: false, signal }),
      run(runtime, scenario, { tallyho: true, signal }),
    ]);
    expect({ code: on.code, signal: on.signal, stdout: on.stdout }).toEqual({ code: bare.code, signal: bare.signal, stdout: bare.stdout });
    expect(on.stderr).toBe(bare.stderr);
    expect(bare.reports).toBeUndefined();
    // The runtime ends the way Node does, and tallyho reports the same work the same way.
    expect({ code: on.code, signal: on.signal }).toEqual({ code: node.code, signal: node.signal });
    expect(node.reports).toHaveLength(1);
    expect(on.reports, on.stderr).toHaveLength(1);
    expect(essence(on.reports![0]!)).toEqual(essence(node.reports![0]!));
    expect(on.reports![0]!.runtime?.name).toBe(runtime);
  });
});

describe.concurrent('the user\'s controls under Bun and Deno', { timeout: 60_000 }, () => {
  it.each(['bun', 'deno'] as const)('%s: DO_NOT_TRACK=1 wins over the opt-in: no report; TALLYHO_SHOW_ME=1 prints it to stderr', async (runtime) => {
    const [off, shown] = await Promise.all([
      run(runtime, 'normal', { tallyho: true, env: { DO_NOT_TRACK: '1' } }),
      run(runtime, 'normal', { tallyho: true, env: { TALLYHO_SHOW_ME: '1' } }),
    ]);
    expect(off).toMatchObject({ code: 0, reports: undefined, stderr: '' });
    expect(shown.code).toBe(0);
    const printed = shown.stderr.split('\n').filter((line) => line.includes('"schema":1'));
    expect(printed).toHaveLength(1);
    expect(printed[0]).toContain('"Client#query":3');
  });
});

describe.concurrent('the detached sender runs with the host\'s own runtime', { timeout: 60_000 }, () => {
  it.runIf(process.platform === 'linux').each(['bun', 'deno'] as const)('%s', async (runtime) => {
    // The receiver holds the sender's request open until the test has looked at the sender process.
    const held: ServerResponse[] = [];
    const receiver = await startReceiver((res) => held.push(res));
    try {
      const dir = mkdtempSync(join(root, `sender-${runtime}-`));
      const { command, args } = RUNTIMES[runtime];
      const host = await runChild(command, [...args, 'test/fixtures/delivery/host.mjs', 'normal'], {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: dir,
          NO_COLOR: '1',
          TALLYHO_OPTIN: 'delivery-fixture',
          TALLYHO_HOME: join(dir, 'home'),
          TALLYHO_DEBUG: '1',
          // The report leaves at this exit rather than wait for its batch: a sender is started.
          TALLYHO_BATCH_INTERVAL_SEC: '0',
          FIXTURE_TALLYHO: '1',
          FIXTURE_URL: receiver.url,
        },
      });
      expect(host.code, host.stderr).toBe(0);
      const pid = Number(/detached sender started \(pid (\d+)\)/.exec(host.stderr)?.[1]);
      expect(pid, host.stderr).toBeGreaterThan(0);
      await receiver.arrived(1);
      expect(realpathSync(readlinkSync(`/proc/${pid}/exe`))).toBe(realpathSync(command));
      for (const res of held) res.end();
      const report = JSON.parse(receiver.received[0]!.body) as Report;
      expect(report).toMatchObject({ project: 'delivery-fixture', trigger: 'exit', runtime: { name: runtime } });
      expect(report.counts).toMatchObject({ 'Client#query': 3, 'feature.export': 2 });
    } finally {
      for (const res of held) if (!res.writableEnded) res.end();
      await receiver.close();
    }
  });
});
