/**
 * buildApp(config) → a Fastify instance with every plugin and route registered, never listening.
 * Tests and src/server.ts call this same factory, so tests see production settings.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config } from './config.js';
import { ALL_NAMED_SCHEMAS } from './schemas/index.js';
import errors, { frameworkErrorHandler } from './plugins/errors.js';
import lifecycle, { requestIdOf } from './plugins/lifecycle.js';
import finiteNumbers from './plugins/finite-numbers.js';
import { API_PREFIX } from './http/links.js';
import { lazySerializerFactory } from './http/lazySerializers.js';
import { lazyAjvCompiler } from './http/lazyValidators.js';
import db from './plugins/db.js';
import representations from './plugins/representations.js';
import storage from './plugins/storage.js';
import unicode from './plugins/unicode.js';
import strictRequests from './plugins/strict-requests.js';
import clientErrors from './plugins/client-errors.js';
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
import contextRoutes from './routes/context.js';
import auth from './plugins/auth.js';
import changeRoutes from './routes/changes.js';
import exportRoutes from './routes/export.js';
import writeRoutes from './routes/writes/index.js';

export interface BuildOptions {
  /** false silences logging (tests); an object adds pino options, e.g. a destination stream. */
  logger?: false | { stream?: { write: (line: string) => void }; level?: string };
}

/** Fastify's own options: logging, limits, request ids, router errors and the Ajv settings. */
function serverOptions(config: Config, options: BuildOptions) {
  return {
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
    requestTimeout: config.requestTimeoutMs,
    http: {
      headersTimeout: config.headersTimeoutMs,
      // Node looks for expired requests this often (30 s by default, which let a stalled request
      // live up to twice its timeout): within a tenth of the headers timeout, at most a second.
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(config.headersTimeoutMs / 10))),
      // The strict-requests plugin refuses a missing Host with a problem instead of Node's empty
      // 400; parser-level errors get problems from the client-errors plugin.
      requireHostHeader: false,
    },
    trustProxy: config.trustProxy,
    // Accept a caller's request id (for tracing across services) only when it looks like one.
    requestIdHeader: false as const,
    genReqId: requestIdOf,
    // The lifecycle plugin answers requests during shutdown with a 503 problem, like every other error.
    return503OnClosing: false,
    // Router-level failures (malformed URL, over-long parameter) get the same problem shape.
    frameworkErrors: frameworkErrorHandler,
    exposeHeadRoutes: true,
    // Response serializers compiled on first use (src/http/lazySerializers.ts): the same code, not at start-up.
    schemaController: { compilersFactory: { buildSerializer: lazySerializerFactory } },
    ajv: AJV_OPTIONS,
  };
}

const AJV_OPTIONS = {
  customOptions: {
    // Unknown query parameters are an error (400), not silently dropped.
    removeAdditional: false,
    coerceTypes: 'array' as const,
    useDefaults: true,
    allErrors: true,
    // Schemas are not checked against Ajv's draft-07 meta-schema when compiled: compiling that
    // meta-schema was ~10% of the start-up to the first 200 (the first request paid it). They are
    // TypeBox-built constants; tests/startup-schemas.test.ts checks every route's and named
    // schema against the meta-schema instead, and Ajv's strict mode still refuses unknown keywords.
    validateSchema: false,
  },
};

export async function buildApp(config: Config, options: BuildOptions = {}) {
  const app = Fastify(serverOptions(config, options)).withTypeProvider<TypeBoxTypeProvider>();

  // Named schemas first: routes and the OpenAPI document reference them by $id.
  for (const schema of ALL_NAMED_SCHEMAS) app.addSchema(schema);
  // Fastify's Ajv compiler with these options and schemas, compiling each validator on first use.
  app.setValidatorCompiler(lazyAjvCompiler(app.getSchemas(), AJV_OPTIONS));

  await app.register(lifecycle);
  await app.register(finiteNumbers);
  await app.register(errors);
  await app.register(security, { config });
  await app.register(db, { config });
  await app.register(representations, { publicBaseUrl: config.publicBaseUrl });
  await app.register(storage, { config });
  await app.register(unicode);
  await app.register(strictRequests);
  await app.register(clientErrors, { config });
  // Before every route, so that it sees (and records) each route's scope.
  await app.register(auth);
  await app.register(httpCaching, { maxAge: config.cacheMaxAge });
  await app.register(notFound);
  await app.register(openapi);

  await app.register(healthRoutes);
  await app.register(metaRoutes, { prefix: API_PREFIX });
  await app.register(conditionRoutes, { prefix: API_PREFIX });
  await app.register(factRoutes, { prefix: API_PREFIX });
  await app.register(statisticRoutes, { prefix: API_PREFIX });
  await app.register(treatmentRoutes, { prefix: API_PREFIX });
  await app.register(sourceRoutes, { prefix: API_PREFIX });
  await app.register(codeRoutes, { prefix: API_PREFIX });
  await app.register(searchRoutes, { prefix: API_PREFIX });
  await app.register(contextRoutes, { prefix: API_PREFIX });
  await app.register(changeRoutes, { prefix: API_PREFIX });
  await app.register(exportRoutes, { prefix: API_PREFIX });
  await app.register(writeRoutes, { prefix: API_PREFIX, config });

  return app;
}

export type App = Awaited<ReturnType<typeof buildApp>>;
export type { FastifyInstance };
