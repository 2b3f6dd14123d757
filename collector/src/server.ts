import { createHash, timingSafeEqual } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { decodedBody } from './ingest/gzip-body.js';
import { observe, type ObservationExtras } from './ingest/observation.js';
import { OtlpShapeError, otlpReports } from './ingest/otlp.js';
import { tooManyNames, validateReport } from './ingest/validate.js';
import { parseWeekLabel, weeksEndingWith } from './iso-week.js';
import { resolveOptions, type CollectorOptions, type ResolvedOptions } from './options.js';
import { pageRoutes } from './page/routes.js';
import { aggregatesCsv } from './read/csv.js';
import { summarize, summaryWeeks } from './read/summary.js';
import { openStore, type IngestResult, type Store } from './store/store.js';

/** A running collector. */
export interface Collector {
  /** The URL it listens on, such as `http://127.0.0.1:8787`. */
  readonly url: string;
  /** The Fastify instance, for embedding further routes. */
  readonly app: FastifyInstance;
  /** The store it writes to. */
  readonly store: Store;
  /** Stops taking requests, answers those in progress, commits and closes the store. */
  close(): Promise<void>;
}

/** A refusal: the status, the reason counted in the store, and the message the client gets. */
class Refusal extends Error {
  constructor(
    readonly statusCode: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

const HOUR_MS = 3_600_000;

/** The routes that take reports: the ones the per-address rate limit applies to. */
const INGEST_ROUTES = new Set(['/v1/reports', '/v1/metrics']);

/**
 * Opens the store and starts the HTTP server.
 *
 * @throws Error when the store cannot be opened or the address cannot be listened on.
 */
export async function startCollector(options: CollectorOptions): Promise<Collector> {
  const settings = resolveOptions(options);
  const store = openStore({ path: settings.db, retentionDays: settings.retentionDays, now: settings.now });
  let app: FastifyInstance;
  try {
    app = await buildApp(settings, store);
    await app.listen({ host: settings.host, port: settings.port });
  } catch (error) {
    store.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : settings.port;
  const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
  const url = `http://${host}:${port}`;
  app.log.info({ url, db: settings.db, retentionDays: settings.retentionDays, minInstalls: settings.minInstalls }, 'tallyho-collector listening');

  const retention = (): void => {
    try {
      const gone = store.applyRetention();
      if (gone > 0) app.log.info({ reports: gone }, 'raw reports past the retention deleted');
    } catch (error) {
      app.log.error({ err: error }, 'retention failed; it is tried again in an hour');
    }
  };
  retention();
  const timer = setInterval(retention, HOUR_MS);
  timer.unref();

  let closing: Promise<void> | undefined;
  return {
    url,
    app,
    store,
    close() {
      closing ??= (async () => {
        clearInterval(timer);
        await app.close();
        store.close();
      })();
      return closing;
    },
  };
}

/** The Fastify application over a store: every route, the limits and the logger. */
export async function buildApp(settings: ResolvedOptions, store: Store): Promise<FastifyInstance> {
  const app = Fastify({
    logger: {
      level: settings.logLevel,
      ...(settings.logStream === undefined ? {} : { stream: settings.logStream }),
      // Fastify's default request serializer logs the client's address and port: never here.
      serializers: {
        req: (req: { method?: string; routeOptions?: { url?: string }; url?: string }) => ({ method: req.method, route: req.routeOptions?.url ?? pathOnly(req.url) }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      },
    },
    // Request lines are logged below, without addresses or query strings (a read token may be in one).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: settings.maxBodyBytes,
    trustProxy: settings.trustProxy,
    forceCloseConnections: 'idle',
  });

  app.addHook('onResponse', (request, reply, done) => {
    request.log.debug({ method: request.method, route: request.routeOptions.url ?? pathOnly(request.url), status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'request');
    done();
  });

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string; reason?: string }, request, reply) => {
    const { status, reason, message } = describeError(error, settings.maxBodyBytes);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    else {
      try {
        store.countRejected(reason);
      } catch (countError) {
        request.log.error({ err: countError }, 'a refused request could not be counted');
      }
    }
    if (status === 503) reply.header('retry-after', '5');
    return reply.code(status).send({ error: message });
  });

  if (settings.rateLimit > 0) {
    await app.register(rateLimit, {
      // One count per address over both ingest routes; reading is not limited here.
      global: true,
      max: settings.rateLimit,
      timeWindow: 60_000,
      allowList: (request) => !INGEST_ROUTES.has(request.routeOptions.url ?? ''),
      // Addresses stay in this process's memory, for one window; they are never written or logged.
      errorResponseBuilder: (_request, context) =>
        new Refusal(429, 'rate-limited', `more than ${context.max} requests a minute from one address; retry after ${Math.ceil(context.ttl / 1000)} s`),
    });
  }

  const retired = new Set(settings.retire);
  const preParsing = (request: FastifyRequest, _reply: FastifyReply, payload: NodeJS.ReadableStream & import('node:stream').Readable, done: (err: Error | null, stream?: import('node:stream').Readable) => void): void => {
    const stream = decodedBody(request.raw, payload);
    if (stream instanceof Error) done(stream);
    else done(null, stream);
  };

  // Browsers' sendBeacon posts text/plain (no preflight); its body is the same JSON.
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch (error) {
      done(Object.assign(error as Error, { statusCode: 400 }), undefined);
    }
  });

