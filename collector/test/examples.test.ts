import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, expect, it } from 'vitest';
import { startCollectorProcess, stopProcess } from './cli-process.js';
import { collectorRoot, get, tempDir } from './helpers.js';

const repo = join(collectorRoot, '..');
const temp = tempDir();
afterAll(() => temp.remove());

/** Resolves once `check` returns a value, asking again after each answer; fails after `ms`. */
async function eventually<T>(check: () => Promise<T | undefined>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not there after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

it("README's path: the collector started with one command takes the quickstart example's report, and shows its counts", async () => {
  const collector = await startCollectorProcess(['--db', join(temp.dir, 'usage.db'), '--min-installs', '1']);
  try {
    const home = join(temp.dir, 'home');
    const example = spawn(process.execPath, [join(repo, 'examples/quickstart/run.mjs'), '--send', `${collector.url}/v1/reports`], {
      cwd: repo,
      env: { PATH: process.env.PATH, HOME: home, TALLYHO_HOME: home, CI: 'true', VITEST: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    example.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    example.stdout.resume();
    const [code] = await once(example, 'exit');
    expect(code, stderr).toBe(0);
    // The report leaves after the example exits (the detached sender delivers it).
    const summary = await eventually(async () => {
      const s = (await get(`${collector.url}/api/projects/acme-sdk/summary?weeks=1`)).json();
      return s.features.length > 0 ? s : undefined;
    }, 30_000);
    const calls = Object.fromEntries(summary.features.map((f: any) => [f.name, f.calls[0]]));
    expect(calls).toEqual({ 'Client#query': 3, 'Client.parseUrl': 1, 'new Client': 1, 'Parser#parse': 2, 'feature.export-csv': 1 });
    expect(summary.features.find((f: any) => f.name === 'Parser#parse').errors[0]).toBe(1);
    expect(summary.installs).toEqual([1]);
    const page = await get(`${collector.url}/`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('/assets/uPlot.iife.min.js');
  } finally {
    await stopProcess(collector.child, 'SIGTERM');
  }
});

it('the command: --help, a bad flag, and a port in use are answered with a message and an exit status', async () => {
  const run = async (args: string[]) => {
    const child = spawn(process.execPath, [join(collectorRoot, 'dist/cli.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const [code] = await once(child, 'exit');
    return { code, out };
  };
  const help = await run(['--help']);
  expect(help.code).toBe(0);
  expect(help.out).toMatch(/^Usage: tallyho-collector/);
  const bad = await run(['--port', 'x']);
  expect(bad.code).toBe(2);
  expect(bad.out).toMatch(/--port must be a whole number; got "x"/);
  const collector = await startCollectorProcess(['--db', join(temp.dir, 'a.db')]);
  try {
    const port = new URL(collector.url).port;
    const taken = await run(['--db', join(temp.dir, 'b.db'), '--port', port, '--log-level', 'silent']);
    expect(taken.code).toBe(1);
    expect(taken.out).toMatch(/could not start: .*EADDRINUSE/);
  } finally {
    expect(await stopProcess(collector.child, 'SIGTERM')).toEqual({ code: 0, signal: null });
  }
});

it('the OpenTelemetry Collector configuration for the route beyond one machine: every pipeline uses components it defines', () => {
  const config = parse(readFileSync(join(repo, 'examples/collector-fleet/otelcol.yaml'), 'utf8'));
  const pipelines = Object.entries<any>(config.service.pipelines);
  expect(pipelines.map(([name]) => name)).toEqual(['metrics/clickhouse', 'metrics/prometheus']);
  for (const [, pipeline] of pipelines) {
    for (const kind of ['receivers', 'processors', 'exporters'] as const) {
      for (const component of pipeline[kind] ?? []) expect(config[kind], `${kind}: ${component}`).toHaveProperty([component]);
    }
  }
  expect(config.receivers.otlp.protocols.http.max_request_body_size).toBe(1024 * 1024);
  expect(config.processors['resource/privacy'].attributes.map((a: any) => a.key)).toContain('client.address');
  expect(config.exporters.clickhouse.ttl).toBe('1440h');
});
