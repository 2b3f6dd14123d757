import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/report.js';
import { ReportSchema } from '../../src/report/schema.js';
import { type ChildRun, runChild } from '../runtime/runtimes.js';

const fixtures = fileURLToPath(new URL('../fixtures/exit/', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'tallyho-exit-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** What the host's work counts, with tallyho on: see test/fixtures/exit/host.mjs. */
const HOST_COUNTS = { 'new Client': 1, 'Client#query': 3, 'Client.version': 1, 'feature.export': 2 };

interface Run extends ChildRun {
  /** The reports TALLYHO_SHOW_ME wrote; `undefined` when it never created its file. */
  reports: Report[] | undefined;
  /** The fixture's TALLYHO_HOME. */
  home: string;
}

interface RunOptions {
  /** Load tallyho in the fixture (FIXTURE_TALLYHO=1). */
  tallyho?: boolean;
  /** Sent once the fixture prints its "ready" line. */
  signal?: NodeJS.Signals;
  /** Added to the fixture's explicit environment. */
  env?: Record<string, string>;
}

let runs = 0;

/**
 * Runs a fixture with an explicit environment (never the test runner's, which would turn tallyho off)
 * and a show-me file of its own.
 */
async function run(fixture: string, args: string[], options: RunOptions = {}): Promise<Run> {
  const dir = join(root, String(runs++));
  mkdirSync(dir);
  const showMe = join(dir, 'show-me.jsonl');
  const home = join(dir, 'home');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    TALLYHO_OPTIN: 'exit-fixture',
    TALLYHO_HOME: home,
    TALLYHO_SHOW_ME: showMe,
    ...(options.tallyho ? { FIXTURE_TALLYHO: '1' } : {}),
    ...options.env,
  };
  const child = await runChild(process.execPath, [join(fixtures, fixture), ...args], { env, ...(options.signal === undefined ? {} : { signal: options.signal }) });
  const reports = existsSync(showMe)
    ? readFileSync(showMe, 'utf8')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => ReportSchema.parse(JSON.parse(line)))
    : undefined;
  return { ...child, reports, home };
}

/** The run's end as its report must carry it: one run, ended `outcome`, in one duration bucket. */
function expectRun(report: Report | undefined, outcome: 'normal' | 'nonZero' | 'signal'): void {
  expect(report?.exits).toMatchObject({ normal: 0, nonZero: 0, signal: 0, [outcome]: 1 });
  const buckets = Object.entries(report!.exits!.duration);
  expect(buckets).toHaveLength(1);
  expect(buckets[0]![1]).toBe(1);
  // The run took between a millisecond and a minute: the bucket's bound says so, never the time itself.
  expect(Number(buckets[0]![0])).toBeGreaterThan(1);
  expect(Number(buckets[0]![0])).toBeLessThan(120_000);
}

/** Runs the host scenario with and without tallyho; both runs must end alike. */
async function compare(scenario: string, signal?: NodeJS.Signals): Promise<{ bare: Run; on: Run }> {
  const [bare, on] = await Promise.all([
    run('host.mjs', [scenario], { signal }),
    run('host.mjs', [scenario], { signal, tallyho: true }),
  ]);
  expect(bare.reports).toBeUndefined();
  expect({ code: on.code, signal: on.signal, stdout: on.stdout }).toEqual({ code: bare.code, signal: bare.signal, stdout: bare.stdout });
  // tallyho prints nothing of its own with the show-me copy going to a file: stderr is the host's.
  expect(on.stderr).toBe(bare.stderr);
  return { bare, on };
}

