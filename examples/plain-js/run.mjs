// Runs the program the way an end user would, with TALLYHO_SHOW_ME=1 so that the report tallyho
// would send is printed, and TALLYHO_DRY_RUN=1 so that nothing leaves the machine.
//
//   node examples/plain-js/run.mjs      (after npm run build)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
// A home of its own, so that trying the example leaves nothing behind in the user's config folder.
const home = mkdtempSync(join(tmpdir(), 'tallyho-plain-js-'));
try {
  const { status } = spawnSync(process.execPath, [join(here, 'app.mjs')], {
    stdio: 'inherit',
    // TALLYHO_OPTIN keeps the example on where tallyho is off by default (in CI, under a test runner).
    env: { ...process.env, TALLYHO_SHOW_ME: '1', TALLYHO_DRY_RUN: '1', TALLYHO_OPTIN: 'matrix-tools', TALLYHO_HOME: home },
  });
  process.exitCode = status ?? 1;
} finally {
  rmSync(home, { recursive: true, force: true });
}
