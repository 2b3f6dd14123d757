import type { Attributes } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  MetricReader,
  type MetricData,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { Resource } from '@opentelemetry/resources';

/** A reader that collects only when asked: what the SDK holds at that moment, with no export timer. */
export class CollectingReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** A real SDK MeterProvider with a reader that collects on demand. */
export function sdkProvider(
  options: { temporality?: AggregationTemporality; resource?: Resource } = {},
): { provider: MeterProvider; reader: CollectingReader } {
  const temporality = options.temporality ?? AggregationTemporality.CUMULATIVE;
  const reader = new CollectingReader({ aggregationTemporalitySelector: () => temporality });
  const provider = new MeterProvider({ readers: [reader], ...(options.resource === undefined ? {} : { resource: options.resource }) });
  return { provider, reader };
}

/** Collects and fails the test on any collection error. */
export async function collect(reader: CollectingReader): Promise<ResourceMetrics> {
  const { resourceMetrics, errors } = await reader.collect();
  if (errors.length > 0) throw new Error(`collection errors: ${errors.map(String).join('; ')}`);
  return resourceMetrics;
}

/** The metric `name` of the scope `scope`, or undefined when the SDK has none. */
export function metricOf(resourceMetrics: ResourceMetrics, scope: string, name: string): MetricData | undefined {
  return resourceMetrics.scopeMetrics.find((s) => s.scope.name === scope)?.metrics.find((m) => m.descriptor.name === name);
}

/** A Sum's values by the value of one attribute of its points. */
export function valuesBy(metric: MetricData | undefined, key: string): Record<string, number> {
  if (metric === undefined) return {};
  if (metric.dataPointType !== DataPointType.SUM) throw new Error(`${metric.descriptor.name} is not a Sum`);
  const out: Record<string, number> = {};
  for (const point of metric.dataPoints) out[String((point.attributes as Attributes)[key])] = point.value;
  return out;
}
