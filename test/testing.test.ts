import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTelemetry } from '../src/telemetry.js';
import { installTestKit, type TestKit } from '../src/testing.js';
import { stubTallyhoEnv } from './telemetry/support.js';

let kit: TestKit;
beforeEach(() => {
  stubTallyhoEnv({});
  kit = installTestKit();
});
afterEach(() => {
  kit.uninstall();
  vi.unstubAllEnvs();
});

let made = 0;
const fresh = () => {
  const project = `test-kit-${made++}`;
  return { project, telemetry: createTelemetry({ project, version: '1.0.0' }) };
};

describe('installTestKit()', () => {
  it('shows counts and losses as the next report would carry them, without taking them', async () => {
    const { project, telemetry } = fresh();
    telemetry.count('feature.export', 2);
    telemetry.count('bad\nname');
    expect(kit.counts(project)).toEqual({ counts: { 'feature.export': 2 }, errors: {}, dropped: { invalid: 1 } });
    expect(kit.counts(project)).toEqual({ counts: { 'feature.export': 2 }, errors: {}, dropped: { invalid: 1 } });
    await telemetry.flush();
    expect(kit.reports.map((r) => [r.counts, r.dropped])).toEqual([[{ 'feature.export': 2 }, { invalid: 1 }]]);
    expect(kit.counts(project)).toEqual({ counts: {}, errors: {}, dropped: {} });
  });

  it('forgets counts and losses on reset(): the next report carries neither', async () => {
    const { project, telemetry } = fresh();
    telemetry.count('feature.export');
    telemetry.count('bad\nname');
    kit.reset();
    expect(kit.counts(project)).toEqual({ counts: {}, errors: {}, dropped: {} });
    telemetry.count('feature.import');
    await telemetry.flush();
    expect(kit.reports).toHaveLength(1);
    expect(kit.reports[0]!.counts).toEqual({ 'feature.import': 1 });
    expect(kit.reports[0]!.dropped).toEqual({});
  });

  it('shows the losses found in delivery beside those found counting, and forgets them on reset()', async () => {
    const { project, telemetry } = fresh();
    telemetry.count('feature.export', 3);
    // The kit's own transport fails once: a transport that throws is a final refusal.
    const push = kit.reports.push.bind(kit.reports);
    kit.reports.push = () => {
      kit.reports.push = push;
      throw new Error('the receiver is broken');
    };
    expect((await telemetry.flush()).status).toBe('failed');
    expect(kit.counts(project).dropped).toEqual({ refused: 3 });
    telemetry.count('bad\nname');
    expect(kit.counts(project).dropped).toEqual({ refused: 3, invalid: 1 });
    kit.reset();
    expect(kit.counts(project).dropped).toEqual({});
    telemetry.count('feature.import');
    await telemetry.flush();
    expect(kit.reports.map((r) => [r.counts, r.dropped])).toEqual([[{ 'feature.import': 1 }, {}]]);
  });

  it('knows nothing of a project that never counted', () => {
    expect(kit.counts('never-created')).toEqual({ counts: {}, errors: {}, dropped: {} });
  });
});
