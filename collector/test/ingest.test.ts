import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, makeReport, post, runClient, tempDir, testCollector } from './helpers.js';

describe('ingest from real tallyho clients', () => {
  let c: Awaited<ReturnType<typeof testCollector>>;
  beforeAll(async () => {
    c = await testCollector({ minInstalls: 5 });
  });
  afterAll(() => c.stop());

  it('takes HTTP and OTLP reports from separate installs and shows their sums once 5 installs contributed', async () => {
    const runs = await Promise.all([
      ...Array.from({ length: 5 }, (_, i) => runClient(`${c.url}/v1/reports`, { counts: { 'feature.export': i + 1 }, queries: 4, failures: 1 })),
      runClient(`${c.url}/v1/metrics`, { transport: 'otlp', counts: { 'feature.export': 10 }, queries: 2 }),
    ]);
    for (const run of runs) {
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout).flush, run.stdout).toBe('sent');
    }
    const summary = (await get(`${c.url}/api/projects/acme-sdk/summary?weeks=2`)).json();
    const week = summary.weeks.length - 1;
    expect(summary.installs[week]).toBe(6);
    const byName = Object.fromEntries(summary.features.map((f: any) => [f.name, f]));
    expect(byName['feature.export'].calls[week]).toBe(1 + 2 + 3 + 4 + 5 + 10);
    expect(byName['Client#query'].calls[week]).toBe(5 * 4 + 2);
    expect(byName['Client#query'].errors[week]).toBe(5);
    expect(byName['new Client'].calls[week]).toBe(6);
    expect(summary.versions).toEqual([{ key: '1.4.0', weeks: [0, 6].slice(2 - summary.weeks.length) }]);
    expect(summary.runtimes[0].key).toBe(`node ${process.versions.node.split('.')[0]}`);
    expect(summary.runtimes[0].weeks[week]).toBe(6);
    expect(summary.platforms[0].key).toBe(`${process.platform} ${process.arch}`);
    expect(summary.platforms[0].weeks[week]).toBe(6);
    expect(c.store.rawCount()).toBe(6);
  });

  it('acknowledges a report id seen before without storing or counting it again', async () => {
    const report = makeReport({ project: 'dedupe' });
    const first = await post(`${c.url}/v1/reports`, report, { headers: { 'idempotency-key': report.id } });
    const again = await post(`${c.url}/v1/reports`, report, { headers: { 'idempotency-key': report.id }, gzip: true });
    expect([first.status, first.json().status]).toEqual([200, 'stored']);
    expect([again.status, again.json().status]).toEqual([200, 'duplicate']);
    const rows = c.store.weekly('dedupe', 0, 999999).filter((r) => r.version === '' && r.dim === 'reports');
    expect(rows.map((r) => [r.value, r.installs])).toEqual([[1, 1]]);
  });

  it('takes gzip bodies and refuses an idempotency-key that is not the report id', async () => {
    const report = makeReport({ project: 'gzip' });
    expect((await post(`${c.url}/v1/reports`, report, { gzip: true })).status).toBe(200);
    const wrong = await post(`${c.url}/v1/reports`, makeReport({ project: 'gzip' }), { headers: { 'idempotency-key': report.id } });
    expect(wrong.status).toBe(400);
    expect(wrong.json().error).toMatch(/idempotency-key/);
  });

  it('answers 400 naming the first problem of an invalid report, and counts it', async () => {
    const answer = await post(`${c.url}/v1/reports`, makeReport({ counts: { 'Client#query': -1 } }));
    expect(answer.status).toBe(400);
    expect(answer.json().error).toMatch(/^not a valid tallyho report: counts\.Client#query: /);
    const rejected = (await get(`${c.url}/api/rejected?weeks=1`)).json().rejected;
    expect(rejected).toContainEqual(expect.objectContaining({ reason: 'invalid:counts', count: 1 }));
  });

  it('refuses more names than the limit', async () => {
    const counts = Object.fromEntries(Array.from({ length: 5001 }, (_, i) => [`n${i}`, 1]));
    const answer = await post(`${c.url}/v1/reports`, makeReport({ counts }), { gzip: true });
    expect(answer.status).toBe(400);
    expect(answer.json().error).toBe('counts has 5001 names; this collector takes at most 5000 per report');
  });

  it('refuses a body over 1 MiB with 413, whether sent plain or as a small gzip that inflates past it', async () => {
    const big = makeReport({ counts: { x: 1 }, padding: 'x'.repeat(1024 * 1024) });
    expect((await post(`${c.url}/v1/reports`, big)).status).toBe(413);
    const bomb = await post(`${c.url}/v1/reports`, big, { gzip: true });
    expect(bomb.status).toBe(413);
    expect(bomb.json().error).toMatch(/larger than 1048576 bytes/);
  });

  it('exports the aggregates as CSV', async () => {
    const answer = await get(`${c.url}/api/projects/acme-sdk/export.csv?weeks=1`);
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^text\/csv/);
    const lines = answer.body.trim().split('\r\n');
    expect(lines[0]).toBe('week,version,dimension,key,value,installs,note');
    expect(lines).toContainEqual(expect.stringMatching(/^\d{4}-W\d\d,,calls,feature\.export,25,6,$/));
    expect(lines).toContainEqual(expect.stringMatching(/^\d{4}-W\d\d,1\.4\.0,reports,,6,6,$/));
  });
});

