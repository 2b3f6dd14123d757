// Loads both builds into one process, as happens when an ESM library and a CommonJS library each
// depend on tallyho. The two copies must count into one table and report once.
import { createRequire } from 'node:module';
import * as esm from 'tallyho';

const require = createRequire(import.meta.url);
const cjs = require('tallyho');

const fromEsm = esm.createTelemetry({ project: 'twins', version: '1.0.0' });
const fromCjs = cjs.createTelemetry({ project: 'twins', version: '1.0.0' });
fromEsm.count('shared', 2);
fromCjs.count('shared', 3);

// A method decorated through one copy and its class through the other is wrapped, and counted, once.
class Widget {
  ping() {
    return 'pong';
  }
}
const descriptor = Object.getOwnPropertyDescriptor(Widget.prototype, 'ping');
Object.defineProperty(Widget.prototype, 'ping', fromEsm.track()(Widget.prototype, 'ping', descriptor) ?? descriptor);
const TrackedWidget = fromCjs.track()(Widget) ?? Widget;
const widget = new TrackedWidget();
widget.ping();
widget.ping();

console.log(JSON.stringify({ distinct: esm.createTelemetry !== cjs.createTelemetry }));
