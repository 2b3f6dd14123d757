'use strict';
// tallyho/testing through `require`; the kit and the telemetry come from two separate bundles.
const { installTestKit, memoryTransport } = require('tallyho/testing');
const { createTelemetry } = require('tallyho');
const { ReportSchema } = require('tallyho/schema');

const kit = installTestKit();
const telemetry = createTelemetry({ project: 'kit-cjs', version: '1.0.0' });
telemetry.count('kit.used', 2);
const counts = kit.counts('kit-cjs').counts;
const schemaPath = require.resolve('tallyho/report.schema.json');
const schema = require('tallyho/report.schema.json');
void telemetry.flush().then(() => {
  console.log(
    JSON.stringify({
      counts,
      memory: memoryTransport().name,
      schemaPath,
      schemaHasCounts: typeof schema.properties?.counts === 'object',
      // The wire contract through require: the kit's report parses, a countless one does not.
      valid: ReportSchema.safeParse(kit.reports[0]).success,
      countlessValid: ReportSchema.safeParse({ ...kit.reports[0], counts: undefined }).success,
    }),
  );
});
