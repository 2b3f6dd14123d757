// Part 1: the cost of one call of a tracked method, measured in this one process.

import { callLoop, measureInterleaved, newLoop, pairedRatio, summarize } from './lib/measure.mjs';
import { constructVariantCases, freshBuiltClass, freshClass, variantCases } from './variants.mjs';

const ON = 'bench-on';
const OFF = 'bench-off';
const MANY = 'bench-many';
const SIGNALS = 'bench-signals';

/**
 * A legacy method decorator applied by hand: the descriptor it returns, if any, replaces the method.
 * (TypeScript's `__decorate` helper redefines the method even when the decorator returns nothing; the
 * variant row "method redefined with its own descriptor" shows what that costs.)
 */
function decorateMethod(decorator, proto, key) {
  const result = decorator(proto, key, Object.getOwnPropertyDescriptor(proto, key));
  if (result) Object.defineProperty(proto, key, result);
}

function callCase(id, label, group, subject) {
  const loop = callLoop(id);
  return { id, label, group, run: (n) => loop(subject, n) };
}

function constructCase(id, label, Cls) {
  const loop = newLoop(id);
  return { id, label, group: 'construct', run: (n) => loop(Cls, n) };
}

/**
 * Sets the environment tallyho reads when a telemetry is created: `bench-on` and `bench-many` opted in,
 * `bench-off` opted out, dry run, files in `home`. Variables that would turn everything off are removed
 * for this process, so that the "on" rows really are on.
 */
function prepareEnv(home) {
  for (const key of ['DO_NOT_TRACK', 'TALLYHO_DISABLE', 'TALLYHO_SHOW_ME', 'TALLYHO_DEBUG', 'TALLYHO_TIMER', 'TALLYHO_ENDPOINT']) {
    delete process.env[key];
  }
  process.env.TALLYHO_OPTIN = `${ON},${MANY},${SIGNALS}`;
  process.env.TALLYHO_OPTOUT = OFF;
  process.env.TALLYHO_DRY_RUN = '1';
  process.env.TALLYHO_HOME = home;
}

/** The OpenTelemetry SDK's meter behind the global API, as an application would register it; or why not. */
async function openTelemetry() {
  try {
    const api = await import('@opentelemetry/api');
    const sdk = await import('@opentelemetry/sdk-metrics');
    class BenchReader extends sdk.MetricReader {
      async onForceFlush() {}
      async onShutdown() {}
    }
    const reader = new BenchReader();
    const provider = new sdk.MeterProvider({ readers: [reader] });
    api.metrics.setGlobalMeterProvider(provider);
    return { meter: api.metrics.getMeter('bench'), reader, provider };
  } catch (error) {
    return { missing: `OpenTelemetry rows skipped: ${error.message.split('\n')[0]}` };
  }
}

/** Sums a counter's data points as the SDK would export them. */
async function otelTotals(reader) {
  const { resourceMetrics } = await reader.collect();
  const totals = {};
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      totals[metric.descriptor.name] = metric.dataPoints.reduce((sum, p) => sum + p.value, 0);
    }
  }
  return totals;
}

