// An instrumented library, as its author writes it: counts go into whatever OpenTelemetry SDK the
// host program registers, and nowhere else.
import { createTelemetry } from 'tallyho';
import { otelTransport } from 'tallyho/otel';

export const telemetry = createTelemetry({
  project: 'acme-sdk',
  version: '1.4.0',
  transports: [otelTransport()],
  // The host's own metric reader decides when metrics leave; tallyho only has to hand them over.
  timer: { intervalSec: 60 },
});

// Plain JavaScript has no decorator syntax on Node 20: the decorator is applied as a function.
export const Client = telemetry.track()(
  class Client {
    query(sql) {
      return sql.split(' ');
    }
    close() {}
  },
);

export function exportReport() {
  telemetry.count('feature.export');
}
