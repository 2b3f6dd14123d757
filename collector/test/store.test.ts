import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { observe } from '../src/ingest/observation.js';
import { validateReport } from '../src/ingest/validate.js';
import { isoWeek, parseWeekLabel, weekLabel, weekStart, weeksEndingWith } from '../src/iso-week.js';
import { openStore, type Store } from '../src/store/store.js';
import { makeReport, tempDir } from './helpers.js';

const DAY = 86_400_000;
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanups.splice(0)) f();
});

function store(now: () => number, retentionDays?: number): { store: Store; path: string } {
  const { dir, remove } = tempDir();
  const path = join(dir, 'usage.db');
  const s = openStore({ path, now, ...(retentionDays === undefined ? {} : { retentionDays }) });
  cleanups.push(() => {
    s.close();
    remove();
  });
  return { store: s, path };
}

function item(overrides: Record<string, unknown>) {
  const checked = validateReport(makeReport(overrides));
  if (!('report' in checked)) throw new Error(checked.problem);
  return { id: checked.report.id, source: 'http' as const, body: JSON.stringify(checked.report), observation: observe(checked.report) };
}

it('ISO weeks: year boundaries, labels and ranges', () => {
  expect(weekLabel(isoWeek(Date.UTC(2026, 11, 1)))).toBe('2026-W49');
  expect(weekLabel(isoWeek(Date.UTC(2021, 0, 3)))).toBe('2020-W53'); // a Sunday still in 2020's last week
  expect(weekLabel(isoWeek(Date.UTC(2024, 11, 30)))).toBe('2025-W01'); // a Monday already in 2025's first week
  expect(new Date(weekStart(202601)).toISOString()).toBe('2025-12-29T00:00:00.000Z');
  expect(weeksEndingWith(202602, 3).map(weekLabel)).toEqual(['2025-W52', '2026-W01', '2026-W02']);
  expect(parseWeekLabel('2020-W53')).toBe(202053);
  expect(parseWeekLabel('2021-W53')).toBeUndefined();
});

it('aggregates incrementally: each report adds to its week, installs counted once per cell', async () => {
  const { store: s } = store(() => Date.now());
  const weekId = 'a'.repeat(64);
  const end = new Date().toISOString();
  const period = { start: end, end };
  await Promise.all([
    s.ingest(item({ weekId, period, counts: { f: 2, g: 1 }, errors: { f: 1 } })),
    s.ingest(item({ weekId, period, counts: { f: 3 } })),
    s.ingest(item({ weekId: 'b'.repeat(64), period, counts: { f: 1 }, version: '2.0.0' })),
  ]);
  await s.ingest(item({ weekId, period, counts: { f: 5 }, runs: 4, exits: { normal: 1, nonZero: 1, signal: 0, duration: { '1.024': 2 } } }));
  const rows = s.weekly('acme-sdk', 0, 999999);
  const cell = (version: string, dim: string, key: string) => rows.find((r) => r.version === version && r.dim === dim && r.key === key);
  expect(cell('', 'calls', 'f')).toMatchObject({ value: 11, installs: 2 });
  expect(cell('', 'calls', 'g')).toMatchObject({ value: 1, installs: 1 });
  expect(cell('', 'errors', 'f')).toMatchObject({ value: 1, installs: 1 });
  expect(cell('1.4.0', 'calls', 'f')).toMatchObject({ value: 10, installs: 1 });
  expect(cell('2.0.0', 'reports', '')).toMatchObject({ value: 1, installs: 1 });
  expect(cell('', 'reports', '')).toMatchObject({ value: 4, installs: 2 });
  expect(cell('', 'runtime', 'node 20')).toMatchObject({ value: 4, installs: 2 });
  expect(cell('', 'platform', 'linux x64')).toMatchObject({ installs: 2 });
  expect(cell('', 'level', 'usage')).toMatchObject({ value: 4 });
  // Program runs are the runs whose end a report carries: the last report's 2, not its `runs` (4
  // reports merged), and nothing from the three without `exits`.
  expect(cell('', 'program-runs', '')).toMatchObject({ value: 2, installs: 1 });
  expect(cell('2.0.0', 'program-runs', '')).toBeUndefined();
});

