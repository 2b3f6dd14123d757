import { type Attributes, ValueType } from '@opentelemetry/api';
import { JsonMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { otlpTransport } from '../../src/otel.js';
import { buildOtlpTransport, otlpTransportFromSpec } from '../../src/transports/otlp.js';
import { retryingTransport } from '../../src/transports/retrying.js';
import type { SendOutcome } from '../../src/transports/transport.js';
import { VERSION } from '../../src/version.js';
import { manyCounts, reply, sampleReport, startReceiver, type Answer, type Receiver } from '../transports/receiver.js';
import { collect, sdkProvider } from './sdk.js';

const open: Receiver[] = [];
async function collector(answer?: Answer): Promise<Receiver & { metricsUrl: string }> {
  const r = await startReceiver(answer);
  open.push(r);
  return { ...r, received: r.received, metricsUrl: `http://127.0.0.1:${r.port}/v1/metrics` };
}

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(open.splice(0).map((r) => r.close()));
});

const live = () => ({ signal: new AbortController().signal });

/** A report at `full` level, with every field an OTLP resource or point is made from. */
const fullReport = sampleReport({
  level: 'full',
  counts: { 'Client#query': 12, 'new Client': 1, 'feature.export': 2 ** 40 },
  errors: { 'Client#query': 2 },
  dropped: { network: 3 },
  runtime: { name: 'node', version: '20.20.0' },
  platform: { os: 'linux', arch: 'x64', release: '6.8.0', cpus: 2, memoryGiB: 8 },
  ci: false,
  weekId: 'a'.repeat(64),
  installId: 'b'.repeat(64),
  userHash: 'c'.repeat(64),
  machineHash: 'd'.repeat(64),
});

type Json = Record<string, any>;

function attributesOf(list: { key: string; value: Json }[]): Record<string, unknown> {
  return Object.fromEntries(list.map(({ key, value }) => [key, value.stringValue ?? value.boolValue ?? value.intValue]));
}

