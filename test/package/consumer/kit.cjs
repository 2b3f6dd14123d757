'use strict';
// tallyho/testing through `require`; the kit and the telemetry come from two separate bundles.
const { installTestKit, memoryTransport } = require('tallyho/testing');
const { createTelemetry } = require('tallyho');

const kit = installTestKit();
const telemetry = createTelemetry({ project: 'kit-cjs', version: '1.0.0' });
telemetry.count('kit.used', 2);
const schemaPath = require.resolve('tallyho/report.schema.json');
const schema = require('tallyho/report.schema.json');
console.log(
  JSON.stringify({
    counts: kit.counts('kit-cjs').counts,
    memory: memoryTransport().name,
    schemaPath,
    schemaHasCounts: typeof schema.properties?.counts === 'object',
  }),
);
