import type { IncomingMessage } from 'node:http';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';

/**
 * The request body as the route should parse it: gunzipped when `content-encoding: gzip` (what
 * tallyho's transports send above 1 KiB), as is when there is no encoding. Fastify applies the body
 * limit to what this stream yields, so a small gzip that inflates past the limit is refused as too
 * large; the compressed size is reported as `receivedEncodedLength` for the content-length check.
 *
 * @returns the stream, or an error (415) for an encoding other than gzip or identity.
 */
export function decodedBody(request: IncomingMessage, payload: Readable): Readable | Error {
  const encoding = (request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return payload;
  if (encoding !== 'gzip' && encoding !== 'x-gzip') {
    return Object.assign(new Error(`content-encoding ${JSON.stringify(encoding)} is not supported; send gzip or no encoding`), {
      statusCode: 415,
      code: 'UNSUPPORTED_ENCODING',
    });
  }
  const gunzip = createGunzip() as ReturnType<typeof createGunzip> & { receivedEncodedLength: number };
  gunzip.receivedEncodedLength = 0;
  payload.on('data', (chunk: Buffer) => {
    gunzip.receivedEncodedLength += chunk.length;
  });
  payload.on('error', (error) => gunzip.destroy(error));
  payload.pipe(gunzip);
  return gunzip;
}
