import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RUNTIMES, runChild } from './runtimes.js';

// Each runtime tells its built-ins apart its own way: Node lists the modules it has loaded, Bun and
// Deno do not, and their node: modules are JavaScript, as Node's are.

const root = mkdtempSync(join(tmpdir(), 'tallyho-builtins-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.concurrent('instrument() of built-ins a package re-exports, under each runtime', { timeout: 60_000 }, () => {
  it.each(['node', 'bun', 'deno'] as const)('%s: the built-ins stay as they are and count as functions; a subclass counts as a class', async (runtime) => {
    const home = mkdtempSync(join(root, `${runtime}-`));
    const { command, args } = RUNTIMES[runtime];
    const run = await runChild(command, [...args, 'test/fixtures/runtime/builtins.mjs'], {
      env: { PATH: process.env.PATH ?? '', HOME: home, TALLYHO_HOME: join(home, 'tallyho'), TALLYHO_OPTIN: 'runtime-fixture', NO_COLOR: '1' },
    });
    expect(run.code, run.stderr).toBe(0);
    const { changed, counts, loadedFsStreams } = JSON.parse(run.stdout) as { changed: Record<string, string[]>; counts: Record<string, number>; loadedFsStreams: boolean };
    expect(loadedFsStreams).toBe(false);
    expect(changed).toEqual({
      EventEmitter: [],
      'EventEmitter.prototype': [],
      Buffer: [],
      'Buffer.prototype': [],
      Readable: [],
      'Readable.prototype': [],
      URL: [],
      'URL.prototype': [],
      Headers: [],
      'Headers.prototype': [],
      Response: [],
      'Response.prototype': [],
    });
    expect(counts).toEqual({ EventEmitter: 1, 'new Emitter': 1, 'Emitter#ping': 1, URL: 1, Readable: 1, Headers: 1, Response: 1, 'new ReadStream': 1 });
  });
});
