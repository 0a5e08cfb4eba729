/**
 * buildApp(config) → a Fastify instance with every plugin and route registered, never listening.
 * Tests and src/server.ts call this same factory, so tests see production settings.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config } from './config.js';
import { ALL_NAMED_SCHEMAS } from './schemas/index.js';
import errors, { sendProblem } from './plugins/errors.js';
import db from './plugins/db.js';
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

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,100}$/;

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
            ...(options.logger?.stream ? { stream: options.logger.stream } : {}),
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
    return503OnClosing: true,
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
  await app.register(errors);
  await app.register(security, { config });
  await app.register(db, { config });
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

  return app;
}

export type App = Awaited<ReturnType<typeof buildApp>>;
export type { FastifyInstance };
