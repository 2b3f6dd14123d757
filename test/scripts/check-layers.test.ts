import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error a plain ES module script, without types
import { layerViolations } from '../../scripts/check-layers.mjs';

const violations = layerViolations as (srcDir: string) => string[];
const root = mkdtempSync(join(tmpdir(), 'tallyho-layers-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let made = 0;
function tree(files: Record<string, string>): string {
  const dir = join(root, String(made++));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

describe('the layering of src/', () => {
  it('holds: no folder imports from a higher one', () => {
    expect(violations(fileURLToPath(new URL('../../src/', import.meta.url)))).toEqual([]);
  });

  it('finds an import from a lower folder to a higher one, static, dynamic or re-exported', () => {
    const dir = tree({
      'config/env.ts': "import { readOtlpEnv } from '../transports/otlp-env.js';\nexport { x } from '../delivery/spool.js';",
      'registry/table.ts': "const late = () => import('../report/report.js');",
      'transports/http.ts': "import type { Report } from '../report/report.js';\nimport { VERSION } from '../version.js';",
      'telemetry.ts': "import { x } from './delivery/spool.js';\nimport { y } from './options.js';",
    });
    const found = violations(dir);
    expect(found).toHaveLength(3);
    expect(found.join('\n')).toMatch(/config\/env\.ts: imports \.\.\/transports\/otlp-env\.js, a higher layer/);
    expect(found.join('\n')).toMatch(/config\/env\.ts: imports \.\.\/delivery\/spool\.js/);
    expect(found.join('\n')).toMatch(/registry\/table\.ts: imports \.\.\/report\/report\.js/);
  });

  it('asks for a place for a folder that is in no layer', () => {
    expect(violations(tree({ 'extras/thing.ts': 'export const a = 1;' }))).toEqual([
      'extras/thing.ts: the folder extras/ is in no layer of scripts/check-layers.mjs',
    ]);
  });
});
