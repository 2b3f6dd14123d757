import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as tallyho from '../../src/index.js';
import { createTelemetry, type Telemetry } from '../../src/telemetry.js';
import { httpTransport, type HttpTransportOptions } from '../../src/transports/http.js';
import type { OtlpTransportOptions } from '../../src/transports/otlp.js';
import { retryingTransport } from '../../src/transports/retrying.js';
import type { Transport } from '../../src/transports/transport.js';
import { stubTallyhoEnv } from '../telemetry/support.js';
import { type Receiver, sampleReport, startReceiver } from './receiver.js';

let home: string;
let made = 0;
const open: Telemetry[] = [];
const receivers: Receiver[] = [];
const receiver = async (): Promise<Receiver> => {
  const r = await startReceiver();
  receivers.push(r);
  return r;
};

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'tallyho-retry-rule-'));
});
afterEach(async () => {
  for (const t of open.splice(0)) await t.shutdown({ timeoutMs: 100 });
  for (const r of receivers.splice(0)) await r.close();
  vi.unstubAllEnvs();
  rmSync(home, { recursive: true, force: true });
});

describe('one retry rule, and specs that rebuild exactly their transport', () => {
  it("keeps an author's wrapper around a factory's transport, even one that copies its spec, where TALLYHO_ENDPOINT rebuilds the factory's own", async () => {
    const author = await receiver();
    const proxy = await receiver();
    const project = `retry-rule-${made++}`;
    stubTallyhoEnv({ TALLYHO_OPTIN: project, TALLYHO_HOME: home, TALLYHO_ENDPOINT: proxy.url });
    const inner = httpTransport(author.url);
    let wrapped = 0;
    const wrapper: Transport = {
      ...inner,
      name: 'audited',
      send: (report, options) => (wrapped++, inner.send(report, options)),
    };
    const telemetry = createTelemetry({ project, version: '1.0.0', transports: [wrapper, httpTransport(author.url)], timer: false });
    open.push(telemetry);
    expect(telemetry.status().transports).toEqual(['audited', proxy.url]);
    telemetry.count('feature.export');
    expect((await telemetry.flush()).status).toBe('sent');
    // The wrapper ran: its copied spec did not replace it with a bare rebuilt transport.
    expect(wrapped).toBe(1);
    expect(author.received).toHaveLength(1);
    expect(proxy.received).toHaveLength(1);
  });

  it("gives a wrapper's copy of a spec to no one: only what a factory built is rebuilt elsewhere", () => {
    const inner = httpTransport('https://telemetry.example/v1/reports');
    const copy: Transport = { ...inner, send: (report, options) => inner.send(report, options) };
    expect(retryingTransport(inner).spec).toEqual(inner.spec);
    expect(retryingTransport(copy).spec).toBeUndefined();
  });

  it('keeps tallyho plumbing out of the public API: no retry wrapper to stack, no endpoint or variables options', async () => {
    expect(Object.keys(tallyho)).not.toContain('retryingTransport');
    // @ts-expect-error TALLYHO_ENDPOINT is the user's, applied by tallyho: not an author option.
    const http: HttpTransportOptions = { endpoint: 'https://proxy.example/t' };
    // @ts-expect-error the OpenTelemetry variables are read by tallyho: not an author option.
    const otlp: OtlpTransportOptions = { otelEnv: {} };
    void otlp;
    // Passed anyway, it changes nothing: reports go to the author's URL.
    const author = await receiver();
    const proxy = await receiver();
    const transport = httpTransport(author.url, { ...http, endpoint: proxy.url } as HttpTransportOptions);
    expect(transport.spec).not.toHaveProperty('endpoint');
    expect(await transport.send(sampleReport(), { signal: new AbortController().signal })).toEqual({ kind: 'success' });
    expect(author.received).toHaveLength(1);
    expect(proxy.received).toHaveLength(0);
  });
});
