// Compiles the example and runs it the way an end user would, with TALLYHO_SHOW_ME=1 so that the
// report tallyho sends is printed, and TALLYHO_DRY_RUN=1 so that nothing leaves the machine, unless
// `--send URL` names a collector to send it to (TALLYHO_ENDPOINT, batches off: it leaves at exit).
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
// `--send URL` sends the report to a collector of your own (npm run collector) instead of only showing it.
const send = process.argv.indexOf('--send');
const endpoint = send === -1 ? undefined : process.argv[send + 1];
if (send !== -1 && endpoint === undefined) {
  console.error('usage: node examples/quickstart/run.mjs [--send http://127.0.0.1:8787/v1/reports]');
  process.exit(2);
}
const { status } = spawnSync(process.execPath, [`${here}dist/app.mjs`], {
  stdio: 'inherit',
  // TALLYHO_OPTIN keeps the example on where tallyho is off by default (in CI, under a test runner).
  env: {
    ...process.env,
    TALLYHO_SHOW_ME: '1',
    TALLYHO_OPTIN: 'acme-sdk',
    ...(endpoint === undefined ? { TALLYHO_DRY_RUN: '1' } : { TALLYHO_ENDPOINT: endpoint, TALLYHO_BATCH_INTERVAL_SEC: '0' }),
  },
});
process.exitCode = status ?? 1;
