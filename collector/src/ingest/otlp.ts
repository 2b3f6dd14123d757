import { createHash } from 'node:crypto';

/**
 * OTLP/HTTP JSON as tallyho's `otlpTransport` sends it, turned back into reports: one report per
 * resource. The resource carries the project (`service.name`), version, runtime, machine and salted
 * ids; the points of `tallyho.calls`, `tallyho.errors` and `tallyho.dropped` carry the counts, and
 * those of `tallyho.runs` and `tallyho.run.duration` how runs ended (the report's `exits`).
 */
export interface OtlpReport {
  /** The report rebuilt from the resource, to be validated with `ReportSchema` like any other. */
  readonly report: Record<string, unknown>;
  /** `os arch` from `os.type` and `host.arch` (OTLP has no CPU count or memory, so the report has no `platform`). */
  readonly platformKey: string | undefined;
}

/** The reports of a request, and how many data points were not tallyho's and so were not taken. */
export interface OtlpReports {
  /** One report per resource that carried tallyho's metrics. */
  readonly reports: readonly OtlpReport[];
  /** Data points not taken: other metrics, other kinds or temporalities, a run outcome or bucket bounds not tallyho's. */
  readonly rejectedPoints: number;
}

/** The semantic conventions' names back to what a report says (`otlp-encode.ts` in tallyho maps them the other way). */
const OS_NAMES: Readonly<Record<string, string>> = { windows: 'win32', solaris: 'sunos', z_os: 'os390' };
const ARCH_NAMES: Readonly<Record<string, string>> = { amd64: 'x64', x86: 'ia32', arm32: 'arm', ppc32: 'ppc' };
const RUNTIME_NAMES: Readonly<Record<string, string>> = { nodejs: 'node' };
const ID_ATTRIBUTES: Readonly<Record<string, string>> = {
  'tallyho.week_id': 'weekId',
  'tallyho.install_id': 'installId',
  'tallyho.user_hash': 'userHash',
  'tallyho.machine_hash': 'machineHash',
};
const METRICS: Readonly<Record<string, { field: string; attribute: string }>> = {
  'tallyho.calls': { field: 'counts', attribute: 'code.function.name' },
  'tallyho.errors': { field: 'errors', attribute: 'code.function.name' },
  'tallyho.dropped': { field: 'dropped', attribute: 'tallyho.drop.reason' },
  'tallyho.runs': { field: 'exits', attribute: 'tallyho.run.outcome' },
};

/** How a run ended, as `tallyho.runs` says by `tallyho.run.outcome`: the counts of a report's `exits`. */
const RUN_OUTCOMES: ReadonlySet<string> = new Set(['normal', 'nonZero', 'signal']);

/** The explicit-bucket histogram of how long runs ran: the report's `exits.duration`. */
const RUN_DURATION = 'tallyho.run.duration';

/**
 * The bounds of tallyho's duration buckets in milliseconds, 2^k µs for k from 0 to 41 (its
 * `registry/buckets.ts`); a bucket is named by its bound, the last one `+Inf`. A histogram on other
 * bounds is not tallyho's, and its points are not taken.
 */
const DURATION_BOUNDS_MS: readonly number[] = Array.from({ length: 42 }, (_, k) => 2 ** k / 1000);

/** The shape problem of an OTLP body, named; thrown by {@link otlpReports} and answered 400. */
export class OtlpShapeError extends Error {}

/**
 * The reports in an `ExportMetricsServiceRequest`. Points of other metrics, of other kinds than
 * tallyho's delta Sums and its run-duration Histogram, or on bucket bounds other than tallyho's, are
 * counted as rejected (the client records them as dropped), never guessed at.
 *
 * A report's id is derived from what identifies its deliveries (the process's `service.instance.id`,
 * the project, version and period): a retried request gets the same id, so it is not counted twice.
 *
 * @throws OtlpShapeError when the body is not an OTLP metrics request.
 */