describe.concurrent('a host ends the same with tallyho loaded, and reports once', () => {
  it.each([
    { scenario: 'normal', code: 0, outcome: 'normal' },
    { scenario: 'process-exit', code: 7, outcome: 'nonZero' },
    { scenario: 'exit-code', code: 5, outcome: 'nonZero' },
  ] as const)('$scenario: exit code $code, trigger exit, run ended $outcome', async ({ scenario, code, outcome }) => {
    const { bare, on } = await compare(scenario);
    expect(bare).toMatchObject({ code, signal: null });
    expect(bare.stdout).toMatch(/^db:8\n/);
    expect(on.reports).toHaveLength(1);
    expect(on.reports![0]).toMatchObject({ project: 'exit-fixture', trigger: 'exit', counts: HOST_COUNTS, errors: {} });
    expectRun(on.reports![0], outcome);
  });

  it('an unsettled top-level await: exit code 13, as without tallyho', async () => {
    const { bare, on } = await compare('unsettled-await');
    expect(bare).toMatchObject({ code: 13, signal: null });
    expect(on.reports).toHaveLength(1);
    expect(on.reports![0]).toMatchObject({ trigger: 'exit', counts: HOST_COUNTS });
  });

  it('uncaught exception: exit code 1, the host stack on stderr, trigger exit', async () => {
    const { bare, on } = await compare('uncaught');
    expect(bare).toMatchObject({ code: 1, signal: null });
    expect(on.stderr).toContain('Error: host failure in uncaught scenario');
    expect(on.stderr).toMatch(/at Immediate\.hostFails \(.*host\.mjs:\d+:\d+\)/);
    expect(on.reports).toHaveLength(1);
    expect(on.reports![0]).toMatchObject({ trigger: 'exit', counts: HOST_COUNTS });
    expectRun(on.reports![0], 'nonZero');
  });

  it('unhandled rejection: exit code 1, the host error on stderr, trigger exit', async () => {
    const { bare, on } = await compare('rejection');
    expect(bare).toMatchObject({ code: 1, signal: null });
    expect(on.stderr).toContain('Error: host rejection in rejection scenario');
    expect(on.stderr).toMatch(/at Immediate\.hostRejects \(.*host\.mjs:\d+:\d+\)/);
    expect(on.reports).toHaveLength(1);
    expect(on.reports![0]).toMatchObject({ trigger: 'exit', counts: HOST_COUNTS });
    expectRun(on.reports![0], 'nonZero');
  });

  it.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)('%s without a host handler: dies by the signal, trigger signal', async (signal) => {
    const { bare, on } = await compare('signal', signal);
    expect(bare).toMatchObject({ code: null, signal });
    expect(on.stdout).toMatch(/\nready\n$/);
    expect(on.reports).toHaveLength(1);
    expect(on.reports![0]).toMatchObject({ trigger: 'signal', counts: HOST_COUNTS });
    expectRun(on.reports![0], 'signal');
  });

  it.each(['SIGINT', 'SIGTERM'] as const)('%s with a host that hooks exits with signal-exit too: both hooks run, the process dies by the signal', async (signal) => {
    const { bare, on } = await compare('host-signal-exit', signal);
    expect(bare).toMatchObject({ code: null, signal });
    expect(bare.stdout).toMatch(new RegExp(`\\nready\\nhost hook ran: null ${signal}\\n$`));
    expect(on.reports).toHaveLength(1);
    expect(on.reports![0]).toMatchObject({ trigger: 'signal', counts: HOST_COUNTS });
  });

  it.each(['SIGINT', 'SIGTERM'] as const)('%s with a host handler that exits 3: the host decides', async (signal) => {
    const { bare, on } = await compare('handler-exit', signal);
    expect(bare).toMatchObject({ code: 3, signal: null });
    expect(bare.stdout).toMatch(new RegExp(`\\nready\\nhost caught ${signal}\\n$`));
    expect(on.reports).toHaveLength(1);
    expect(on.reports![0]).toMatchObject({ trigger: 'exit', counts: HOST_COUNTS });
    expectRun(on.reports![0], 'nonZero');
  });

  it.each(['SIGINT', 'SIGTERM'] as const)('%s with a host handler that keeps running: the host decides', async (signal) => {
    const { bare, on } = await compare('handler-continue', signal);
    expect(bare).toMatchObject({ code: 0, signal: null });
    expect(bare.stdout).toMatch(new RegExp(`\\nready\\nhost caught ${signal}\\ndb:12\\nhost finished\\n$`));
    expect(on.reports).toHaveLength(1);
    // The work done after the signal is in the one report too.
    expect(on.reports![0]).toMatchObject({
      trigger: 'exit',
      counts: { ...HOST_COUNTS, 'Client#query': 4, 'feature.export': 3 },
    });
    expectRun(on.reports![0], 'normal');
  });
});