describe('otlpTransport: the request', () => {
  it('POSTs one resource, one scope and delta Sums to the metrics URL as OTLP/JSON', async () => {
    const c = await collector();
    const outcome = await otlpTransport(c.metricsUrl, { headers: { authorization: 'Bearer k1' } }).send(fullReport, live());
    expect(outcome).toEqual({ kind: 'success' });

    const [got] = c.received;
    expect(got.method).toBe('POST');
    expect(got.path).toBe('/v1/metrics');
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers.authorization).toBe('Bearer k1');
    expect(got.headers['user-agent']).toBe(`tallyho/${VERSION}`);
    const body = JSON.parse(got.body) as Json;

    expect(body.resourceMetrics).toHaveLength(1);
    const [rm] = body.resourceMetrics;
    const resource = attributesOf(rm.resource.attributes);
    expect(resource).toEqual({
      'service.name': 'acme-sdk',
      'service.version': '1.4.0',
      'service.instance.id': expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      'telemetry.sdk.name': 'tallyho',
      'telemetry.sdk.language': 'nodejs',
      'telemetry.sdk.version': VERSION,
      'process.runtime.name': 'nodejs',
      'process.runtime.version': '20.20.0',
      'host.arch': 'amd64',
      'os.type': 'linux',
      'os.version': '6.8.0',
      'tallyho.ci': false,
      'tallyho.week_id': 'a'.repeat(64),
      'tallyho.install_id': 'b'.repeat(64),
      'tallyho.user_hash': 'c'.repeat(64),
      'tallyho.machine_hash': 'd'.repeat(64),
    });
    expect(rm.scopeMetrics).toHaveLength(1);
    expect(rm.scopeMetrics[0].scope).toEqual({ name: 'tallyho', version: VERSION });

    const byName = Object.fromEntries(rm.scopeMetrics[0].metrics.map((m: Json) => [m.name, m]));
    expect(Object.keys(byName)).toEqual(['tallyho.calls', 'tallyho.errors', 'tallyho.dropped']);
    const start = '1767607200000000000'; // 2026-01-05T10:00:00Z in nanoseconds
    const end = '1767610800000000000';
    for (const metric of Object.values(byName) as Json[]) {
      expect(metric.unit).toBe('{call}');
      expect(metric.sum.aggregationTemporality).toBe(1);
      expect(metric.sum.isMonotonic).toBe(true);
      for (const point of metric.sum.dataPoints) {
        expect(point.startTimeUnixNano).toBe(start);
        expect(point.timeUnixNano).toBe(end);
        expect(point.asInt).toMatch(/^\d+$/);
      }
    }
    const points = (name: string, key: string) =>
      Object.fromEntries(byName[name].sum.dataPoints.map((p: Json) => [attributesOf(p.attributes)[key], p.asInt]));
    expect(points('tallyho.calls', 'code.function.name')).toEqual({ 'Client#query': '12', 'new Client': '1', 'feature.export': '1099511627776' });
    expect(points('tallyho.errors', 'code.function.name')).toEqual({ 'Client#query': '2' });
    expect(points('tallyho.dropped', 'tallyho.drop.reason')).toEqual({ network: '3' });
  });

  it('carries only the ids the report level carries, and one instance id for the whole process', async () => {
    const c = await collector();
    const transport = otlpTransport(c.metricsUrl);
    await transport.send(sampleReport({ level: 'basic' }), live());
    await transport.send(sampleReport({ level: 'usage', ci: true, weekId: 'e'.repeat(64), errors: {} }), live());
    await otlpTransport(c.metricsUrl).send(sampleReport(), live());

    const resources = c.received.map((r) => attributesOf(JSON.parse(r.body).resourceMetrics[0].resource.attributes));
    expect(Object.keys(resources[0]).filter((k) => k.startsWith('tallyho.'))).toEqual([]);
    expect(resources[1]).toMatchObject({ 'tallyho.ci': true, 'tallyho.week_id': 'e'.repeat(64) });
    expect(resources[1]['tallyho.install_id']).toBeUndefined();
    // No runtime or platform in the report: none in the resource either.
    expect(resources[0]['host.arch']).toBeUndefined();
    expect(new Set(resources.map((r) => r['service.instance.id'])).size).toBe(1);
  });

  it('maps Node platform and architecture names to the semantic conventions', async () => {
    const c = await collector();
    const transport = otlpTransport(c.metricsUrl);
    const cases = [
      ['win32', 'ia32', 'windows', 'x86'],
      ['darwin', 'arm64', 'darwin', 'arm64'],
      ['linux', 'arm', 'linux', 'arm32'],
      ['freebsd', 's390x', 'freebsd', 's390x'],
    ];
    for (const [os, arch] of cases) {
      await transport.send(sampleReport({ platform: { os, arch, release: '1', cpus: 1, memoryGiB: 1 }, runtime: { name: 'bun', version: '1.2.0' } }), live());
    }
    const resources = c.received.map((r) => attributesOf(JSON.parse(r.body).resourceMetrics[0].resource.attributes));
    expect(resources.map((r) => [r['os.type'], r['host.arch']])).toEqual(cases.map(([, , os, arch]) => [os, arch]));
    expect(resources[0]['process.runtime.name']).toBe('bun');
  });

  it('gzips bodies by default, and never with gzip: false', async () => {
    const c = await collector();
    const big = sampleReport({ counts: manyCounts(4000) });
    await otlpTransport(c.metricsUrl).send(big, live());
    await otlpTransport(c.metricsUrl).send(sampleReport({ counts: { a: 1 } }), live());
    await otlpTransport(c.metricsUrl, { gzip: false }).send(big, live());
    expect(c.received.map((r) => r.headers['content-encoding'])).toEqual(['gzip', 'gzip', undefined]);
    expect(c.received[0].rawLength).toBeLessThan(c.received[0].body.length / 4);
    expect(Number(c.received[0].headers['content-length'])).toBe(c.received[0].rawLength);
    expect(JSON.parse(c.received[0].body)).toEqual(JSON.parse(c.received[2].body));
  });

  it('sends nothing for a report that counts nothing', async () => {
    const c = await collector();
    const outcome = await otlpTransport(c.metricsUrl).send(sampleReport({ counts: {}, dropped: {} }), live());
    expect(outcome).toMatchObject({ kind: 'success', note: expect.stringMatching(/nothing to send/) });
    expect(c.received).toHaveLength(0);
  });
});

