import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { metrics, ValueType } from '@opentelemetry/api';
import { DataPointType } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it, vi } from 'vitest';
// Imported before any provider exists, as a library that embeds tallyho would be.
import { otelTransport } from '../../src/otel.js';
import { createTelemetry } from '../../src/telemetry.js';
import { stubTallyhoEnv } from '../telemetry/support.js';
import { sampleReport } from '../transports/receiver.js';
import { collect, metricOf, sdkProvider, valuesBy } from './sdk.js';

afterEach(() => {
  metrics.disable();
  vi.unstubAllEnvs();
});

const live = () => ({ signal: new AbortController().signal });

describe('otelTransport: into the global MeterProvider', () => {
  it('adds every report to monotonic integer counters, by counted name, under a meter named after the project', async () => {
    const { provider, reader } = sdkProvider();
    metrics.setGlobalMeterProvider(provider);
    const transport = otelTransport();

    const first = sampleReport({ counts: { 'Client#query': 12, 'new Client': 1 }, errors: { 'Client#query': 2 } });
    const second = sampleReport({ counts: { 'Client#query': 30, 'Parser#parse': 7 }, errors: {} });
    const third = sampleReport({ counts: { 'feature.export': 2 ** 40 }, errors: { 'Parser#parse': 1 }, dropped: { network: 4, overflow: 1 } });
    for (const report of [first, second, third]) expect(await transport.send(report, live())).toEqual({ kind: 'success' });

    const collected = await collect(reader);
    const scope = collected.scopeMetrics.find((s) => s.scope.name === 'acme-sdk');
    expect(scope?.scope.version).toBe('1.4.0');
    expect(valuesBy(metricOf(collected, 'acme-sdk', 'tallyho.calls'), 'code.function.name')).toEqual({
      'Client#query': 42,
      'new Client': 1,
      'Parser#parse': 7,
      'feature.export': 2 ** 40,
    });
    expect(valuesBy(metricOf(collected, 'acme-sdk', 'tallyho.errors'), 'code.function.name')).toEqual({ 'Client#query': 2, 'Parser#parse': 1 });
    expect(valuesBy(metricOf(collected, 'acme-sdk', 'tallyho.dropped'), 'tallyho.drop.reason')).toEqual({ network: 4, overflow: 1 });

    for (const name of ['tallyho.calls', 'tallyho.errors', 'tallyho.dropped']) {
      const metric = metricOf(collected, 'acme-sdk', name)!;
      expect(metric.dataPointType).toBe(DataPointType.SUM);
      expect(metric.descriptor).toMatchObject({ unit: '{call}', valueType: ValueType.INT });
      expect(metric.dataPointType === DataPointType.SUM && metric.isMonotonic).toBe(true);
      // One attribute per point, and nothing else: no report field leaks into the host's metrics.
      for (const point of metric.dataPoints) expect(Object.keys(point.attributes)).toHaveLength(1);
    }
  });

  it('keeps two projects apart, each under its own meter', async () => {
    const { provider, reader } = sdkProvider();
    metrics.setGlobalMeterProvider(provider);
    const transport = otelTransport();
    await transport.send(sampleReport({ project: 'acme-sdk', counts: { a: 1 } }), live());
    await transport.send(sampleReport({ project: 'other-lib', version: '2.0.0', counts: { a: 5 } }), live());
    await transport.send(sampleReport({ project: 'acme-sdk', counts: { a: 2 } }), live());

    const collected = await collect(reader);
    expect(valuesBy(metricOf(collected, 'acme-sdk', 'tallyho.calls'), 'code.function.name')).toEqual({ a: 3 });
    expect(valuesBy(metricOf(collected, 'other-lib', 'tallyho.calls'), 'code.function.name')).toEqual({ a: 5 });
    expect(collected.scopeMetrics.find((s) => s.scope.name === 'other-lib')?.scope.version).toBe('2.0.0');
  });

  it('reaches a provider registered after tallyho was loaded and after the transport was made', async () => {
    const transport = otelTransport();
    const early = await transport.send(sampleReport({ counts: { early: 5 } }), live());
    expect(early.kind).toBe('success');

    const { provider, reader } = sdkProvider();
    metrics.setGlobalMeterProvider(provider);
    expect(await transport.send(sampleReport({ counts: { late: 3 } }), live())).toEqual({ kind: 'success' });

    // What was sent while no SDK listened is gone, as for any OpenTelemetry instrument; what came after arrives.
    expect(valuesBy(metricOf(await collect(reader), 'acme-sdk', 'tallyho.calls'), 'code.function.name')).toEqual({ late: 3 });
  });

  it('follows the global provider when the host replaces it', async () => {
    const one = sdkProvider();
    metrics.setGlobalMeterProvider(one.provider);
    const transport = otelTransport();
    await transport.send(sampleReport({ counts: { a: 1 } }), live());

    metrics.disable();
    const two = sdkProvider();
    metrics.setGlobalMeterProvider(two.provider);
    await transport.send(sampleReport({ counts: { a: 10 } }), live());

    expect(valuesBy(metricOf(await collect(one.reader), 'acme-sdk', 'tallyho.calls'), 'code.function.name')).toEqual({ a: 1 });
    expect(valuesBy(metricOf(await collect(two.reader), 'acme-sdk', 'tallyho.calls'), 'code.function.name')).toEqual({ a: 10 });
  });

  it('records into a provider given as an option, leaving the global one alone', async () => {
    const global = sdkProvider();
    metrics.setGlobalMeterProvider(global.provider);
    const own = sdkProvider();
    const transport = otelTransport({ meterProvider: own.provider });
    expect(transport.name).toBe('OpenTelemetry API (MeterProvider given)');
    await transport.send(sampleReport({ counts: { a: 4 } }), live());
    expect(valuesBy(metricOf(await collect(own.reader), 'acme-sdk', 'tallyho.calls'), 'code.function.name')).toEqual({ a: 4 });
    expect(metricOf(await collect(global.reader), 'acme-sdk', 'tallyho.calls')).toBeUndefined();
  });
});

