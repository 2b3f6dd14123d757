import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, makeReport, post, runClient, testCollector } from './helpers.js';

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
      const runs = c.store.weekly('svc', 0, 999999).filter((r) => r.dim.startsWith('exit') && r.version === '');
      expect(runs.map((r) => [r.dim, r.key, r.value])).toEqual(
        expect.arrayContaining([
          ['exit', 'nonZero', 2],
          ['exit-duration', '0.032', 2],
        ]),
      );
      expect(runs).toHaveLength(2);
      const protobuf = await post(`${c.url}/v1/metrics`, Buffer.from([1, 2, 3]), { headers: { 'content-type': 'application/x-protobuf' } });
      expect(protobuf.status).toBe(415);
    } finally {
      await c.stop();
    }
  });
});
