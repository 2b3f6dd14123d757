import * as late from './late.js';

/** The code only reporting needs (see `late.ts`). */
export type Late = typeof late;

/**
 * The late code, loaded on first call. From source it is imported like any module; in the package,
 * scripts/build.mjs replaces this file so that the bundles require `late.cjs` from beside themselves on
 * first call (synchronously: at exit an ES module can no longer `import()`).
 */
export function loadLate(): Late {
  return late;
}

/**
 * False when the late code is missing from beside the bundle (a host re-bundled tallyho's ES module
 * build without copying its other files): telemetry is then off, and says why, rather than counting
 * what it could never report.
 */
export function lateAvailable(): boolean {
  return true;
}
