import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { resolveHome } from '../../src/config/home.js';
import { writeProjectConsent } from '../../src/consent/consent-files.js';
import type { Report } from '../../src/report/report.js';
import { createTelemetry, type Telemetry } from '../../src/telemetry.js';
import type { Transport } from '../../src/transports/transport.js';
import { stubTallyhoEnv } from './support.js';

let home: string;
let made = 0;
const open: Telemetry[] = [];

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'tallyho-status-'));
});
afterEach(async () => {
  for (const t of open.splice(0)) await t.shutdown({ timeoutMs: 100 });
  vi.unstubAllEnvs();
  rmSync(home, { recursive: true, force: true });
});

/** An enabled telemetry of a project of its own, sending to memory. */
function fresh(): { project: string; telemetry: Telemetry; reports: Report[] } {
  const project = `status-${made++}`;
  stubTallyhoEnv({ TALLYHO_OPTIN: project, TALLYHO_HOME: home });
  const reports: Report[] = [];
  const sink: Transport = { name: 'memory', send: (report) => (reports.push(report), Promise.resolve({ kind: 'success' })) };
  const telemetry = createTelemetry({ project, version: '1.0.0', transports: [sink], timer: false });
  open.push(telemetry);
  return { project, telemetry, reports };
}

describe('status()', () => {
  it('says off, with the rule, once the user opts out while the program runs, as flush() does', async () => {
    const { project, telemetry, reports } = fresh();
    expect(telemetry.status()).toMatchObject({ enabled: true, rule: 'opted-in' });
    // `tallyho optout <project>`, run from another terminal.
    writeProjectConsent(resolveHome(home), project, false);
    expect(telemetry.status()).toMatchObject({ enabled: false, rule: 'project-optout' });
    telemetry.count('feature.export');
    expect((await telemetry.flush()).status).toBe('off');
    expect(reports).toEqual([]);
  });

  it('says off once the program calls setConsent(false)', async () => {
    const { telemetry } = fresh();
    expect(telemetry.setConsent(false)).toBe(true);
    expect(telemetry.status()).toMatchObject({ enabled: false, rule: 'project-optout' });
    expect(telemetry.status().reason).toMatch(/opted out/);
    expect((await telemetry.flush()).status).toBe('off');
  });

  it('keeps what does not change: project, level, transports', () => {
    const { project, telemetry } = fresh();
    expect(telemetry.status()).toMatchObject({ project, version: '1.0.0', level: 'usage', transports: ['memory'], timer: false, dryRun: false });
  });
});