  app.post('/v1/reports', { preParsing }, async (request, reply) => {
    const body = request.body;
    const project = projectOf(body);
    if (project !== undefined && retired.has(project)) throw new Refusal(410, 'retired', `the project ${JSON.stringify(project)} is retired: this collector takes no more of its reports`);
    if (project !== undefined) checkIngestToken(settings, project, request);
    const checked = validateReport(body);
    if ('problem' in checked) throw new Refusal(400, `invalid:${checked.field}`, `not a valid tallyho report: ${checked.problem}`);
    const report = checked.report;
    if (project === undefined) checkIngestToken(settings, report.project, request);
    const key = request.headers['idempotency-key'];
    if (key !== undefined && key !== report.id) throw new Refusal(400, 'invalid:idempotency-key', 'the idempotency-key header differs from the report id');
    const names = tooManyNames(report, settings.maxNames);
    if (names !== undefined) throw new Refusal(400, 'too-many-names', names);
    const result = await ingest(store, { id: report.id, source: 'http', body: JSON.stringify(body), observation: observe(report) });
    return reply.code(200).send({ status: result });
  });

  app.post('/v1/metrics', { preParsing }, async (request, reply) => {
    if (!String(request.headers['content-type'] ?? '').startsWith('application/json')) {
      throw new Refusal(415, 'unsupported-media-type', 'only OTLP/HTTP JSON (content-type: application/json) is taken');
    }
    let parsed;
    try {
      parsed = otlpReports(request.body);
    } catch (error) {
      if (error instanceof OtlpShapeError) throw new Refusal(400, 'invalid:otlp', `not an OTLP metrics request: ${error.message}`);
      throw error;
    }
    const items: { id: string; observation: ReturnType<typeof observe> }[] = [];
    for (const { report: candidate, platformKey } of parsed.reports) {
      const project = typeof candidate.project === 'string' ? candidate.project : undefined;
      if (project !== undefined && retired.has(project)) throw new Refusal(410, 'retired', `the project ${JSON.stringify(project)} is retired: this collector takes no more of its metrics`);
      if (project !== undefined) checkIngestToken(settings, project, request);
      const checked = validateReport(candidate);
      if ('problem' in checked) throw new Refusal(400, `invalid:${checked.field}`, `not a valid tallyho report: ${checked.problem}`);
      const names = tooManyNames(checked.report, settings.maxNames);
      if (names !== undefined) throw new Refusal(400, 'too-many-names', names);
      const extras: ObservationExtras = platformKey === undefined ? {} : { platformKey };
      items.push({ id: checked.report.id, observation: observe(checked.report, extras) });
    }
    const body = JSON.stringify(request.body);
    // Every report of the request is committed before the answer (each in the same group commit).
    await Promise.all(items.map((item) => ingest(store, { id: item.id, source: 'otlp', body, observation: item.observation })));
    const rejected = parsed.rejectedPoints;
    return reply.code(200).send(
      rejected === 0 ? {} : { partialSuccess: { rejectedDataPoints: rejected, errorMessage: 'only the monotonic delta sums tallyho.calls, tallyho.errors, tallyho.dropped and tallyho.runs, and the delta histogram tallyho.run.duration on tallyho\'s bounds, are taken' } },
    );
  });

  const readAuth = async (request: FastifyRequest): Promise<void> => {
    if (settings.readToken === undefined) return;
    const query = request.query as Record<string, unknown>;
    const given = bearer(request) ?? (typeof query.token === 'string' ? query.token : undefined);
    if (given === undefined || !sameSecret(given, settings.readToken)) throw new Refusal(401, 'unauthorized-read', 'reading needs the read token: authorization: Bearer TOKEN');
  };

  app.get('/api/projects', { onRequest: readAuth }, async () => ({ projects: store.projects().map((p) => ({ project: p.project, firstWeek: label(p.firstWeek), lastWeek: label(p.lastWeek) })) }));

