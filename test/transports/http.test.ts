import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildHttpTransport, httpTransport, resolveEndpoint } from '../../src/transports/http.js';
import { parseRetryAfter, RETRY_AFTER_MAX_MS } from '../../src/transports/http-post.js';
import { retryingTransport } from '../../src/transports/retrying.js';
import { transportFromSpec } from '../../src/transports/transport-spec.js';
import type { SendOutcome } from '../../src/transports/transport.js';
import { VERSION } from '../../src/version.js';
import { manyCounts, reply, sampleReport, startReceiver, type Answer, type Receiver } from './receiver.js';

const open: Receiver[] = [];
async function receiver(answer?: Answer): Promise<Receiver> {
  const r = await startReceiver(answer);
  open.push(r);
  return r;
}

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(open.splice(0).map((r) => r.close()));
});

const live = () => ({ signal: new AbortController().signal });
const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;

describe('httpTransport: the request', () => {
  it('POSTs the report as JSON with its idempotency key, user agent and the author headers', async () => {
    const r = await receiver();
    const report = sampleReport();
    const outcome = await httpTransport(r.url, { headers: { authorization: 'Bearer k1' } }).send(report, live());

    expect(outcome).toEqual({ kind: 'success' });
    expect(r.received).toHaveLength(1);
    const [got] = r.received;
    expect(got.method).toBe('POST');
    expect(got.path).toBe('/v1/reports');
    expect(JSON.parse(got.body)).toEqual(report);
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['content-encoding']).toBeUndefined();
    expect(got.headers['idempotency-key']).toBe(report.id);
    expect(got.headers['user-agent']).toBe(`tallyho/${VERSION}`);
    expect(got.headers.authorization).toBe('Bearer k1');
    expect(Number(got.headers['content-length'])).toBe(got.rawLength);
    // No keep-alive: every report gets a connection of its own, closed after it.
    expect(got.headers.connection).toBe('close');
  });

  it('gzips a body larger than gzipAboveBytes (default 1024)', async () => {
    const r = await receiver();
    const big = sampleReport({ counts: manyCounts(4000) });
    const small = sampleReport();
    const transport = httpTransport(r.url);
    expect(await transport.send(big, live())).toEqual({ kind: 'success' });
    expect(await transport.send(small, live())).toEqual({ kind: 'success' });

    expect(r.received[0].headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(r.received[0].body)).toEqual(big);
    expect(r.received[0].rawLength).toBeLessThan(JSON.stringify(big).length);
    expect(Number(r.received[0].headers['content-length'])).toBe(r.received[0].rawLength);
    expect(r.received[1].headers['content-encoding']).toBeUndefined();
  });

  it('takes its own gzip threshold', async () => {
    const r = await receiver();
    await httpTransport(r.url, { gzipAboveBytes: 0 }).send(sampleReport(), live());
    await httpTransport(r.url, { gzipAboveBytes: 1_000_000 }).send(sampleReport({ counts: manyCounts(4000) }), live());
    expect(r.received.map((x) => x.headers['content-encoding'])).toEqual(['gzip', undefined]);
  });
});