/** Sorts what OTLP leaves unordered, and puts aside what two encoders may differ in but mean the same by. */
function normalized(request: Json): Json {
  const byKey = (a: { key: string }, b: { key: string }) => a.key.localeCompare(b.key);
  return {
    resourceMetrics: request.resourceMetrics.map((rm: Json) => ({
      ...rm,
      resource: { ...rm.resource, attributes: [...rm.resource.attributes].sort(byKey) },
      scopeMetrics: rm.scopeMetrics.map((sm: Json) => ({
        ...sm,
        metrics: [...sm.metrics]
          .sort((a, b) => a.name.localeCompare(b.name))
          .map((m: Json) => ({
            ...m,
            sum: {
              ...m.sum,
              dataPoints: m.sum.dataPoints
                .map((p: Json) => ({
                  ...p,
                  attributes: [...p.attributes].sort(byKey),
                  // Timestamps are the SDK's collection times there, the report's period here.
                  startTimeUnixNano: 'T0',
                  timeUnixNano: 'T1',
                  // int64 in OTLP/JSON: a number or a decimal string, the same value either way.
                  asInt: String(p.asInt),
                }))
                .sort((a: Json, b: Json) => JSON.stringify(a.attributes).localeCompare(JSON.stringify(b.attributes))),
            },
          })),
      })),
    })),
  };
}

describe('otlpTransport: against the official OpenTelemetry encoder', () => {
  it('sends what the SDK and its JSON serializer send for the same counts, field for field', async () => {
    const c = await collector();
    await otlpTransport(c.metricsUrl).send(fullReport, live());
    const ours = JSON.parse(c.received[0].body) as Json;

    // The same counts through the official path: SDK counters, a delta reader, the OTLP JSON serializer.
    const resource: Attributes = {};
    for (const { key, value } of ours.resourceMetrics[0].resource.attributes) resource[key] = value.stringValue ?? value.boolValue;
    const { provider, reader } = sdkProvider({ temporality: AggregationTemporality.DELTA, resource: resourceFromAttributes(resource) });
    const meter = provider.getMeter('tallyho', VERSION);
    const counter = (name: string, description: string) => meter.createCounter(name, { description, unit: '{call}', valueType: ValueType.INT });
    const descriptions = Object.fromEntries(ours.resourceMetrics[0].scopeMetrics[0].metrics.map((m: Json) => [m.name, m.description]));
    const calls = counter('tallyho.calls', descriptions['tallyho.calls']);
    const errors = counter('tallyho.errors', descriptions['tallyho.errors']);
    const dropped = counter('tallyho.dropped', descriptions['tallyho.dropped']);
    for (const [name, n] of Object.entries(fullReport.counts)) calls.add(n, { 'code.function.name': name });
    for (const [name, n] of Object.entries(fullReport.errors!)) errors.add(n, { 'code.function.name': name });
    for (const [reason, n] of Object.entries(fullReport.dropped)) dropped.add(n!, { 'tallyho.drop.reason': reason });
    const official = JSON.parse(new TextDecoder().decode(JsonMetricsSerializer.serializeRequest(await collect(reader)))) as Json;

    expect(official.resourceMetrics[0].scopeMetrics[0].metrics[0].sum.aggregationTemporality).toBe(1);
    expect(normalized(ours)).toEqual(normalized(official));
    // The descriptions compared above are ours; these pin them down.
    expect(Object.values(descriptions).every((d) => typeof d === 'string' && d.length > 10)).toBe(true);
  });

  it('reads a partial success the way the official deserializer does', () => {
    const body = '{"partialSuccess":{"rejectedDataPoints":"2","errorMessage":"2 points too old"}}';
    expect(JsonMetricsSerializer.deserializeResponse(new TextEncoder().encode(body))).toEqual({
      partialSuccess: { rejectedDataPoints: '2', errorMessage: '2 points too old' },
    });
  });
});

