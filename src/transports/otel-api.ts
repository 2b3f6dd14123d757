import { createNoopMeter, type Counter, type Histogram as OtelHistogram, type Meter, type MeterProvider, metrics, ValueType } from '@opentelemetry/api';
import type { Histogram, Report } from '../report/report.js';
import {
  bucketCounts,
  CHOICE_ATTRIBUTE,
  DROP_REASON_ATTRIBUTE,
  HISTOGRAMS,
  METRIC_DESCRIPTIONS,
  METRIC_NAMES,
  METRIC_UNIT,
  NAME_ATTRIBUTE,
  RUN_OUTCOME_ATTRIBUTE,
  SIGNAL_NAME_ATTRIBUTE,
} from './otlp-encode.js';
import type { SendOutcome, Transport } from './transport.js';
import { errorText } from '../config/error-text.js';

/** Options of {@link otelTransport}. */
export interface OtelTransportOptions {
  /**
   * The provider to record into, for a host that keeps its own instead of registering it globally.
   * Default: the global MeterProvider, looked up at every send.
   */
  readonly meterProvider?: MeterProvider;
}

/** A success that has something to say under `TALLYHO_DEBUG`, such as why nothing was recorded. */
type NotedSuccess = Extract<SendOutcome, { kind: 'success' }>;

/** The instruments of one meter, kept while the meter stays the same. */
interface Instruments {
  readonly meter: Meter;
  readonly calls: Counter;
  readonly errors: Counter;
  readonly dropped: Counter;
  readonly choices: Counter;
  readonly runs: Counter;
  readonly histograms: Record<keyof typeof HISTOGRAMS, OtelHistogram>;
}

const NO_SDK: NotedSuccess = {
  kind: 'success',
  note: 'no OpenTelemetry MeterProvider is registered, so the counts were not recorded; register an SDK MeterProvider to receive them',
};

/**
 * A transport that records each report's counts in the host's OpenTelemetry metrics, for a host that
 * already exports metrics with the OpenTelemetry SDK: the counts then travel with the host's own
 * metrics, through its exporters, to its backend.
 *
 * The meter is `metrics.getMeter(project, version)`; the instruments are monotonic integer counters
 * `tallyho.calls`, `tallyho.errors` and `tallyho.dropped` (unit `{call}`), each point with the counted
 * name as `code.function.name` (drops with `tallyho.drop.reason`). The meter and instruments are
 * looked up at every send, never at import: the OpenTelemetry API has no proxy meter provider, and a
 * counter made before the SDK is registered would stay a no-op forever.
 *
 * With no SDK registered, a send records nothing and succeeds, saying so under `TALLYHO_DEBUG`. It has
 * no spec: the provider lives in the host, so reports left at exit wait for the host's next run.
 */
