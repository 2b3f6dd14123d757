// A long-running service that uses an instrumented library. tallyho reports on a timer, straight to
// an OpenTelemetry Collector over OTLP/HTTP: no OpenTelemetry SDK in the process.
//
//   TALLYHO_OPTIN=acme-sdk TALLYHO_DEBUG=1 node examples/otel-collector/service.mjs [seconds]
//
// Runs until Ctrl-C (or for the given number of seconds), then sends what is left and stops.
import { createTelemetry } from 'tallyho';
import { otlpTransport } from 'tallyho/otel';

// What the library's author writes. The URL is the author's collector; with useOtelEnv, a user who
// sets OTEL_EXPORTER_OTLP_ENDPOINT sends to their own collector instead.
const telemetry = createTelemetry({
  project: 'acme-sdk',
  version: '1.4.0',
  transports: [otlpTransport('http://localhost:4318/v1/metrics', { useOtelEnv: true })],
  // A report every 10 s (the shortest interval tallyho takes), so the Collector has something to show.
  timer: { intervalSec: 10 },
});

const Client = telemetry.track()(
  class Client {
    query(sql) {
      if (sql.includes('drop')) throw new Error('refused');
      return sql.split(' ');
    }
  },
);

// The service's own work: a few calls a second, now and then one that throws.
const client = new Client();
let served = 0;
let stopping = false;
const work = setInterval(() => {
  if (stopping) return;
  for (let i = 0; i < 1 + Math.floor(Math.random() * 5); i++) {
    try {
      client.query(Math.random() < 0.1 ? 'drop table' : 'select 1');
    } catch {
      // The service handles its errors; tallyho only counted that the call threw.
    }
    served++;
  }
}, 250);

async function stop() {
  if (stopping) return;
  stopping = true;
  clearTimeout(deadline);
  // The service's own handle keeps the process up while the last report goes out: tallyho's sockets
  // and timers never do, so a service that closed everything first would leave the report to the spool.
  const result = await telemetry.shutdown();
  clearInterval(work);
  console.log(`served ${served} queries; last report: ${result.status}`);
}

const seconds = Number(process.argv[2]);
const deadline = Number.isFinite(seconds) && seconds > 0 ? setTimeout(stop, seconds * 1000) : undefined;
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
console.log(`serving; ${JSON.stringify(telemetry.status().transports)} every ${telemetry.status().timer} s`);
