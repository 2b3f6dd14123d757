// Runs the tool the way a user would, with TALLYHO_SHOW_ME=1 so that the report is printed as the
// tool exits, and a small receiver on 127.0.0.1 standing in for the author's endpoint. The tool
// exits at once; the report reaches the receiver a moment later, sent by tallyho's detached sender.
//
//   node examples/cli-tool/run.mjs      (after npm run build)
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, watch } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const here = fileURLToPath(new URL('.', import.meta.url));
const WAIT_MS = 10_000;

// The receiver: takes a report, answers 200, and hands the report over.
let received;
const firstReport = new Promise((resolve) => (received = resolve));
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const raw = Buffer.concat(chunks);
    const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    received({ at: Date.now(), report: JSON.parse(body.toString('utf8')) });
  });
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const url = `http://127.0.0.1:${server.address().port}/v1/reports`;

// A home of its own, so that trying the example leaves nothing behind in the user's config folder.
const home = mkdtempSync(join(tmpdir(), 'tallyho-cli-tool-'));
let exitCode = 1;
try {
  const started = Date.now();
  const tool = spawn(process.execPath, [join(here, 'acme-cli.mjs'), 'stats', 'count these words', 'two\nlines'], {
    stdio: 'inherit',
    // TALLYHO_OPTIN keeps the example on where tallyho is off by default (in CI, under a test runner).
    // TALLYHO_BATCH_INTERVAL_SEC=0 sends at this very exit: by default a report waits on disk for its
    // batch (an hour from the oldest waiting report), and leaves with the runs of that hour, as one.
    env: { ...process.env, TALLYHO_SHOW_ME: '1', TALLYHO_OPTIN: 'acme-cli', TALLYHO_BATCH_INTERVAL_SEC: '0', TALLYHO_HOME: home, ACME_REPORTS_URL: url },
  });
  const [code] = await once(tool, 'exit');
  const exited = Date.now();
  console.log(`acme-cli exited with code ${code} after ${exited - started} ms; waiting for its report at ${url}`);

  let timer;
  const timeout = new Promise((resolve) => (timer = setTimeout(resolve, WAIT_MS)));
  const delivery = await Promise.race([firstReport, timeout]);
  clearTimeout(timer);
  if (delivery === undefined) {
    console.log(`no report within ${WAIT_MS / 1000} s`);
  } else {
    console.log(`received by the endpoint after the tool exited: ${JSON.stringify(delivery.report.counts)}`);
    console.log(`  (report ${delivery.report.id}, ${delivery.at - exited} ms after the exit)`);
    exitCode = code;
    await senderGone(home);
  }
} finally {
  server.close();
  rmSync(home, { recursive: true, force: true });
}
process.exitCode = exitCode;

/** Waits (at most 3 s) for the detached sender to let go of the spool, before its home is removed. */
async function senderGone(dir) {
  const spool = join(dir, 'cache', 'spool');
  const lock = join(spool, 'sender.lock');
  if (!existsSync(lock)) return;
  const watcher = watch(spool);
  const bound = setTimeout(() => watcher.close(), 3000);
  const check = () => {
    if (!existsSync(lock)) watcher.close();
  };
  watcher.on('change', check);
  const closed = once(watcher, 'close');
  check();
  await closed;
  clearTimeout(bound);
}
