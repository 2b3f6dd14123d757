// A long-running HTTP service, instrumented by its author. In a service, tallyho reports on a timer,
// and the service flushes the last counts itself when it is stopped: the pattern for containers and
// systemd, where nothing outlives the process.
//
//   TALLYHO_SHOW_ME=1 TALLYHO_DRY_RUN=1 node examples/service/service.mjs      (Ctrl-C or SIGTERM to stop)
import { createServer } from 'node:http';
import { createTelemetry, httpTransport } from 'tallyho';

const telemetry = createTelemetry({
  project: 'acme-server',
  version: '2.0.0',
  transports: [httpTransport('https://telemetry.acme.dev/v1/reports')],
  // A report every hour; TALLYHO_TIMER_INTERVAL_SEC changes the interval (10 s at the least).
  timer: { intervalSec: 3600 },
});

// Plain JavaScript has no decorator syntax on Node 20: the decorator is applied as a function.
// Counted: `new OrderStore`, `OrderStore#list`, `OrderStore#create` (and, under `errors`, the calls
// that threw).
const OrderStore = telemetry.track()(
  class OrderStore {
    #orders = [];
    list() {
      return this.#orders;
    }
    create(item) {
      if (!item) throw new Error('an order needs an item');
      const order = { id: this.#orders.length + 1, item };
      this.#orders.push(order);
      return order;
    }
  },
);

const store = new OrderStore();
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const reply = (status, body) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.url !== '/orders') return reply(404, { error: 'not found' });
    if (req.method === 'GET') return reply(200, store.list());
    try {
      return reply(201, store.create(Buffer.concat(chunks).toString('utf8').trim()));
    } catch (error) {
      return reply(400, { error: error.message });
    }
  });
});

// Stopping: the last report first, while the server still keeps the process alive (tallyho's own
// sockets and timers never do), then the server. shutdown() resolves, never rejects, within 3 s.
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
async function stop(signal) {
  console.log(`${signal}: sending the last report`);
  const result = await telemetry.shutdown({ timeoutMs: 3000 });
  console.log(`last report: ${result.status}, ${result.calls} calls`);
  server.close();
}

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const { timer } = telemetry.status();
  console.log(`listening on http://127.0.0.1:${server.address().port}/orders; a report every ${timer} s`);
});
