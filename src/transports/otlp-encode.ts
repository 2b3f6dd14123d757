import { DURATION_BOUNDS_MS, DURATION_BUCKETS, SIZE_BOUNDS, SIZE_BUCKETS } from '../registry/buckets.js';
import type { Histogram, Report } from '../report/report.js';
import { VERSION } from '../version.js';

/** An OTLP attribute: only the value kinds tallyho sends. */
export interface OtlpKeyValue {
  readonly key: string;
  readonly value: { readonly stringValue: string } | { readonly boolValue: boolean };
}

/** One point of a Sum: 64-bit integers as decimal strings, as the protobuf JSON mapping writes them. */
export interface OtlpNumberDataPoint {
  readonly attributes: readonly OtlpKeyValue[];
  readonly startTimeUnixNano: string;
  readonly timeUnixNano: string;
  readonly asInt: string;
}

/**
 * One point of an explicit-bucket Histogram: counts per bucket, never a sum, minimum or maximum (they
 * would give values away). 64-bit counts as decimal strings.
 */
export interface OtlpHistogramDataPoint {
  readonly attributes: readonly OtlpKeyValue[];
  readonly startTimeUnixNano: string;
  readonly timeUnixNano: string;
  readonly count: string;
  readonly bucketCounts: readonly string[];
  readonly explicitBounds: readonly number[];
}

/** One metric: a monotonic Sum of deltas, or an explicit-bucket Histogram of deltas. */
export type OtlpMetric = {
  readonly name: string;
  readonly description: string;
  readonly unit: string;
} & (
  | {
      readonly sum: {
        readonly aggregationTemporality: typeof AGGREGATION_TEMPORALITY_DELTA;
        readonly isMonotonic: true;
        readonly dataPoints: readonly OtlpNumberDataPoint[];
      };
    }
  | {
      readonly histogram: {
        readonly aggregationTemporality: typeof AGGREGATION_TEMPORALITY_DELTA;
        readonly dataPoints: readonly OtlpHistogramDataPoint[];
      };
    }
);

/** The body of `POST /v1/metrics` (`ExportMetricsServiceRequest`) in OTLP/JSON. */
export interface OtlpMetricsRequest {
  readonly resourceMetrics: readonly {
    readonly resource: { readonly attributes: readonly OtlpKeyValue[]; readonly droppedAttributesCount: 0 };
    readonly scopeMetrics: readonly {
      readonly scope: { readonly name: string; readonly version: string };
      readonly metrics: readonly OtlpMetric[];
    }[];
  }[];
}

/** `AGGREGATION_TEMPORALITY_DELTA`: each report counts only its own period, which is what tallyho knows. */
export const AGGREGATION_TEMPORALITY_DELTA = 1;

/** The metric names, shared with the OpenTelemetry API bridge so both paths give the same series. */
export const METRIC_NAMES = {
  calls: 'tallyho.calls',
  errors: 'tallyho.errors',
  dropped: 'tallyho.dropped',
  choices: 'tallyho.choices',
  runs: 'tallyho.runs',
} as const;

/** The histograms, shared with the OpenTelemetry API bridge. */
export const HISTOGRAMS = {
  durations: { name: 'tallyho.duration', unit: 'ms', description: 'How long timed calls took, by counted name', bounds: DURATION_BOUNDS_MS, buckets: DURATION_BUCKETS },
  numbers: { name: 'tallyho.number', unit: '1', description: 'Numbers given to record(), by name: counts per bucket, never a value', bounds: SIZE_BOUNDS, buckets: SIZE_BUCKETS },
  runDuration: { name: 'tallyho.run.duration', unit: 'ms', description: 'How long runs ran, from the start of the process', bounds: DURATION_BOUNDS_MS, buckets: DURATION_BUCKETS },
} as const;

/** The data point attribute that carries the name given to `record()` and `choice()`. */
export const SIGNAL_NAME_ATTRIBUTE = 'tallyho.name';

/** The data point attribute that carries the value counted by `choice()` (an allowed value, or `other`). */
export const CHOICE_ATTRIBUTE = 'tallyho.choice';

/** The data point attribute that carries how a run ended (`normal`, `nonZero`, `signal`). */
export const RUN_OUTCOME_ATTRIBUTE = 'tallyho.run.outcome';