describe('program runs', () => {
  it('counts the runs whose end a report carries at level usage, and a basic report\'s runs', async () => {
    const c = await testCollector({ minInstalls: 1 });
    try {
      // A service in timer mode: a report at every tick, each saying `runs: 1`; only the last, made at
      // exit, carries the end of the one run.
      const weekId = randomBytes(32).toString('hex');
      const tick = (trigger: string, more: Record<string, unknown> = {}) => makeReport({ project: 'svc', weekId, trigger, runs: 1, ...more });
      const exits = { normal: 1, nonZero: 0, signal: 0, duration: { '4194.304': 1 } };
      for (const report of [tick('timer'), tick('timer'), tick('exit', { exits })]) expect((await post(`${c.url}/v1/reports`, report)).status).toBe(200);
      const svc = (await get(`${c.url}/api/projects/svc/summary?weeks=1`)).json();
      expect({ reports: svc.reports, runs: svc.runs, exits: svc.exits }).toEqual({ reports: [3], runs: [1], exits: [{ key: 'normal', weeks: [1] }] });
      expect(svc.exitDurations).toEqual([{ key: '4194.304', weeks: [1] }]);

      // A basic report carries no exits and no weekly id: its `runs` (3 reports of processes, merged) is all there is.
      const basic = makeReport({ project: 'cli', level: 'basic', runs: 3, weekId: undefined, errors: undefined, ci: undefined });
      expect((await post(`${c.url}/v1/reports`, basic)).status).toBe(200);
      const rows = c.store.weekly('cli', 0, 999999).filter((r) => r.dim === 'program-runs');
      expect(rows.map((r) => [r.version, r.value, r.installs])).toEqual(expect.arrayContaining([['', 3, 0], ['1.4.0', 3, 0]]));
      expect(rows).toHaveLength(2);
      // Beside usage reports of the same project, it adds its runs to theirs.
      expect((await post(`${c.url}/v1/reports`, { ...basic, id: makeReport().id, project: 'svc' })).status).toBe(200);
      const both = (await get(`${c.url}/api/projects/svc/summary?weeks=1`)).json();
      expect([both.reports, both.runs]).toEqual([[4], [4]]);
    } finally {
      await c.stop();
    }
  });

  it('real clients: a run that sent everything before its end is counted once, by the next run\'s report, over HTTP and OTLP', async () => {
    const c = await testCollector({ minInstalls: 1 });
    const homes = [tempDir('tallyho-client-'), tempDir('tallyho-client-')];
    try {
      // Two runs of one install each: each run flushes its counts, so its end is left on disk for the
      // next run's report to carry. Four reports; one run ended and was reported per install.
      await Promise.all(
        (['http', 'otlp'] as const).map(async (transport, i) => {
          const url = `${c.url}/v1/${transport === 'http' ? 'reports' : 'metrics'}`;
          for (let run = 0; run < 2; run++) {
            const result = await runClient(url, { project: 'twice', transport, counts: { a: 1 }, home: homes[i]!.dir });
            expect(result.code, result.stderr).toBe(0);
            expect(JSON.parse(result.stdout).flush, result.stdout).toBe('sent');
          }
        }),
      );
      const summary = (await get(`${c.url}/api/projects/twice/summary?weeks=1`)).json();
      expect({ installs: summary.installs, reports: summary.reports, runs: summary.runs, exits: summary.exits }).toEqual({
        installs: [2],
        reports: [4],
        runs: [2],
        exits: [{ key: 'normal', weeks: [2] }],
      });
      expect(summary.exitDurations.reduce((n: number, b: any) => n + b.weeks[0], 0)).toBe(2);
    } finally {
      await c.stop();
      for (const home of homes) home.remove();
    }
  });
});