export function otlpReports(body: unknown): OtlpReports {
  const resourceMetrics = field(body, 'resourceMetrics', 'the body');
  if (!Array.isArray(resourceMetrics)) throw new OtlpShapeError('resourceMetrics: expected an array');
  const reports: OtlpReport[] = [];
  let rejectedPoints = 0;
  resourceMetrics.forEach((rm: unknown, r) => {
    const where = `resourceMetrics.${r}`;
    const attributes = attributeMap(field(field(rm, 'resource', where) ?? {}, 'attributes', `${where}.resource`), `${where}.resource.attributes`);
    const maps: Record<string, Record<string, number>> = { counts: {}, errors: {}, dropped: {}, exits: {}, runDuration: {} };
    let start: bigint | undefined;
    let end: bigint | undefined;
    const span = (point: unknown, pat: string): void => {
      const t0 = nanos(field(point, 'startTimeUnixNano', pat), `${pat}.startTimeUnixNano`);
      const t1 = nanos(field(point, 'timeUnixNano', pat), `${pat}.timeUnixNano`);
      if (start === undefined || t0 < start) start = t0;
      if (end === undefined || t1 > end) end = t1;
    };
    const scopeMetrics = field(rm, 'scopeMetrics', where) ?? [];
    if (!Array.isArray(scopeMetrics)) throw new OtlpShapeError(`${where}.scopeMetrics: expected an array`);
    scopeMetrics.forEach((sm: unknown, s) => {
      const metrics = field(sm, 'metrics', `${where}.scopeMetrics.${s}`) ?? [];
      if (!Array.isArray(metrics)) throw new OtlpShapeError(`${where}.scopeMetrics.${s}.metrics: expected an array`);
      metrics.forEach((metric: unknown, m) => {
        const at = `${where}.scopeMetrics.${s}.metrics.${m}`;
        const name = field(metric, 'name', at);
        const known = typeof name === 'string' ? METRICS[name] : undefined;
        const sum = field(metric, 'sum', at);
        const points = pointsOf(metric);
        const histogram = field(metric, 'histogram', at);
        if (name === RUN_DURATION && histogram !== undefined && field(histogram, 'aggregationTemporality', at) === 1) {
          points.forEach((point: unknown, p) => {
            const pat = `${at}.histogram.dataPoints.${p}`;
            const buckets = durationBuckets(point, pat);
            if (buckets === undefined) {
              rejectedPoints += 1;
              return;
            }
            for (const [bucket, n] of buckets) maps.runDuration![bucket] = (maps.runDuration![bucket] ?? 0) + n;
            span(point, pat);
          });
          return;
        }
        // tallyho sends DELTA (1) monotonic sums; anything else would be misread as counts.
        if (known === undefined || sum === undefined || field(sum, 'aggregationTemporality', at) !== 1) {
          rejectedPoints += points.length;
          return;
        }
        points.forEach((point: unknown, p) => {
          const pat = `${at}.sum.dataPoints.${p}`;
          const key = attributeMap(field(point, 'attributes', pat), `${pat}.attributes`)[known.attribute];
          const n = integer(field(point, 'asInt', pat), `${pat}.asInt`);
          if (typeof key !== 'string' || n === undefined || (known.field === 'exits' && !RUN_OUTCOMES.has(key))) {
            rejectedPoints += 1;
            return;
          }
          const map = maps[known.field]!;
          map[key] = (map[key] ?? 0) + n;
          span(point, pat);
        });
      });
    });
    if (start === undefined || end === undefined) return; // nothing of tallyho's in this resource
    reports.push(toReport(attributes, maps, start, end));
  });
  return { reports, rejectedPoints };
}

function toReport(attributes: Record<string, string | boolean | number>, maps: Record<string, Record<string, number>>, start: bigint, end: bigint): OtlpReport {
  const text = (key: string): string | undefined => (typeof attributes[key] === 'string' ? (attributes[key] as string) : undefined);
  const project = text('service.name');
  const version = text('service.version');
  const period = { start: isoTime(start), end: isoTime(end) };
  const exits = maps.exits!;
  const carriesExits = Object.keys(exits).length > 0 || Object.keys(maps.runDuration!).length > 0;
  const report: Record<string, unknown> = {
    schema: 1,
    id: derivedId([text('service.instance.id') ?? '', project ?? '', version ?? '', period.start, period.end]),
    project,
    version,
    period,
    // OTLP carries no trigger; the level follows from the ids and the fields only `usage` and above carry.
    trigger: 'timer',
    level: text('tallyho.install_id') !== undefined ? 'full' : text('tallyho.week_id') !== undefined || Object.keys(maps.errors!).length > 0 || carriesExits ? 'usage' : 'basic',
    counts: maps.counts,
    dropped: maps.dropped,
  };
  if (Object.keys(maps.errors!).length > 0) report.errors = maps.errors;
  if (carriesExits) report.exits = { normal: exits.normal ?? 0, nonZero: exits.nonZero ?? 0, signal: exits.signal ?? 0, duration: maps.runDuration };
  const runtime = text('process.runtime.name');
  const runtimeVersion = text('process.runtime.version');
  if (runtime !== undefined && runtimeVersion !== undefined) report.runtime = { name: RUNTIME_NAMES[runtime] ?? runtime, version: runtimeVersion };
  if (typeof attributes['tallyho.ci'] === 'boolean') report.ci = attributes['tallyho.ci'];
  for (const [attribute, key] of Object.entries(ID_ATTRIBUTES)) {
    const value = text(attribute);
    if (value !== undefined) report[key] = value;
  }
  const os = text('os.type');
  const arch = text('host.arch');
  const platformKey = os !== undefined && arch !== undefined ? `${OS_NAMES[os] ?? os} ${ARCH_NAMES[arch] ?? arch}` : undefined;
  return { report, platformKey };
}

