import { describe, expect, it } from 'vitest';
import { mergedId } from '../../src/delivery/batch.js';
import { envelopeKey, mergeReports } from '../../src/report/merge-reports.js';
import type { Report } from '../../src/report/report.js';
import { reportZodSchema } from '../../src/report/schema.js';
import { validReport } from '../../src/report/valid-report.js';

function report(overrides: Partial<Report>): Report {
  return {
    schema: 1,
    id: '3f2b8c1e-2a4d-4e5f-9a6b-7c8d9e0f1a2b',
    project: 'acme-sdk',
    version: '1.4.0',
    level: 'usage',
    trigger: 'exit',
    period: { start: '2026-01-05T10:00:00.000Z', end: '2026-01-05T10:10:00.000Z' },
    counts: {},
    dropped: {},
    runs: 1,
    ci: false,
    weekId: 'a'.repeat(64),
    ...overrides,
  };
}

describe('mergeReports', () => {
  const a = report({
    id: '00000000-0000-4000-8000-000000000001',
    period: { start: '2026-01-05T10:00:00.000Z', end: '2026-01-05T10:10:00.000Z' },
    counts: { 'Client#query': 3, 'new Client': 1 },
    errors: { 'Client#query': 1 },
    dropped: { network: 2 },
    durations: { 'Client#query': { '1.024': 2, '2.048': 1 } },
    numbers: { 'project.files': { '7': 1 } },
    choices: { 'input.format': { hic: 1 } },
    exits: { normal: 1, nonZero: 0, signal: 0, duration: { '1048.576': 1 } },
  });
  const b = report({
    id: '00000000-0000-4000-8000-000000000002',
    trigger: 'signal',
    period: { start: '2026-01-05T10:20:00.000Z', end: '2026-01-05T10:30:00.000Z' },
    counts: { 'Client#query': 4 },
    dropped: { network: 1, refused: 5 },
    runs: 2,
    durations: { 'Client#query': { '2.048': 3 } },
    choices: { 'input.format': { hic: 2, other: 1 } },
    exits: { normal: 1, nonZero: 0, signal: 1, duration: { '1048.576': 1, '2097.152': 1 } },
  });

  it('sums every counted field, spans the period, adds up runs and keeps the latest trigger', () => {
    const id = mergedId([a.id, b.id]);
    const merged = mergeReports([b, a], id);
    expect(merged).toEqual({
      ...b,
      id,
      trigger: 'signal',
      period: { start: a.period.start, end: b.period.end },
      counts: { 'Client#query': 7, 'new Client': 1 },
      errors: { 'Client#query': 1 },
      dropped: { network: 3, refused: 5 },
      durations: { 'Client#query': { '1.024': 2, '2.048': 4 } },
      numbers: { 'project.files': { '7': 1 } },
      choices: { 'input.format': { hic: 3, other: 1 } },
      exits: { normal: 2, nonZero: 0, signal: 1, duration: { '1048.576': 2, '2097.152': 1 } },
      runs: 3,
    });
    const check = reportZodSchema().safeParse(merged);
    expect(check.success, JSON.stringify(check.error?.issues)).toBe(true);
    expect(validReport(merged)).toBeDefined();
  });

  it('derives the id from the merged ids, whatever their order, as a valid UUID', () => {
    expect(mergedId([a.id, b.id])).toBe(mergedId([b.id, a.id]));
    expect(mergedId([a.id, b.id])).not.toBe(mergedId([a.id]));
    expect(mergedId([a.id, b.id])).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('keeps a sum past 2^53 - 1 exact by counting the excess as dropped (overflow)', () => {
    const big = report({ counts: { x: Number.MAX_SAFE_INTEGER - 1 } });
    const merged = mergeReports([big, report({ counts: { x: 5 } })], mergedId(['1', '2']));
    expect(merged.counts.x).toBe(Number.MAX_SAFE_INTEGER);
    expect(merged.dropped.overflow).toBe(4);
  });
});

describe('envelopeKey: what may be merged', () => {
  it.each([
    ['weekly id', { weekId: 'b'.repeat(64) }],
    ['level', { level: 'basic' as const }],
    ['version', { version: '1.5.0' }],
    ['runtime', { runtime: { name: 'node', version: '22.0.0' } }],
    ['CI', { ci: true }],
    ['dependencies', { dependencies: { react: '19.0.0' } }],
  ])('never across a different %s', (_what, change) => {
    expect(envelopeKey(report(change))).not.toBe(envelopeKey(report({})));
  });

  it('across different counts, periods, triggers and ids', () => {
    expect(envelopeKey(report({ counts: { a: 1 }, trigger: 'timer', id: '00000000-0000-4000-8000-000000000009' }))).toBe(envelopeKey(report({})));
  });
});