  app.get('/api/projects/:project/summary', { onRequest: readAuth }, async (request) => {
    const { project } = request.params as { project: string };
    return summarize(store, project, weeksOf(request, settings), settings.minInstalls);
  });

  app.get('/api/projects/:project/export.csv', { onRequest: readAuth }, async (request, reply) => {
    const { project } = request.params as { project: string };
    const { csv, suppressed } = aggregatesCsv(store, project, weeksOf(request, settings), settings.minInstalls);
    return reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${project.replace(/[^\w.-]+/g, '_')}-weekly.csv"`)
      .header('x-tallyho-suppressed-cells', String(suppressed))
      .send(csv);
  });

  app.get('/api/rejected', { onRequest: readAuth }, async (request) => {
    const weeks = weeksOf(request, settings);
    return { rejected: store.rejected(weeks[0]!, weeks[weeks.length - 1]!).map((r) => ({ ...r, week: label(r.week) })) };
  });

  app.get('/healthz', async () => ({ ok: true }));

  await pageRoutes(app, readAuth);
  return app;
}

async function ingest(store: Store, item: Parameters<Store['ingest']>[0]): Promise<IngestResult> {
  try {
    return await store.ingest(item);
  } catch (error) {
    throw Object.assign(new Error('the report could not be stored; retry later'), { statusCode: 503, cause: error });
  }
}

function weeksOf(request: FastifyRequest, settings: ResolvedOptions): number[] {
  const query = request.query as Record<string, unknown>;
  const count = query.weeks === undefined ? 12 : Number(query.weeks);
  if (!Number.isInteger(count) || count < 1 || count > 520) throw new Refusal(400, 'bad-query', 'weeks must be a whole number from 1 to 520');
  if (typeof query.until === 'string') {
    const until = parseWeekLabel(query.until);
    if (until === undefined) throw new Refusal(400, 'bad-query', 'until must be an ISO week such as 2026-W48');
    return weeksEndingWith(until, count);
  }
  return summaryWeeks(settings.now(), count);
}

function label(week: number): string {
  return `${Math.floor(week / 100)}-W${String(week % 100).padStart(2, '0')}`;
}

function projectOf(body: unknown): string | undefined {
  const project = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).project : undefined;
  return typeof project === 'string' ? project : undefined;
}

function checkIngestToken(settings: ResolvedOptions, project: string, request: FastifyRequest): void {
  const token = Object.hasOwn(settings.ingestTokens, project) ? settings.ingestTokens[project] : undefined;
  if (token === undefined) return;
  const given = bearer(request);
  if (given === undefined || !sameSecret(given, token)) throw new Refusal(401, 'unauthorized-ingest', `reports of ${JSON.stringify(project)} need its ingest token: authorization: Bearer TOKEN`);
}

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** Compares secrets in constant time (hashes first, so that lengths do not leak either). */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function pathOnly(url: string | undefined): string {
  return (url ?? '').split('?')[0] ?? '';
}

/** Every refusal as a status, a counted reason and a message the client can act on. */
function describeError(error: Error & { statusCode?: number; code?: string }, maxBodyBytes: number): { status: number; reason: string; message: string } {
  if (error instanceof Refusal) return { status: error.statusCode, reason: error.reason, message: error.message };
  const code = error.code ?? '';
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return { status: 413, reason: 'too-large', message: `the body is larger than ${maxBodyBytes} bytes (after gunzip)` };
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return { status: 415, reason: 'unsupported-media-type', message: 'send the report as application/json' };
  if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return { status: 400, reason: 'malformed', message: 'the body is empty' };
  if (code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') return { status: 400, reason: 'malformed', message: 'the body is shorter or longer than its content-length' };
  if (code === 'UNSUPPORTED_ENCODING') return { status: 415, reason: 'unsupported-encoding', message: error.message };
  if (code.startsWith('Z_') || code === 'ERR_STREAM_PREMATURE_CLOSE') return { status: 400, reason: 'malformed', message: `the body is not valid gzip (${error.message})` };
  if (error instanceof SyntaxError || code === 'FST_ERR_CTP_INVALID_JSON_BODY') return { status: 400, reason: 'malformed', message: `the body is not valid JSON: ${error.message}` };
  const status = error.statusCode ?? 500;
  if (status === 503) return { status, reason: 'unavailable', message: error.message };
  if (status >= 400 && status < 500) return { status, reason: code === '' ? `status-${status}` : code.toLowerCase(), message: error.message };
  return { status: 500, reason: 'internal', message: 'internal error' };
}
