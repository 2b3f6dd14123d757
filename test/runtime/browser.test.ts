import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/report.js';

// Debian's Chromium (installed by .ci/run), driven by playwright-core: never a browser download.
const CHROMIUM = '/usr/bin/chromium';
const root = fileURLToPath(new URL('../..', import.meta.url));

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly report: Report;
}

let server: Server;
let origin: string;
let browser: Browser;
const received: Received[] = [];
const waiters: { count: number; resolve: () => void }[] = [];

/** Resolves when `count` reports have arrived in all. */
function arrived(count: number): Promise<void> {
  return new Promise((resolve) => {
    if (received.length >= count) resolve();
    else waiters.push({ count, resolve });
  });
}

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.html': 'text/html', '.map': 'application/json' };

beforeAll(async () => {
  // The page's script, bundled as a user's bundler would: `tallyho` through the browser condition.
  const { outputFiles } = await build({ entryPoints: [join(root, 'test/fixtures/browser/page.mjs')], bundle: true, platform: 'browser', format: 'esm', write: false, logLevel: 'warning' });
  const pageScript = outputFiles[0]!.text;
  const pages: Record<string, string> = {
    '/': '<!doctype html><title>page</title><script type="module" src="/page.js"></script>',
    '/next': '<!doctype html><title>next</title><p>elsewhere</p>',
    '/worker.html': `<!doctype html><title>worker</title><script>
      new Worker('/worker.mjs', { type: 'module' }).onmessage = (event) => { window.workerResult = event.data; };
    </script>`,
  };
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method === 'POST' && path === '/v1/reports') {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({ headers: req.headers, report: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Report });
        for (const w of waiters.filter((w) => received.length >= w.count)) w.resolve();
        res.writeHead(204).end();
      });
      return;
    }
    // The browser asks for an icon on its own: no icon, and no error for it on the console.
    if (path === '/favicon.ico') return void res.writeHead(204).end();
    let body: string | Buffer | undefined = pages[path];
    if (path === '/page.js') body = pageScript;
    if (path === '/worker.mjs') body = readFileSync(join(root, 'test/fixtures/browser/worker.mjs'));
    if (path.startsWith('/dist/')) {
      try {
        body = readFileSync(join(root, normalize(path)));
      } catch {
        body = undefined;
      }
    }
    if (body === undefined) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'text/html' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

/** A page that records every console error and uncaught page error. */
async function watchedPage(context: BrowserContext): Promise<{ page: Page; errors: string[] }> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(String(error)));
  return { page, errors };
}

interface Fixture {
  fixture: { telemetry: { status(): { enabled: boolean; rule: string }; flush(): Promise<{ status: string; calls: number }> }; work(n: number): void };
}

const status = (page: Page) => page.evaluate(() => (globalThis as unknown as Fixture).fixture.telemetry.status());

/** The page's own globals, as the page functions below use them. */
interface PageGlobals {
  localStorage: { setItem(key: string, value: string): void };
  document: { dispatchEvent(event: Event): boolean };
}

/** The counts `work(n)` makes. */
const workCounts = (n: number) => ({ 'new Client': 1, 'Client#query': n, 'feature.export': 1 });