export function otelTransport(options: OtelTransportOptions = {}): Transport {
  if (typeof options !== 'object' || options === null) throw new TypeError('otelTransport(options): options must be an object');
  const { meterProvider } = options;
  if (meterProvider !== undefined && typeof (meterProvider as Partial<MeterProvider>).getMeter !== 'function') {
    throw new TypeError('otelTransport: meterProvider must be an OpenTelemetry MeterProvider (an object with getMeter())');
  }
  let cached: Instruments | undefined;

  /** The counters of the meter in force now; re-made only when the provider hands out another meter. */
  function instruments(project: string, version: string): Instruments | undefined {
    const meter = (meterProvider ?? metrics.getMeterProvider()).getMeter(project, version);
    // The API hands out one shared no-op meter while no provider is registered.
    if (meter === createNoopMeter()) return undefined;
    if (cached?.meter === meter) return cached;
    const counter = (name: string, description: string): Counter =>
      meter.createCounter(name, { description, unit: METRIC_UNIT, valueType: ValueType.INT });
    const histogram = (kind: keyof typeof HISTOGRAMS): OtelHistogram => {
      const { name, description, unit, bounds } = HISTOGRAMS[kind];
      // The same fixed bounds as tallyho's buckets, so each recorded value lands in its own bucket.
      return meter.createHistogram(name, { description, unit, advice: { explicitBucketBoundaries: [...bounds] } });
    };
    cached = {
      meter,
      calls: counter(METRIC_NAMES.calls, METRIC_DESCRIPTIONS.calls),
      errors: counter(METRIC_NAMES.errors, METRIC_DESCRIPTIONS.errors),
      dropped: counter(METRIC_NAMES.dropped, METRIC_DESCRIPTIONS.dropped),
      choices: meter.createCounter(METRIC_NAMES.choices, { description: METRIC_DESCRIPTIONS.choices, unit: '1', valueType: ValueType.INT }),
      runs: meter.createCounter(METRIC_NAMES.runs, { description: METRIC_DESCRIPTIONS.runs, unit: '{run}', valueType: ValueType.INT }),
      histograms: { durations: histogram('durations'), numbers: histogram('numbers'), runDuration: histogram('runDuration') },
    };
    return cached;
  }

  return {
    name: meterProvider === undefined ? 'OpenTelemetry API (global MeterProvider)' : 'OpenTelemetry API (MeterProvider given)',
    async send(report, sendOptions) {
      if (sendOptions.signal.aborted) return { kind: 'retryable', reason: 'not recorded: the caller stopped waiting' };
      try {
        const found = instruments(report.project, report.version);
        if (found === undefined) return NO_SDK;
        record(found.calls, NAME_ATTRIBUTE, report.counts);
        record(found.errors, NAME_ATTRIBUTE, report.errors);
        record(found.dropped, DROP_REASON_ATTRIBUTE, report.dropped);
        for (const [name, values] of Object.entries(report.choices ?? {})) {
          for (const [value, n] of Object.entries(values)) if (n > 0) found.choices.add(n, { [SIGNAL_NAME_ATTRIBUTE]: name, [CHOICE_ATTRIBUTE]: value });
        }
        if (report.exits !== undefined) {
          const { normal, nonZero, signal } = report.exits;
          record(found.runs, RUN_OUTCOME_ATTRIBUTE, { normal, nonZero, signal });
        }
        await recordHistograms(found, report);
        return { kind: 'success' };
      } catch (error) {
        // A provider is host code: whatever it throws stays an outcome.
        return { kind: 'failure', reason: `the MeterProvider threw: ${errorText(error)}` };
      }
    },
  };
}

function record(counter: Counter, key: string, values: Readonly<Record<string, number | undefined>> | undefined): void {
  if (values === undefined) return;
  for (const [name, n] of Object.entries(values)) if (n !== undefined && n > 0) counter.add(n, { [key]: name });
}

/** Values recorded before the bridge lets the host's event loop run: a bucket may count millions. */
const RECORDS_PER_TURN = 10_000;

/**
 * Records a report's histograms into OpenTelemetry histograms. The API takes values, not bucket
 * counts, so each counted value is recorded as its bucket's bound (twice the last bound for the
 * overflow bucket), which the histogram's bounds, tallyho's own, put back in the same bucket. The sum
 * the SDK keeps is therefore made of bounds, not of durations or numbers. Long runs of records yield
 * to the event loop.
 */
async function recordHistograms(found: Instruments, report: Report): Promise<void> {
  const groups: [keyof typeof HISTOGRAMS, string | undefined, Readonly<Record<string, Histogram>> | undefined][] = [
    ['durations', NAME_ATTRIBUTE, report.durations],
    ['numbers', SIGNAL_NAME_ATTRIBUTE, report.numbers],
    ['runDuration', undefined, report.exits === undefined ? undefined : { run: report.exits.duration }],
  ];
  let sinceYield = 0;
  for (const [kind, key, byName] of groups) {
    const { bounds, buckets } = HISTOGRAMS[kind];
    const instrument = found.histograms[kind];
    for (const [name, values] of Object.entries(byName ?? {})) {
      const attributes = key === undefined ? {} : { [key]: name };
      const counts = bucketCounts(values, buckets);
      for (let i = 0; i < counts.length; i++) {
        const value = i < bounds.length ? bounds[i]! : bounds[bounds.length - 1]! * 2;
        for (let n = counts[i]!; n > 0; n--) {
          instrument.record(value, attributes);
          if (++sinceYield === RECORDS_PER_TURN) {
            sinceYield = 0;
            await new Promise((resolve) => setImmediate(resolve));
          }
        }
      }
    }
  }
}
