import { readFileSync } from 'node:fs';
import type { DefinePrivateShapes } from './cases.js';
import type { defineShapes } from './shapes.js';

/** The shapes as tsc compiled them ahead of the run (see test/global-setup.ts), with its diagnostics. */
export interface TscBuild {
  readonly defineShapes: typeof defineShapes;
  readonly definePrivateShapes?: DefinePrivateShapes | undefined;
  readonly diagnostics: string;
}

export async function loadTscBuild(mode: 'tc39' | 'legacy'): Promise<TscBuild> {
  const dir = new URL(`../../build/fixtures/${mode}/`, import.meta.url);
  // The paths are computed so that vite leaves the compiled JavaScript as tsc wrote it.
  const shapes = (await import(/* @vite-ignore */ new URL('test/decorators/shapes.js', dir).href)) as typeof import('./shapes.js');
  const privateShapes =
    mode === 'tc39'
      ? ((await import(/* @vite-ignore */ new URL('test/decorators/private-shapes.js', dir).href)) as typeof import('./private-shapes.js'))
      : undefined;
  return {
    defineShapes: shapes.defineShapes,
    definePrivateShapes: privateShapes?.definePrivateShapes,
    diagnostics: readFileSync(new URL('tsc.log', dir), 'utf8'),
  };
}