describe('httpTransport: outcomes', () => {
  it.each([
    [200, { kind: 'success' }],
    [202, { kind: 'success' }],
    [204, { kind: 'success' }],
    [429, { kind: 'retryable' }],
    [502, { kind: 'retryable' }],
    [503, { kind: 'retryable' }],
    [504, { kind: 'retryable' }],
    [400, { kind: 'failure' }],
    [401, { kind: 'failure' }],
    [404, { kind: 'failure' }],
    [413, { kind: 'failure' }],
    [500, { kind: 'failure' }],
    [501, { kind: 'failure' }],
    [301, { kind: 'failure' }],
  ] as const)('HTTP %i is %o', async (status, expected) => {
    const r = await receiver(reply(status));
    const outcome = await httpTransport(r.url).send(sampleReport(), live());
    expect(outcome).toMatchObject(expected);
    if (outcome.kind !== 'success') expect(outcome.reason).toContain(`HTTP ${status}`);
    if (outcome.kind === 'retryable') expect(outcome.retryAfterMs).toBeUndefined();
    if (outcome.kind === 'failure') expect(outcome.gone).toBeUndefined();
  });

  it('410 is a final failure marked gone', async () => {
    const r = await receiver(reply(410));
    const outcome = await httpTransport(r.url).send(sampleReport(), live());
    expect(outcome).toMatchObject({ kind: 'failure', gone: true });
    expect((outcome as { reason: string }).reason).toContain('HTTP 410');
  });

  it.each([
    [503, '7', 7000],
    [429, '0', 0],
    [502, '120', RETRY_AFTER_MAX_MS],
    [504, 'Sun, 06 Nov 1994 08:49:37 GMT', 0],
    [503, 'Fri, 31 Dec 9999 23:59:59 GMT', RETRY_AFTER_MAX_MS],
    [503, 'soon', undefined],
    [503, '-5', undefined],
    [503, '1.5', undefined],
  ])('HTTP %i with Retry-After %j waits %o ms', async (status, header, expected) => {
    const r = await receiver(reply(status, { 'retry-after': header }));
    const outcome = await httpTransport(r.url).send(sampleReport(), live());
    expect(outcome.kind).toBe('retryable');
    expect((outcome as { retryAfterMs?: number }).retryAfterMs).toBe(expected);
  });

  it('quotes the start of a refusal, on one line', async () => {
    const r = await receiver(reply(400, {}, 'bad report:\n\u001b[31mcounts\u001b[0m must be numbers'));
    const outcome = await httpTransport(r.url).send(sampleReport(), live());
    expect(outcome).toEqual({ kind: 'failure', reason: 'HTTP 400 Bad Request: bad report: [31mcounts [0m must be numbers' });
  });

  it('a refused connection is retryable', async () => {
    const r = await startReceiver();
    await r.close();
    const outcome = await httpTransport(r.url).send(sampleReport(), live());
    expect(outcome.kind).toBe('retryable');
    expect((outcome as { reason: string }).reason).toMatch(/^network error: .*ECONNREFUSED/);
  });

  it('never rejects, even for a report that cannot be serialized', async () => {
    const r = await receiver();
    const bad = sampleReport({ counts: { n: 1n } as unknown as Record<string, number> });
    const outcome = await httpTransport(r.url).send(bad, live());
    expect(outcome.kind).toBe('failure');
    expect(r.received).toHaveLength(0);
  });
});

describe('httpTransport: time and the process', () => {
  it('times out a receiver that never answers, without keeping the process alive meanwhile', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const r = await receiver(() => {});
    const before = sockets();
    let outcome: SendOutcome | undefined;
    const pending = httpTransport(r.url).send(sampleReport(), live()).then((o) => (outcome = o));
    await r.arrived(1);

    // The request is in flight on an open socket, and the socket is not what keeps the process alive.
    expect(sockets()).toBe(before);

    vi.advanceTimersByTime(4999);
    await Promise.resolve();
    expect(outcome).toBeUndefined();
    vi.advanceTimersByTime(1);
    await pending;
    expect(outcome).toEqual({ kind: 'retryable', reason: 'no answer within 5000 ms' });
  });

  it('takes its own timeout', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const r = await receiver(() => {});
    const pending = httpTransport(r.url, { timeoutMs: 250 }).send(sampleReport(), live());
    await r.arrived(1);
    vi.advanceTimersByTime(250);
    expect(await pending).toEqual({ kind: 'retryable', reason: 'no answer within 250 ms' });
  });

  it('stops when the caller stops waiting', async () => {
    const r = await receiver(() => {});
    const caller = new AbortController();
    const pending = httpTransport(r.url).send(sampleReport(), { signal: caller.signal });
    await r.arrived(1);
    caller.abort();
    expect(await pending).toEqual({ kind: 'retryable', reason: 'no answer before the caller stopped waiting' });
  });

  it('does not send for a caller that has already stopped waiting', async () => {
    const r = await receiver();
    const outcome = await httpTransport(r.url).send(sampleReport(), { signal: AbortSignal.abort() });
    expect(outcome).toEqual({ kind: 'retryable', reason: 'not sent: the caller stopped waiting' });
    expect(r.received).toHaveLength(0);
  });
});

