#!/usr/bin/env node
import { serverRuntimeSupport } from '../runtime/support.js';
import { runCli } from './run-cli.js';

// Under Deno without the permissions tallyho uses, say which to grant (Deno would otherwise stop at
// the first file or variable read, or prompt for it): the command needs what the library needs.
const unsupported = serverRuntimeSupport();
if (unsupported === undefined) {
  process.exitCode = runCli(process.argv.slice(2), { out: process.stdout, err: process.stderr });
} else {
  const hint = unsupported.rule === 'no-permission' ? `; run it as: deno run -A npm:tallyho ${process.argv.slice(2).join(' ')}`.trimEnd() : '';
  process.stderr.write(`tallyho: ${unsupported.reason}${hint}\n`);
  process.exitCode = 2;
}
