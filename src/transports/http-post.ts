import type { ClientRequest } from 'node:http';
import { builtins } from '../config/builtins.js';
import { unrefLookup } from './dns-lookup.js';
import type { SendOutcome } from './transport.js';
import { errorText } from '../config/error-text.js';

/** How one POST is made: the part of a transport's settings that the request itself needs. */
export interface PostSettings {
  /** How long the attempt may take, from connecting to the last byte read. */
  readonly timeoutMs: number;
  /** Bodies larger than this many bytes are sent gzip-compressed; `Infinity` never compresses. */
  readonly gzipAboveBytes: number;
  /** At most this many bytes of a reply are read; the connection is closed after them. */
  readonly maxResponseBytes: number;
}

/** The outcome of one POST, and the start of the reply's body (at most `maxResponseBytes`). */
export interface PostResult {
  readonly outcome: SendOutcome;
  /** Empty when nothing was read, such as after a network error or a timeout. */
  readonly reply: Buffer;
}

/** The longest `Retry-After` honoured: a receiver cannot park a report for longer than a minute. */
export const RETRY_AFTER_MAX_MS = 60_000;

/**
 * Reads a `Retry-After` value: delta-seconds or an HTTP-date, as milliseconds from `nowMs`, clamped
 * to 0..{@link RETRY_AFTER_MAX_MS}. Anything else is ignored (`undefined`): a malformed header must
 * not stall delivery.
 *
 * @param nowMs - The current time, for HTTP-dates. Default: `Date.now()`.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  let ms: number;
  if (/^\d+$/.test(text)) {
    ms = Number(text) * 1000;
  } else if (/^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? /.test(text)) {
    // asctime() dates carry no zone, but HTTP dates are always GMT.
    const at = Date.parse(/GMT$/.test(text) ? text : `${text} GMT`);
    if (Number.isNaN(at)) return undefined;
    ms = at - nowMs;
  } else {
    return undefined;
  }
  return Math.min(RETRY_AFTER_MAX_MS, Math.max(0, ms));
}

/** Statuses that mean "not now" (OTLP's retry rules): everything else that is not 2xx is final. */
const RETRYABLE_STATUSES = new Set([429, 502, 503, 504]);

/** How much of a refusal's body is quoted in its reason: enough to recognise it, one line. */
const QUOTED_BODY_CHARS = 200;

/**
 * POSTs `body` to `target` once, gzipped above the threshold, and settles with an outcome, never an
 * exception or a rejection.
 *
 * Outcomes: 2xx is success; 429, 502, 503, 504, network errors and timeouts are retryable (with
 * `retryAfterMs` from `Retry-After`); 410 is a failure with `gone: true`; any other status is a
 * failure whose reason quotes the start of the reply. The socket never keeps the process alive, and no
 * connection is reused: a report every hour gains nothing from a pooled socket but a timer.
 *
 * @param headers - Sent as given, plus `content-encoding` and `content-length`, which this sets.
 */
export async function postBody(
  target: URL,
  body: Buffer,
  headers: Readonly<Record<string, string>>,
  settings: PostSettings,
  signal: AbortSignal,
): Promise<PostResult> {
  const none = Buffer.alloc(0);
  if (signal.aborted) return { outcome: { kind: 'retryable', reason: 'not sent: the caller stopped waiting' }, reply: none };
  try {
    const framed: Record<string, string> = { ...headers };
    let payload = body;
    if (body.length > settings.gzipAboveBytes) {
      payload = await new Promise<Buffer>((resolve, reject) =>
        builtins.zlib().gzip(body, (error, zipped) => (error ? reject(error) : resolve(zipped))),
      );
      framed['content-encoding'] = 'gzip';
    }
    framed['content-length'] = String(payload.length);
    return await exchange(target, framed, payload, settings, signal);
  } catch (error) {
    // Reached only by a bug: still an outcome, never a rejection.
    return { outcome: { kind: 'failure', reason: `could not send: ${errorText(error)}` }, reply: none };
  }
}