/** A report's histogram as OpenTelemetry's bucket counts, one per bound and one above the last. */
export function bucketCounts(histogram: Histogram, names: readonly string[]): number[] {
  const counts = names.map(() => 0);
  for (const [bucket, n] of Object.entries(histogram)) {
    const i = names.indexOf(bucket);
    if (i >= 0 && n !== undefined) counts[i] = n;
  }
  return counts;
}

/** The unit of every tallyho metric, in UCUM annotation form as the semantic conventions write counts. */
export const METRIC_UNIT = '{call}';

/** What each metric counts, as its `description`. */
export const METRIC_DESCRIPTIONS = {
  calls: 'Calls of tracked methods and constructors, and count() increments, by counted name',
  errors: 'Tracked calls that threw, by counted name',
  dropped: 'Counts lost before they could be delivered, by reason',
  choices: 'Values given to choice(), by name and value (an allowed value, or other)',
  runs: 'Runs, by how they ended',
} as const;

/** The data point attribute that carries the counted name (`Client#query`, `new Client`). */
export const NAME_ATTRIBUTE = 'code.function.name';

/** The data point attribute that carries the reason of `tallyho.dropped`. */
export const DROP_REASON_ATTRIBUTE = 'tallyho.drop.reason';

/** The report's salted identifiers, as resource attributes; present only at the levels that carry them. */
const ID_ATTRIBUTES = [
  ['weekId', 'tallyho.week_id'],
  ['installId', 'tallyho.install_id'],
  ['userHash', 'tallyho.user_hash'],
  ['machineHash', 'tallyho.machine_hash'],
] as const;

/** Node's `os.platform()` names where the semantic conventions' `os.type` spells them otherwise. */
const OS_TYPES: Readonly<Record<string, string>> = { win32: 'windows', sunos: 'solaris', os390: 'z_os' };

/** Node's `os.arch()` names where the semantic conventions' `host.arch` spells them otherwise. */
const HOST_ARCHES: Readonly<Record<string, string>> = { x64: 'amd64', ia32: 'x86', arm: 'arm32', ppc: 'ppc32' };

/** `process.runtime.name` by the report's runtime name. */
const RUNTIME_NAMES: Readonly<Record<string, string>> = { node: 'nodejs' };

/**
 * The resource of a report by the semantic conventions: the project as the service, tallyho as the
 * telemetry SDK, the runtime and machine facts the report carries, and its salted identifiers.
 * Everything comes from the report itself, so what is sent is no more than what show-me shows.
 *
 * @param instanceId - `service.instance.id`: random per process, so that deltas from two processes
 *   stay two streams a receiver can add up instead of one stream with overlapping periods.
 */
export function resourceAttributes(report: Report, instanceId: string): OtlpKeyValue[] {
  const attributes: OtlpKeyValue[] = [
    text('service.name', report.project),
    text('service.version', report.version),
    text('service.instance.id', instanceId),
    text('telemetry.sdk.name', 'tallyho'),
    text('telemetry.sdk.language', 'nodejs'),
    text('telemetry.sdk.version', VERSION),
  ];
  if (report.runtime !== undefined) {
    attributes.push(text('process.runtime.name', RUNTIME_NAMES[report.runtime.name] ?? report.runtime.name));
    attributes.push(text('process.runtime.version', report.runtime.version));
  }
  if (report.platform !== undefined) {
    attributes.push(text('host.arch', HOST_ARCHES[report.platform.arch] ?? report.platform.arch));
    attributes.push(text('os.type', OS_TYPES[report.platform.os] ?? report.platform.os));
    attributes.push(text('os.version', report.platform.release));
  }
  if (report.ci !== undefined) attributes.push({ key: 'tallyho.ci', value: { boolValue: report.ci } });
  for (const [field, key] of ID_ATTRIBUTES) {
    const id = report[field];
    if (id !== undefined) attributes.push(text(key, id));
  }
  // The installed versions of the author's listed dependencies; one not installed is left out.
  for (const [name, version] of Object.entries(report.dependencies ?? {})) if (version !== null) attributes.push(text(`tallyho.dependency.${name}`, version));
  return attributes;
}

/**
 * The OTLP/JSON metrics request of one report: one resource, one scope named `tallyho`, and a
 * monotonic delta Sum for calls, errors and drops, each point covering the report's period. A metric
 * with no points is left out; a report with nothing to say gives no metrics at all.
 */
