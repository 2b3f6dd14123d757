import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { homePaths, resolveHome } from '../../src/config/home.js';
import { readConsentFiles } from '../../src/consent/consent-files.js';
import { Spool } from '../../src/delivery/spool.js';
import { createTelemetry } from '../../src/telemetry.js';
import { countingServer, type CountingServer, postingTransport, sampleEntry, stubTallyhoEnv } from '../telemetry/support.js';

const root = mkdtempSync(join(tmpdir(), 'tallyho-inert-'));
let server: CountingServer;
beforeAll(async () => {
  server = await countingServer();
});
afterAll(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});
afterEach(() => {
  vi.unstubAllEnvs();
  vi.useRealTimers();
});

let made = 0;
/** A TALLYHO_HOME that does not exist yet, and a project name used nowhere else. */
function fresh(): { home: string; project: string } {
  made++;
  return { home: join(root, `home-${made}`), project: `inert-${made}` };
}

const HOOKED = ['exit', 'SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const listenerCounts = () => Object.fromEntries(HOOKED.map((event) => [event, process.listenerCount(event)]));

/** What the decorator does to a class, a method and a static method, called by hand in both standards. */
function decorateByHand(track: (...args: any[]) => unknown) {
  class Client {
    query() {
      return 'rows';
    }
    static create() {
      return new Client();
    }
  }
  const query = Client.prototype.query;
  const descriptor = Object.getOwnPropertyDescriptor(Client.prototype, 'query')!;
  const staticDescriptor = Object.getOwnPropertyDescriptor(Client, 'create')!;
  const context = (kind: string, name: string, isStatic = false) => ({
    kind,
    name,
    static: isStatic,
    private: false,
    addInitializer: () => {},
    metadata: {},
  });
  // A decorator that returns undefined keeps what it was given, in both standards.
  const legacyClass = track(Client) ?? Client;
  const legacyMethod = (track(Client.prototype, 'query', descriptor) as PropertyDescriptor | undefined) ?? descriptor;
  const legacyStatic = (track(Client, 'create', staticDescriptor) as PropertyDescriptor | undefined) ?? staticDescriptor;
  const standardClass = track(Client, context('class', 'Client')) ?? Client;
  const standardMethod = track(query, context('method', 'query')) ?? query;
  return {
    classKept: legacyClass === Client && standardClass === Client,
    methodKept: legacyMethod.value === query && standardMethod === query && legacyStatic.value === Client.create,
  };
}

describe.each([
  ['DO_NOT_TRACK=1', { DO_NOT_TRACK: '1' }, 'do-not-track', 'DO_NOT_TRACK'],
  ['CI=true without an opt-in', { CI: 'true' }, 'ci', 'CI'],
])('off with %s', (_name, env, rule, mention) => {
  it('registers no handler, writes no file, opens no socket, and returns the originals', async () => {
    const { home, project } = fresh();
    stubTallyhoEnv({ ...env, TALLYHO_HOME: home, TALLYHO_TIMER: '1' });
    const before = listenerCounts();
    const connectionsBefore = server.connections();
    const transport = postingTransport(server.url);

    const telemetry = createTelemetry({ project, version: '1.0.0', transports: [transport], level: 'full', timer: { intervalSec: 60 } });
    const kept = decorateByHand(telemetry.track());
    telemetry.count('feature.export', 5);
    const flushed = await telemetry.flush();
    const shut = await telemetry.shutdown();

    expect(telemetry.status()).toMatchObject({ enabled: false, rule });
    expect(telemetry.status().reason).toContain(mention);
    expect(kept).toEqual({ classKept: true, methodKept: true });
    expect(listenerCounts()).toEqual(before);
    expect(existsSync(home)).toBe(false);
    expect(transport.sends).toBe(0);
    expect(server.connections()).toBe(connectionsBefore);
    expect(flushed.status).toBe('off');
    expect(shut.status).toBe('off');
  });

  it('starts no timer, even with TALLYHO_TIMER=1', () => {
    const { home, project } = fresh();
    stubTallyhoEnv({ ...env, TALLYHO_HOME: home, TALLYHO_TIMER: '1', TALLYHO_TIMER_INTERVAL_SEC: '60' });
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'] });
    createTelemetry({ project, version: '1.0.0', timer: { intervalSec: 60 } });
    expect(vi.getTimerCount()).toBe(0);
  });
});

// The checks above can fail: the same telemetry, opted in, does each thing they look for.
describe('on (TALLYHO_OPTIN), for contrast', () => {
  it('hooks exit and signals (once, however many telemetries), writes its home, connects, and wraps what it decorates', async () => {
    const { home, project } = fresh();
    stubTallyhoEnv({ TALLYHO_OPTIN: project, TALLYHO_HOME: home });
    const before = listenerCounts();
    const connectionsBefore = server.connections();
    const transport = postingTransport(server.url);

    const telemetry = createTelemetry({ project, version: '1.0.0', transports: [transport] });
    expect(telemetry.status()).toMatchObject({ enabled: true, rule: 'opted-in' });
    const hooked = listenerCounts();
    expect(hooked).not.toEqual(before);
    const kept = decorateByHand(telemetry.track());
    expect(kept).toEqual({ classKept: false, methodKept: false });
    telemetry.count('feature.export', 5);
    const flushed = await telemetry.flush();
    expect(flushed.status).toBe('sent');
    expect(transport.sends).toBe(1);
    expect(server.connections()).toBeGreaterThan(connectionsBefore);
    expect(existsSync(home)).toBe(true);

    // The hook stays after shutdown(), to record how the run ends; a second telemetry adds no listener.
    await telemetry.shutdown();
    createTelemetry({ project: `${project}-2`, version: '1.0.0', transports: [transport] });
    expect(listenerCounts()).toEqual(hooked);
  });

  it('starts its timer with TALLYHO_TIMER=1, and shutdown() clears it', async () => {
    const { home, project } = fresh();
    stubTallyhoEnv({ TALLYHO_OPTIN: project, TALLYHO_HOME: home, TALLYHO_TIMER: '1', TALLYHO_TIMER_INTERVAL_SEC: '60' });
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const telemetry = createTelemetry({ project, version: '1.0.0' });
    expect(vi.getTimerCount()).toBe(1);
    await telemetry.shutdown();
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('setConsent', () => {
  it('false persists the choice, deletes waiting reports, and turns this run off too', async () => {
    const { home, project } = fresh();
    stubTallyhoEnv({ TALLYHO_OPTIN: project, TALLYHO_HOME: home });
    const paths = resolveHome(home);
    const spool = new Spool(homePaths.spool(paths, project));
    expect(spool.add(sampleEntry(project), 0)).toBe(true);
    expect(spool.add(sampleEntry(project), 1)).toBe(true);
    const other = new Spool(homePaths.spool(paths, 'other-lib'));
    expect(other.add(sampleEntry('other-lib'), 0)).toBe(true);
    const transport = postingTransport(server.url);

    const telemetry = createTelemetry({ project, version: '1.0.0', transports: [transport] });
    expect(telemetry.status().enabled).toBe(true);
    telemetry.count('feature.export');
    expect(telemetry.setConsent(false)).toBe(true);

    expect(readConsentFiles(paths, project, root).project).toBe('out');
    expect(spool.list()).toEqual([]);
    expect(readdirSync(spool.dir).filter((name) => name.endsWith('.json'))).toEqual([]);
    expect(other.list()).toHaveLength(1);
    // Decided again: status says what the next flush will do, and nothing more is sent from this process.
    expect(telemetry.status()).toMatchObject({ enabled: false, rule: 'project-optout' });
    expect((await telemetry.flush()).status).toBe('off');
    expect(transport.sends).toBe(0);
    await telemetry.shutdown();

    // The next run follows the saved choice, over TALLYHO_OPTIN.
    expect(createTelemetry({ project, version: '1.0.0' }).status()).toMatchObject({ enabled: false, rule: 'project-optout' });
  });

  it('false works from a telemetry that is off, and writes only the consent file', () => {
    const { home, project } = fresh();
    stubTallyhoEnv({ DO_NOT_TRACK: '1', TALLYHO_HOME: home });
    const paths = resolveHome(home);
    const spool = new Spool(homePaths.spool(paths, project));
    spool.add(sampleEntry(project), 0);
    const telemetry = createTelemetry({ project, version: '1.0.0' });
    expect(telemetry.setConsent(false)).toBe(true);
    expect(readConsentFiles(paths, project, root).project).toBe('out');
    expect(spool.list()).toEqual([]);
    expect(telemetry.status()).toMatchObject({ enabled: false, rule: 'do-not-track' });
  });

  it('true persists an opt-in that the next run honours, in CI and for opt-in projects', async () => {
    const { home, project } = fresh();
    stubTallyhoEnv({ CI: 'true', TALLYHO_HOME: home });
    const first = createTelemetry({ project, version: '1.0.0', consent: 'opt-in' });
    expect(first.status()).toMatchObject({ enabled: false, rule: 'ci' });
    expect(first.setConsent(true)).toBe(true);
    expect(first.status().enabled).toBe(false);
    const next = createTelemetry({ project, version: '1.0.0', consent: 'opt-in' });
    expect(next.status()).toMatchObject({ enabled: true, rule: 'opted-in' });
    await next.shutdown();
  });

  it('returns false, and does not throw, when the home cannot be written', () => {
    const { project } = fresh();
    // A home below a regular file cannot be created, whoever runs the test.
    const blocker = join(root, `file-${made}`);
    writeFileSync(blocker, 'not a folder\n');
    stubTallyhoEnv({ DO_NOT_TRACK: '1', TALLYHO_HOME: join(blocker, 'home') });
    const telemetry = createTelemetry({ project, version: '1.0.0' });
    expect(telemetry.setConsent(false)).toBe(false);
  });
});
