/** The levels from least to most: each carries everything of the levels below it. */
export const LEVELS = ['basic', 'usage', 'full'] as const;

/** How much an author collects: one of {@link LEVELS}. */
export type Level = (typeof LEVELS)[number];

/** Whether `word` names a level. */
export function isLevel(word: string): word is Level {
  return (LEVELS as readonly string[]).includes(word);
}

/** True when `level` includes everything of `floor`. */
export function atLeast(level: Level, floor: Level): boolean {
  return LEVELS.indexOf(level) >= LEVELS.indexOf(floor);
}
