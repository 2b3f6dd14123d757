// A stand-in for the Collector where none is installed: listens where the Collector's OTLP/HTTP
// receiver would (localhost:4318) and prints each metric point it is sent.
//
//   node examples/otel-collector/print-receiver.mjs
import { createServer } from 'node:http';
import { gunzipSync } from 'node:zlib';

const port = Number(process.env.PORT ?? 4318);
createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    if (req.method !== 'POST' || req.url !== '/v1/metrics') {
      res.writeHead(404).end();
      return;
    }
    const raw = Buffer.concat(chunks);
    const body = JSON.parse((req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8'));
    const text = (attributes) => attributes.map(({ key, value }) => `${key}=${Object.values(value)[0]}`).join(' ');
    for (const { resource, scopeMetrics } of body.resourceMetrics) {
      console.log(`resource ${text(resource.attributes)}`);
      for (const { metrics } of scopeMetrics) {
        for (const metric of metrics) {
          for (const point of metric.sum.dataPoints) {
            const seconds = (BigInt(point.timeUnixNano) - BigInt(point.startTimeUnixNano)) / 1_000_000_000n;
            console.log(`  ${metric.name} ${text(point.attributes)} +${point.asInt} over ${seconds} s`);
          }
        }
      }
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
}).listen(port, '127.0.0.1', () => console.log(`OTLP/HTTP receiver on http://127.0.0.1:${port}/v1/metrics`));
