import { randomUUID } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { vi } from 'vitest';
import type { SpoolEntry } from '../../src/delivery/spool.js';
import type { Report } from '../../src/report/report.js';
import type { Transport } from '../../src/transports/transport.js';

/** Every variable that can change tallyho's decision or behaviour. */
export const TALLYHO_VARIABLES = [
  'CI', 'VITEST', 'JEST_WORKER_ID', 'NODE_TEST_CONTEXT', 'NODE_ENV', 'DO_NOT_TRACK', 'TALLYHO_DISABLE',
  'TALLYHO_OPTOUT', 'TALLYHO_OPTIN', 'TALLYHO_LEVEL', 'TALLYHO_SHOW_ME', 'TALLYHO_DRY_RUN', 'TALLYHO_DEBUG',
  'TALLYHO_ENDPOINT', 'TALLYHO_TIMER', 'TALLYHO_TIMER_INTERVAL_SEC', 'TALLYHO_BATCH_INTERVAL_SEC', 'TALLYHO_SALT_TYPE', 'TALLYHO_HOME',
] as const;

/**
 * Replaces the test runner's environment with exactly `values` for tallyho's variables, so that the
 * caller's CI or test runner never decides a test. Undo with `vi.unstubAllEnvs()`.
 *
 * ci-info judges the real environment once, when it loads: a caller running with CI=true still makes
 * `readEnv()` see CI. Tests that need telemetry on therefore opt in with TALLYHO_OPTIN, which holds in
 * CI too.
 */
export function stubTallyhoEnv(values: Partial<Record<(typeof TALLYHO_VARIABLES)[number], string>>): void {
  for (const name of TALLYHO_VARIABLES) vi.stubEnv(name, undefined);
  for (const [name, value] of Object.entries(values)) vi.stubEnv(name, value);
}

/** A valid report of `project`, for spool files. */
export function sampleReport(project: string, counts: Record<string, number> = { 'Client#query': 3 }): Report {
  return {
    schema: 1,
    id: randomUUID(),
    project,
    version: '1.0.0',
    level: 'basic',
    trigger: 'exit',
    period: { start: '2026-01-05T10:00:00.000Z', end: '2026-01-05T11:00:00.000Z' },
    counts,
    dropped: {},
    runtime: { name: 'node', version: '20.0.0' },
    platform: { os: 'linux', arch: 'x64', release: '6.0.0', cpus: 4, memoryGiB: 8 },
  };
}

/** A spool entry waiting for `transport`, as `Spool.add()` takes it. */
export function sampleEntry(project: string, transport = 'https://telemetry.example/v1/reports', createdAt = Date.UTC(2026, 0, 5, 11)): SpoolEntry {
  return {
    project,
    version: '1.0.0',
    consent: 'opt-out',
    optOutEnv: undefined,
    transport: { name: transport },
    report: sampleReport(project),
    createdAt,
    attempts: 0,
    nextAttemptAt: createdAt,
  };
}

/** A local HTTP server that counts the connections it is offered. */
export interface CountingServer {
  readonly url: string;
  /** TCP connections accepted so far. */
  connections(): number;
  /** Request bodies received so far. */
  readonly bodies: string[];
  close(): Promise<void>;
}

export async function countingServer(): Promise<CountingServer> {
  const bodies: string[] = [];
  let connections = 0;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      bodies.push(body);
      res.end('ok');
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/reports`,
    connections: () => connections,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A transport that POSTs each report to `url` itself: it would open a socket if it were ever called. */
export function postingTransport(url: string): Transport & { sends: number } {
  const transport = {
    name: url,
    sends: 0,
    send(report: Report) {
      transport.sends++;
      return new Promise<{ kind: 'success' } | { kind: 'retryable'; reason: string }>((resolve) => {
        const req = request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
          res.resume();
          res.on('end', () => resolve({ kind: 'success' }));
        });
        req.on('error', (error) => resolve({ kind: 'retryable', reason: error.message }));
        req.end(JSON.stringify(report));
      });
    },
  };
  return transport;
}
