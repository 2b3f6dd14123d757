import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Report } from '../../src/report/report.js';
import { BEACON_MAX_BYTES, byteLength, httpTransport } from '../../src/runtime/web/http-transport.js';
import { decideWebConsent, readWebSignals, writeWebConsent } from '../../src/runtime/web/signals.js';
import { createTelemetry as createWebTelemetry, splitReport } from '../../src/runtime/web/telemetry.js';

/** A localStorage of a Map, or one that throws as blocked storage does. */
function storage(items: Record<string, string> = {}) {
  const map = new Map(Object.entries(items));
  return { getItem: (k: string) => map.get(k) ?? null, setItem: (k: string, v: string) => void map.set(k, v), map };
}
// Not enumerable, so that test names can print it: reading it throws, as blocked storage does.
const blocked = Object.defineProperty({}, 'localStorage', {
  get: () => {
    throw new Error('SecurityError: access denied');
  },
});

const P = { project: 'acme-sdk', consent: 'opt-out' as const };

describe('consent in a browser: the browser\'s signals and the localStorage switches', () => {
  it.each([
    [{}, { enabled: true, rule: 'default-on' }],
    [{ navigator: { globalPrivacyControl: true } }, { enabled: false, rule: 'global-privacy-control' }],
    [{ navigator: { doNotTrack: '1' } }, { enabled: false, rule: 'do-not-track' }],
    [{ doNotTrack: '1' }, { enabled: false, rule: 'do-not-track' }],
    [{ navigator: { doNotTrack: '0' } }, { enabled: true, rule: 'default-on' }],
    [{ localStorage: storage({ 'tallyho-disable': '1' }) }, { enabled: false, rule: 'tallyho-disable' }],
    [{ localStorage: storage({ 'tallyho-disable': 'anything' }) }, { enabled: false, rule: 'tallyho-disable' }],
    [{ localStorage: storage({ 'tallyho-disable': 'no' }) }, { enabled: true, rule: 'default-on' }],
    [{ localStorage: storage({ 'tallyho-optout': 'other, acme-sdk' }) }, { enabled: false, rule: 'tallyho-optout' }],
    [{ navigator: { webdriver: true } }, { enabled: false, rule: 'test-runner' }],
    [{ navigator: { webdriver: true }, localStorage: storage({ 'tallyho-optin': 'acme-sdk' }) }, { enabled: true, rule: 'opted-in' }],
    // Every opt-out wins over an opt-in.
    [{ navigator: { globalPrivacyControl: true }, localStorage: storage({ 'tallyho-optin': 'acme-sdk' }) }, { enabled: false, rule: 'global-privacy-control' }],
    [{ localStorage: storage({ 'tallyho-optin': 'acme-sdk', 'tallyho-optout': 'acme-sdk' }) }, { enabled: false, rule: 'tallyho-optout' }],
    [blocked, { enabled: false, rule: 'unreadable-file' }],
  ])('%j: %j', (globals, decision) => {
    expect(decideWebConsent(readWebSignals(globals as never), P)).toMatchObject(decision);
  });

  it('opt-in projects wait for the user', () => {
    expect(decideWebConsent(readWebSignals({}), { ...P, consent: 'opt-in' })).toMatchObject({ enabled: false, rule: 'opt-in-required' });
    expect(decideWebConsent(readWebSignals({ localStorage: storage({ 'tallyho-optin': 'acme-sdk' }) } as never), { ...P, consent: 'opt-in' })).toMatchObject({ enabled: true, rule: 'opted-in' });
  });

  it('setConsent persists in the lists, replacing the other choice', () => {
    const store = storage({ 'tallyho-optin': 'acme-sdk,other' });
    expect(writeWebConsent('acme-sdk', false, { localStorage: store } as never)).toBe(true);
    expect(Object.fromEntries(store.map)).toEqual({ 'tallyho-optin': 'other', 'tallyho-optout': 'acme-sdk' });
    expect(decideWebConsent(readWebSignals({ localStorage: store } as never), P).rule).toBe('tallyho-optout');
    expect(writeWebConsent('acme-sdk', true, { localStorage: store } as never)).toBe(true);
    expect(decideWebConsent(readWebSignals({ localStorage: store } as never), P).rule).toBe('opted-in');
    expect(writeWebConsent('acme-sdk', true, blocked as never)).toBe(false);
    expect(writeWebConsent('acme-sdk', true, {})).toBe(false);
  });
});

function report(names: number, errors = 0): Report {
  const counts: Record<string, number> = {};
  const errs: Record<string, number> = {};
  for (let i = 0; i < names; i++) counts[`Client#method${i}WithAFairlyLongNameToFillTheBeacon`] = i + 1;
  for (let i = 0; i < errors; i++) errs[`Client#method${i}WithAFairlyLongNameToFillTheBeacon`] = 1;
  return {
    schema: 1,
    id: '3f2b8c1e-2a4d-4e5f-9a6b-7c8d9e0f1a2b',
    project: 'acme-sdk',
    version: '1.0.0',
    level: 'usage',
    trigger: 'exit',
    period: { start: '2026-01-05T10:00:00.000Z', end: '2026-01-05T11:00:00.000Z' },
    counts,
    dropped: { overflow: 3 },
    errors: errs,
  };
}

