import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { collectorRoot, makeReport, post, runClient, testCollector } from './helpers.js';

/** Debian's Chromium (installed by .ci/run), never a browser download. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Kept after the run (git ignores it): what the page looked like. */
const ARTIFACTS = join(collectorRoot, 'test-results');

let c: Awaited<ReturnType<typeof testCollector>>;
let browser: Browser;
beforeAll(async () => {
  c = await testCollector({ minInstalls: 3 });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});
afterAll(async () => {
  await browser?.close();
  await c?.stop();
});

it('the dashboard shows the numbers real clients sent, as charts drawn by the locally served uPlot', async () => {
  // Four installs of 1.4.0 and three of 2.0.0 (one over OTLP); feature.export is used by all, feature.rare by one.
  const runs = await Promise.all([
    ...Array.from({ length: 4 }, () => runClient(`${c.url}/v1/reports`, { counts: { 'feature.export': 2 }, queries: 5, failures: 1, choice: 'hic' })),
    ...Array.from({ length: 2 }, () => runClient(`${c.url}/v1/reports`, { version: '2.0.0', counts: { 'feature.export': 1 }, queries: 1, choice: 'cool' })),
    runClient(`${c.url}/v1/metrics`, { transport: 'otlp', version: '2.0.0', counts: { 'feature.export': 1, 'feature.rare': 9 } }),
  ]);
  for (const run of runs) expect(JSON.parse(run.stdout).flush, run.stderr).toBe('sent');

  const page = await browser.newPage({ viewport: { width: 1200, height: 1400 } });
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${c.url}/?weeks=2`);
  await page.waitForSelector('body[data-ready]');
  expect(await page.getAttribute('body', 'data-ready')).toBe('true');
  expect(errors).toEqual([]);
  // Nothing was loaded from anywhere but the collector.
  expect(requests.filter((u) => !u.startsWith(c.url))).toEqual([]);

  const project = page.locator('section[data-project="acme-sdk"]');
  const numbers = async (chart: string) =>
    project.locator(`table[data-numbers="${chart}"] tr[data-key]`).evaluateAll((rows) =>
      Object.fromEntries(rows.map((r) => [r.getAttribute('data-key'), [...r.querySelectorAll('td')].map((td) => td.textContent)])),
    );
  const thisWeek = (series: Record<string, (string | null)[]>) => Object.fromEntries(Object.entries(series).map(([k, v]) => [k, v[v.length - 1]]));

  expect(thisWeek(await numbers('installs'))).toEqual({ installs: '7' });
  expect(thisWeek(await numbers('features'))).toEqual({ 'Client#query': '22', 'feature.export': '11', 'new Client': '7' });
  expect(thisWeek(await numbers('error-rates'))).toEqual({ 'Client#query': `${((4 / 22) * 100).toFixed(1)}%` });
  expect(thisWeek(await numbers('versions'))).toEqual({ '1.4.0': '4', '2.0.0': '3' });
  expect(thisWeek(await numbers('runtimes'))).toEqual({ [`node ${process.versions.node.split('.')[0]}`]: '7' });
  expect(thisWeek(await numbers('platforms'))).toEqual({ [`${process.platform} ${process.arch}`]: '7' });
  // The usage-level signals (HTTP clients only: this collector takes no choices or numbers over OTLP): a choice, and a recorded number's bucket.
  // Two installs chose 'cool': fewer than 3, so that option is not shown at all.
  expect(thisWeek(await numbers('choice:input.format'))).toEqual({ hic: '4' });
  expect(await project.locator('table[data-numbers="numbers"] tr[data-key="project.files"] td').allTextContents()).toContain('6');
  await expect(project.locator('[data-list="most-used"] li').first().textContent()).resolves.toBe('Client#query: 22');
  await expect(project.locator('[data-list="least-used"] li').first().textContent()).resolves.toBe('new Client: 7');
  // feature.rare (one install) appears nowhere, and the page says cells were suppressed.
  expect(await page.content()).not.toContain('feature.rare');
  await expect(project.locator('p.note').first().textContent()).resolves.toMatch(/cells? suppressed: fewer than 3 distinct installs/);

  // Each chart is a uPlot canvas with something drawn on it.
  const charts = ['installs', 'features', 'error-rates', 'versions', 'runtimes', 'platforms'];
  for (const chart of charts) {
    const drawn = await project.locator(`section[data-chart="${chart}"] canvas`).evaluate((canvas: any) => {
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let painted = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) painted++;
      return { width: canvas.width, painted };
    });
    expect(drawn.width, chart).toBeGreaterThan(100);
    expect(drawn.painted, chart).toBeGreaterThan(200);
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
  await page.close();
});

it('the dashboard counts program runs by the runs reports ended, not by reports', async () => {
  // Three installs of a service in timer mode: two ticks each, then the report made at exit, which
  // alone carries the end of the run.
  for (let install = 0; install < 3; install++) {
    const weekId = String(install).repeat(64);
    const exits = { normal: 1, nonZero: 0, signal: 0, duration: { '65.536': 1 } };
    for (const more of [{ trigger: 'timer' }, { trigger: 'timer' }, { trigger: 'exit', exits }]) {
      expect((await post(`${c.url}/v1/reports`, makeReport({ project: 'timer-svc', weekId, runs: 1, ...more }))).status).toBe(200);
    }
  }
  const page = await browser.newPage();
  await page.goto(`${c.url}/?project=timer-svc&weeks=1`);
  await page.waitForSelector('body[data-ready]');
  const runs = page.locator('section[data-project="timer-svc"] section[data-chart="runs"]');
  await expect(runs.locator('h3').textContent()).resolves.toBe('Program runs (ended)');
  expect(await runs.locator('table[data-numbers="runs"] tr[data-key="runs"] td').allTextContents()).toEqual(['3']);
  await page.close();
});
