import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { once } from 'node:events';
import { expect, it } from 'vitest';
import { get, makeReport, post, runClient, testCollector } from './helpers.js';

/** The address this machine's clients connect from when the collector listens on 127.0.0.2, as a server sees it. */
async function clientAddress(): Promise<string> {
  const probe = createServer();
  probe.listen(0, '127.0.0.2');
  await once(probe, 'listening');
  const seen = once(probe, 'connection');
  const { port } = probe.address() as AddressInfo;
  const { createConnection } = await import('node:net');
  const socket = createConnection(port, '127.0.0.2');
  const [conn] = (await seen) as [import('node:net').Socket];
  const address = conn.remoteAddress!;
  socket.destroy();
  conn.destroy();
  probe.close();
  return address;
}

it("never stores or logs a client's address, and suppresses cells fewer than --min-installs contributed to", async () => {
  const address = await clientAddress();
  // The collector listens on another loopback address, so its own address is not the clients'.
  expect(address).not.toBe('127.0.0.2');
  const logFile = join((await import('node:os')).tmpdir(), `collector-log-${process.pid}.jsonl`);
  const logStream = createWriteStream(logFile);
  const c = await testCollector({ host: '127.0.0.2', logLevel: 'debug', logStream, minInstalls: 3, rateLimit: 4 });
  try {
    // Two installs use feature.common; one of them also feature.rare. A third install reports a
    // version of its own. Then refusals of every kind, so that the error paths log too.
    for (const [i, counts] of ([{ 'feature.common': 1, 'feature.rare': 1 }, { 'feature.common': 2 }] as Record<string, number>[]).entries()) {
      const run = await runClient(`${c.url}/v1/reports`, { counts, version: '1.0.0' });
      expect(run.code, `client ${i}: ${run.stderr}`).toBe(0);
    }
    expect((await runClient(`${c.url}/v1/metrics`, { transport: 'otlp', counts: { 'feature.common': 4 }, version: '2.0.0' })).code).toBe(0);
    expect((await post(`${c.url}/v1/reports`, '{"broken')).status).toBe(400);
    expect((await post(`${c.url}/v1/reports`, makeReport({ counts: 'x' }))).status).toBe(429);
    expect((await get(`${c.url}/nowhere`)).status).toBe(404);

    const summary = (await get(`${c.url}/api/projects/acme-sdk/summary?weeks=1`)).json();
    expect(summary.installs).toEqual([3]);
    const names = summary.features.map((f: any) => f.name);
    expect(names).toContain('feature.common');
    // Used by one install only: neither its count nor its name is shown.
    expect(names).not.toContain('feature.rare');
    // Each version has fewer than 3 installs.
    expect(summary.versions).toEqual([]);
    expect(summary.suppressed.cells).toBeGreaterThan(0);
    expect(summary.suppressed.note).toMatch(/suppressed: fewer than 3 distinct installs/);
    const csv = (await get(`${c.url}/api/projects/acme-sdk/export.csv?weeks=1`)).body;
    expect(csv).toMatch(/,1\.0\.0,reports,,,,suppressed: fewer than 3 installs\r\n/);
    expect(csv).toMatch(/,,calls,feature\.common,7,3,\r\n/);
    expect(csv).not.toContain('feature.rare');

    const files = ['usage.db', 'usage.db-wal', 'usage.db-shm'].map((f) => join(c.dir, f)).filter(existsSync);
    expect(files.length).toBeGreaterThan(1);
    const check = (): void => {
      for (const file of [...files.filter(existsSync), logFile]) {
        const bytes = readFileSync(file);
        expect(bytes.includes(address), `${file} holds ${address}`).toBe(false);
        expect(bytes.includes(Buffer.from(address, 'utf16le')), file).toBe(false);
      }
    };
    check();
    await c.close();
    logStream.end();
    await once(logStream, 'finish');
    check();
    const lines = readFileSync(logFile, 'utf8').trim().split('\n');
    // The log did record the requests (so the check above looked at something).
    expect(lines.filter((l) => l.includes('"route":"/v1/reports"')).length).toBeGreaterThanOrEqual(3);
  } finally {
    await c.stop();
  }
});