describe.concurrent('a run that reported before its end is still counted', () => {
  it("a telemetry shut down, then replaced by another of its project: the first one's losses are still reported at exit", async () => {
    const on = await run('replaced.mjs', [], { tallyho: true });
    expect(on.stdout).toBe('first: failed\nsecond: sent\n');
    const shown = on.reports!.map((r) => [r.trigger, r.counts, r.dropped]);
    expect(shown).toEqual([
      ['manual', { 'feature.export': 5 }, {}],
      ['manual', { 'feature.import': 2 }, {}],
      ['exit', {}, { refused: 5 }],
    ]);
  });

  it('a run that called shutdown(), then counted again: its exit reports the later counts and the run', async () => {
    const { bare, on } = await compare('shutdown-then-count');
    expect(bare).toMatchObject({ code: 0, signal: null });
    expect(on.reports!.map((r) => [r.trigger, r.counts])).toEqual([['manual', HOST_COUNTS], ['exit', { 'feature.export': 1 }]]);
    expectRun(on.reports![1], 'normal');
  });
});

/** Parses the fixture's `before ...` / `after ...` listener lines. */
function listenerCounts(stdout: string, when: 'before' | 'after'): Record<string, number> {
  const line = stdout.split('\n').find((l) => l.startsWith(`${when} `));
  expect(line, `no "${when}" line in ${JSON.stringify(stdout)}`).toBeDefined();
  return Object.fromEntries(line!.slice(when.length + 1).split(' ').map((pair) => {
    const [event, n] = pair.split('=');
    return [event, Number(n)];
  }));
}

describe.concurrent('nothing to say, nothing written', () => {
  it('a telemetry that is off (DO_NOT_TRACK=1) adds no listeners and writes no report', async () => {
    const [off, on] = await Promise.all([
      run('listeners.mjs', ['busy', 'exit'], { env: { DO_NOT_TRACK: '1' } }),
      run('listeners.mjs', ['busy', 'exit']),
    ]);
    expect(off.code).toBe(0);
    expect(off.stdout).toContain('enabled=false rule=do-not-track');
    expect(listenerCounts(off.stdout, 'after')).toEqual(listenerCounts(off.stdout, 'before'));
    expect(off.reports).toBeUndefined();
    expect(off.stderr).toBe('');
    expect(existsSync(off.home)).toBe(false);

    // The same fixture with the telemetry on does hook the process and report: the comparison above can fail.
    expect(on.code).toBe(0);
    expect(on.stdout).toContain('enabled=true rule=opted-in');
    const before = listenerCounts(on.stdout, 'before');
    const after = listenerCounts(on.stdout, 'after');
    expect(after.SIGINT).toBeGreaterThan(before.SIGINT!);
    expect(after.SIGTERM).toBeGreaterThan(before.SIGTERM!);
    expect(on.reports).toHaveLength(1);
    expect(on.reports![0]).toMatchObject({ trigger: 'exit', counts: { 'Client#query': 1, 'new Client': 1, 'feature.export': 1 } });
  });

  it('a process that counted nothing writes no report', async () => {
    const [exited, signalled, busy] = await Promise.all([
      run('listeners.mjs', ['idle', 'exit']),
      run('listeners.mjs', ['idle', 'wait'], { signal: 'SIGTERM' }),
      run('listeners.mjs', ['busy', 'wait'], { signal: 'SIGTERM' }),
    ]);
    expect(exited).toMatchObject({ code: 0, signal: null, reports: undefined });
    expect(exited.stdout).toContain('enabled=true');
    expect(signalled).toMatchObject({ code: null, signal: 'SIGTERM', reports: undefined });
    expect(signalled.stdout).toContain('enabled=true');
    // The same run with something counted does report: the assertions above can fail.
    expect(busy).toMatchObject({ code: null, signal: 'SIGTERM' });
    expect(busy.reports).toHaveLength(1);
    expect(busy.reports![0]).toMatchObject({ trigger: 'signal' });
  });
});
