import { describe, expect, it } from 'vitest';
import { createTelemetry } from '../../src/telemetry.js';
import { useTestKit } from './kit.js';

const { kit, fresh, flushOne, project: freshProject } = useTestKit('count');

describe('count()', () => {
  it('counts 1 by default and n when given', async () => {
    const { telemetry, project } = fresh();
    expect(telemetry.status().rule).toBe('test-kit');
    telemetry.count('feature.export');
    telemetry.count('feature.export', 4);
    telemetry.count('feature.import', 2);
    const report = await flushOne(telemetry, project);
    expect(report.counts).toEqual({ 'feature.export': 5, 'feature.import': 2 });
    expect(report.dropped).toEqual({});
  });

  it('accepts any printable name up to 200 characters', async () => {
    const { telemetry, project } = fresh();
    const names = ['a', 'x'.repeat(200), 'café ☕ export', 'Client#query', 'with spaces and / slashes'];
    for (const name of names) telemetry.count(name);
    const report = await flushOne(telemetry, project);
    expect(Object.keys(report.counts).sort()).toEqual([...names].sort());
  });

  it('ignores bad names and bad n, counting them as dropped (invalid), and never throws', async () => {
    const { telemetry, project } = fresh();
    const count = telemetry.count as (name: unknown, n?: unknown) => void;
    const badNames: unknown[] = ['', 'x'.repeat(201), 'line\nbreak', 'tab\there', 'nul\u0000', '\u202e', undefined, null, 42, {}];
    for (const name of badNames) expect(() => count(name)).not.toThrow();
    count('bad\nname', 3); // a bad name loses its n calls
    const badN: unknown[] = [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, '2', null];
    for (const n of badN) expect(() => count('good', n)).not.toThrow();
    telemetry.count('good');

    const report = await flushOne(telemetry, project);
    expect(report.counts).toEqual({ good: 1 });
    // One call per bad name, three for the bad name counted three times, one per call with a bad n.
    expect(report.dropped).toEqual({ invalid: badNames.length + 3 + badN.length });
  });

  it('sends names past maxNames to dropped.overflow; names already known keep counting', async () => {
    const { telemetry, project } = fresh({ maxNames: 3 });
    telemetry.count('a');
    telemetry.count('b');
    telemetry.count('c');
    telemetry.count('d', 2);
    telemetry.count('e');
    telemetry.count('a', 10);
    const report = await flushOne(telemetry, project);
    expect(report.counts).toEqual({ a: 11, b: 1, c: 1 });
    expect(report.dropped).toEqual({ overflow: 3 });
  });

  it('does not cap names that come from decorated code', async () => {
    const { telemetry, project } = fresh({ maxNames: 1 });
    telemetry.count('manual.one');
    telemetry.count('manual.two');

    @telemetry.track()
    class Client {
      query() {
        return 1;
      }
      insert() {
        return 2;
      }
      static create() {
        return 'created';
      }
    }
    Client.create();
    new Client().query();
    new Client().insert();

    const report = await flushOne(telemetry, project);
    expect(report.counts).toEqual({ 'manual.one': 1, 'new Client': 2, 'Client.create': 1, 'Client#query': 1, 'Client#insert': 1 });
    expect(report.dropped).toEqual({ overflow: 1 });
  });

  it('counts exactly beyond 2^32', async () => {
    const { telemetry, project } = fresh();
    const n = 2 ** 32 + 5;
    telemetry.count('big', n);
    telemetry.count('big', n);
    telemetry.count('big', n);
    const report = await flushOne(telemetry, project);
    expect(report.counts.big).toBe(12_884_901_903);
    expect(report.counts.big).toBe(3 * n);
  });

  it('reports each count once: the next report starts from zero', async () => {
    const { telemetry, project } = fresh();
    telemetry.count('once', 2);
    expect((await flushOne(telemetry, project)).counts).toEqual({ once: 2 });
    telemetry.count('once');
    expect((await flushOne(telemetry, project)).counts).toEqual({ once: 1 });
  });
});

describe('flush()', () => {
  it("says 'empty' and sends nothing when nothing was counted", async () => {
    const { telemetry, project } = fresh();
    const before = kit().reports.length;
    const result = await telemetry.flush();
    expect(result).toMatchObject({ status: 'empty', calls: 0 });
    expect(kit().reports.slice(before).filter((r) => r.project === project)).toEqual([]);
  });
});

describe('two createTelemetry calls for one project', () => {
  it('share one counter table: one report carries both', async () => {
    const project = `shared-${freshProject()}`;
    const first = createTelemetry({ project, version: '1.0.0' });
    const second = createTelemetry({ project, version: '1.0.0' });
    first.count('feature.export');
    second.count('feature.export', 2);
    second.count('feature.import');
    expect(kit().counts(project).counts).toEqual({ 'feature.export': 3, 'feature.import': 1 });

    const report = await flushOne(first, project);
    expect(report.counts).toEqual({ 'feature.export': 3, 'feature.import': 1 });
    expect((await second.flush()).status).toBe('empty');
    expect(kit().reports.filter((r) => r.project === project)).toHaveLength(1);
  });

  it('share the name cap too', async () => {
    const project = `shared-${freshProject()}`;
    const first = createTelemetry({ project, version: '1.0.0', maxNames: 2 });
    const second = createTelemetry({ project, version: '1.0.0', maxNames: 2 });
    first.count('a');
    second.count('b');
    second.count('c');
    first.count('d');
    const report = await flushOne(second, project);
    expect(report.counts).toEqual({ a: 1, b: 1 });
    expect(report.dropped).toEqual({ overflow: 2 });
  });
});
