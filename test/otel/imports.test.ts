import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

/** The packages a bundle of `entry` would import at run time, with @opentelemetry/api kept external as the build does. */
async function runtimeImports(entry: string): Promise<string[]> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    format: 'esm',
    platform: 'node',
    external: ['@opentelemetry/api'],
    logLevel: 'silent',
  });
  const imports = Object.values(result.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external).map((i) => i.path));
  return [...new Set(imports)].filter((path) => !path.startsWith('node:'));
}

describe('who loads @opentelemetry/api', () => {
  it('the OTLP transport does not: it works with no OpenTelemetry package installed', async () => {
    expect(await runtimeImports('src/transports/otlp.ts')).not.toContain('@opentelemetry/api');
  });

  it('tallyho itself does not', async () => {
    expect(await runtimeImports('src/index.ts')).not.toContain('@opentelemetry/api');
  });

  it('tallyho/otel does, and keeps it external so the host and tallyho share one API', async () => {
    expect(await runtimeImports('src/otel.ts')).toContain('@opentelemetry/api');
  });
});