export async function perCallBench({ distUrl, home, settings }) {
  prepareEnv(home);
  const tallyho = await import(distUrl);
  const on = tallyho.createTelemetry({ project: ON, version: '1.0.0' });
  const off = tallyho.createTelemetry({ project: OFF, version: '1.0.0' });
  if (!on.status().enabled) throw new Error(`telemetry "${ON}" should be on: ${on.status().reason}`);
  if (off.status().enabled) throw new Error(`telemetry "${OFF}" should be off: ${off.status().reason}`);

  const cases = [];

  // (a) bare
  {
    const Subject = freshClass('bare');
    cases.push(callCase('bare', '(a) bare method', 'main', new Subject()));
  }
  // (b) tracked, telemetry on
  {
    const Subject = freshClass('on');
    decorateMethod(on.track(), Subject.prototype, 'm');
    cases.push(callCase('on', '(b) tallyho track(), telemetry on', 'main', new Subject()));
  }
  // (c) tracked, telemetry off: the decorator must hand back the original
  {
    const Subject = freshClass('off');
    const original = Subject.prototype.m;
    decorateMethod(off.track(), Subject.prototype, 'm');
    if (Subject.prototype.m !== original) throw new Error('a disabled telemetry replaced the method');
    cases.push(callCase('off', '(c) tallyho track(), telemetry off', 'main', new Subject()));
  }
  // (d) Proxy apply trap + OpenTelemetry SDK counter with one attribute; (d2) nestjs-otel's wrapper
  const otel = await openTelemetry();
  if (otel.meter) {
    const counter = otel.meter.createCounter('proxy.calls');
    const Subject = freshClass('otel-proxy');
    const descriptor = Object.getOwnPropertyDescriptor(Subject.prototype, 'm');
    const proxy = new Proxy(descriptor.value, {
      apply(target, thisArg, args) {
        counter.add(1, { 'code.function.name': 'Subject#m' });
        return Reflect.apply(target, thisArg, args);
      },
    });
    Object.defineProperty(Subject.prototype, 'm', { ...descriptor, value: proxy });
    cases.push(callCase('otel-proxy', "(d) Proxy apply trap + OTel counter.add(1, {code.function.name})", 'main', new Subject()));
  }
  if (otel.meter) {
    // nestjs-otel's OtelMethodCounter: a plain wrapper, one counter per method, no attributes.
    const Subject = freshClass('otel-wrapper');
    const descriptor = Object.getOwnPropertyDescriptor(Subject.prototype, 'm');
    const originalFunction = descriptor.value;
    const meter = otel.meter;
    let counterMetric;
    const wrappedFunction = function PropertyDescriptor(...args) {
      if (!counterMetric) counterMetric = meter.createCounter('app_Subject_m_calls_total');
      counterMetric.add(1);
      return originalFunction.apply(this, args);
    };
    Object.defineProperty(Subject.prototype, 'm', { ...descriptor, value: wrappedFunction });
    cases.push(callCase('otel-wrapper', '(d2) wrapper + OTel counter.add(1) (nestjs-otel style)', 'main', new Subject()));
  }

  // Durations and instrument(), counted into a project of their own (their calls are checked apart).
  const signals = tallyho.createTelemetry({ project: SIGNALS, version: '1.0.0' });
  if (!signals.status().enabled) throw new Error(`telemetry "${SIGNALS}" should be on`);
  const signalIds = ['untimed', 'timed', 'inst-fn', 'inst-arrow'];
  {
    const Untimed = freshClass('untimed');
    decorateMethod(signals.track(), Untimed.prototype, 'm');
    cases.push(callCase('untimed', '(g) track(), untimed (as (b), in this group)', 'signals', new Untimed()));
    const Timed = freshClass('timed');
    decorateMethod(signals.track({ time: true }), Timed.prototype, 'm');
    cases.push(callCase('timed', '(h) track({ time: true }): two clock reads and a bucket', 'signals', new Timed()));
    // One clock read, in a method that is otherwise bare: (i) - (a) is what one read costs.
    const Clock = new Function('perf', '// class: clock\nreturn class Subject { m(x) { perf.now(); } };')(globalThis.performance);
    cases.push(callCase('clock', '(i) one performance.now(), in a bare method', 'signals', new Clock()));
    // instrument() of a plain function, called as a property of the object it came back in.
    const plain = new Function('// plain function\nreturn { f: function f(x) {}, a: (x) => {} };')();
    const counted = signals.instrument(plain);
    cases.push(callCase('inst-fn', '(j) instrument() of a plain function, o.m(x)', 'signals', { m: counted.f }));
    cases.push(callCase('inst-arrow', '(k) instrument() of an arrow function, o.m(x)', 'signals', { m: counted.a }));
  }

  // Construction: `new` of a class tracked with the class decorator goes through the stand-in's trap.
  {
    cases.push(constructCase('new-bare', '(e) new, bare class', freshBuiltClass('new-bare')));
    const Tracked = on.track()(freshBuiltClass('new-on'));
    cases.push(constructCase('new-on', '(f) new, class tracked by track() (stand-in)', Tracked));
  }

  // A second instance of the bundle (own code, own feedback), 16 tracked methods all hot.
  let many;
  if (settings.variants) {
    const second = await import(`${distUrl}?instance=2`);
    many = second.createTelemetry({ project: MANY, version: '1.0.0' });
    if (!many.status().enabled) throw new Error(`telemetry "${MANY}" should be on`);
    const subjects = Array.from({ length: 16 }, (_, i) => {
      const Subject = freshClass(`many-${i}`);
      decorateMethod(many.track(), Subject.prototype, 'm');
      return new Subject();
    });
    const warm = callLoop('many warm-up');
    let warmCalls = 0;
    for (let round = 0; round < 20; round++) for (const s of subjects) (warm(s, 2000), (warmCalls += 2000));
    const c = callCase('on-16', 'tallyho on, 16 tracked methods hot', 'variant', subjects[0]);
    c.extraCalls = warmCalls;
    cases.push(c);
    cases.push(...variantCases(), ...constructVariantCases());
  }

  measureInterleaved(cases, settings);

  // Every call was made: the loops saw no unexpected result, and tallyho and OpenTelemetry counted them.
  const byId = Object.fromEntries(cases.map((c) => [c.id, c]));
  const checks = [];
  for (const c of cases) if (c.sink !== 0) checks.push(`${c.id}: unexpected results (${c.sink})`);
  const flushedOn = await on.flush();
  const expectOn = byId.on.calls;
  const newOn = byId['new-on'].calls;
  checks.push(
    flushedOn.calls === expectOn + newOn
      ? `tallyho "${ON}" counted ${flushedOn.calls} calls, as made`
      : `MISMATCH: tallyho "${ON}" counted ${flushedOn.calls} calls, ${expectOn + newOn} were made`,
  );
  {
    const flushed = await signals.flush();
    const expected = signalIds.reduce((sum, id) => sum + byId[id].calls, 0);
    checks.push(
      flushed.calls === expected
        ? `tallyho "${SIGNALS}" counted ${flushed.calls} calls, as made`
        : `MISMATCH: tallyho "${SIGNALS}" counted ${flushed.calls} calls, ${expected} were made`,
    );
    await signals.shutdown();
  }
  if (many) {
    const flushed = await many.flush();
    const expected = byId['on-16'].calls + byId['on-16'].extraCalls;
    checks.push(
      flushed.calls === expected
        ? `tallyho "${MANY}" counted ${flushed.calls} calls, as made`
        : `MISMATCH: tallyho "${MANY}" counted ${flushed.calls} calls, ${expected} were made`,
    );
    await many.shutdown();
  }
  if (otel.reader) {
    const totals = await otelTotals(otel.reader);
    for (const [name, id] of [['proxy.calls', 'otel-proxy'], ['app_Subject_m_calls_total', 'otel-wrapper']]) {
      checks.push(
        totals[name] === byId[id].calls
          ? `OpenTelemetry "${name}" counted ${totals[name]} calls, as made`
          : `MISMATCH: OpenTelemetry "${name}" counted ${totals[name]} calls, ${byId[id].calls} were made`,
      );
    }
    await otel.provider.shutdown();
  }
  await on.shutdown();

  const base = { main: byId.bare, variant: byId.bare, construct: byId['new-bare'], signals: byId.bare };
  const rows = cases.map((c) => ({
    id: c.id,
    label: c.label,
    group: c.group,
    base: base[c.group].id,
    iterations: c.n,
    cpuNs: summarize(c.cpu),
    wallNs: summarize(c.wall),
    ratio: pairedRatio(c.cpu, base[c.group].cpu),
  }));
  return { rows, checks, notes: otel.missing ? [otel.missing] : [] };
}