describe('httpTransport: the reply is read up to maxResponseBytes (default 64 KiB)', () => {
  // These replies never end: only the cap lets the send settle (the timeout is out of reach).
  const endless =
    (status: number, bytes: number): Answer =>
    (res) => {
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.write('x'.repeat(bytes));
    };

  it('a success with an endless body', async () => {
    const r = await receiver(endless(200, 100 * 1024));
    const outcome = await httpTransport(r.url, { timeoutMs: 3_600_000 }).send(sampleReport(), live());
    expect(outcome).toEqual({ kind: 'success' });
  });

  it('a refusal with an endless body, quoted briefly', async () => {
    const r = await receiver(endless(400, 2000));
    const outcome = await httpTransport(r.url, { timeoutMs: 3_600_000, maxResponseBytes: 1000 }).send(sampleReport(), live());
    expect(outcome).toEqual({ kind: 'failure', reason: `HTTP 400 Bad Request: ${'x'.repeat(200)}...` });
  });

  it('with maxResponseBytes 0, the status alone', async () => {
    const r = await receiver(endless(503, 10));
    const outcome = await httpTransport(r.url, { timeoutMs: 3_600_000, maxResponseBytes: 0 }).send(sampleReport(), live());
    expect(outcome).toEqual({ kind: 'retryable', reason: 'HTTP 503 Service Unavailable' });
  });
});

describe('with retryingTransport', () => {
  it('503 with Retry-After, then 200: delivered once, under one idempotency key', async () => {
    const r = await receiver((res, n) => {
      res.writeHead(n === 0 ? 503 : 200, n === 0 ? { 'retry-after': '2' } : {});
      res.end();
    });
    let clock = 0;
    const delays: number[] = [];
    const transport = retryingTransport(httpTransport(r.url), {
      now: () => clock,
      random: () => 0.5,
      sleep: async (ms) => {
        delays.push(ms);
        clock += ms;
      },
    });
    expect(await transport.send(sampleReport(), live())).toEqual({ kind: 'success' });
    expect(delays).toEqual([2000]);
    expect(r.received).toHaveLength(2);
    expect(new Set(r.received.map((x) => x.headers['idempotency-key']))).toEqual(new Set([sampleReport().id]));
  });
});

describe('the https rule', () => {
  it.each([
    'https://telemetry.example.com/v1/reports',
    'http://127.0.0.1:4318/v1/reports',
    'http://127.45.6.7/',
    'http://localhost:8080/',
    'http://LOCALHOST/',
    'http://[::1]:4318/',
  ])('accepts %s', (url) => {
    expect(() => httpTransport(url)).not.toThrow();
  });

  it.each([
    ['http://telemetry.example.com/v1/reports', /https:.*allowInsecure/],
    ['http://128.0.0.1/', /https:/],
    ['http://localhost.example.com/', /https:/],
    ['ftp://telemetry.example.com/', /ftp: where https: is required/],
    ['telemetry.example.com/v1', /not a URL/],
    ['', /not a URL/],
  ])('refuses %j with a TypeError that says what to change', (url, message) => {
    expect(() => httpTransport(url)).toThrow(TypeError);
    expect(() => httpTransport(url)).toThrow(message);
  });

  it('allowInsecure permits plain http: anywhere', () => {
    expect(httpTransport('http://telemetry.example.com/v1', { allowInsecure: true }).name).toBe('http://telemetry.example.com/v1');
  });

  it('names the endpoint without credentials, query or fragment', () => {
    expect(httpTransport('https://user:secret@telemetry.example.com/v1?key=k#x').name).toBe('https://telemetry.example.com/v1');
  });
});

