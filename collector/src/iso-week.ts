/**
 * ISO 8601 weeks as integers `YYYYWW` (2026-W48 is 202648): they sort, compare and index as numbers, and
 * a week is what tallyho's weekly ids rotate on, so aggregates use the same unit.
 */

const DAY_MS = 86_400_000;

/** The ISO week that `time` (milliseconds since the epoch, UTC) falls in, as `YYYYWW`. */
export function isoWeek(time: number): number {
  const date = new Date(time);
  // The week belongs to the year of its Thursday.
  const day = (date.getUTCDay() + 6) % 7; // Monday 0 ... Sunday 6
  const thursday = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() - day + 3);
  const year = new Date(thursday).getUTCFullYear();
  const week = 1 + Math.floor((thursday - Date.UTC(year, 0, 1)) / (7 * DAY_MS));
  return year * 100 + week;
}

/** Monday 00:00 UTC of an ISO week, in milliseconds since the epoch. */
export function weekStart(week: number): number {
  const year = Math.floor(week / 100);
  const n = week % 100;
  // 4 January is always in week 1.
  const jan4 = Date.UTC(year, 0, 4);
  const mondayOfWeek1 = jan4 - ((new Date(jan4).getUTCDay() + 6) % 7) * DAY_MS;
  return mondayOfWeek1 + (n - 1) * 7 * DAY_MS;
}

/** `202648` as `2026-W48`. */
export function weekLabel(week: number): string {
  return `${Math.floor(week / 100)}-W${String(week % 100).padStart(2, '0')}`;
}

/** `2026-W48` as `202648`, or undefined when it is not an ISO week. */
export function parseWeekLabel(label: string): number | undefined {
  const match = /^(\d{4})-W(\d{2})$/.exec(label);
  if (match === null) return undefined;
  const week = Number(match[1]) * 100 + Number(match[2]);
  return isoWeek(weekStart(week)) === week ? week : undefined;
}

/** The `count` weeks ending with `last`, oldest first. */
export function weeksEndingWith(last: number, count: number): number[] {
  const end = weekStart(last);
  const weeks: number[] = [];
  for (let i = count - 1; i >= 0; i--) weeks.push(isoWeek(end - i * 7 * DAY_MS));
  return weeks;
}
