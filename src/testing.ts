import { addDropped, type CountSnapshot, reset, snapshot } from './registry/counter-table.js';
import { type LossHolder, sharedState } from './registry/shared-state.js';
import type { Report } from './report/report.js';
import type { Transport } from './transports/transport.js';

export type { CountSnapshot } from './registry/counter-table.js';

/** A transport that keeps every report it is given, for tests. */
export interface MemoryTransport extends Transport {
  /** The reports received, oldest first. */
  readonly reports: Report[];
  /** Forgets every report received. */
  clear(): void;
}

/** Creates a {@link MemoryTransport}. */
export function memoryTransport(): MemoryTransport {
  const reports: Report[] = [];
  return {
    name: 'memory',
    reports,
    send(report) {
      reports.push(report);
      return Promise.resolve({ kind: 'success' });
    },
    clear() {
      reports.length = 0;
    },
  };
}

/** The test kit installed by {@link installTestKit}. */
export interface TestKit {
  /** Every report flushed by a telemetry created under the kit, oldest first. */
  readonly reports: Report[];
  /** The counts a project has gathered since its last report, without resetting them. */
  counts(project: string): CountSnapshot;
  /** Forgets the reports and zeroes every project's counts and losses. */
  reset(): void;
  /** Removes the kit: telemetry created afterwards follows the normal rules again. */
  uninstall(): void;
}

/**
 * Lets a library author test their own instrumentation, although tallyho turns itself off under test
 * runners. Call it before the instrumented code creates its telemetry (a test setup file): every
 * telemetry created while the kit is installed is on, whatever the environment says, registers no
 * exit hook, writes no file, and sends its reports to the kit instead of its transports.
 *
 * @example
 * ```ts
 * const kit = installTestKit();
 * const { Client } = await import('../src/client.js');
 * new Client().query('select 1');
 * expect(kit.counts('acme-sdk').counts['Client#query']).toBe(1);
 * ```
 */
export function installTestKit(): TestKit {
  const shared = sharedState();
  const reports: Report[] = [];
  const lossHolders = new Set<LossHolder>();
  shared.testKit = { receive: (report) => reports.push(report as Report), lossHolders };
  return {
    reports,
    counts(project) {
      const counts = countsOf(project);
      const dropped = { ...counts.dropped };
      for (const holder of lossHolders) if (holder.project === project) addDropped(dropped, holder.losses());
      return { ...counts, dropped };
    },
    reset() {
      reports.length = 0;
      for (const table of shared.tables.values()) reset(table, Date.now());
      for (const holder of lossHolders) holder.forget();
    },
    uninstall() {
      delete shared.testKit;
    },
  };
}

/** The counts a project has gathered since its last report, without resetting them. */
export function countsOf(project: string): CountSnapshot {
  const table = sharedState().tables.get(project);
  if (table === undefined) return { counts: {}, errors: {}, dropped: {} };
  return snapshot(table);
}
