// A host program that exports its metrics with the OpenTelemetry SDK and uses acme-sdk. The library
// is imported before the SDK is set up, as it usually is: tallyho looks up the MeterProvider when it
// sends, so the order does not matter.
import { Client, exportReport, telemetry } from './acme-sdk.mjs';
import { metrics } from '@opentelemetry/api';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';

// The host's SDK. A real host would export with OTLP or Prometheus; an in-memory exporter lets this
// program print what its exporter would have been given.
const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
const provider = new MeterProvider({ readers: [reader] });
metrics.setGlobalMeterProvider(provider);

// The host's own work, through the library.
const client = new Client();
for (let i = 0; i < 5; i++) client.query('select 1');
client.close();
exportReport();
exportReport();

// tallyho reports (on its timer, at shutdown, or now), then the host's reader exports.
await telemetry.shutdown();
await provider.forceFlush();

for (const { scopeMetrics } of exporter.getMetrics()) {
  for (const { scope, metrics: collected } of scopeMetrics) {
    console.log(`meter ${scope.name}@${scope.version}`);
    for (const metric of collected) {
      for (const point of metric.dataPoints) {
        const labels = Object.entries(point.attributes).map(([k, v]) => `${k}="${v}"`).join(',');
        console.log(`  ${metric.descriptor.name}{${labels}} ${point.value} ${metric.descriptor.unit}`);
      }
    }
  }
}
await provider.shutdown();
