import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import type { Report } from '../../src/report/report.js';

/** One request as the receiver saw it; `body` is gunzipped when the request says gzip. */
export interface Received {
  readonly method: string | undefined;
  readonly path: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly rawLength: number;
  readonly body: string;
}

/** Answers the n-th request (0-based). Returning without ending the response leaves it hanging. */
export type Answer = (res: ServerResponse, n: number, req: IncomingMessage) => void;

export interface Receiver {
  readonly url: string;
  readonly port: number;
  readonly received: Received[];
  /** Resolves when the n-th request (1-based) has arrived in full. */
  arrived(count: number): Promise<void>;
  close(): Promise<void>;
}

/** A real HTTP receiver on 127.0.0.1, on a free port, or on `port` (one that was closed until now). */
export async function startReceiver(answer: Answer = (res) => res.end(), port = 0): Promise<Receiver> {
  const received: Received[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
      const n = received.length;
      received.push({ method: req.method, path: req.url, headers: req.headers, rawLength: raw.length, body: body.toString('utf8') });
      for (const w of waiters.filter((w) => received.length >= w.count)) w.resolve();
      answer(res, n, req);
    });
  });
  server.on('connection', (socket) => {
    // The receiver's own sockets must not hide whether the client's socket keeps the process alive.
    socket.unref();
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}/v1/reports`,
    port: bound,
    received,
    arrived: (count) =>
      new Promise((resolve) => {
        if (received.length >= count) resolve();
        else waiters.push({ count, resolve });
      }),
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Answers with a status, optional headers and body. */
export function reply(status: number, headers: Record<string, string> = {}, body = ''): Answer {
  return (res) => {
    res.writeHead(status, headers);
    res.end(body);
  };
}

/** A valid report; `counts` grows it past the gzip threshold when asked. */
export function sampleReport(overrides: Partial<Report> = {}): Report {
  return {
    schema: 1,
    id: '3f2b8c1e-2a4d-4e5f-9a6b-7c8d9e0f1a2b',
    project: 'acme-sdk',
    version: '1.4.0',
    level: 'usage',
    trigger: 'manual',
    period: { start: '2026-01-05T10:00:00.000Z', end: '2026-01-05T11:00:00.000Z' },
    counts: { 'Client#query': 12, 'new Client': 1 },
    dropped: {},
    ...overrides,
  };
}

/** Counter names enough to make a report of at least `bytes` bytes. */
export function manyCounts(bytes: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let i = 0; JSON.stringify(counts).length < bytes; i++) counts[`Client#method${i}`] = i;
  return counts;
}
