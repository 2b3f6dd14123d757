// The web entry: browsers, web workers and edge workers (export conditions browser, worker, workerd,
// edge-light). The same names as the Node entry; no file system, sender or exit hooks.

// Creating a telemetry and counting
export { createTelemetry } from './runtime/web/telemetry.js';
export type { ShutdownOptions, Telemetry, TelemetryStatus } from './telemetry.js';
export type { TelemetryOptions } from './options.js';
export type { InstrumentOptions } from './decorators/instrument.js';
export type { TrackDecorator, TrackOptions } from './decorators/track.js';
export type { ConsentRule } from './consent/decide.js';
export type { FlushResult } from './delivery/reporter.js';

// The report (its zod schema, the wire contract, is in tallyho/schema)
export { DROP_REASONS, LEVELS, TRIGGERS } from './report/report.js';
export type { DropReason, Dropped, Histogram, Level, Report, Trigger } from './report/report.js';

// Transports
export { consoleTransport, fileTransport } from './runtime/web/transports.js';
export { httpTransport } from './runtime/web/http-transport.js';
export type { BeaconTransport, WebHttpTransportOptions } from './runtime/web/http-transport.js';
export type { SendOptions, SendOutcome, Transport, TransportSpec } from './transports/transport.js';
