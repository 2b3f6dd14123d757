import { spawn, spawnSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeReply, encodeQuery } from '../../src/transports/dns-lookup.js';

describe('DNS packets', () => {
  it('encodes a query for A records with recursion desired', () => {
    const query = encodeQuery(0x1234, 'telemetry.example.org', 1);
    expect(query.readUInt16BE(0)).toBe(0x1234);
    expect(query.readUInt16BE(2)).toBe(0x0100);
    expect(query.subarray(12).toString('latin1')).toBe('\x09telemetry\x07example\x03org\x00\x00\x01\x00\x01');
  });

  /** A reply to `query` with the given answers (each a compressed pointer to the question's name). */
  function reply(query: Buffer, rcode: number, answers: { type: number; data: number[] }[]): Buffer {
    const header = Buffer.from(query.subarray(0, 12));
    header.writeUInt16BE(0x8180 | rcode, 2);
    header.writeUInt16BE(answers.length, 6);
    const records = answers.map(({ type, data }) => {
      const record = Buffer.alloc(12 + data.length);
      record.writeUInt16BE(0xc00c, 0);
      record.writeUInt16BE(type, 2);
      record.writeUInt16BE(1, 4);
      record.writeUInt32BE(60, 6);
      record.writeUInt16BE(data.length, 10);
      Buffer.from(data).copy(record, 12);
      return record;
    });
    return Buffer.concat([header, query.subarray(12), ...records]);
  }

  it('reads A and AAAA answers, skipping a CNAME, and tells NXDOMAIN, failures and strangers apart', () => {
    const a = encodeQuery(7, 'x.example', 1);
    expect(decodeReply(reply(a, 0, [{ type: 5, data: [0xc0, 0x0c] }, { type: 1, data: [192, 0, 2, 7] }]), 7, 1)).toEqual([{ address: '192.0.2.7', family: 4 }]);
    const aaaa = encodeQuery(8, 'x.example', 28);
    expect(decodeReply(reply(aaaa, 0, [{ type: 28, data: [0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 1] }]), 8, 28)).toEqual([{ address: '2001:db8:0:0:0:0:0:1', family: 6 }]);
    expect(decodeReply(reply(a, 3, []), 7, 1)).toBe('nxdomain');
    expect(decodeReply(reply(a, 2, []), 7, 1)).toBe('failed');
    expect(decodeReply(reply(a, 0, []), 8, 1)).toBeUndefined();
  });
});

// A resolver that never answers, made the system's for one child process only: a mount namespace in
// which /etc/resolv.conf names it. That needs root (and a kernel that allows it), as in CI.
const canIsolate = process.getuid?.() === 0 && spawnSync('unshare', ['-m', 'true']).status === 0;

describe.runIf(canIsolate)('a resolver that never answers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tallyho-dns-'));
  const fixture = fileURLToPath(new URL('../fixtures/security/dns-host.mjs', import.meta.url));
  const address = `127.53.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
  let silent: Socket;
  let questions = 0;
  beforeAll(async () => {
    silent = createSocket('udp4');
    silent.on('message', () => questions++);
    await new Promise<void>((resolve) => silent.bind(53, address, resolve));
    // The C library's longest wait: 30 s a try, three tries.
    writeFileSync(join(dir, 'resolv.conf'), `nameserver ${address}\noptions timeout:30 attempts:3\n`);
  });
  afterAll(() => {
    silent.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the fixture in its own mount namespace; killed if it has not ended by itself within 20 s. */
  function run(mode: 'flush' | 'shutdown'): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(
        'unshare',
        ['-m', 'sh', '-c', 'mount --bind "$0" /etc/resolv.conf && exec "$1" "$2" "$3"', join(dir, 'resolv.conf'), process.execPath, fixture, mode],
        {
          env: { PATH: process.env.PATH ?? '', TALLYHO_OPTIN: 'dns-fixture', TALLYHO_HOME: join(dir, `home-${mode}`) },
          stdio: ['ignore', 'pipe', 'ignore'],
          timeout: 20_000,
          killSignal: 'SIGKILL',
        },
      );
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code, signal, stdout }));
    });
  }

  it('does not keep a process alive whose work is done while a flush resolves the endpoint', async () => {
    const before = questions;
    const result = await run('flush');
    expect(result).toMatchObject({ code: 0, signal: null });
    expect(result.stdout).toContain('work done');
    // The name was asked of the silent resolver: the case was made.
    expect(questions).toBeGreaterThan(before);
  });

  it('ends resolving when shutdown() stops waiting: the process ends right after', async () => {
    const result = await run('shutdown');
    expect(result).toMatchObject({ code: 0, signal: null });
    expect(result.stdout).toContain('shutdown: timeout\nwork done');
  });
});