describe('otlpTransport: the collector answers', () => {
  it.each<[string, Answer, SendOutcome]>([
    ['200 with an empty body', reply(200), { kind: 'success' }],
    ['200 with {}', reply(200, { 'content-type': 'application/json' }, '{}'), { kind: 'success' }],
    ['200 with an empty partialSuccess', reply(200, {}, '{"partialSuccess":{}}'), { kind: 'success' }],
    ['200 that is not JSON', reply(200, {}, '<html>ok</html>'), { kind: 'success' }],
    ['202', reply(202), { kind: 'success' }],
    [
      'a partial success, int64 as a string',
      reply(200, {}, '{"partialSuccess":{"rejectedDataPoints":"2","errorMessage":"2 points too old"}}'),
      { kind: 'success', rejected: 2, note: 'the receiver said: 2 points too old' } as SendOutcome,
    ],
    ['a partial success, int64 as a number', reply(200, {}, '{"partialSuccess":{"rejectedDataPoints":1}}'), { kind: 'success', rejected: 1 }],
    [
      'a partial success that is only a warning',
      reply(200, {}, '{"partialSuccess":{"rejectedDataPoints":0,"errorMessage":"deprecated\\nfield"}}'),
      { kind: 'success', note: 'the receiver said: deprecated field' } as SendOutcome,
    ],
    ['more rejected points than were sent', reply(200, {}, '{"partialSuccess":{"rejectedDataPoints":"900"}}'), { kind: 'success', rejected: 2 }],
    ['429 with Retry-After', reply(429, { 'retry-after': '7' }), { kind: 'retryable', reason: 'HTTP 429 Too Many Requests', retryAfterMs: 7000 }],
    ['503 with Retry-After', reply(503, { 'retry-after': '3' }), { kind: 'retryable', reason: 'HTTP 503 Service Unavailable', retryAfterMs: 3000 }],
    ['502', reply(502), { kind: 'retryable', reason: 'HTTP 502 Bad Gateway' }],
    [
      '400 with an OTLP Status',
      reply(400, { 'content-type': 'application/json' }, '{"code":3,"message":"bad data"}'),
      { kind: 'failure', reason: 'HTTP 400 Bad Request: {"code":3,"message":"bad data"}' },
    ],
    ['401', reply(401), { kind: 'failure', reason: 'HTTP 401 Unauthorized' }],
    ['410', reply(410), { kind: 'failure', reason: 'HTTP 410 Gone: the endpoint no longer takes reports', gone: true }],
  ])('%s', async (_label, answer, expected) => {
    const c = await collector(answer);
    const outcome = await otlpTransport(c.metricsUrl).send(sampleReport(), live());
    expect(outcome).toEqual(expected);
  });

  it('is retried on 503 with Retry-After, and a partial success is not retried', async () => {
    const c = await collector((res, n) => {
      if (n === 0) res.writeHead(503, { 'retry-after': '2' }).end();
      else res.writeHead(200).end('{"partialSuccess":{"rejectedDataPoints":"1"}}');
    });
    let clock = 0;
    const delays: number[] = [];
    const transport = retryingTransport(otlpTransport(c.metricsUrl), {
      now: () => clock,
      random: () => 0.5,
      sleep: async (ms) => {
        delays.push(ms);
        clock += ms;
      },
    });
    expect(await transport.send(sampleReport(), live())).toEqual({ kind: 'success', rejected: 1 });
    expect(delays).toEqual([2000]);
    expect(c.received).toHaveLength(2);
    expect(c.received[0].body).toBe(c.received[1].body);
  });

  it('gives up on 400 at once under the retrying wrapper', async () => {
    const c = await collector(reply(400));
    const transport = retryingTransport(otlpTransport(c.metricsUrl), { sleep: () => Promise.reject(new Error('must not wait')) });
    expect((await transport.send(sampleReport(), live())).kind).toBe('failure');
    expect(c.received).toHaveLength(1);
  });

  it('a collector that is down is retryable, and so is one that never answers, after timeoutMs', async () => {
    const down = await collector();
    const url = down.metricsUrl;
    await down.close();
    expect(await otlpTransport(url).send(sampleReport(), live())).toMatchObject({ kind: 'retryable', reason: expect.stringMatching(/ECONNREFUSED/) });

    const silent = await collector(() => {});
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const pending = otlpTransport(silent.metricsUrl, { timeoutMs: 3000 }).send(sampleReport(), live());
    await silent.arrived(1);
    vi.advanceTimersByTime(3000);
    expect(await pending).toEqual({ kind: 'retryable', reason: 'no answer within 3000 ms' });
  });

  it('gives a report back untouched when the caller has already stopped waiting', async () => {
    const c = await collector();
    const stopped = new AbortController();
    stopped.abort();
    expect((await otlpTransport(c.metricsUrl).send(sampleReport(), { signal: stopped.signal })).kind).toBe('retryable');
    expect(c.received).toHaveLength(0);
  });
});

