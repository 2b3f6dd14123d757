// tallyho/testing through `import()`; the kit and the telemetry come from two separate bundles.
const { installTestKit, memoryTransport } = await import('tallyho/testing');
const { createTelemetry } = await import('tallyho');
const { ReportSchema, SCHEMA_VERSION } = await import('tallyho/schema');

const kit = installTestKit();
const telemetry = createTelemetry({ project: 'kit-esm', version: '1.0.0' });
telemetry.count('kit.used', 2);
await telemetry.flush();
console.log(
  JSON.stringify({
    reported: kit.reports.map((report) => report.counts),
    // The wire contract: the kit's report parses; a report of another schema version does not.
    valid: ReportSchema.safeParse(kit.reports[0]).success,
    otherVersionValid: ReportSchema.safeParse({ ...kit.reports[0], schema: SCHEMA_VERSION + 1 }).success,
    memory: memoryTransport().name,
    resolved: import.meta.resolve('tallyho/testing'),
    schemaUrl: import.meta.resolve('tallyho/report.schema.json'),
  }),
);
