import { spawn } from 'node:child_process';
import { randomUUID, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { startCollector, type Collector, type CollectorOptions } from '../src/index.js';

export const collectorRoot = fileURLToPath(new URL('..', import.meta.url));

/** A temporary folder, removed by the returned function. */
export function tempDir(prefix = 'tallyho-collector-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A collector on a free port of 127.0.0.1, with its store in a temporary folder. */
export async function testCollector(options: Partial<CollectorOptions> = {}): Promise<Collector & { dir: string; stop: () => Promise<void> }> {
  const { dir, remove } = tempDir();
  const collector = await startCollector({ db: join(dir, 'usage.db'), port: 0, logLevel: 'silent', rateLimit: 0, ...options });
  return Object.assign(collector, {
    dir,
    stop: async () => {
      await collector.close();
      remove();
    },
  });
}

/** A valid report, as tallyho builds it at level `usage`. */
export function makeReport(overrides: Record<string, unknown> = {}): Record<string, any> {
  const end = new Date();
  return {
    schema: 1,
    id: randomUUID(),
    project: 'acme-sdk',
    version: '1.4.0',
    level: 'usage',
    trigger: 'exit',
    period: { start: new Date(end.getTime() - 60_000).toISOString(), end: end.toISOString() },
    counts: { 'Client#query': 3, 'new Client': 1 },
    dropped: {},
    runtime: { name: 'node', version: '20.20.2' },
    platform: { os: 'linux', arch: 'x64', release: '6.1.0', cpus: 2, memoryGiB: 4 },
    errors: {},
    ci: false,
    weekId: randomBytes(32).toString('hex'),
    ...overrides,
  };
}

/** The answer to one request. */
export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  json(): any;
}

/** POSTs a body (an object is sent as JSON) with node:http, so that any header and body can be sent as is. */
export function post(url: string, body: unknown, options: { headers?: Record<string, string>; gzip?: boolean; raw?: boolean } = {}): Promise<Answer> {
  let data: Buffer = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
  if (options.gzip === true) {
    data = gzipSync(data);
    headers['content-encoding'] = 'gzip';
  }
  return send('POST', url, headers, data);
}

/** GETs a URL. */
export function get(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  return send('GET', url, headers, undefined);
}

function send(method: string, url: string, headers: Record<string, string>, data: Buffer | undefined): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: data === undefined ? headers : { ...headers, 'content-length': String(data.length) }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json: () => JSON.parse(text) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(data);
  });
}

/** What a tallyho client process printed: its status after the flush. */
export interface ClientRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a real tallyho client in its own process and home (so its own install and weekly id): it
 * counts `counts`, calls `Client#query` `queries` times of which `failures` throw, and flushes
 * through an HTTP or OTLP transport to `url`. With `choice`, it also makes that choice of
 * `input.format` and records 42 as `project.files`.
 */
export function runClient(url: string, options: { project?: string; version?: string; transport?: 'http' | 'otlp'; counts?: Record<string, number>; queries?: number; failures?: number; headers?: Record<string, string>; home?: string; choice?: string }): Promise<ClientRun> {
  const home = options.home ?? mkdtempSync(join(tmpdir(), 'tallyho-client-'));
  const project = options.project ?? 'acme-sdk';
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(collectorRoot, 'test/fixtures/client.mjs')], {
      cwd: collectorRoot,
      env: {
        PATH: process.env.PATH,
        HOME: home,
        TALLYHO_HOME: home,
        // tallyho is off under test runners and in CI unless the project is opted in.
        TALLYHO_OPTIN: project,
        CLIENT_URL: url,
        CLIENT_PROJECT: project,
        CLIENT_VERSION: options.version ?? '1.4.0',
        CLIENT_TRANSPORT: options.transport ?? 'http',
        CLIENT_COUNTS: JSON.stringify(options.counts ?? {}),
        CLIENT_QUERIES: String(options.queries ?? 0),
        CLIENT_FAILURES: String(options.failures ?? 0),
        CLIENT_HEADERS: JSON.stringify(options.headers ?? {}),
        CLIENT_CHOICE: options.choice ?? '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (options.home === undefined) rmSync(home, { recursive: true, force: true });
      resolve({ code, stdout, stderr });
    });
  });
}
