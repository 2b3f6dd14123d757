import { describe, expect, it } from 'vitest';
import { readOtlpEnv } from '../../src/config/otlp-env.js';

describe('readOtlpEnv: the endpoint', () => {
  it.each<[string, Record<string, string>, { url: string; variable: string } | undefined]>([
    ['nothing set', {}, undefined],
    ['blank values mean unset', { OTEL_EXPORTER_OTLP_ENDPOINT: '  ', OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: '' }, undefined],
    [
      'the base endpoint gains v1/metrics',
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' },
      { url: 'http://collector:4318/v1/metrics', variable: 'OTEL_EXPORTER_OTLP_ENDPOINT' },
    ],
    [
      'a base with a trailing slash is not doubled',
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp.example.com/' },
      { url: 'https://otlp.example.com/v1/metrics', variable: 'OTEL_EXPORTER_OTLP_ENDPOINT' },
    ],
    [
      'a base with a path keeps it',
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://gw.example.com/otlp' },
      { url: 'https://gw.example.com/otlp/v1/metrics', variable: 'OTEL_EXPORTER_OTLP_ENDPOINT' },
    ],
    [
      'the metrics endpoint is taken as it is, and wins',
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://base:4318', OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: ' https://m.example.com/custom ' },
      { url: 'https://m.example.com/custom', variable: 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT' },
    ],
  ])('%s', (_label, env, endpoint) => {
    const read = readOtlpEnv(env);
    expect(read.endpoint).toEqual(endpoint);
    expect(read.warnings).toEqual([]);
  });
});

describe('readOtlpEnv: the headers', () => {
  it('reads key=value pairs, trimmed and percent-decoded', () => {
    const read = readOtlpEnv({ OTEL_EXPORTER_OTLP_HEADERS: ' api-key = secret%20one , Authorization=Basic%20dXNlcjpwYXNz%3D%3D,x=a=b' });
    expect(read.headers).toEqual({ 'api-key': 'secret one', Authorization: 'Basic dXNlcjpwYXNz==', x: 'a=b' });
    expect(read.warnings).toEqual([]);
  });

  it('lets the metrics headers override the general ones key by key', () => {
    const read = readOtlpEnv({ OTEL_EXPORTER_OTLP_HEADERS: 'a=1,b=2', OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'b=3,c=4' });
    expect(read.headers).toEqual({ a: '1', b: '3', c: '4' });
  });

  it('skips malformed entries, naming their position but never their text', () => {
    const read = readOtlpEnv({ OTEL_EXPORTER_OTLP_HEADERS: 'good=1,novalue,=empty-key,bad name=x,pct=%E0%A4%A,nl=a%0Ab,,ok=2' });
    expect(read.headers).toEqual({ good: '1', ok: '2' });
    expect(read.warnings).toEqual([2, 3, 4, 5, 6].map((n) => `OTEL_EXPORTER_OTLP_HEADERS: entry ${n} is not key=value with a valid header name and value; skipped`));
    expect(read.warnings.join('\n')).not.toMatch(/empty-key|%E0|novalue/);
  });

  it('has no headers when neither variable is set', () => {
    expect(readOtlpEnv({}).headers).toBeUndefined();
    expect(readOtlpEnv({ OTEL_EXPORTER_OTLP_HEADERS: ' ' }).headers).toBeUndefined();
  });
});

describe('readOtlpEnv: timeout and compression', () => {
  it.each<[Record<string, string>, { timeoutMs?: number; gzip?: boolean }, number]>([
    [{}, {}, 0],
    [{ OTEL_EXPORTER_OTLP_TIMEOUT: '2500' }, { timeoutMs: 2500 }, 0],
    [{ OTEL_EXPORTER_OTLP_TIMEOUT: '2500', OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '900' }, { timeoutMs: 900 }, 0],
    [{ OTEL_EXPORTER_OTLP_TIMEOUT: '0' }, {}, 1],
    [{ OTEL_EXPORTER_OTLP_TIMEOUT: '1.5' }, {}, 1],
    [{ OTEL_EXPORTER_OTLP_TIMEOUT: '2500', OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: 'soon' }, {}, 1],
    [{ OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' }, { gzip: true }, 0],
    [{ OTEL_EXPORTER_OTLP_COMPRESSION: 'NONE' }, { gzip: false }, 0],
    [{ OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip', OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: 'none' }, { gzip: false }, 0],
    [{ OTEL_EXPORTER_OTLP_COMPRESSION: 'zstd' }, {}, 1],
  ])('%j', (env, expected, warnings) => {
    const { warnings: said, ...read } = readOtlpEnv(env);
    expect(read).toEqual(expected);
    expect(said).toHaveLength(warnings);
    for (const line of said) expect(line).toMatch(/^OTEL_EXPORTER_OTLP_\w+=".*"/);
  });

  it('reads only the object it is given, and is plain JSON apart from its warnings', () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_HEADERS: 'k=v', OTEL_EXPORTER_OTLP_TIMEOUT: '10' };
    const { warnings, ...read } = readOtlpEnv(env);
    expect(warnings).toEqual([]);
    expect(JSON.parse(JSON.stringify(read))).toEqual(read);
    expect(readOtlpEnv({}).endpoint).toBeUndefined();
  });
});
