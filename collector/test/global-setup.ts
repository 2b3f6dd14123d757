import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const collector = fileURLToPath(new URL('..', import.meta.url));
const root = join(collector, '..');

function newest(dir: string): number {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return t;
}

/**
 * Tests run real clients (the built `tallyho`) and the built command: build either when missing or
 * older than its sources, as `npm test` does first anyway.
 */
export default function setup(): void {
  const client = join(root, 'dist/schema.js');
  if (!existsSync(client) || statSync(client).mtimeMs < newest(join(root, 'src'))) {
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
  }
  const cli = join(collector, 'dist/cli.js');
  if (!existsSync(cli) || statSync(cli).mtimeMs < newest(join(collector, 'src'))) {
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: collector, stdio: 'inherit' });
  }
}