describe('otlpTransport: the author options', () => {
  it.each([
    ['http://collector.example.com/v1/metrics', {}, /https:.*allowInsecure/],
    ['ftp://collector.example.com/', {}, /ftp:/],
    ['collector:4318', {}, /not a URL|https:/],
    ['https://c.example.com/v1/metrics', { headers: { 'content-type': 'x' } }, /set by tallyho/],
    ['https://c.example.com/v1/metrics', { headers: { 'bad name': 'x' } }, /invalid name/],
    ['https://c.example.com/v1/metrics', { headers: { k: 'a\nb' } }, /invalid name or value/],
    ['https://c.example.com/v1/metrics', { timeoutMs: 0 }, /timeoutMs/],
    ['https://c.example.com/v1/metrics', { gzip: 'yes' }, /gzip/],
    ['https://c.example.com/v1/metrics', { useOtelEnv: 1 }, /useOtelEnv/],
  ])('refuses %s %j with a TypeError that says what to change', (url, options, message) => {
    expect(() => otlpTransport(url, options as never)).toThrow(TypeError);
    expect(() => otlpTransport(url, options as never)).toThrow(message);
  });

  it('accepts plain http: to a trusted host with allowInsecure', () => {
    expect(otlpTransport('http://collector.internal:4318/v1/metrics', { allowInsecure: true }).name).toBe(
      'OTLP http://collector.internal:4318/v1/metrics',
    );
  });

  it('describes itself as a spec with its defaults, and keeps credentials out of its name', () => {
    const transport = otlpTransport('https://user:pw@otlp.example.com/v1/metrics?key=1', { headers: { 'x-api-key': 'k' } });
    expect(transport.name).toBe('OTLP https://otlp.example.com/v1/metrics');
    expect(transport.spec).toEqual({
      type: 'otlp',
      url: 'https://user:pw@otlp.example.com/v1/metrics?key=1',
      headers: { 'x-api-key': 'k' },
      gzip: true,
      timeoutMs: 5000,
      allowInsecure: false,
      maxResponseBytes: 65536,
      useOtelEnv: false,
    });
    expect(JSON.parse(JSON.stringify(transport.spec))).toEqual(transport.spec);
  });
});

