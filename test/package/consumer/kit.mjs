// tallyho/testing through `import()`; the kit and the telemetry come from two separate bundles.
const { installTestKit, memoryTransport } = await import('tallyho/testing');
const { createTelemetry } = await import('tallyho');

const kit = installTestKit();
const telemetry = createTelemetry({ project: 'kit-esm', version: '1.0.0' });
telemetry.count('kit.used', 2);
await telemetry.flush();
console.log(
  JSON.stringify({
    reported: kit.reports.map((report) => report.counts),
    memory: memoryTransport().name,
    resolved: import.meta.resolve('tallyho/testing'),
    schemaUrl: import.meta.resolve('tallyho/report.schema.json'),
  }),
);
