import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileTransport } from '../../src/transports/file.js';
import { transportFromSpec } from '../../src/transports/transport-spec.js';
import { sampleReport } from './receiver.js';

const live = () => ({ signal: new AbortController().signal });
const posix = process.platform !== 'win32';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tallyho-file-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('fileTransport', () => {
  it('appends one JSON line per report', async () => {
    const path = join(dir, 'reports.jsonl');
    const transport = fileTransport(path);
    const first = sampleReport();
    const second = sampleReport({ id: '7d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d', counts: { 'Parser#parse': 3 } });
    expect(await transport.send(first, live())).toEqual({ kind: 'success' });
    expect(await transport.send(second, live())).toEqual({ kind: 'success' });

    const lines = readFileSync(path, 'utf8').split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    expect(lines.slice(0, 2).map((l) => JSON.parse(l))).toEqual([first, second]);
  });

  it('keeps concurrent reports on lines of their own', async () => {
    const path = join(dir, 'reports.jsonl');
    const transport = fileTransport(path);
    const reports = Array.from({ length: 20 }, (_, i) => sampleReport({ counts: { [`Client#m${i}`]: i } }));
    await Promise.all(reports.map((r) => transport.send(r, live())));
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(20);
    expect(new Set(lines.map((l) => JSON.stringify(l.counts)))).toEqual(new Set(reports.map((r) => JSON.stringify(r.counts))));
  });

  it.runIf(posix)('creates the file for its owner only (0600), and missing folders 0700', async () => {
    const path = join(dir, 'a', 'b', 'reports.jsonl');
    expect(await fileTransport(path).send(sampleReport(), live())).toEqual({ kind: 'success' });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'a')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'a', 'b')).mode & 0o777).toBe(0o700);
  });

  it('appends to a file that already exists', async () => {
    const path = join(dir, 'reports.jsonl');
    writeFileSync(path, 'kept\n');
    await fileTransport(path).send(sampleReport(), live());
    expect(readFileSync(path, 'utf8').startsWith('kept\n{')).toBe(true);
  });

  it('a write error is a failure outcome', async () => {
    const folder = join(dir, 'is-a-folder');
    mkdirSync(folder);
    const intoFolder = await fileTransport(folder).send(sampleReport(), live());
    expect(intoFolder).toMatchObject({ kind: 'failure', reason: expect.stringContaining('EISDIR') });

    writeFileSync(join(dir, 'plain'), '');
    const underFile = await fileTransport(join(dir, 'plain', 'reports.jsonl')).send(sampleReport(), live());
    expect(underFile.kind).toBe('failure');
  });

  it('writes nothing for a caller that has already stopped waiting', async () => {
    const path = join(dir, 'reports.jsonl');
    const outcome = await fileTransport(path).send(sampleReport(), { signal: AbortSignal.abort() });
    expect(outcome.kind).toBe('retryable');
    expect(() => statSync(path)).toThrow();
  });

  it('resolves a relative path once, so the spec works from another working directory', () => {
    const rel = relative(process.cwd(), join(dir, 'reports.jsonl'));
    const transport = fileTransport(rel);
    expect(transport.spec).toEqual({ type: 'file', path: join(dir, 'reports.jsonl') });
    expect(transport.name).toBe(`file ${join(dir, 'reports.jsonl')}`);
  });

  it('is rebuilt from its spec', async () => {
    const path = join(dir, 'reports.jsonl');
    const rebuilt = transportFromSpec(JSON.parse(JSON.stringify(fileTransport(path).spec)));
    if (!('transport' in rebuilt)) throw new Error(rebuilt.error);
    expect(await rebuilt.transport.send(sampleReport(), live())).toEqual({ kind: 'success' });
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(sampleReport());
    expect(transportFromSpec({ type: 'file' })).toEqual({ error: expect.stringContaining('no path') });
  });

  it.each(['', '   ', 'a\0b', 42])('refuses the path %j with a TypeError', (path) => {
    expect(() => fileTransport(path as string)).toThrow(TypeError);
    expect(() => fileTransport(path as string)).toThrow(/path must be a non-empty file path/);
  });
});
