/**
 * The fixed, log-scaled buckets that durations and recorded numbers are counted in: a value is never
 * kept or reported, only which bucket it fell in. The bounds are fixed, the same in every report of
 * every project and version, so buckets add up across reports, batches and receivers.
 *
 * A bucket is named by its upper bound, as OpenTelemetry's explicit-bucket histograms and Prometheus'
 * `le` name them; the overflow bucket is `+Inf`. A histogram in a report lists only the buckets that
 * counted something.
 */

/** The name of the bucket that holds everything above the last bound. */
export const OVERFLOW_BUCKET = '+Inf';

/** Durations: powers of two in microseconds, from 1 µs to 2^41 µs (about 25 days), then `+Inf`. */
const DURATION_POWERS = 42;

/**
 * The upper bounds of the duration buckets, in milliseconds (0.001, 0.002, 0.004, ... 2199023255.552).
 * A duration falls in the first bucket whose bound is above it.
 */
export const DURATION_BOUNDS_MS: readonly number[] = Array.from({ length: DURATION_POWERS }, (_, k) => 2 ** k / 1000);

/** Numbers given to `record()`: 0, then powers of two minus one (1, 3, 7, ... 2^53 - 1), then `+Inf`. */
const SIZE_POWERS = 54;

/**
 * The upper bounds of the buckets of recorded numbers (0, 1, 3, 7, 15, ... 2^53 - 1), each inclusive:
 * the bucket `7` holds 4 to 7. A fractional number counts as its whole part.
 */
export const SIZE_BOUNDS: readonly number[] = Array.from({ length: SIZE_POWERS }, (_, k) => 2 ** k - 1);

/** How many slots a duration histogram has: one per bound, and the overflow. */
export const DURATION_SLOTS = DURATION_POWERS + 1;

/** How many slots a histogram of recorded numbers has: one per bound, and the overflow. */
export const SIZE_SLOTS = SIZE_POWERS + 1;

/** The bucket names of durations, slot by slot (`0.001` ... `2199023255.552`, `+Inf`). */
export const DURATION_BUCKETS: readonly string[] = [...DURATION_BOUNDS_MS.map(String), OVERFLOW_BUCKET];

/** The bucket names of recorded numbers, slot by slot (`0`, `1`, `3` ... `9007199254740991`, `+Inf`). */
export const SIZE_BUCKETS: readonly string[] = [...SIZE_BOUNDS.map(String), OVERFLOW_BUCKET];

const TWO_32 = 2 ** 32;
/** Read once: a call of a module constant is a few bytes shorter than `Math.clz32(...)` (see durationSlot). */
const clz32 = Math.clz32;

/** The number of binary digits of a whole number `v` >= 2^32, exactly (Math.log2 rounds near powers of two). */
function bitLength(v: number): number {
  let k = Math.floor(Math.log2(v)) + 1;
  if (2 ** (k - 1) > v) k--;
  else if (2 ** k <= v) k++;
  return k;
}

/**
 * The slot of a duration of `ms` milliseconds (a non-negative number). This is on the path of every
 * timed call: below 2^32 µs (71 minutes) it is one multiplication and one `Math.clz32`, which
 * truncates to whole microseconds; the bucket of slot k holds [2^(k-1), 2^k) µs. Longer durations
 * are a call of their own, to keep this small: a timed wrapper inlines it, and V8 inlines the wrapper
 * into its caller only while all it brings fits a budget of bytecode (see decorators/wrappers).
 */
export function durationSlot(ms: number): number {
  const us = ms * 1000;
  return us < TWO_32 ? 32 - clz32(us) : longDurationSlot(us);
}

/** The slot of a duration of 2^32 µs or more. */
function longDurationSlot(us: number): number {
  const k = bitLength(Math.floor(us));
  return k < DURATION_POWERS ? k : DURATION_POWERS;
}

/** The slot of a recorded number `value` (finite and non-negative): its whole part's binary length. */
export function sizeSlot(value: number): number {
  if (value < TWO_32) return 32 - Math.clz32(value);
  const k = bitLength(Math.floor(value));
  return k < SIZE_POWERS ? k : SIZE_POWERS;
}

/** A fresh histogram of `slots` zeroed slots: a plain array, incremented in place. */
export function emptySlots(slots: number): number[] {
  return new Array<number>(slots).fill(0);
}

/** The histogram as a report carries it: bucket name to count, only the buckets that counted something. */
export function bucketsOf(slots: readonly number[], names: readonly string[]): Record<string, number> {
  const buckets: Record<string, number> = {};
  for (let i = 0; i < slots.length; i++) if (slots[i]! > 0) buckets[names[i]!] = slots[i]!;
  return buckets;
}

/** Whether any slot counted something. */
export function anyCounted(slots: readonly number[]): boolean {
  for (const n of slots) if (n !== 0) return true;
  return false;
}