/** One request and its reply, settled exactly once, whichever of reply, error, timeout or abort comes first. */
function exchange(
  target: URL,
  headers: Record<string, string>,
  body: Buffer,
  settings: PostSettings,
  signal: AbortSignal,
): Promise<PostResult> {
  return new Promise((resolve) => {
    let settled = false;
    let request: ClientRequest | undefined;
    // Once the status line is in, it decides the outcome, whatever happens to the rest of the reply.
    let answered: SendOutcome | undefined;
    const chunks: Buffer[] = [];

    // Ends this request's name resolution with the request: never after its deadline, never holding the process.
    const resolving = new AbortController();
    const finish = (outcome: SendOutcome): void => {
      if (settled) return;
      settled = true;
      resolving.abort();
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      request?.destroy();
      const reply = Buffer.concat(chunks);
      resolve({ outcome: outcome.kind === 'success' ? outcome : quoteBody(outcome, reply), reply });
    };
    const onAbort = (): void => finish(answered ?? { kind: 'retryable', reason: 'no answer before the caller stopped waiting' });
    const timer = setTimeout(
      () => finish(answered ?? { kind: 'retryable', reason: `no answer within ${settings.timeoutMs} ms` }),
      settings.timeoutMs,
    );
    timer.unref?.();
    signal.addEventListener('abort', onAbort, { once: true });

    // Loaded on first send: node:https alone costs tens of milliseconds of start-up.
    const send = target.protocol === 'https:' ? builtins.https().request : builtins.http().request;
    try {
      request = send(target, { method: 'POST', headers, agent: false, lookup: unrefLookup(resolving.signal) });
    } catch (error) {
      return finish({ kind: 'failure', reason: `could not send: ${errorText(error)}` });
    }
    request.on('socket', (socket) => socket.unref());
    request.on('error', (error) => finish(answered ?? { kind: 'retryable', reason: `network error: ${errorText(error)}` }));
    request.on('response', (response) => {
      const status = response.statusCode ?? 0;
      const outcome = outcomeOf(status, response.statusMessage, parseRetryAfter(response.headers['retry-after']));
      answered = outcome;
      let size = 0;
      const done = (): void => finish(outcome);
      if (settings.maxResponseBytes === 0) return done();
      response.on('data', (chunk: Buffer) => {
        if (settled) return;
        const room = settings.maxResponseBytes - size;
        chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
        size += Math.min(chunk.length, room);
        if (size >= settings.maxResponseBytes) done();
      });
      response.on('end', done);
      response.on('error', done);
      response.on('close', done);
    });
    request.end(body);
  });
}

function outcomeOf(status: number, statusMessage: string | undefined, retryAfterMs: number | undefined): SendOutcome {
  if (status >= 200 && status < 300) return { kind: 'success' };
  const label = `HTTP ${status}${statusMessage ? ` ${statusMessage}` : ''}`;
  if (RETRYABLE_STATUSES.has(status)) {
    return retryAfterMs === undefined ? { kind: 'retryable', reason: label } : { kind: 'retryable', reason: label, retryAfterMs };
  }
  if (status === 410) return { kind: 'failure', reason: `${label}: the endpoint no longer takes reports`, gone: true };
  if (status >= 300 && status < 400) return { kind: 'failure', reason: `${label}: redirects are not followed` };
  return { kind: 'failure', reason: label };
}

/** Adds the start of the reply to a refusal's reason, flattened so a hostile reply cannot drive the terminal. */
function quoteBody(outcome: SendOutcome, reply: Buffer): SendOutcome {
  if (outcome.kind === 'success') return outcome;
  const text = reply
    .toString('utf8')
    .replace(/[\p{C}\s]+/gu, ' ')
    .trim();
  if (text === '') return outcome;
  const quoted = text.length > QUOTED_BODY_CHARS ? `${text.slice(0, QUOTED_BODY_CHARS)}...` : text;
  return { ...outcome, reason: `${outcome.reason}: ${quoted}` };
}
