// Timing helpers for the per-call benchmark: loop builders, calibration, interleaved rounds, statistics.
//
// Clock: the process's CPU time (process.cpuUsage, user + system, microsecond resolution). On a shared
// machine, wall time also counts the time other processes hold the CPU; CPU time does not. Wall time is
// recorded too, for reference.

/** CPU time of this process, in nanoseconds. */
export function cpuNs() {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) * 1000;
}

/** Monotonic wall time, in nanoseconds. */
export function wallNs() {
  return Number(process.hrtime.bigint());
}

/**
 * A hot loop that calls `o.m(i)` n times and uses every result. Each loop is compiled from its own
 * source text (the tag makes it unique: V8 caches identical `new Function` sources), so each case has
 * its own call-site feedback and no case makes another's call site polymorphic.
 */
export function callLoop(tag) {
  return new Function(
    'o',
    'n',
    `// call loop: ${tag}
    let r = 0;
    for (let i = 0; i < n; i++) {
      if (o.m(i) !== undefined) r++;
    }
    return r;`,
  );
}

/** A hot loop that constructs `new C(i)` n times and reads every instance. */
export function newLoop(tag) {
  return new Function(
    'C',
    'n',
    `// construct loop: ${tag}
    let r = 0;
    for (let i = 0; i < n; i++) {
      if (new C(i).k !== i) r++;
    }
    return r;`,
  );
}

/**
 * Finds the iteration count for which one run of the case takes about `targetNs` of CPU time. It
 * doubles n until a run takes a quarter of the target, then re-measures at the scaled count until two
 * estimates agree (the first runs include compilation, which would make n far too small). These runs
 * double as warm-up: by the end the loop and what it calls are optimized.
 */
function calibrate(c, targetNs) {
  const timed = (n) => {
    const t0 = cpuNs();
    c.sink += c.run(n);
    c.calls += n;
    return Math.max(cpuNs() - t0, 1);
  };
  const clamp = (n) => Math.max(1000, Math.min(2 ** 30, Math.round(n)));
  let n = 1000;
  let dt = timed(n);
  while (dt < targetNs / 4 && n < 2 ** 30) {
    n = clamp(n * (dt < targetNs / 64 ? 8 : 2));
    dt = timed(n);
  }
  let estimate = clamp((n * targetNs) / dt);
  for (let i = 0; i < 5; i++) {
    const next = clamp((estimate * targetNs) / timed(estimate));
    const settled = Math.abs(next - estimate) / estimate < 0.2;
    estimate = next;
    if (settled) break;
  }
  return estimate;
}

/**
 * Runs every case in `cases` ({ id, run(n) -> number }) for `rounds` rounds. Within a round each case
 * runs once, for about `roundMs` of CPU time; the order rotates from round to round, so every case
 * takes every position equally often. Adds to each case: n, calls, sink, cpu[] and wall[] (ns per
 * call, one entry per round).
 */
export function measureInterleaved(cases, { rounds, roundMs, warmups }) {
  const targetNs = roundMs * 1e6;
  for (const c of cases) {
    c.calls = 0;
    c.sink = 0;
    c.cpu = [];
    c.wall = [];
    c.n = calibrate(c, targetNs);
  }
  for (let w = 0; w < warmups; w++) {
    for (const c of cases) {
      c.sink += c.run(c.n);
      c.calls += c.n;
    }
  }
  const k = cases.length;
  for (let r = 0; r < rounds; r++) {
    for (let j = 0; j < k; j++) {
      const c = cases[(j + r) % k];
      const w0 = wallNs();
      const c0 = cpuNs();
      c.sink += c.run(c.n);
      const cpu = cpuNs() - c0;
      const wall = wallNs() - w0;
      c.calls += c.n;
      c.cpu.push(cpu / c.n);
      c.wall.push(wall / c.n);
    }
  }
  return cases;
}

/** Median, quartiles, min and max of a list of numbers. */
export function summarize(values) {
  const s = [...values].sort((a, b) => a - b);
  const at = (q) => {
    const pos = (s.length - 1) * q;
    const lo = Math.floor(pos);
    const hi = Math.ceil(pos);
    return s[lo] + (s[hi] - s[lo]) * (pos - lo);
  };
  return { median: at(0.5), q1: at(0.25), q3: at(0.75), min: s[0], max: s[s.length - 1], n: s.length };
}

/** Median over rounds of case[r] / base[r]: each round's ratio is taken under the same conditions. */
export function pairedRatio(values, baseValues) {
  return summarize(values.map((v, i) => v / baseValues[i]));
}

/** Median over runs of case[r] - base[r]. */
export function pairedDifference(values, baseValues) {
  return summarize(values.map((v, i) => v - baseValues[i]));
}
