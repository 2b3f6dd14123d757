// The collector's benchmark: real tallyho clients and a load generator posting reports of 100 names
// at concurrency 32 to the collector (its own process, a real SQLite file), then the summary query
// for a project with 100,000 stored reports. Prints the figures and writes bench/results/latest.json.
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { observe, openStore, validateReport } from '../dist/index.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const NAMES = 100;
const CONCURRENCY = 32;
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 10_000);
const STORED = 100_000;
const INSTALLS = 1000;
const WEEK_MS = 7 * 86_400_000;

const dir = mkdtempSync(join(tmpdir(), 'tallyho-collector-bench-'));
const db = join(dir, 'bench.db');
const installs = Array.from({ length: INSTALLS }, () => randomBytes(32).toString('hex'));

function report(i, weeksAgo = 0) {
  const end = new Date(Date.now() - weeksAgo * WEEK_MS);
  const counts = {};
  for (let n = 0; n < NAMES; n++) counts[`feature.f${n}`] = (i % 7) + n + 1;
  return {
    schema: 1,
    id: randomUUID(),
    project: 'bench-sdk',
    version: `1.${i % 4}.0`,
    level: 'usage',
    trigger: 'exit',
    period: { start: new Date(end.getTime() - 60_000).toISOString(), end: end.toISOString() },
    counts,
    dropped: {},
    runtime: { name: 'node', version: i % 3 === 0 ? '22.11.0' : '20.20.2' },
    platform: { os: i % 5 === 0 ? 'darwin' : 'linux', arch: 'x64', release: '6.1.0', cpus: 8, memoryGiB: 16 },
    errors: { [`feature.f${i % NAMES}`]: 1 },
    ci: i % 10 === 0,
    weekId: installs[i % INSTALLS],
  };
}

async function startCollector() {
  const child = spawn(process.execPath, [join(here, '../dist/cli.js'), '--db', db, '--port', '0', '--rate-limit', '0', '--log-level', 'info'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_EXTRA_CA_CERTS: '' },
  });
  let out = '';
  for await (const chunk of child.stdout) {
    out += chunk;
    const line = out.split('\n').find((l) => l.includes('tallyho-collector listening'));
    if (line !== undefined) {
      child.stdout.resume();
      return { child, url: JSON.parse(line).url };
    }
  }
  throw new Error(`the collector did not start:\n${out}`);
}

async function stop(child) {
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

function post(agent, url, body, id) {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', 'idempotency-key': id, 'content-length': body.length } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const results = { date: new Date().toISOString(), node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model };
let collector = await startCollector();

// 1. Real tallyho clients, each its own process and install.
{
  const started = performance.now();
  const runs = await Promise.all(
    Array.from({ length: 8 }, async (_, i) => {
      const home = join(dir, `client-${i}`);
      const child = spawn(process.execPath, [join(here, 'client.mjs')], {
        env: { PATH: process.env.PATH, HOME: home, TALLYHO_HOME: home, TALLYHO_OPTIN: 'bench-sdk', BENCH_URL: `${collector.url}/v1/reports` },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (c) => (out += c));
      await once(child, 'exit');
      return out.trim();
    }),
  );
  results.clients = { processes: runs.length, sent: runs.filter((r) => r === 'sent').length, ms: Math.round(performance.now() - started) };
}

// 2. The load generator: reports of 100 names, gzip-compressed as httpTransport sends them, 32 in flight.
{
  const bodies = [];
  const count = Math.ceil((DURATION_MS / 1000) * 6000);
  for (let i = 0; i < count; i++) {
    const r = report(i);
    bodies.push({ id: r.id, body: gzipSync(JSON.stringify(r)) });
  }
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const url = `${collector.url}/v1/reports`;
  const latencies = [];
  let next = 0;
  let failed = 0;
  const deadline = performance.now() + DURATION_MS;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < deadline && next < bodies.length) {
        const { id, body } = bodies[next++];
        const t0 = performance.now();
        const status = await post(agent, url, body, id);
        latencies.push(performance.now() - t0);
        if (status !== 200) failed++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  results.ingest = {
    names: NAMES,
    concurrency: CONCURRENCY,
    reports: latencies.length,
    failed,
    reportsPerSecond: Math.round(latencies.length / seconds),
    p50Ms: Number(percentile(latencies, 50).toFixed(1)),
    p99Ms: Number(percentile(latencies, 99).toFixed(1)),
    bodyBytesGzip: bodies[0].body.length,
  };
}
await stop(collector.child);

// 3. Up to 100,000 stored reports of one project, spread over 12 weeks, through the same store code.
{
  const store = openStore({ path: db });
  const have = store.rawCount();
  for (let i = have; i < STORED; i += 2000) {
    const batch = [];
    for (let j = i; j < Math.min(STORED, i + 2000); j++) {
      const checked = validateReport(report(j, j % 12));
      batch.push(store.ingest({ id: checked.report.id, source: 'http', body: JSON.stringify(checked.report), observation: observe(checked.report) }));
    }
    await Promise.all(batch);
  }
  results.stored = store.rawCount();
  store.close();
}

// 4. The summary query (what the page asks for) and the CSV export, over HTTP.
collector = await startCollector();
for (const [name, path] of [
  ['summary', '/api/projects/bench-sdk/summary?weeks=12'],
  ['csv', '/api/projects/bench-sdk/export.csv?weeks=12'],
]) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const times = [];
  for (let i = 0; i < 30; i++) {
    const t0 = performance.now();
    await new Promise((resolve, reject) => {
      request(`${collector.url}${path}`, { agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      })
        .on('error', reject)
        .end();
    });
    times.push(performance.now() - t0);
  }
  agent.destroy();
  times.sort((a, b) => a - b);
  results[name] = { storedReports: results.stored, medianMs: Number(percentile(times, 50).toFixed(1)), maxMs: Number(times[times.length - 1].toFixed(1)) };
}
await stop(collector.child);
rmSync(dir, { recursive: true, force: true });

const i = results.ingest;
console.log(`tallyho-collector bench, ${results.date}, Node ${results.node}, ${results.cpus} CPUs (${results.cpu})`);
console.log(`real tallyho clients: ${results.clients.sent} of ${results.clients.processes} processes delivered (${results.clients.ms} ms)`);
console.log(`ingest, ${i.names} names a report (${i.bodyBytesGzip} bytes gzipped), concurrency ${i.concurrency}: ${i.reportsPerSecond} reports/s, p50 ${i.p50Ms} ms, p99 ${i.p99Ms} ms (${i.reports} reports, ${i.failed} not 200)`);
console.log(`summary of 12 weeks with ${results.summary.storedReports} stored reports: median ${results.summary.medianMs} ms, max ${results.summary.maxMs} ms`);
console.log(`CSV export of the same: median ${results.csv.medianMs} ms, max ${results.csv.maxMs} ms`);
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results/latest.json'), `${JSON.stringify(results, null, 2)}\n`);
