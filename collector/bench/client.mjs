// One real tallyho client process: counts 100 names and flushes to the collector over HTTP.
import { createTelemetry, httpTransport } from 'tallyho';

const telemetry = createTelemetry({ project: 'bench-sdk', version: '1.0.0', transports: [httpTransport(process.env.BENCH_URL)] });
for (let i = 0; i < 100; i++) telemetry.count(`feature.f${i}`, i + 1);
// Held open while the flush runs (see test/fixtures/client.mjs).
const hold = setInterval(() => {}, 1000);
const result = await telemetry.flush();
clearInterval(hold);
process.stdout.write(`${result.status}\n`);
