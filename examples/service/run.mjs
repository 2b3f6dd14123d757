// Runs the service in timer mode with a 10 s interval (the shortest tallyho takes), with
// TALLYHO_SHOW_ME=1 so that each report is printed, and TALLYHO_DRY_RUN=1 so that nothing leaves the
// machine. It sends the service a few requests, waits for the timer's report, sends a few more, then
// stops the service with SIGTERM, as a container runtime or systemd would: the service's handler sends
// a last report with the counts since the timer's, and exits 0.
//
//   node examples/service/run.mjs      (after npm run build; takes about 10 s)
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
// A home of its own, so that trying the example leaves nothing behind in the user's config folder.
const home = mkdtempSync(join(tmpdir(), 'tallyho-service-'));
const service = spawn(process.execPath, [join(here, 'service.mjs')], {
  stdio: ['ignore', 'pipe', 'pipe'],
  env: {
    ...process.env,
    // TALLYHO_OPTIN keeps the example on where tallyho is off by default (in CI, under a test runner).
    TALLYHO_OPTIN: 'acme-server',
    TALLYHO_SHOW_ME: '1',
    TALLYHO_DRY_RUN: '1',
    TALLYHO_TIMER: '1',
    TALLYHO_TIMER_INTERVAL_SEC: '10',
    TALLYHO_HOME: home,
  },
});
const exited = once(service, 'exit');

/** Passes a stream's lines through to `out`; the function returned waits for the next line that matches. */
function lines(stream, out) {
  const waiting = new Set();
  createInterface({ input: stream }).on('line', (line) => {
    out.write(`${line}\n`);
    for (const wait of waiting) {
      if (wait.pattern.test(line)) {
        waiting.delete(wait);
        wait.resolve(line);
      }
    }
  });
  return (pattern) => new Promise((resolve) => waiting.add({ pattern, resolve }));
}
const stdoutLine = lines(service.stdout, process.stdout);
const stderrLine = lines(service.stderr, process.stderr);

/** Waits for a line, or gives up when the service exits first. */
async function expectLine(wait, what) {
  const line = await Promise.race([wait, exited.then(() => undefined)]);
  if (line === undefined) throw new Error(`the service exited before ${what}`);
  return line;
}

async function request(base, method, body) {
  const res = await fetch(base, { method, body });
  console.log(`${method} /orders -> ${res.status}`);
  await res.arrayBuffer();
}

let code = 1;
try {
  const listening = await expectLine(stdoutLine(/^listening on /), 'listening');
  const base = listening.split(' ')[2].replace(/;$/, '');
  await request(base, 'POST', 'tea');
  await request(base, 'GET');
  await request(base, 'GET');

  console.log('waiting for the timer report (10 s)...');
  const timerReport = stderrLine(/^tallyho: report for acme-server \(timer\)/);
  await expectLine(timerReport, 'its timer report');
  await request(base, 'POST', 'coffee');
  await request(base, 'POST', '');
  await request(base, 'GET');

  console.log('stopping the service with SIGTERM');
  service.kill('SIGTERM');
  [code] = await exited;
  console.log(`the service exited with code ${code}`);
} finally {
  if (service.exitCode === null && service.signalCode === null) service.kill('SIGKILL');
  rmSync(home, { recursive: true, force: true });
}
process.exitCode = code ?? 1;
