// `npm run bench:peers`: the short run of `npm run bench` (import, set up, one counted call of one
// class, exit) with other telemetry libraries in tallyho's place, each as a ratio to tallyho's run,
// measured in alternating pairs in one run. The libraries live in bench/peers/ (its own package.json,
// installed by `npm run bench:peers`, never by `npm ci`), so that the project does not depend on them.
//
// Each does what its documentation asks of a command-line program so that nothing counted is lost:
// the OpenTelemetry SDK shuts its meter provider down (a final export), posthog-node awaits
// shutdown() (a final flush). The endpoint is a local HTTP server that answers 200 at once, so no
// library waits on the network longer than a round trip; tallyho's exit does not touch the network.
//
// Settings: BENCH_PEER_RUNS=N pairs per peer (default 15).

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pairs, shortProgram, TALLYHO_ENV, tallyhoPrograms } from './short-run.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const peersDir = path.join(here, 'peers');
const distUrl = pathToFileURL(path.join(here, '..', 'dist', 'index.js')).href;

async function healthy() {
  let requests = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    requests: () => requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function peerPrograms(origin) {
  return [
    {
      id: 'otel-api',
      label: '@opentelemetry/api alone (a counter, no SDK registered)',
      source: shortProgram({
        head: `import { metrics } from '@opentelemetry/api';
const counter = metrics.getMeter('bench').createCounter('calls');`,
        inCall: 'counter.add(1);',
      }),
    },
    {
      id: 'otel-sdk',
      label: 'OpenTelemetry SDK + OTLP/HTTP exporter (shutdown at the end)',
      source: shortProgram({
        head: `import { metrics } from '@opentelemetry/api';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
const provider = new MeterProvider({
  readers: [new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter({ url: ${JSON.stringify(`${origin}/v1/metrics`)} }), exportIntervalMillis: 3_600_000 })],
});
metrics.setGlobalMeterProvider(provider);
const counter = metrics.getMeter('bench').createCounter('calls');`,
        inCall: 'counter.add(1);',
        tail: 'await provider.shutdown();',
      }),
    },
    {
      id: 'posthog-node',
      label: 'posthog-node (capture per call, shutdown at the end)',
      source: shortProgram({
        head: `import { PostHog } from 'posthog-node';
const client = new PostHog('phc_bench', { host: ${JSON.stringify(origin)} });`,
        inCall: "client.capture({ distinctId: 'bench', event: 'Client#query' });",
        tail: 'await client.shutdown();',
      }),
    },
  ];
}

const fmt = (v) => v.toFixed(2);

async function main() {
  const runs = Number(process.env.BENCH_PEER_RUNS ?? 15);
  const server = await healthy();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'tallyho-peers-'));
  try {
    const empty = path.join(tmp, 'empty.mjs');
    writeFileSync(empty, '');
    const { tallyhoRun, emptyRun } = tallyhoPrograms(distUrl, `${server.origin}/v1/reports`, pathToFileURL(empty).href);
    const tallyho = { source: tallyhoRun, env: TALLYHO_ENV, counts: true };
    const rows = [];
    const started = Date.now();
    const load = os.loadavg();
    const reference = { id: 'empty', label: 'the same program importing an empty module (reference)', source: emptyRun };
    for (const peer of [reference, ...peerPrograms(server.origin)]) {
      const dir = path.join(tmp, peer.id);
      mkdirSync(dir);
      const result = await pairs({ base: tallyho, subject: { source: peer.source, env: {} }, runs, tmp: dir, cwd: peersDir });
      rows.push({ id: peer.id, label: peer.label, ...result });
      console.log(`  ${peer.label.padEnd(66)} ${fmt(result.ratio.median).padStart(6)}x tallyho's run  (${result.subjectMs.median.toFixed(1)} vs ${result.baseMs.median.toFixed(1)} ms)`);
    }
    const table = [
      '',
      `Peers: the short run, each as a ratio to tallyho's run (median of ${runs} alternating pairs; load average ${load.map((l) => l.toFixed(1)).join(' ')})`,
      '',
      '| program | x tallyho | ms (median) |',
      '| --- | --- | --- |',
      `| tallyho | 1.00 | ${rows[0].baseMs.median.toFixed(1)} |`,
      ...rows.map((r) => `| ${r.label} | ${fmt(r.ratio.median)} | ${r.subjectMs.median.toFixed(1)} |`),
    ];
    console.log(table.join('\n'));
    mkdirSync(path.join(here, 'results'), { recursive: true });
    writeFileSync(
      path.join(here, 'results', 'peers.json'),
      `${JSON.stringify({ date: new Date(started).toISOString(), node: process.version, loadAverage: { start: load, end: os.loadavg() }, runs, rows, endpointRequests: server.requests(), table: table.join('\n') }, null, 2)}\n`,
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
    await server.close();
  }
}

await main();
