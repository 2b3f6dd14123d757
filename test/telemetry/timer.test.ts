import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Report } from '../../src/report/report.js';
import { createTelemetry, type Telemetry } from '../../src/telemetry.js';
import type { SendOutcome, Transport } from '../../src/transports/transport.js';
import { stubTallyhoEnv } from './support.js';

/** A transport whose every send waits until the test answers it, and that notes how many run at once. */
function heldTransport() {
  const reports: Report[] = [];
  const waiting: ((outcome: SendOutcome) => void)[] = [];
  let running = 0;
  let most = 0;
  const transport: Transport = {
    name: 'held',
    send(report) {
      reports.push(report);
      running++;
      most = Math.max(most, running);
      return new Promise((resolve) =>
        waiting.push((outcome) => {
          running--;
          resolve(outcome);
        }),
      );
    },
  };
  return {
    transport,
    reports,
    most: () => most,
    answerAll(outcome: SendOutcome = { kind: 'success' }) {
      for (const answer of waiting.splice(0)) answer(outcome);
    },
    waiting: () => waiting.length,
  };
}

/** A transport that takes every report at once. */
function memory(): Transport & { reports: Report[] } {
  const reports: Report[] = [];
  return { name: 'memory', reports, send: (report) => (reports.push(report), Promise.resolve({ kind: 'success' })) };
}

let home: string;
const made: Telemetry[] = [];
let project = 0;

function telemetry(options: Partial<Parameters<typeof createTelemetry>[0]> = {}): Telemetry {
  const t = createTelemetry({ project: `timer-${++project}`, version: '1.0.0', ...options });
  made.push(t);
  return t;
}

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'tallyho-timer-'));
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout', 'Date'] });
});

afterEach(async () => {
  vi.useRealTimers();
  for (const t of made.splice(0)) await t.shutdown({ timeoutMs: 100 });
  vi.unstubAllEnvs();
  rmSync(home, { recursive: true, force: true });
});

function optIn(extra: Parameters<typeof stubTallyhoEnv>[0] = {}): void {
  stubTallyhoEnv({ TALLYHO_OPTIN: `timer-${project + 1}`, TALLYHO_HOME: home, ...extra });
}

describe('timer mode', () => {
  it("flushes every interval from the author's option, with trigger 'timer'", async () => {
    optIn();
    const sink = memory();
    const t = telemetry({ transports: [sink], timer: { intervalSec: 60 }, batch: { intervalSec: 0 } });
    expect(t.status().timer).toBe(60);
    t.count('feature.a', 2);
    await vi.advanceTimersByTimeAsync(59_000);
    expect(sink.reports).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(sink.reports).toHaveLength(1);
    expect(sink.reports[0]).toMatchObject({ trigger: 'timer', counts: { 'feature.a': 2 } });
    t.count('feature.a', 3);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sink.reports.map((r) => r.counts['feature.a'])).toEqual([2, 3]);
  });

  it('sends the batch in process at the tick when it is due: one report, merged, per batch interval', async () => {
    optIn();
    const sink = memory();
    const t = telemetry({ transports: [sink], timer: { intervalSec: 600 } });
    expect(t.status().batch).toBe(3600);
    for (let tick = 1; tick <= 6; tick++) {
      t.count('feature.a', tick);
      await vi.advanceTimersByTimeAsync(600_000);
    }
    // Six ticks, an hour: the first report has waited 50 minutes; nothing has left yet.
    expect(sink.reports).toHaveLength(0);
    t.count('feature.a', 7);
    await vi.advanceTimersByTimeAsync(600_000);
    expect(sink.reports).toHaveLength(1);
    expect(sink.reports[0]).toMatchObject({ trigger: 'timer', runs: 7, counts: { 'feature.a': 28 } });
    t.count('feature.a', 1);
    await vi.advanceTimersByTimeAsync(600_000);
    expect(sink.reports).toHaveLength(1);
  });

  it('TALLYHO_BATCH_INTERVAL_SEC wins over the option, held to 0..604800', () => {
    optIn({ TALLYHO_BATCH_INTERVAL_SEC: '0' });
    expect(telemetry({ batch: { intervalSec: 600 } }).status().batch).toBe(0);
    optIn({ TALLYHO_BATCH_INTERVAL_SEC: '999999' });
    expect(telemetry().status().batch).toBe(604_800);
    optIn({ TALLYHO_BATCH_INTERVAL_SEC: 'hourly' });
    expect(telemetry({ batch: { intervalSec: 60 } }).status().batch).toBe(60);
    optIn();
    expect(() => telemetry({ batch: { intervalSec: -1 } })).toThrow(/batch/);
    expect(() => telemetry({ batch: { intervalSec: 604_801 } })).toThrow(/batch/);
  });

  it('sends nothing on a tick with nothing counted', async () => {
    optIn();
    const sink = memory();
    telemetry({ transports: [sink], timer: { intervalSec: 10 } });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sink.reports).toHaveLength(0);
  });

  it("TALLYHO_TIMER=0 turns the author's timer off; TALLYHO_TIMER=1 turns it on at one hour", async () => {
    optIn({ TALLYHO_TIMER: '0' });
    const off = memory();
    const t1 = telemetry({ transports: [off], timer: { intervalSec: 10 } });
    expect(t1.status().timer).toBe(false);
    t1.count('x');
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(off.reports).toHaveLength(0);

    optIn({ TALLYHO_TIMER: '1' });
    const on = memory();
    const t2 = telemetry({ transports: [on], batch: { intervalSec: 0 } });
    expect(t2.status().timer).toBe(3600);
    t2.count('x');
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(on.reports).toHaveLength(1);
  });

  it('TALLYHO_TIMER_INTERVAL_SEC wins over the option and is held to its bounds', async () => {
    optIn({ TALLYHO_TIMER_INTERVAL_SEC: '30' });
    expect(telemetry({ timer: { intervalSec: 600 } }).status().timer).toBe(30);
    optIn({ TALLYHO_TIMER: '1', TALLYHO_TIMER_INTERVAL_SEC: '2' });
    expect(telemetry().status().timer).toBe(10);
    optIn({ TALLYHO_TIMER: '1', TALLYHO_TIMER_INTERVAL_SEC: 'soon' });
    expect(telemetry().status().timer).toBe(3600);
  });

  it("rejects an author's interval outside 10 s to a week, at the author's desk", () => {
    optIn();
    expect(() => telemetry({ timer: { intervalSec: 1 } })).toThrow(/timer/);
    expect(() => telemetry({ timer: { intervalSec: 8 * 24 * 3600 } })).toThrow(/timer/);
  });

  it('never runs two flushes at once: a tick during a slow send waits for it', async () => {
    optIn();
    const held = heldTransport();
    const t = telemetry({ transports: [held.transport], timer: { intervalSec: 10 }, batch: { intervalSec: 0 } });
    t.count('a');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(held.waiting()).toBe(1);
    t.count('b');
    const manual = t.flush({ timeoutMs: 60_000 });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(held.waiting()).toBe(1);
    held.answerAll();
    await vi.advanceTimersByTimeAsync(0);
    held.answerAll();
    await expect(manual).resolves.toMatchObject({ status: 'sent' });
    await vi.advanceTimersByTimeAsync(0);
    held.answerAll();
    expect(held.most()).toBe(1);
    expect(held.reports.map((r) => Object.keys(r.counts))).toEqual([['a'], ['b']]);
  });
});

