import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { get, makeReport, post, testCollector } from './helpers.js';

let c: Awaited<ReturnType<typeof testCollector>>;
beforeAll(async () => {
  c = await testCollector({ minInstalls: 1 });
});
afterAll(() => c.stop());

const valid = JSON.stringify(makeReport());
const gzipped = gzipSync(valid);

// Each body: what is sent, and the status and reason expected back.
const cases: { name: string; path?: string; body: string | Buffer; headers?: Record<string, string>; status: number; error: RegExp }[] = [
  { name: 'empty', body: '', status: 400, error: /empty/ },
  { name: 'not JSON', body: 'hello', status: 400, error: /not valid JSON/ },
  { name: 'truncated JSON', body: valid.slice(0, valid.length / 2), status: 400, error: /not valid JSON/ },
  { name: 'truncated gzip', body: gzipped.subarray(0, gzipped.length - 10), headers: { 'content-encoding': 'gzip' }, status: 400, error: /not valid gzip/ },
  { name: 'gzip header but plain body', body: valid, headers: { 'content-encoding': 'gzip' }, status: 400, error: /not valid gzip/ },
  { name: 'unknown encoding', body: valid, headers: { 'content-encoding': 'br' }, status: 415, error: /content-encoding "br" is not supported/ },
  { name: 'wrong content type', body: valid, headers: { 'content-type': 'application/xml' }, status: 415, error: /application\/json/ },
  { name: 'an array', body: '[1,2,3]', status: 400, error: /not a valid tallyho report/ },
  { name: 'a number', body: '42', status: 400, error: /not a valid tallyho report/ },
  { name: 'null', body: 'null', status: 400, error: /not a valid tallyho report/ },
  { name: 'deeply nested arrays', body: `${'['.repeat(200_000)}${']'.repeat(200_000)}`, status: 400, error: /not a valid tallyho report/ },
  { name: 'deeply nested in a field', body: `${JSON.stringify({ ...makeReport(), counts: undefined }).slice(0, -1)},"counts":${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}}`, status: 400, error: /counts\.a/ },
  { name: 'wrong types', body: JSON.stringify({ ...makeReport(), counts: 'many' }), status: 400, error: /counts: / },
  { name: 'count past 2^53', body: JSON.stringify({ ...makeReport(), counts: { a: 2 ** 60 } }), status: 400, error: /counts\.a/ },
  { name: 'a name with a control character', body: JSON.stringify({ ...makeReport(), counts: { 'a\u0007b': 1 } }), status: 400, error: /counts/ },
  { name: 'prototype pollution', body: `{"__proto__":{"polluted":1},${valid.slice(1)}`, status: 400, error: /not valid JSON/ },
  { name: 'bad id', body: JSON.stringify({ ...makeReport(), id: 'x' }), status: 400, error: /^not a valid tallyho report: id: / },
  { name: 'OTLP: not an object', path: '/v1/metrics', body: '"x"', status: 400, error: /not an OTLP metrics request/ },
  { name: 'OTLP: resourceMetrics of the wrong type', path: '/v1/metrics', body: '{"resourceMetrics":{}}', status: 400, error: /resourceMetrics: expected an array/ },
  {
    name: 'OTLP: a count that is not a number',
    path: '/v1/metrics',
    body: JSON.stringify({ resourceMetrics: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 's' } }] }, scopeMetrics: [{ metrics: [{ name: 'tallyho.calls', sum: { aggregationTemporality: 1, dataPoints: [{ attributes: [{ key: 'code.function.name', value: { stringValue: 'f' } }], asInt: '-5', startTimeUnixNano: '1', timeUnixNano: '2' }] } }] }] }] }),
    status: 400,
    error: /asInt/,
  },
];

it.each(cases)('$name: a 4xx with a reason, nothing stored', async ({ path, body, headers, status, error }) => {
  const answer = await post(`${c.url}${path ?? '/v1/reports'}`, Buffer.from(body), { headers: { 'content-type': 'application/json', ...headers } });
  expect(answer.status).toBe(status);
  expect(answer.json().error).toMatch(error);
  expect(c.store.rawCount()).toBe(0);
  expect(c.store.projects()).toEqual([]);
  expect(({} as any).polluted).toBeUndefined();
});

it('a body cut off mid-request does not stop the server; it goes on taking reports', async () => {
  const url = new URL(`${c.url}/v1/reports`);
  await new Promise<void>((resolve) => {
    const socket = connect(Number(url.port), url.hostname, () => {
      socket.write(`POST /v1/reports HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${valid.length}\r\n\r\n${valid.slice(0, 50)}`);
      socket.destroy();
      resolve();
    });
  });
  expect((await get(`${c.url}/healthz`)).status).toBe(200);
  const ok = await post(`${c.url}/v1/reports`, valid);
  expect(ok.status).toBe(200);
  expect(c.store.rawCount()).toBe(1);
});