describe('a page in headless Chromium', { timeout: 60_000 }, () => {
  it('counts, flush() sends one report, leaving the page sends one beacon with the rest; no console error', async () => {
    const context = await browser.newContext();
    const { page, errors } = await watchedPage(context);
    const before = received.length;
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => 'fixture' in globalThis);
    // A browser driven by automation is a test run: off until the user opts in.
    expect(await status(page)).toMatchObject({ enabled: false, rule: 'test-runner' });
    await page.evaluate(() => (globalThis as unknown as PageGlobals).localStorage.setItem('tallyho-optin', 'web-fixture'));
    await page.reload();
    await page.waitForFunction(() => 'fixture' in globalThis);
    expect(await status(page)).toMatchObject({ enabled: true, rule: 'opted-in' });

    const flushed = await page.evaluate(async () => {
      const { fixture } = globalThis as unknown as Fixture;
      fixture.work(3);
      return fixture.telemetry.flush();
    });
    expect(flushed).toMatchObject({ status: 'sent', calls: 5 });
    expect(received).toHaveLength(before + 1);
    expect(received[before]!.report).toMatchObject({ project: 'web-fixture', trigger: 'manual', counts: workCounts(3), runtime: { name: 'browser' } });
    // Every timed call has its duration, on the page's clock.
    expect(Object.values(received[before]!.report.durations?.['Client#query'] ?? {}).reduce((a: number, b) => a + (b ?? 0), 0)).toBe(3);

    await page.evaluate(() => (globalThis as unknown as Fixture).fixture.work(2));
    await page.goto(`${origin}/next`);
    await arrived(before + 2);
    const left = received[before + 1]!;
    expect(left.report).toMatchObject({ project: 'web-fixture', trigger: 'exit', counts: workCounts(2) });
    // A beacon: a text/plain body (no preflight), the report id inside it.
    expect(left.headers['content-type']).toMatch(/^text\/plain/);
    expect(left.report.id).not.toBe(received[before]!.report.id);
    await context.close();
    expect(received).toHaveLength(before + 2);
    expect(errors).toEqual([]);
  });

  it('hidden, then closed: one beacon for what was counted before, one for what came after', async () => {
    const context = await browser.newContext();
    const { page, errors } = await watchedPage(context);
    await page.goto(`${origin}/next`);
    await page.evaluate(() => (globalThis as unknown as PageGlobals).localStorage.setItem('tallyho-optin', 'web-fixture'));
    const before = received.length;
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => 'fixture' in globalThis);
    await page.evaluate(() => {
      (globalThis as unknown as Fixture).fixture.work(4);
      // Headless Chromium has no window to hide: the page is told it is hidden, as a switch of tabs would.
      const { document } = globalThis as unknown as PageGlobals;
      Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
      document.dispatchEvent(new Event('visibilitychange', { bubbles: true }));
    });
    await arrived(before + 1);
    expect(received[before]!.report).toMatchObject({ trigger: 'exit', counts: workCounts(4) });
    await page.evaluate(() => (globalThis as unknown as Fixture).fixture.work(1));
    await page.close({ runBeforeUnload: true });
    await arrived(before + 2);
    expect(received[before + 1]!.report).toMatchObject({ trigger: 'exit', counts: workCounts(1) });
    await context.close();
    expect(received).toHaveLength(before + 2);
    expect(errors).toEqual([]);
  });

  it('a module worker with no process imports both entries: the web entry reports, the Node entry is off and says why', async () => {
    const context = await browser.newContext();
    const { page, errors } = await watchedPage(context);
    const before = received.length;
    await page.goto(`${origin}/worker.html`);
    const result = await page.waitForFunction(() => (globalThis as unknown as { workerResult?: unknown }).workerResult).then((handle) => handle.jsonValue());
    expect(result).toEqual({
      process: 'undefined',
      web: { enabled: true, rule: 'default-on', status: 'sent', calls: 2 },
      node: { enabled: false, rule: 'unsupported-runtime' },
    });
    expect(received).toHaveLength(before + 1);
    expect(received[before]!.report).toMatchObject({ project: 'worker-fixture', trigger: 'manual', counts: { 'worker.job': 2 }, runtime: { name: 'worker' } });
    await context.close();
    expect(errors).toEqual([]);
  });
});

describe('bundlers pick the web entry by its export conditions', () => {
  it.each([
    ['browser, ES module', { platform: 'browser' as const, format: 'esm' as const, contents: "import { createTelemetry, httpTransport } from 'tallyho'; createTelemetry({ project: 'p', version: '1', transports: [httpTransport('https://t.example/r')] });" }],
    ['browser, CommonJS consumer', { platform: 'browser' as const, format: 'iife' as const, contents: "const { createTelemetry, httpTransport } = require('tallyho'); createTelemetry({ project: 'p', version: '1', transports: [httpTransport('https://t.example/r')] });" }],
    ['worker (edge)', { platform: 'neutral' as const, format: 'esm' as const, conditions: ['worker'], contents: "import { createTelemetry, httpTransport } from 'tallyho'; createTelemetry({ project: 'p', version: '1', transports: [httpTransport('https://t.example/r')] });" }],
    ['workerd', { platform: 'neutral' as const, format: 'esm' as const, conditions: ['workerd'], contents: "import { createTelemetry, httpTransport } from 'tallyho'; createTelemetry({ project: 'p', version: '1', transports: [httpTransport('https://t.example/r')] });" }],
    ['edge-light', { platform: 'neutral' as const, format: 'esm' as const, conditions: ['edge-light'], contents: "import { createTelemetry, httpTransport } from 'tallyho'; createTelemetry({ project: 'p', version: '1', transports: [httpTransport('https://t.example/r')] });" }],
  ])('%s', async (_name, { contents, ...options }) => {
    const result = await build({ stdin: { contents, resolveDir: root, loader: 'js' }, bundle: true, write: false, logLevel: 'silent', ...options });
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    const text = result.outputFiles[0]!.text;
    expect(text).toContain('sendBeacon');
    expect(text).not.toMatch(/node:/);
  });
});
