// Creating a telemetry and counting
export { createTelemetry } from './telemetry.js';
export type { FlushOptions, ShutdownOptions, Telemetry, TelemetryStatus } from './telemetry.js';
export type { TelemetryOptions } from './options.js';
export type { InstrumentOptions } from './decorators/instrument.js';
export type { TrackDecorator, TrackOptions } from './decorators/track.js';
export type { ConsentRule } from './consent/decide.js';
export type { FlushResult } from './delivery/reporter.js';

// The report (its zod schema, the wire contract, is in tallyho/schema)
export { DROP_REASONS, LEVELS, TRIGGERS } from './report/report.js';
export type { DropReason, Dropped, Histogram, Level, Report, Trigger } from './report/report.js';

// Transports
export { consoleTransport } from './transports/console.js';
export { fileTransport } from './transports/file.js';
export type { FileTransport, FileTransportSpec } from './transports/file.js';
export { httpTransport } from './transports/http.js';
export type { HttpTransport, HttpTransportOptions, HttpTransportSpec } from './transports/http.js';
export type { SendOptions, SendOutcome, Transport, TransportSpec } from './transports/transport.js';