describe('beacons carry at most 64 KiB: a larger report leaves in parts', () => {
  it('a small report is one part, unchanged', () => {
    const small = report(10);
    expect(splitReport(small, BEACON_MAX_BYTES)).toEqual([small]);
  });

  it('a large one is split by name: every count and error once, each part within the cap, losses once', () => {
    const large = report(3000, 500);
    expect(byteLength(JSON.stringify(large))).toBeGreaterThan(2 * BEACON_MAX_BYTES);
    const parts = splitReport(large, BEACON_MAX_BYTES);
    expect(parts.length).toBeGreaterThanOrEqual(3);
    for (const part of parts) expect(byteLength(JSON.stringify(part))).toBeLessThanOrEqual(BEACON_MAX_BYTES);
    expect(Object.assign({}, ...parts.map((p) => p.counts))).toEqual(large.counts);
    expect(Object.assign({}, ...parts.map((p) => p.errors))).toEqual(large.errors);
    expect(parts.map((p) => p.dropped)).toEqual([{ overflow: 3 }, ...parts.slice(1).map(() => ({}))]);
    expect(new Set(parts.map((p) => p.id)).size).toBe(parts.length);
    for (const part of parts) expect(part.period).toEqual(large.period);
  });
});

describe('the web httpTransport', () => {
  it('holds to the same URL rule as the server one', () => {
    expect(() => httpTransport('http://telemetry.example.com/r')).toThrow(/plain http:.*allowInsecure/);
    expect(() => httpTransport('ftp://x/r')).toThrow(/ftp:/);
    expect(httpTransport('http://127.0.0.1:9/r').name).toBe('http://127.0.0.1:9/r');
    expect(() => httpTransport('https://t.example/r', { timeoutMs: 0 })).toThrow(/timeoutMs/);
  });

  it('a beacon with no sendBeacon (a worker, a server) is refused, never thrown', () => {
    expect(httpTransport('https://t.example/r').beacon('{}')).toBe(false);
  });
});

/** Globals of a visible page whose event listeners are kept by type, for a test to fire. Undone by vi.unstubAllGlobals(). */
function aPage(): Map<string, () => void> {
  const listeners = new Map<string, () => void>();
  vi.stubGlobal('document', { visibilityState: 'visible' });
  vi.stubGlobal('addEventListener', (type: string, listener: () => void) => listeners.set(type, listener));
  vi.stubGlobal('removeEventListener', (type: string) => listeners.delete(type));
  return listeners;
}

describe('the web telemetry after shutdown()', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('what its final flush could not send (the losses it found) leaves by beacon when the page goes', async () => {
    const listeners = aPage();
    const beacons: string[] = [];
    const refusing = {
      name: 'refusing',
      send: () => Promise.resolve({ kind: 'failure' as const, reason: '400 Bad Request' }),
      beacon: (body: string) => (beacons.push(body), true),
    };
    const telemetry = createWebTelemetry({ project: 'web-after-shutdown', version: '1.0.0', transports: [refusing], timer: false });
    expect(telemetry.status().enabled).toBe(true);
    telemetry.count('feature.export', 4);
    expect((await telemetry.shutdown()).status).toBe('failed');
    expect(listeners.has('pagehide')).toBe(true);
    listeners.get('pagehide')!();
    expect(beacons.map((body) => (JSON.parse(body) as Report).dropped)).toEqual([{ refused: 4 }]);
    // Sent: nothing is left, and a second page event sends nothing more.
    listeners.get('visibilitychange')?.();
    expect(beacons).toHaveLength(1);
  });

  it('still beacons what the final flush lost after shutdown() resolved with timeout', async () => {
    const listeners = aPage();
    const beacons: string[] = [];
    let answer!: () => void;
    const refusing = {
      name: 'slow-refusal',
      send: () => new Promise<{ kind: 'failure'; reason: string }>((resolve) => (answer = () => resolve({ kind: 'failure', reason: '400 Bad Request' }))),
      beacon: (body: string) => (beacons.push(body), true),
    };
    const telemetry = createWebTelemetry({ project: 'web-shutdown-timeout', version: '1.0.0', transports: [refusing], timer: false });
    telemetry.count('feature.export', 2);
    expect((await telemetry.shutdown({ timeoutMs: 0 })).status).toBe('timeout');
    // The refusal comes after shutdown() gave up waiting.
    answer();
    await new Promise((resolve) => setImmediate(resolve));
    expect(listeners.has('pagehide')).toBe(true);
    listeners.get('pagehide')!();
    expect(beacons.map((body) => (JSON.parse(body) as Report).dropped)).toEqual([{ refused: 2 }]);
  });
});
