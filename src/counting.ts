import type { ModuleExportCheck } from './decorators/built-ins.js';
import { createInstrument } from './decorators/instrument.js';
import { createTrack } from './decorators/track.js';
import { count, countChoice, type CounterTable, recordNumber } from './registry/counter-table.js';
import { sharedState } from './registry/shared-state.js';
import type { FlushResult } from './delivery/reporter.js';
import type { Telemetry, TelemetryStatus } from './telemetry.js';

/** The part of a telemetry that counts: the same on every runtime, only the warning's channel differs. */
export type CountingMethods = Pick<Telemetry, 'track' | 'instrument' | 'count' | 'record' | 'choice'>;

/**
 * The counting methods of an enabled telemetry over `table`. A bad call is never thrown: the
 * registry returns a warning, which goes to `warn` (debug output on the web, warnings on Node).
 * `exportedByModule` (Node's entry alone) tells what the runtime's built-in modules export, which
 * `instrument()` never changes.
 */
export function countingMethods(table: CounterTable, maxNames: number, warn: (text: string) => void, exportedByModule?: ModuleExportCheck): CountingMethods {
  const sink = { table, wrappers: sharedState().wrappers, warn };
  const said = (warning: string | undefined): void => {
    if (warning !== undefined) warn(warning);
  };
  return {
    track: createTrack(sink),
    instrument: createInstrument(sink, exportedByModule),
    count: (name, n = 1) => said(count(table, name, n, maxNames)),
    record: (name, value) => said(recordNumber(table, name, value, maxNames)),
    choice: (name, value, allowed) => said(countChoice(table, name, value, allowed, maxNames)),
  };
}

/** A telemetry that is off for the whole run: it counts nothing, and every flush says `off`. */
export function offTelemetry(status: TelemetryStatus, setConsent: (allow: boolean) => boolean): Telemetry {
  const off: FlushResult = { status: 'off', calls: 0, outcomes: [] };
  return {
    track: createTrack(undefined),
    instrument: createInstrument(undefined),
    count: () => {},
    record: () => {},
    choice: () => {},
    status: () => status,
    setConsent,
    flush: () => Promise.resolve(off),
    shutdown: () => Promise.resolve(off),
  };
}
