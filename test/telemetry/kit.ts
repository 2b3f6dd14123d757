import { afterAll, afterEach, beforeAll, beforeEach, expect, vi } from 'vitest';
import type { Report } from '../../src/report/report.js';
import { createTelemetry, type Telemetry } from '../../src/telemetry.js';
import type { TelemetryOptions } from '../../src/options.js';
import { installTestKit, type TestKit } from '../../src/testing.js';
import { stubTallyhoEnv } from './support.js';

/** What {@link useTestKit} gives a test file. */
export interface KitSuite {
  /** The kit installed for the file (or describe block). */
  kit(): TestKit;
  /** A project name used nowhere else in the process. */
  project(): string;
  /** A telemetry of a fresh project, on under the kit. */
  fresh(options?: Partial<TelemetryOptions>): { telemetry: Telemetry; project: string };
  /** Flushes, expects it sent, and returns the one report of `project` the flush made. */
  flushOne(telemetry: Telemetry, project: string): Promise<Report>;
}

/**
 * Installs `tallyho/testing` around the calling file or describe block, with tallyho's environment
 * stubbed to nothing (the runner's CI never decides a test), and names projects `<prefix>-<n>`.
 */
export function useTestKit(prefix: string): KitSuite {
  let kit: TestKit | undefined;
  beforeAll(() => {
    kit = installTestKit();
  });
  afterAll(() => kit?.uninstall());
  beforeEach(() => stubTallyhoEnv({}));
  afterEach(() => vi.unstubAllEnvs());
  let made = 0;
  const installed = (): TestKit => kit ?? expect.unreachable('the test kit is installed in beforeAll');
  const project = () => `${prefix}-${made++}`;
  return {
    kit: installed,
    project,
    fresh(options = {}) {
      const name = project();
      return { telemetry: createTelemetry({ project: name, version: '1.0.0', ...options }), project: name };
    },
    async flushOne(telemetry, name) {
      const before = installed().reports.length;
      expect((await telemetry.flush()).status).toBe('sent');
      const reports = installed().reports.slice(before).filter((r) => r.project === name);
      expect(reports).toHaveLength(1);
      return reports[0]!;
    },
  };
}