export function encodeMetricsRequest(report: Report, instanceId: string): OtlpMetricsRequest {
  const start = unixNano(report.period.start);
  const end = unixNano(report.period.end);
  const sum = (kind: keyof typeof METRIC_NAMES, key: string, values: Readonly<Record<string, number | undefined>> | undefined): OtlpMetric[] => {
    const dataPoints: OtlpNumberDataPoint[] = [];
    for (const [name, n] of Object.entries(values ?? {})) {
      if (n === undefined || n <= 0) continue;
      dataPoints.push({ attributes: [text(key, name)], startTimeUnixNano: start, timeUnixNano: end, asInt: String(n) });
    }
    if (dataPoints.length === 0) return [];
    return [
      {
        name: METRIC_NAMES[kind],
        description: METRIC_DESCRIPTIONS[kind],
        unit: kind === 'runs' ? '{run}' : METRIC_UNIT,
        sum: { aggregationTemporality: AGGREGATION_TEMPORALITY_DELTA, isMonotonic: true, dataPoints },
      },
    ];
  };
  const choicePoints: OtlpNumberDataPoint[] = [];
  for (const [name, values] of Object.entries(report.choices ?? {})) {
    for (const [value, n] of Object.entries(values)) {
      if (n > 0) choicePoints.push({ attributes: [text(SIGNAL_NAME_ATTRIBUTE, name), text(CHOICE_ATTRIBUTE, value)], startTimeUnixNano: start, timeUnixNano: end, asInt: String(n) });
    }
  }
  const choices: OtlpMetric = {
    name: METRIC_NAMES.choices,
    description: METRIC_DESCRIPTIONS.choices,
    unit: '1',
    sum: { aggregationTemporality: AGGREGATION_TEMPORALITY_DELTA, isMonotonic: true, dataPoints: choicePoints },
  };
  const { exits } = report;
  const histogram = (kind: keyof typeof HISTOGRAMS, key: string | undefined, byName: Readonly<Record<string, Histogram>> | undefined): OtlpMetric[] => {
    const { name: metric, unit, description, bounds, buckets } = HISTOGRAMS[kind];
    const dataPoints: OtlpHistogramDataPoint[] = [];
    for (const [name, values] of Object.entries(byName ?? {})) {
      const counts = bucketCounts(values, buckets);
      const total = counts.reduce((a, b) => a + b, 0);
      if (total === 0) continue;
      dataPoints.push({
        attributes: key === undefined ? [] : [text(key, name)],
        startTimeUnixNano: start,
        timeUnixNano: end,
        count: String(total),
        bucketCounts: counts.map(String),
        explicitBounds: bounds,
      });
    }
    return dataPoints.length === 0 ? [] : [{ name: metric, description, unit, histogram: { aggregationTemporality: AGGREGATION_TEMPORALITY_DELTA, dataPoints } }];
  };
  const metrics = [
    ...sum('calls', NAME_ATTRIBUTE, report.counts),
    ...sum('errors', NAME_ATTRIBUTE, report.errors),
    ...sum('dropped', DROP_REASON_ATTRIBUTE, report.dropped),
    ...histogram('durations', NAME_ATTRIBUTE, report.durations),
    ...histogram('numbers', SIGNAL_NAME_ATTRIBUTE, report.numbers),
    ...(choicePoints.length === 0 ? [] : [choices]),
    ...(exits === undefined ? [] : sum('runs', RUN_OUTCOME_ATTRIBUTE, { normal: exits.normal, nonZero: exits.nonZero, signal: exits.signal })),
    ...(exits === undefined ? [] : histogram('runDuration', undefined, { run: exits.duration })),
  ];
  return {
    resourceMetrics: [
      {
        resource: { attributes: resourceAttributes(report, instanceId), droppedAttributesCount: 0 },
        scopeMetrics: [{ scope: { name: 'tallyho', version: VERSION }, metrics }],
      },
    ],
  };
}

/** The number of data points in a request: what a partial success's `rejectedDataPoints` is out of. */
export function dataPointCount(request: OtlpMetricsRequest): number {
  let n = 0;
  for (const rm of request.resourceMetrics) {
    for (const sm of rm.scopeMetrics) for (const m of sm.metrics) n += 'sum' in m ? m.sum.dataPoints.length : m.histogram.dataPoints.length;
  }
  return n;
}

/** An ISO timestamp as nanoseconds since the epoch, exactly: milliseconds times 10^6 passes 2^53, so BigInt. */
function unixNano(iso: string): string {
  return (BigInt(Date.parse(iso)) * 1_000_000n).toString();
}

function text(key: string, value: string): OtlpKeyValue {
  return { key, value: { stringValue: value } };
}
