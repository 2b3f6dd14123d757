import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Child-process tests run the built package: build it once if `npm test` has not already. */
export default function setup(): void {
  if (!existsSync('dist/index.js') || !existsSync('dist/cli.js')) {
    execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  }
}