describe('TALLYHO_ENDPOINT', () => {
  const author = 'https://telemetry.acme.dev/v1/reports';

  it.each([
    [undefined, false, { url: author }],
    ['', false, { url: author }],
    ['   ', false, { url: author }],
    ['https://proxy.corp.example/tallyho', false, { url: 'https://proxy.corp.example/tallyho' }],
    [' https://proxy.corp.example/t ', false, { url: 'https://proxy.corp.example/t' }],
    ['http://127.0.0.1:9000/r', false, { url: 'http://127.0.0.1:9000/r' }],
    ['http://[::1]:9000/r', false, { url: 'http://[::1]:9000/r' }],
    ['http://proxy.corp.example/t', true, { url: 'http://proxy.corp.example/t' }],
  ])('%j (allowInsecure %s) gives %o', (env, allowInsecure, expected) => {
    expect(resolveEndpoint(author, env, allowInsecure)).toEqual(expected);
  });

  it.each(['http://proxy.corp.example/t', 'proxy.corp.example', 'file:///tmp/x', 'https://'])(
    '%j is an error naming the variable, never the author URL',
    (env) => {
      const resolved = resolveEndpoint(author, env, false);
      expect(resolved).toEqual({ error: expect.stringMatching(/^TALLYHO_ENDPOINT=.*not sent/) });
    },
  );

  it('does not echo credentials from the override', () => {
    const resolved = resolveEndpoint(author, 'http://u:hunter2@proxy.corp.example/t', false);
    expect(JSON.stringify(resolved)).not.toContain('hunter2');
  });

  it('sends to the override instead of the author URL', async () => {
    const authorReceiver = await receiver();
    const proxy = await receiver();
    const transport = buildHttpTransport(authorReceiver.url, {}, proxy.url);
    expect(transport.name).toBe(proxy.url);
    expect(await transport.send(sampleReport(), live())).toEqual({ kind: 'success' });
    expect(proxy.received).toHaveLength(1);
    expect(authorReceiver.received).toHaveLength(0);
  });

  it('an invalid override sends nothing anywhere, and every send says why', async () => {
    const authorReceiver = await receiver();
    const transport = buildHttpTransport(authorReceiver.url, {}, 'http://proxy.corp.example/t');
    const outcome = await transport.send(sampleReport(), live());
    expect(outcome).toEqual({ kind: 'failure', reason: expect.stringContaining('TALLYHO_ENDPOINT') });
    expect(transport.name).toContain('TALLYHO_ENDPOINT is invalid');
    expect(authorReceiver.received).toHaveLength(0);
  });
});

