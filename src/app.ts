/**
 * buildApp(config) → a Fastify instance with every plugin and route registered, never listening.
 * Tests and src/server.ts call this same factory, so tests see production settings.
 */
import { randomUUID } from 'node:crypto';
import { Server as NetServer } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config } from './config.js';
import { ALL_NAMED_SCHEMAS } from './schemas/index.js';
import errors, { sendProblem } from './plugins/errors.js';
import { HttpProblem } from './http/problems.js';
import db from './plugins/db.js';
import representations from './plugins/representations.js';
import security from './plugins/security.js';
import httpCaching from './plugins/http-caching.js';
import openapi from './plugins/openapi.js';
import notFound from './plugins/not-found.js';
import healthRoutes from './routes/health.js';
import metaRoutes from './routes/meta.js';
import conditionRoutes from './routes/conditions.js';
import statisticRoutes from './routes/statistics.js';
import treatmentRoutes from './routes/treatments.js';
import sourceRoutes from './routes/sources.js';
import codeRoutes from './routes/codes.js';
import searchRoutes from './routes/search.js';
import factRoutes from './routes/facts.js';
import auth from './plugins/auth.js';
import changeRoutes from './routes/changes.js';
import writeRoutes from './routes/writes/index.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/** Longest wait for keep-alive connections to finish on close; close-with-grace allows 10 s in all. */
const DRAIN_MAX_MS = 5_000;
/** A connection idle this long is closed like any keep-alive timeout; busy ones close themselves. */
const DRAIN_QUIET_MS = 250;

/**
 * Stops accepting connections but, unlike http.Server#close (which since Node 19 destroys every
 * idle keep-alive socket at once), leaves open ones alone: a client writing its next request on
 * such a socket at that instant would see ECONNRESET. Each open connection instead gets its next
 * response with `Connection: close` (hooks in buildApp) and closes itself. Resolves when none is
 * left, when no request came for DRAIN_QUIET_MS, or after DRAIN_MAX_MS; Fastify then closes the
 * rest and waits for requests still running.
 */
async function drainConnections(server: NetServer, lastActivity: () => number): Promise<void> {
  if (!server.listening) return;
  let drained = false;
  server.once('close', () => (drained = true));
  NetServer.prototype.close.call(server);
  const deadline = Date.now() + DRAIN_MAX_MS;
  while (!drained && Date.now() < deadline && Date.now() - lastActivity() < DRAIN_QUIET_MS) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export interface BuildOptions {
  /** false silences logging (tests); an object adds pino options, e.g. a destination stream. */
  logger?: false | { stream?: { write: (line: string) => void }; level?: string };
}

export async function buildApp(config: Config, options: BuildOptions = {}) {
  const app = Fastify({
    logger:
      options.logger === false
        ? false
        : {
            level: options.logger?.level ?? config.logLevel,
            // Credentials never reach the logs, whatever the serializers print.
            redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization'], censor: '[redacted]' },
            // Synchronous writes to stdout. pino's default destination is asynchronous and writes
            // at most 16 KB per event-loop turn, so under sustained load its queue of pending lines
            // grew without bound (bench/load.ts: +20 MiB of heap in 60 s at 100 connections). A
            // blocking write pushes back on request handling instead, and no line is lost on a crash.
            stream: options.logger?.stream ?? process.stdout,
          },
    // Ids are short and ASCII; a long parameter is an attack or a mistake.
    routerOptions: { maxParamLength: 200 },
    bodyLimit: 1024 * 1024,
    requestTimeout: 30_000,
    trustProxy: config.trustProxy,
    // Accept a caller's request id (for tracing across services) only when it looks like one.
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // The hooks below answer requests during shutdown with a 503 problem, like every other error.
    return503OnClosing: false,
    // Router-level failures (malformed URL, over-long parameter) get the same problem shape.
    frameworkErrors: (error, request, reply) =>
      sendProblem(request, reply, {
        type: error.statusCode === 414 ? '/problems/uri-too-long' : '/problems/bad-request',
        title: error.statusCode === 414 ? 'URI Too Long' : 'Bad Request',
        status: error.statusCode ?? 400,
        detail: error.statusCode === 414 ? 'A path parameter is longer than 200 characters.' : 'The request URL is malformed.',
      }),
    exposeHeadRoutes: true,
    ajv: {
      customOptions: {
        // Unknown query parameters are an error (400), not silently dropped.
        removeAdditional: false,
        coerceTypes: 'array',
        useDefaults: true,
        allErrors: true,
      },
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Named schemas first: routes and the OpenAPI document reference them by $id.
  for (const schema of ALL_NAMED_SCHEMAS) app.addSchema(schema);

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  // Graceful shutdown: requests running when close begins finish; later ones get 503. Every
  // response from then on says `Connection: close`, so no client reuses a socket being closed.
  let closing = false;
  let lastActivity = 0;
  app.addHook('preClose', async () => {
    closing = true;
    lastActivity = Date.now();
    await drainConnections(app.server, () => lastActivity);
  });
  app.addHook('onRequest', async (request, reply) => {
    if (!closing) return;
    lastActivity = Date.now();
    reply.header('retry-after', '5');
    return sendProblem(request, reply, {
      type: '/problems/shutting-down',
      title: 'Service Unavailable',
      status: 503,
      detail: 'The server is shutting down; retry, another instance will answer.',
    });
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    if (closing) {
      lastActivity = Date.now();
      reply.header('connection', 'close');
    }
    return payload;
  });

  // Ajv's string-to-number coercion turns "Infinity" and "1e400" into Infinity and skips minimum
  // and maximum for a number that is not finite, so such a value passes any integer schema (and
  // reached SQLite as LIMIT Infinity: a 500). Refused here once, for every route.
  app.addHook('preHandler', async (request) => {
    for (const [part, values] of [['querystring', request.query], ['params', request.params]] as const) {
      if (values === null || typeof values !== 'object') continue;
      for (const [name, value] of Object.entries(values)) {
        if (![value].flat().some((v) => typeof v === 'number' && !Number.isFinite(v))) continue;
        const errors = [{ path: `/${part}/${name}`, message: 'must be a finite number' }];
        throw new HttpProblem(400, '/problems/validation-error', 'Bad Request', `The request is not valid: /${part}/${name} must be a finite number.`, errors);
      }
    }
  });
  await app.register(errors);
  await app.register(security, { config });
  await app.register(db, { config });
  await app.register(representations);
  // Before every route, so that it sees (and records) each route's scope.
  await app.register(auth);
  await app.register(httpCaching, { maxAge: config.cacheMaxAge });
  await app.register(notFound);
  await app.register(openapi);

  await app.register(healthRoutes);
  await app.register(metaRoutes, { prefix: '/v1' });
  await app.register(conditionRoutes, { prefix: '/v1' });
  await app.register(factRoutes, { prefix: '/v1' });
  await app.register(statisticRoutes, { prefix: '/v1' });
  await app.register(treatmentRoutes, { prefix: '/v1' });
  await app.register(sourceRoutes, { prefix: '/v1' });
  await app.register(codeRoutes, { prefix: '/v1' });
  await app.register(searchRoutes, { prefix: '/v1' });
  await app.register(changeRoutes, { prefix: '/v1' });
  await app.register(writeRoutes, { prefix: '/v1', config });

  return app;
}

export type App = Awaited<ReturnType<typeof buildApp>>;
export type { FastifyInstance };
