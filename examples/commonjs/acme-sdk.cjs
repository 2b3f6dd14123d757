// A small instrumented library written in CommonJS: `require('tallyho')` loads tallyho's CommonJS
// build, which shares its counters with the ES module build if both end up in one program.
'use strict';

const { createTelemetry } = require('tallyho');

const telemetry = createTelemetry({
  project: 'acme-sdk',
  version: '1.4.0',
  // transports: [httpTransport('https://telemetry.acme.dev/v1/reports')],
});

// No decorator syntax in plain JavaScript on Node 20: the decorator is applied as a function, and
// what it returns is what the library exports. Counted: `new Client`, `Client#query`, `Client.parseUrl`.
const Client = telemetry.track()(
  class Client {
    static parseUrl(url) {
      return new URL(url);
    }

    constructor(url) {
      this.url = url;
    }

    query(sql) {
      return sql.split(' ');
    }
  },
);

/** A plain function, counted by hand. */
function exportCsv(rows) {
  telemetry.count('feature.export-csv');
  return rows.map((row) => row.join(',')).join('\n');
}

module.exports = { Client, exportCsv, telemetry };
