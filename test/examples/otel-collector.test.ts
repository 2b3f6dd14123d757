import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { exampleEnv, shownReports } from './shown-reports.js';

const home = mkdtempSync(join(tmpdir(), 'tallyho-example-'));
const started: ChildProcess[] = [];
afterAll(() => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill();
  rmSync(home, { recursive: true, force: true });
});

/** A port nothing listens on right now: print-receiver.mjs takes its port from PORT. */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

function run(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; output: { stdout: string; stderr: string } } {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  const output = { stdout: '', stderr: '' };
  child.stdout!.setEncoding('utf8').on('data', (text: string) => (output.stdout += text));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (output.stderr += text));
  return { child, output };
}

/** The sum of the points print-receiver.mjs printed for one metric, by counted name. */
function points(printed: string, metric: string): Record<string, number> {
  const sums: Record<string, number> = {};
  for (const [, name, n] of printed.matchAll(new RegExp(`^ {2}${metric.replace('.', '\\.')} code\\.function\\.name=(.+) \\+(\\d+) over \\d+ s$`, 'gm'))) {
    sums[name!] = (sums[name!] ?? 0) + Number(n);
  }
  return sums;
}

it('otel-collector: the service, stopped after 1 s, sends its last report over OTLP to the print receiver', async () => {
  const port = await freePort();
  const receiver = run(['examples/otel-collector/print-receiver.mjs'], { PATH: process.env.PATH, HOME: home, PORT: String(port) });
  const listening = new Promise<void>((resolve) => receiver.child.stdout!.on('data', () => receiver.output.stdout.includes('OTLP/HTTP receiver on') && resolve()));
  await Promise.race([listening, once(receiver.child, 'exit').then(() => expect.fail(`the receiver exited: ${receiver.output.stderr}`))]);

  // The service's transport follows the OpenTelemetry exporter variables (useOtelEnv), as a user's would.
  const service = run(['examples/otel-collector/service.mjs', '1'], {
    ...exampleEnv(home),
    TALLYHO_OPTIN: 'acme-sdk',
    TALLYHO_SHOW_ME: '1',
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
  });
  const [code] = await once(service.child, 'close');
  expect(code).toBe(0);
  const served = /^served (\d+) queries; last report: sent$/m.exec(service.output.stdout);
  expect(served, service.output.stdout).not.toBeNull();

  receiver.child.kill();
  await once(receiver.child, 'close');
  const shown = shownReports(service.output.stderr, 'acme-sdk');
  expect(shown.map(({ trigger }) => trigger)).toEqual(['manual']);
  const { report } = shown[0]!;
  expect(report.counts).toEqual({ 'new Client': 1, 'Client#query': Number(served![1]) });
  expect(report.ci).toBe(true);
  // What the receiver was sent is exactly what was shown.
  expect(receiver.output.stdout).toContain('resource service.name=acme-sdk service.version=1.4.0 ');
  expect(points(receiver.output.stdout, 'tallyho.calls')).toEqual(report.counts);
  expect(points(receiver.output.stdout, 'tallyho.errors')).toEqual(report.errors);
});