describe('flush() and shutdown() resolve, never reject', () => {
  it('a transport that throws gives a failed flush, and the next report counts the loss', async () => {
    optIn();
    const received: Report[] = [];
    let calls = 0;
    const flaky: Transport = {
      name: 'flaky',
      send(report) {
        if (calls++ === 0) throw new Error('boom');
        received.push(report);
        return Promise.resolve({ kind: 'success' });
      },
    };
    const t = telemetry({ transports: [flaky] });
    t.count('a', 4);
    await expect(t.flush()).resolves.toMatchObject({ status: 'failed', calls: 4 });
    t.count('b');
    await expect(t.flush()).resolves.toMatchObject({ status: 'sent' });
    expect(received[0]).toMatchObject({ counts: { b: 1 }, dropped: { refused: 4 } });
  });

  it('shutdown({ timeoutMs }) resolves with timeout when the transport hangs', async () => {
    optIn();
    const held = heldTransport();
    const t = telemetry({ transports: [held.transport] });
    t.count('a');
    const done = t.shutdown({ timeoutMs: 2000 });
    await vi.advanceTimersByTimeAsync(2000);
    await expect(done).resolves.toMatchObject({ status: 'timeout' });
    held.answerAll();
  });

  it('flush({ timeoutMs }) resolves with timeout when the transport hangs; the report waits in the spool, sealed', async () => {
    optIn();
    const held = heldTransport();
    const t = telemetry({ transports: [held.transport] });
    t.count('a');
    const done = t.flush({ timeoutMs: 1500 });
    await vi.advanceTimersByTimeAsync(1499);
    expect(held.waiting()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await expect(done).resolves.toMatchObject({ status: 'timeout' });
    // Its answer never comes in time: the next flush sends the same report again, under its own id.
    held.answerAll({ kind: 'retryable', reason: 'aborted' });
    await vi.advanceTimersByTimeAsync(120_000);
    const next = t.flush({ timeoutMs: 1000 });
    await vi.advanceTimersByTimeAsync(0);
    held.answerAll();
    await expect(next).resolves.toMatchObject({ status: 'empty' });
    expect(held.reports.map((r) => r.id)).toEqual([held.reports[0]!.id, held.reports[0]!.id]);
  });

  it('shutdown() stops the timer', async () => {
    optIn();
    const sink = memory();
    const t = telemetry({ transports: [sink], timer: { intervalSec: 10 } });
    await t.shutdown();
    t.count('after');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sink.reports).toHaveLength(0);
  });
});