function pointsOf(metric: unknown): unknown[] {
  for (const kind of ['sum', 'gauge', 'histogram', 'exponentialHistogram', 'summary']) {
    const data = (metric as Record<string, unknown> | null)?.[kind] as Record<string, unknown> | undefined;
    if (data !== undefined && Array.isArray(data?.dataPoints)) return data.dataPoints;
  }
  return [];
}

/**
 * A histogram point's counts by tallyho's bucket name, those above 0; undefined when its bounds are
 * not tallyho's duration bounds or its counts do not match them.
 */
function durationBuckets(point: unknown, where: string): [string, number][] | undefined {
  const bounds = field(point, 'explicitBounds', where);
  const counts = field(point, 'bucketCounts', where);
  if (!Array.isArray(bounds) || !Array.isArray(counts) || bounds.length !== DURATION_BOUNDS_MS.length || counts.length !== bounds.length + 1) return undefined;
  if (bounds.some((b, i) => b !== DURATION_BOUNDS_MS[i])) return undefined;
  const buckets: [string, number][] = [];
  counts.forEach((c: unknown, i) => {
    const n = integer(c, `${where}.bucketCounts.${i}`);
    if (n !== undefined && n > 0) buckets.push([i < bounds.length ? String(bounds[i]) : '+Inf', n]);
  });
  return buckets;
}

function field(value: unknown, key: string, where: string): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new OtlpShapeError(`${where}: expected an object`);
  return (value as Record<string, unknown>)[key];
}

function attributeMap(list: unknown, where: string): Record<string, string | boolean | number> {
  const map: Record<string, string | boolean | number> = Object.create(null) as Record<string, string | boolean | number>;
  if (list === undefined) return map;
  if (!Array.isArray(list)) throw new OtlpShapeError(`${where}: expected an array`);
  list.forEach((kv: unknown, i) => {
    const key = field(kv, 'key', `${where}.${i}`);
    const value = field(kv, 'value', `${where}.${i}`) as Record<string, unknown> | undefined;
    if (typeof key !== 'string' || typeof value !== 'object' || value === null) return;
    if (typeof value.stringValue === 'string') map[key] = value.stringValue;
    else if (typeof value.boolValue === 'boolean') map[key] = value.boolValue;
    else if (value.intValue !== undefined) {
      const n = integer(value.intValue, `${where}.${i}.value.intValue`);
      if (n !== undefined) map[key] = n;
    }
  });
  return map;
}

/** OTLP/JSON writes 64-bit integers as numbers or decimal strings; a count must be a safe whole number. */
function integer(value: unknown, where: string): number | undefined {
  if (value === undefined) return undefined; // a point of another kind (asDouble): not taken, not guessed
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new OtlpShapeError(`${where}: expected a whole number from 0 to 2^53-1`);
  return n;
}

function nanos(value: unknown, where: string): bigint {
  if ((typeof value === 'string' && /^\d{1,20}$/.test(value)) || (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0)) return BigInt(value);
  throw new OtlpShapeError(`${where}: expected nanoseconds since the epoch`);
}

function isoTime(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  if (!Number.isFinite(ms) || ms > 8.64e15) throw new OtlpShapeError('a data point time is out of range');
  return new Date(ms).toISOString();
}

/** A UUID (version 8, RFC 9562's custom layout) from a SHA-256 of the parts. */
function derivedId(parts: readonly string[]): string {
  const hash = createHash('sha256').update(JSON.stringify(parts)).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x80;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