describe('otelTransport: with no SDK, and with a misbehaving one', () => {
  it('records nothing, throws nothing, and says why in the outcome for debug output', async () => {
    const transport = otelTransport();
    expect(transport.name).toBe('OpenTelemetry API (global MeterProvider)');
    expect(transport.spec).toBeUndefined();
    const outcome = await transport.send(sampleReport(), live());
    expect(outcome).toMatchObject({ kind: 'success', note: expect.stringMatching(/no OpenTelemetry MeterProvider is registered/) });
  });

  it('gives a report back untouched when the caller has stopped waiting', async () => {
    const { provider, reader } = sdkProvider();
    metrics.setGlobalMeterProvider(provider);
    const stopped = new AbortController();
    stopped.abort();
    expect((await otelTransport().send(sampleReport(), { signal: stopped.signal })).kind).toBe('retryable');
    expect(metricOf(await collect(reader), 'acme-sdk', 'tallyho.calls')).toBeUndefined();
  });

  it('turns a provider that throws into a failure outcome, never a rejection', async () => {
    const throwing = {
      getMeter: () => {
        throw new Error('provider broke');
      },
    };
    const outcome = await otelTransport({ meterProvider: throwing }).send(sampleReport(), live());
    expect(outcome).toEqual({ kind: 'failure', reason: 'the MeterProvider threw: provider broke' });
  });

  it.each([[null], [42], [{ meterProvider: {} }], [{ meterProvider: 'global' }]])('refuses options %j with a TypeError', (options) => {
    expect(() => otelTransport(options as never)).toThrow(TypeError);
  });
});

describe('otelTransport: through createTelemetry', () => {
  it('delivers a flush of counted calls to the SDK, wrapped in the retrying transport like any other', async () => {
    const home = mkdtempSync(join(tmpdir(), 'tallyho-otel-'));
    try {
      stubTallyhoEnv({ TALLYHO_OPTIN: 'otel-e2e', TALLYHO_HOME: home, TALLYHO_TIMER: '0' });
      const { provider, reader } = sdkProvider();
      const telemetry = createTelemetry({ project: 'otel-e2e', version: '3.2.1', transports: [otelTransport()] });
      expect(telemetry.status()).toMatchObject({ enabled: true, transports: ['OpenTelemetry API (global MeterProvider)'] });
      // The host sets up its SDK after the library made its telemetry: the usual order of imports.
      metrics.setGlobalMeterProvider(provider);

      telemetry.count('feature.export', 3);
      telemetry.count('feature.import');
      expect((await telemetry.flush()).status).toBe('sent');
      telemetry.count('feature.export', 2);
      expect((await telemetry.shutdown()).status).toBe('sent');

      const collected = await collect(reader);
      expect(valuesBy(metricOf(collected, 'otel-e2e', 'tallyho.calls'), 'code.function.name')).toEqual({ 'feature.export': 5, 'feature.import': 1 });
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

describe('otelTransport: histograms, choices and runs', () => {
  it('records durations, numbers and run times as SDK histograms with the same buckets, and choices and runs as counters', async () => {
    const { provider, reader } = sdkProvider();
    const transport = otelTransport({ meterProvider: provider });
    const report = sampleReport({
      durations: { 'Parser#parse': { '0.004': 3, '1.024': 1, '+Inf': 1 } },
      numbers: { 'project.files': { '0': 1, '7': 2 } },
      choices: { 'input.format': { hic: 2, other: 1 } },
      exits: { normal: 1, nonZero: 0, signal: 0, duration: { '524.288': 1 } },
    });
    expect(await transport.send(report, { signal: new AbortController().signal })).toEqual({ kind: 'success' });
    const collected = await collect(reader);
    const histogramOf = (name: string) => {
      const metric = metricOf(collected, 'acme-sdk', name);
      expect(metric?.dataPointType).toBe(DataPointType.HISTOGRAM);
      return metric!.dataPoints.map((p) => p.value as { buckets: { boundaries: number[]; counts: number[] }; count: number });
    };
    const [parse] = histogramOf('tallyho.duration');
    const at = (value: { buckets: { boundaries: number[]; counts: number[] } }, bound: number) => value.buckets.counts[value.buckets.boundaries.indexOf(bound)];
    expect(parse!.count).toBe(5);
    expect([at(parse!, 0.004), at(parse!, 1.024), parse!.buckets.counts.at(-1)]).toEqual([3, 1, 1]);
    const [files] = histogramOf('tallyho.number');
    expect([files!.count, at(files!, 0), at(files!, 7)]).toEqual([3, 1, 2]);
    const [run] = histogramOf('tallyho.run.duration');
    expect([run!.count, at(run!, 524.288)]).toEqual([1, 1]);
    expect(valuesBy(metricOf(collected, 'acme-sdk', 'tallyho.choices')!, 'tallyho.choice')).toEqual({ hic: 2, other: 1 });
    expect(valuesBy(metricOf(collected, 'acme-sdk', 'tallyho.runs')!, 'tallyho.run.outcome')).toEqual({ normal: 1 });
  });
});