it('program runs: exits at usage and above (none without), runs at basic (absent: 1)', () => {
  const exits = { normal: 3, nonZero: 2, signal: 1, duration: {} };
  const cases: [Record<string, unknown>, number][] = [
    [{ level: 'usage', runs: 1 }, 0],
    [{ level: 'usage', runs: 5, exits }, 6],
    [{ level: 'full', exits: { ...exits, normal: 0, nonZero: 0, signal: 0 } }, 0],
    [{ level: 'full', runs: 2, exits }, 6],
    [{ level: 'basic', runs: 3 }, 3],
    [{ level: 'basic' }, 1],
  ];
  for (const [fields, runs] of cases) {
    const cells = item(fields).observation.cells.filter((c) => c.dim === 'program-runs');
    expect(cells, JSON.stringify(fields)).toEqual(runs === 0 ? [] : [{ dim: 'program-runs', key: '', value: runs }]);
  }
});

it('reopens a store with what it had, and refuses a store of a newer format', async () => {
  const { dir, remove } = tempDir();
  cleanups.push(remove);
  const path = join(dir, 'usage.db');
  const s = openStore({ path });
  await s.ingest(item({}));
  s.close();
  const again = openStore({ path });
  expect(again.rawCount()).toBe(1);
  const Database = (await import('better-sqlite3')).default;
  again.close();
  const db = new Database(path);
  db.prepare("UPDATE meta SET value = '99' WHERE key = 'format'").run();
  db.close();
  expect(() => openStore({ path })).toThrow(/newer tallyho-collector \(store format 99/);
});

it('deletes raw reports past the retention and keeps the aggregates; ids are remembered 35 days at least', async () => {
  let now = Date.UTC(2026, 0, 5);
  const { store: s } = store(() => now, 7);
  const report = item({ period: { start: new Date(now).toISOString(), end: new Date(now).toISOString() } });
  expect(await s.ingest(report)).toBe('stored');
  now += 6 * DAY;
  expect(s.applyRetention()).toBe(0);
  now += 2 * DAY;
  expect(s.applyRetention()).toBe(1);
  expect(s.rawCount()).toBe(0);
  expect(s.weekly('acme-sdk', 0, 999999).find((r) => r.dim === 'reports' && r.version === '')?.value).toBe(1);
  // A client retrying within 30 days is still recognised.
  now += 20 * DAY;
  s.applyRetention();
  expect(await s.ingest(report)).toBe('duplicate');
  now += 30 * DAY;
  s.applyRetention();
  expect(await s.ingest(report)).toBe('stored');
});

it('aggregates the usage-level signals where reports carry them: durations, numbers, choices, dependencies, exits', async () => {
  const { summarize, summaryWeeks } = await import('../src/read/summary.js');
  const now = Date.now();
  const { store: s } = store(() => now);
  const signals = (weekId: string, format: string, react: string | null) => ({
    weekId,
    durations: { 'Parser#parse': { '0.001': 2, '1.024': 1, '+Inf': 1 } },
    numbers: { 'project.files': { '0': 1, '63': 2 } },
    choices: { 'input.format': { [format]: 3, other: 1 } },
    dependencies: { react },
    exits: { normal: 2, nonZero: 1, signal: 0, duration: { '1.024': 3 } },
  });
  const first = item(signals('a'.repeat(64), 'hic', '18.3.1'));
  await s.ingest(first);
  await s.ingest(item(signals('b'.repeat(64), 'cool', null)));
  const summary = summarize(s, 'acme-sdk', summaryWeeks(now, 1), 1);
  expect(summary.durations).toEqual([{ name: 'Parser#parse', keys: [{ key: '0.001', weeks: [4] }, { key: '1.024', weeks: [2] }, { key: '+Inf', weeks: [2] }] }]);
  expect(summary.numbers).toEqual([{ name: 'project.files', keys: [{ key: '0', weeks: [2] }, { key: '63', weeks: [4] }] }]);
  expect(summary.choices).toEqual([{ name: 'input.format', keys: [{ key: 'cool', weeks: [3] }, { key: 'hic', weeks: [3] }, { key: 'other', weeks: [2] }] }]);
  expect(summary.dependencies).toEqual([{ name: 'react', keys: [{ key: '18.3.1', weeks: [1] }, { key: 'not installed', weeks: [1] }] }]);
  expect(summary.exits).toEqual([{ key: 'normal', weeks: [4] }, { key: 'nonZero', weeks: [2] }]);
  expect(summary.exitDurations).toEqual([{ key: '1.024', weeks: [6] }]);
  // With two installs below the minimum, every one of those cells is suppressed.
  const strict = summarize(s, 'acme-sdk', summaryWeeks(now, 1), 3);
  expect([strict.durations, strict.choices, strict.dependencies, strict.exits]).toEqual([[], [], [], []]);
});
