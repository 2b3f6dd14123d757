/**
 * `tallyho/otel`: OpenTelemetry transports. This entry loads `@opentelemetry/api` (an optional peer
 * dependency), which `tallyho` itself never does.
 *
 * @packageDocumentation
 */

// Into the host's OpenTelemetry SDK, through the API
export { otelTransport } from './transports/otel-api.js';
export type { OtelTransportOptions } from './transports/otel-api.js';

// Straight to an OTLP/HTTP receiver, with no SDK in the process
export { otlpTransport } from './transports/otlp.js';
export type { OtlpTransport, OtlpTransportOptions, OtlpTransportSpec } from './transports/otlp.js';
export type { OtlpEnv } from './config/otlp-env.js';

// The types a transport is made of
export type { SendOptions, SendOutcome, Transport, TransportSpec } from './transports/transport.js';