describe('spec and transportFromSpec', () => {
  it('describes the transport with every option, defaults filled in', () => {
    const t = httpTransport('https://telemetry.acme.dev/v1/reports', { headers: { 'x-api-key': 'k' } });
    expect(t.spec).toEqual({
      type: 'http',
      url: 'https://telemetry.acme.dev/v1/reports',
      headers: { 'x-api-key': 'k' },
      timeoutMs: 5000,
      gzipAboveBytes: 1024,
      allowInsecure: false,
      maxResponseBytes: 65536,
    });
  });

  it('rebuilds a working transport from the spec after a trip through JSON', async () => {
    const r = await receiver();
    const original = httpTransport(r.url, { headers: { 'x-api-key': 'k' }, gzipAboveBytes: 0 });
    const rebuilt = transportFromSpec(JSON.parse(JSON.stringify(original.spec)));
    if (!('transport' in rebuilt)) throw new Error(rebuilt.error);
    expect(rebuilt.transport.name).toBe(original.name);
    expect(rebuilt.transport.spec).toEqual(original.spec);
    expect(await rebuilt.transport.send(sampleReport(), live())).toEqual({ kind: 'success' });
    expect(r.received[0].headers['x-api-key']).toBe('k');
    expect(r.received[0].headers['content-encoding']).toBe('gzip');
  });

  it('keeps the override in the spec, so that a rebuilt transport never falls back to the author', async () => {
    const authorReceiver = await receiver();
    const proxy = await receiver();
    const valid = transportFromSpec(JSON.parse(JSON.stringify(buildHttpTransport(authorReceiver.url, {}, proxy.url).spec)));
    const invalid = transportFromSpec(JSON.parse(JSON.stringify(buildHttpTransport(authorReceiver.url, {}, 'nonsense').spec)));
    if (!('transport' in valid) || !('transport' in invalid)) throw new Error('not rebuilt');
    expect(await valid.transport.send(sampleReport(), live())).toEqual({ kind: 'success' });
    expect(await invalid.transport.send(sampleReport(), live())).toMatchObject({ kind: 'failure' });
    expect(proxy.received).toHaveLength(1);
    expect(authorReceiver.received).toHaveLength(0);
  });

  it("the rebuilding process's own override wins", async () => {
    const authorReceiver = await receiver();
    const proxy = await receiver();
    const rebuilt = transportFromSpec(httpTransport(authorReceiver.url).spec, { endpoint: proxy.url });
    if (!('transport' in rebuilt)) throw new Error(rebuilt.error);
    await rebuilt.transport.send(sampleReport(), live());
    expect(proxy.received).toHaveLength(1);
    expect(authorReceiver.received).toHaveLength(0);
  });

  it.each([
    [null, /not an object/],
    ['http', /not an object/],
    [{ type: 'carrier-pigeon' }, /unknown transport type/],
    [{ type: 'http' }, /no url/],
    [{ type: 'http', url: 'http://telemetry.example.com/' }, /https:/],
    [{ type: 'http', url: 'https://t.example/', timeoutMs: '5000' }, /timeoutMs/],
    [{ type: 'http', url: 'https://t.example/', headers: { 'content-type': 'text/plain' } }, /content-type/],
    [{ type: 'http', url: 'https://t.example/', headers: 'x' }, /headers/],
  ])('a damaged spec %j is an error, not an exception', (spec, message) => {
    const rebuilt = transportFromSpec(spec);
    expect(rebuilt).toEqual({ error: expect.stringMatching(message) });
  });
});

describe('author mistakes are TypeErrors that say what to change', () => {
  it.each([
    [{ timeoutMs: 0 }, /timeoutMs must be a whole number of at least 1/],
    [{ timeoutMs: 1.5 }, /timeoutMs/],
    [{ gzipAboveBytes: -1 }, /gzipAboveBytes/],
    [{ maxResponseBytes: Infinity }, /maxResponseBytes/],
    [{ headers: { 'Content-Type': 'text/plain' } }, /"Content-Type" is set by tallyho; remove it/],
    [{ headers: { 'idempotency-key': 'x' } }, /idempotency-key/],
    [{ headers: { 'x-key': 'a\r\nb' } }, /invalid name or value/],
    [{ headers: { 'bad name': 'a' } }, /invalid name or value/],
    [{ allowInsecure: 'yes' }, /allowInsecure must be true or false/],
  ])('%o', (options, message) => {
    expect(() => httpTransport('https://t.example/', options as never)).toThrow(TypeError);
    expect(() => httpTransport('https://t.example/', options as never)).toThrow(message);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-05T10:00:00Z');
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['30', 30_000],
    [' 30 ', 30_000],
    ['60', 60_000],
    ['61', RETRY_AFTER_MAX_MS],
    ['99999999999999999999999', RETRY_AFTER_MAX_MS],
    ['Mon, 05 Jan 2026 10:00:12 GMT', 12_000],
    ['Monday, 05-Jan-26 10:00:12 GMT', 12_000],
    ['Mon Jan  5 10:00:12 2026', 12_000],
    ['Mon, 05 Jan 2026 09:00:00 GMT', 0],
    ['Mon, 05 Jan 2026 11:00:00 GMT', RETRY_AFTER_MAX_MS],
    ['Mon, 99 Foo 2026 10:00:12 GMT', undefined],
    ['5.5', undefined],
    ['-1', undefined],
    ['1e3', undefined],
    ['later', undefined],
  ])('%j is %o', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
});
