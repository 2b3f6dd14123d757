import { reset, snapshot } from './registry/counter-table.js';
import { sharedState } from './registry/shared-state.js';
import type { Dropped, Report } from './report/report.js';
import type { Transport } from './transports/transport.js';

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

/** The counts of one project at a moment, without resetting them. */
export interface CountSnapshot {
  /** Calls by counter name. */
  readonly counts: Record<string, number>;
  /** Calls that threw, by counter name. */
  readonly errors: Record<string, number>;
  /** Counts lost, by reason (a bad `count()` call is `invalid`), as the next report would carry them. */
  readonly dropped: Dropped;
  /** Timed calls by counter name, as calls by duration bucket (`'0.512'` ms, ...); absent when none were timed. */
  readonly durations?: Record<string, Record<string, number>>;
  /** Numbers given to `record()`, by name, as values by bucket (`'0'`, `'1'`, `'3'`, `'7'`, ...); absent when none were. */
  readonly numbers?: Record<string, Record<string, number>>;
  /** Values given to `choice()`, by name, as counts by allowed value or `other`; absent when none were. */
  readonly choices?: Record<string, Record<string, number>>;
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
  shared.testKit = { receive: (report) => reports.push(report as Report) };
  return {
    reports,
    counts: (project) => countsOf(project),
    reset() {
      reports.length = 0;
      for (const table of shared.tables.values()) reset(table, Date.now());
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