describe('limits and tokens', () => {
  it('answers 429 with Retry-After past the per-address rate', async () => {
    const c = await testCollector({ rateLimit: 3 });
    try {
      const statuses: number[] = [];
      let last;
      for (let i = 0; i < 4; i++) {
        last = await post(`${c.url}/v1/reports`, makeReport());
        statuses.push(last.status);
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
      expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0);
      expect(last!.json().error).toMatch(/more than 3 requests a minute/);
      // Reading is not rate limited.
      expect((await get(`${c.url}/api/projects`)).status).toBe(200);
    } finally {
      await c.stop();
    }
  });

  it('answers 410 Gone to a retired project, and the client stops sending', async () => {
    const c = await testCollector({ retire: ['old-sdk'] });
    try {
      const answer = await post(`${c.url}/v1/reports`, makeReport({ project: 'old-sdk' }));
      expect(answer.status).toBe(410);
      const otlp = await runClient(`${c.url}/v1/metrics`, { project: 'old-sdk', transport: 'otlp', counts: { a: 1 } });
      expect(otlp.code).toBe(0);
      const run = await runClient(`${c.url}/v1/reports`, { project: 'old-sdk', counts: { a: 1 } });
      expect(run.code).toBe(0);
      expect(c.store.rawCount()).toBe(0);
    } finally {
      await c.stop();
    }
  });

  it('takes a project with an ingest token only with that token, and reading only with the read token', async () => {
    const c = await testCollector({ ingestTokens: { 'acme-sdk': 's3cret' }, readToken: 'r3ad', minInstalls: 1 });
    try {
      expect((await post(`${c.url}/v1/reports`, makeReport())).status).toBe(401);
      expect((await post(`${c.url}/v1/reports`, makeReport(), { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
      const run = await runClient(`${c.url}/v1/reports`, { counts: { a: 2 }, headers: { authorization: 'Bearer s3cret' } });
      expect(run.code, run.stderr).toBe(0);
      expect((await post(`${c.url}/v1/reports`, makeReport({ project: 'other' }))).status).toBe(200);
      expect((await get(`${c.url}/api/projects`)).status).toBe(401);
      expect((await get(`${c.url}/`)).status).toBe(401);
      const read = await get(`${c.url}/api/projects`, { authorization: 'Bearer r3ad' });
      expect(read.json().projects.map((p: any) => p.project)).toEqual(['acme-sdk', 'other']);
      expect((await get(`${c.url}/api/projects?token=r3ad`)).status).toBe(200);
    } finally {
      await c.stop();
    }
  });

  it('answers OTLP metrics it does not know as a partial success; takes tallyho\'s run outcomes and run durations on its bounds', async () => {
    const c = await testCollector({ minInstalls: 1 });
    try {
      const now = `${BigInt(Date.now()) * 1_000_000n}`;
      const point = (attrs: object, asInt: string | number) => ({ attributes: [attrs], startTimeUnixNano: now, timeUnixNano: now, asInt });
      const outcome = (name: string) => ({ key: 'tallyho.run.outcome', value: { stringValue: name } });
      // tallyho's duration bounds (2^k µs in ms); a point on other bounds is not tallyho's.
      const bounds = Array.from({ length: 42 }, (_, k) => 2 ** k / 1000);
      const histogramPoint = (explicitBounds: number[], bucket: number) => ({
        attributes: [],
        startTimeUnixNano: now,
        timeUnixNano: now,
        count: '2',
        bucketCounts: explicitBounds.map((_, i) => (i === bucket ? '2' : '0')).concat(['0']),
        explicitBounds,
      });
      const body = {
        resourceMetrics: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }, { key: 'service.version', value: { stringValue: '2.0.0' } }] },
            scopeMetrics: [
              {
                metrics: [
                  { name: 'tallyho.calls', sum: { aggregationTemporality: 1, isMonotonic: true, dataPoints: [point({ key: 'code.function.name', value: { stringValue: 'run' } }, '7')] } },
                  { name: 'http.requests', sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [point({ key: 'route', value: { stringValue: '/' } }, 1)] } },
                  {
                    name: 'tallyho.runs',
                    sum: { aggregationTemporality: 1, isMonotonic: true, dataPoints: [point(outcome('nonZero'), '2'), point(outcome('crashed'), '1')] },
                  },
                  { name: 'tallyho.run.duration', histogram: { aggregationTemporality: 1, dataPoints: [histogramPoint(bounds, 5), histogramPoint([1, 10, 100], 1)] } },
                ],
              },
            ],
          },
        ],
      };
      const answer = await post(`${c.url}/v1/metrics`, gzipSync(JSON.stringify(body)), { headers: { 'content-encoding': 'gzip' } });
      expect(answer.status).toBe(200);
      // http.requests, the outcome tallyho does not know, and the histogram on other bounds.
      expect(answer.json().partialSuccess.rejectedDataPoints).toBe(3);
      // The same request again (a retry) is acknowledged, not counted twice.
      expect((await post(`${c.url}/v1/metrics`, body)).status).toBe(200);
      const calls = c.store.weekly('svc', 0, 999999).filter((r) => r.dim === 'calls' && r.version === '');
      expect(calls.map((r) => [r.key, r.value])).toEqual([['run', 7]]);
      const runs = c.store.weekly('svc', 0, 999999).filter((r) => r.dim.startsWith('exit') || r.dim === 'program-runs').filter((r) => r.version === '');
      expect(runs.map((r) => [r.dim, r.key, r.value])).toEqual(
        expect.arrayContaining([
          ['exit', 'nonZero', 2],
          ['exit-duration', '0.032', 2],
          ['program-runs', '', 2],
        ]),
      );
      expect(runs).toHaveLength(3);
      const protobuf = await post(`${c.url}/v1/metrics`, Buffer.from([1, 2, 3]), { headers: { 'content-type': 'application/x-protobuf' } });
      expect(protobuf.status).toBe(415);
    } finally {
      await c.stop();
    }
  });
});