describe('otlpTransport: the OpenTelemetry variables (useOtelEnv)', () => {
  it('sends to the user endpoint with the user headers only: the author headers stay with the author URL', async () => {
    const author = await collector();
    const user = await collector();
    const transport = buildOtlpTransport(author.metricsUrl, {
      headers: { authorization: 'Bearer author-secret' },
      useOtelEnv: true,
    }, { endpoint: { url: user.metricsUrl, variable: 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT' }, headers: { 'x-user-key': 'u1' } });
    expect(transport.name).toBe(`OTLP ${user.metricsUrl}`);
    expect(await transport.send(sampleReport(), live())).toEqual({ kind: 'success' });
    expect(author.received).toHaveLength(0);
    expect(user.received[0].headers['x-user-key']).toBe('u1');
    expect(user.received[0].headers.authorization).toBeUndefined();
  });

  it('never sends the user headers to the author URL when the user names no endpoint', async () => {
    const author = await collector();
    const transport = buildOtlpTransport(author.metricsUrl, {
      headers: { authorization: 'Bearer author' },
      useOtelEnv: true,
    }, { headers: { 'x-user-key': 'u1' }, gzip: false, timeoutMs: 1234 });
    await transport.send(sampleReport({ counts: manyCounts(4000) }), live());
    expect(author.received[0].headers.authorization).toBe('Bearer author');
    expect(author.received[0].headers['x-user-key']).toBeUndefined();
    // Compression and timeout are the user's to choose either way.
    expect(author.received[0].headers['content-encoding']).toBeUndefined();
  });

  it('ignores the variables unless the author asked for them', async () => {
    const author = await collector();
    const user = await collector();
    const transport = buildOtlpTransport(author.metricsUrl, {}, { endpoint: { url: user.metricsUrl, variable: 'OTEL_EXPORTER_OTLP_ENDPOINT' } });
    await transport.send(sampleReport(), live());
    expect(author.received).toHaveLength(1);
    expect(user.received).toHaveLength(0);
    expect(transport.spec.otelEnv).toBeUndefined();
  });

  it('takes plain http: to any host from the user, as every OTLP exporter in the process does', () => {
    const transport = buildOtlpTransport('https://otlp.example.com/v1/metrics', {
      useOtelEnv: true,
    }, { endpoint: { url: 'http://otel-collector.observability:4318/v1/metrics', variable: 'OTEL_EXPORTER_OTLP_ENDPOINT' } });
    expect(transport.name).toBe('OTLP http://otel-collector.observability:4318/v1/metrics');
  });

  it('fails every send, naming the variable, when the user endpoint is unusable: never the author URL instead', async () => {
    const author = await collector();
    const transport = buildOtlpTransport(author.metricsUrl, {
      useOtelEnv: true,
    }, { endpoint: { url: 'collector:4318/v1/metrics', variable: 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT' } });
    expect(transport.name).toMatch(/not used: OTEL_EXPORTER_OTLP_METRICS_ENDPOINT is invalid/);
    const outcome = await transport.send(sampleReport(), live());
    expect(outcome).toMatchObject({ kind: 'failure', reason: expect.stringMatching(/^OTEL_EXPORTER_OTLP_METRICS_ENDPOINT="collector:.*fixed or unset$/) });
    expect(author.received).toHaveLength(0);
  });

  it('drops user headers tallyho frames the request with, instead of refusing the transport', async () => {
    const user = await collector();
    const transport = buildOtlpTransport('https://otlp.example.com/v1/metrics', {
      useOtelEnv: true,
    }, { endpoint: { url: user.metricsUrl, variable: 'OTEL_EXPORTER_OTLP_ENDPOINT' }, headers: { 'content-type': 'text/plain', 'x-k': 'v' } });
    await transport.send(sampleReport(), live());
    expect(user.received[0].headers['content-type']).toBe('application/json');
    expect(user.received[0].headers['x-k']).toBe('v');
  });
});

describe('otlpTransportFromSpec: the detached sender', () => {
  it('rebuilds the same transport from its spec after a JSON round trip', async () => {
    const c = await collector();
    const original = otlpTransport(c.metricsUrl, { headers: { 'x-api-key': 'k' }, gzip: false, timeoutMs: 2000 });
    const rebuilt = otlpTransportFromSpec(JSON.parse(JSON.stringify(original.spec)));
    if (!('transport' in rebuilt)) throw new Error(rebuilt.error);
    expect(rebuilt.transport.name).toBe(original.name);
    expect(rebuilt.transport.spec).toEqual(original.spec);
    await rebuilt.transport.send(sampleReport(), live());
    expect(c.received[0].headers['x-api-key']).toBe('k');
  });

  it('keeps the user endpoint recorded at build time, unless the variables where it runs name another', async () => {
    const author = await collector();
    const recordedUser = await collector();
    const currentUser = await collector();
    const spec = buildOtlpTransport(author.metricsUrl, {
      useOtelEnv: true,
    }, { endpoint: { url: recordedUser.metricsUrl, variable: 'OTEL_EXPORTER_OTLP_ENDPOINT' } }).spec;
    const stored = JSON.parse(JSON.stringify(spec));

    const kept = otlpTransportFromSpec(stored, { headers: { a: 'b' } });
    const moved = otlpTransportFromSpec(stored, { endpoint: { url: currentUser.metricsUrl, variable: 'OTEL_EXPORTER_OTLP_ENDPOINT' } });
    if (!('transport' in kept) || !('transport' in moved)) throw new Error('not rebuilt');
    await kept.transport.send(sampleReport(), live());
    await moved.transport.send(sampleReport(), live());
    expect([author.received.length, recordedUser.received.length, currentUser.received.length]).toEqual([0, 1, 1]);
  });

  it.each([
    [{ type: 'otlp' }, /no url/],
    [{ type: 'otlp', url: 'http://example.com/v1/metrics' }, /unusable transport spec: .*https:/],
    [{ type: 'otlp', url: 'https://example.com/v1/metrics', timeoutMs: '5' }, /timeoutMs/],
    [{ type: 'otlp', url: 'https://example.com/v1/metrics', headers: 'x' }, /headers/],
    [{ type: 'otlp', url: 'https://example.com/v1/metrics', useOtelEnv: true, otelEnv: { endpoint: 'x' } }, /otelEnv.endpoint/],
  ])('returns an error for a damaged spec %j, never throws', (spec, message) => {
    const result = otlpTransportFromSpec(spec as never);
    expect(result).toEqual({ error: expect.stringMatching(message) });
  });
});

describe('otlpTransport: durations, numbers, choices, runs and dependencies', () => {
  it('sends explicit-bucket DELTA histograms with tallyho’s fixed bounds and no sum, and counters for choices and runs', async () => {
    const c = await collector();
    const report = sampleReport({
      durations: { 'Parser#parse': { '0.004': 3, '+Inf': 1 } },
      numbers: { 'project.files': { '0': 1, '7': 2 } },
      choices: { 'input.format': { hic: 2, other: 1 } },
      exits: { normal: 0, nonZero: 1, signal: 0, duration: { '524.288': 1 } },
      dependencies: { zod: '4.6.7', absent: null },
    });
    expect((await otlpTransport(c.metricsUrl).send(report, live())).kind).toBe('success');
    const body = JSON.parse(c.received[0].body) as Json;
    const { resource, scopeMetrics } = body.resourceMetrics[0];
    expect(attributesOf(resource.attributes)).toMatchObject({ 'tallyho.dependency.zod': '4.6.7' });
    expect(JSON.stringify(resource.attributes)).not.toContain('absent');
    const byName = Object.fromEntries(scopeMetrics[0].metrics.map((m: Json) => [m.name, m]));
    for (const [name, unit, points] of [
      ['tallyho.duration', 'ms', { 'Parser#parse': 4 }],
      ['tallyho.number', '1', { 'project.files': 3 }],
      ['tallyho.run.duration', 'ms', { undefined: 1 }],
    ] as const) {
      const metric = byName[name];
      expect(metric.unit).toBe(unit);
      expect(metric.histogram.aggregationTemporality).toBe(1);
      const counted: Record<string, number> = {};
      for (const point of metric.histogram.dataPoints) {
        expect(point.bucketCounts).toHaveLength(point.explicitBounds.length + 1);
        expect(point).not.toHaveProperty('sum');
        expect(point.bucketCounts.reduce((a: number, b: string) => a + Number(b), 0)).toBe(Number(point.count));
        counted[String(Object.values(attributesOf(point.attributes))[0])] = Number(point.count);
      }
      expect(counted).toEqual(points);
    }
    const parse = byName['tallyho.duration'].histogram.dataPoints[0];
    expect(parse.bucketCounts[parse.explicitBounds.indexOf(0.004)]).toBe('3');
    expect(parse.bucketCounts.at(-1)).toBe('1');
    const files = byName['tallyho.number'].histogram.dataPoints[0];
    expect([files.bucketCounts[0], files.bucketCounts[files.explicitBounds.indexOf(7)]]).toEqual(['1', '2']);
    expect(byName['tallyho.choices'].sum.dataPoints.map((p: Json) => [attributesOf(p.attributes), p.asInt])).toEqual([
      [{ 'tallyho.name': 'input.format', 'tallyho.choice': 'hic' }, '2'],
      [{ 'tallyho.name': 'input.format', 'tallyho.choice': 'other' }, '1'],
    ]);
    expect(byName['tallyho.runs'].sum.dataPoints.map((p: Json) => [attributesOf(p.attributes), p.asInt])).toEqual([[{ 'tallyho.run.outcome': 'nonZero' }, '1']]);
  });
});
