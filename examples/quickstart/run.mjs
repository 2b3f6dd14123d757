// Compiles the example and runs it the way an end user would, with TALLYHO_SHOW_ME=1 so that the
// report tallyho would send is printed, and TALLYHO_DRY_RUN=1 so that nothing leaves the machine.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
await build({
  entryPoints: [`${here}app.ts`],
  outdir: `${here}dist`,
  bundle: true,
  external: ['tallyho'],
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outExtension: { '.js': '.mjs' },
  logLevel: 'warning',
});
const { status } = spawnSync(process.execPath, [`${here}dist/app.mjs`], {
  stdio: 'inherit',
  // TALLYHO_OPTIN keeps the example on where tallyho is off by default (in CI, under a test runner).
  env: { ...process.env, TALLYHO_SHOW_ME: '1', TALLYHO_DRY_RUN: '1', TALLYHO_OPTIN: 'acme-sdk' },
});
process.exitCode = status ?? 1;
