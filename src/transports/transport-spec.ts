import { fileTransport } from './file.js';
import { specNumber } from './factory-options.js';
import { buildHttpTransport, type HttpTransportOptions } from './http.js';
import { otlpTransportFromSpec } from './otlp.js';
import type { OtlpEnv } from '../config/otlp-env.js';
import type { Transport } from './transport.js';
import { errorText } from '../config/error-text.js';

/**
 * Rebuilds a transport from its `TransportSpec` in a process that did not build it (the detached
 * sender). The spec comes from a file on disk, so anything may be in it: every field is checked, and
 * this never throws.
 *
 * For HTTP, an override in `env.endpoint` (`TALLYHO_ENDPOINT` where this runs) wins over the one
 * recorded in the spec, which wins over the author's URL.
 *
 * For OTLP whose author allows the OpenTelemetry variables, `env.otlp` (read where this runs) wins
 * over what the spec recorded.
 *
 * @param env - The environment facts of this process: `endpoint` and `otlp`. Default: none.
 * @returns `{ transport }`, or `{ error }` saying why the spec cannot be used.
 */
export function transportFromSpec(
  spec: unknown,
  env?: { readonly endpoint?: string | undefined; readonly otlp?: OtlpEnv },
): { readonly transport: Transport } | { readonly error: string } {
  if (typeof spec !== 'object' || spec === null) return { error: 'the transport spec is not an object' };
  const s = spec as Record<string, unknown>;
  try {
    if (s.type === 'file') {
      if (typeof s.path !== 'string') return { error: 'the file transport spec has no path' };
      return { transport: fileTransport(s.path) };
    }
    if (s.type === 'http') {
      if (typeof s.url !== 'string') return { error: 'the http transport spec has no url' };
      const endpoint = env?.endpoint ?? s.endpoint;
      const options: HttpTransportOptions = {
        headers: s.headers as Record<string, string> | undefined,
        timeoutMs: specNumber(s, 'timeoutMs'),
        gzipAboveBytes: specNumber(s, 'gzipAboveBytes'),
        maxResponseBytes: specNumber(s, 'maxResponseBytes'),
        allowInsecure: s.allowInsecure as boolean | undefined,
      };
      return { transport: buildHttpTransport(s.url, options, typeof endpoint === 'string' ? endpoint : undefined) };
    }
    if (s.type === 'otlp') return otlpTransportFromSpec(s, env?.otlp);
    return { error: `unknown transport type ${JSON.stringify(String(s.type)).slice(0, 40)}` };
  } catch (error) {
    // The factories' TypeErrors are written for authors; here they describe a damaged spec.
    return { error: `unusable transport spec: ${errorText(error)}` };
  }
}
