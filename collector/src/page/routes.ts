import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** The page's files, beside the package's `dist/`. */
const PUBLIC = new URL('../../public/', import.meta.url);

interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

/**
 * The dashboard: one HTML page, its script and style, and uPlot, served from this package (installed
 * from npm with it): the page loads nothing from any other host. Files are read once, at start.
 */
export async function pageRoutes(app: FastifyInstance, readAuth: (request: FastifyRequest) => Promise<void>): Promise<void> {
  const require = createRequire(import.meta.url);
  const uplotDir = new URL('./', pathToFileURL(require.resolve('uplot/dist/uPlot.iife.min.js')));
  const assets: Record<string, Asset> = {
    'dashboard.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(new URL('dashboard.js', PUBLIC)) },
    'dashboard.css': { type: 'text/css; charset=utf-8', body: readFileSync(new URL('dashboard.css', PUBLIC)) },
    'uPlot.iife.min.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(new URL('uPlot.iife.min.js', uplotDir)) },
    'uPlot.min.css': { type: 'text/css; charset=utf-8', body: readFileSync(new URL('uPlot.min.css', uplotDir)) },
  };
  const page = readFileSync(new URL('index.html', PUBLIC));
  // The page runs only its own scripts, and talks only to this server.
  const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

  app.get('/', { onRequest: readAuth }, async (_request, reply) =>
    reply.header('content-type', 'text/html; charset=utf-8').header('content-security-policy', csp).header('cache-control', 'no-store').send(page),
  );
  app.get('/assets/:file', async (request, reply) => {
    const { file } = request.params as { file: string };
    const asset = Object.hasOwn(assets, file) ? assets[file] : undefined;
    if (asset === undefined) return reply.code(404).send({ error: 'no such file' });
    return reply.header('content-type', asset.type).header('cache-control', 'public, max-age=3600').send(asset.body);
  });
}
