import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { inject } from 'vitest';
import type { DefinePrivateShapes } from './cases.js';
import type { defineShapes } from './shapes.js';

/** The shapes as tsc compiled them for this run (see test/global-setup.ts), with its diagnostics. */
export interface TscBuild {
  readonly defineShapes: typeof defineShapes;
  readonly definePrivateShapes?: DefinePrivateShapes | undefined;
  readonly diagnostics: string;
}

export async function loadTscBuild(mode: 'tc39' | 'legacy'): Promise<TscBuild> {
  const dir = pathToFileURL(`${inject('decoratorFixtures')[mode]}/`);
  // Paths known only at run time: the type checker must not go looking for the builds.
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
