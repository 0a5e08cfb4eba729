/**
 * Protective HTTP defaults, each from a maintained plugin: security headers (helmet), CORS,
 * per-client rate limits (429 with Retry-After), and load shedding (503 when the event loop is
 * saturated). Every refusal is a problem+json body from the errors plugin.
 *
 * Rate limits: two budgets per client address and window (@fastify/rate-limit's counters).
 * - Full responses: RATE_LIMIT_MAX (600 per 60 s by default). Every request that gets a body
 *   counts here: unconditional ones when they arrive, conditional ones once their answer is known.
 * - Revalidations: a conditional GET/HEAD (with If-None-Match) counts against
 *   RATE_LIMIT_REVALIDATE_MAX (10 × RATE_LIMIT_MAX by default) when it arrives. If it ends in a
 *   304, that is all it costs; if it ends in a full response, that response is also charged to
 *   the first budget, and refused with 429 when that budget is spent. So a mirror that checks
 *   thousands of unchanged documents is not throttled like a client fetching them, while a stale or
 *   made-up If-None-Match buys no extra full responses.
 * - Bulk exports (routes with `config.rateLimitBudget: 'export'`, GET /v1/export): RATE_LIMIT_EXPORT_MAX
 *   per window (10 by default), and nothing else. One export replaces a crawl of every document
 *   (about 115 requests per condition), so charging it to the per-request budget would make the
 *   cheapest way to mirror the data the one that is refused; a budget of its own still bounds how
 *   often one client can make the server stream the whole corpus.
 * A 304 still has a price, not none: it costs the server the route, a version lookup and, for the
 *   lists, assembling and hashing the body to compare its ETag. Uncounted, revalidations would be
 *   an unlimited way to make the server do that work; a budget ten times larger keeps them cheap
 *   for clients and bounded for the server.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest, onSendHookHandler } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';
import fp from 'fastify-plugin';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import underPressure from '@fastify/under-pressure';
import type { Config } from '../config.js';
import { HttpProblem } from '../http/problems.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `export`: charged to the export budget only (see above). */
    rateLimitBudget?: 'export';
  }
  interface FastifyRequest {
    /** A conditional GET admitted on the revalidation budget: charged to the full budget unless it ends in 304. */
    chargeIfFull: boolean;
  }
}

/** "60 seconds", "1 second", "90 seconds": the window as the 429 text names it. */
export function windowText(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return `${seconds} second${seconds === 1 ? '' : 's'}`;
}

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;
type LimitState = Extract<Awaited<ReturnType<Limiter>>, { isAllowed: false }>;

async function rateLimits(app: FastifyInstance, config: Config): Promise<void> {
  // global: false, so the plugin adds no hook of its own: the hooks below decide which budget a
  // request is charged to, with the plugin's counters (per address, IPv6 per /64).
  await app.register(rateLimit, { global: false });
  const timeWindow = config.rateLimitWindowMs;
  const full = app.createRateLimit({ max: config.rateLimitMax, timeWindow });
  const revalidations = app.createRateLimit({ max: config.rateLimitRevalidateMax, timeWindow });
  const exports = app.createRateLimit({ max: config.rateLimitExportMax, timeWindow });
  app.decorateRequest('chargeIfFull', false);

  const report = (reply: FastifyReply, state: LimitState) => {
    reply.header('x-ratelimit-limit', state.max);
    reply.header('x-ratelimit-remaining', state.remaining);
    reply.header('x-ratelimit-reset', state.ttlInSeconds);
  };
  const refuse = (reply: FastifyReply, state: LimitState, what: string) => {
    report(reply, state);
    reply.header('x-ratelimit-remaining', 0);
    reply.header('retry-after', state.ttlInSeconds);
    return new HttpProblem(
      429,
      '/problems/too-many-requests',
      'Too Many Requests',
      `Rate limit of ${state.max} ${what} per ${windowText(timeWindow)} exceeded; retry after ${state.ttlInSeconds} second${state.ttlInSeconds === 1 ? '' : 's'}.`,
    );
  };

  // Operational probes are never throttled.
  const exempt = (request: FastifyRequest) => request.url === '/health' || request.url === '/ready';
  const conditional = (request: FastifyRequest) => (request.method === 'GET' || request.method === 'HEAD') && request.headers['if-none-match'] !== undefined;

  app.addHook('onRequest', async (request, reply) => {
    if (exempt(request)) return;
    if (request.routeOptions.config.rateLimitBudget === 'export') {
      const state = await exports(request);
      if (state.isAllowed) return;
      if (state.isExceeded) throw refuse(reply, state, 'exports');
      report(reply, state);
      return;
    }
    if (!conditional(request)) {
      const state = await full(request);
      if (state.isAllowed) return;
      if (state.isExceeded) throw refuse(reply, state, 'requests');
      report(reply, state);
      return;
    }
    const state = await revalidations(request);
    if (!state.isAllowed && state.isExceeded) throw refuse(reply, state, 'revalidations (conditional requests answered 304)');
    // The headers describe the budget that limits full responses: a client plans with that one.
    const fullState = await full(request, { increment: false });
    if (!fullState.isAllowed) report(reply, fullState);
    request.chargeIfFull = true;
  });

  // A route-level onSend runs after every instance-level one, so the 304 decision of the
  // http-caching plugin has been made when this looks at the status.
  const chargeFull: onSendHookHandler = (request, reply, payload, done) => {
    if (!request.chargeIfFull || reply.statusCode === 304) return done(null, payload);
    request.chargeIfFull = false;
    full(request).then(
      (state) => {
        if (state.isAllowed || !state.isExceeded) return done(null, payload);
        done(refuse(reply, state, 'requests'));
      },
      (err: Error) => done(err),
    );
  };
  app.addHook('onRoute', (route) => {
    const own = route.onSend;
    route.onSend = [...(own === undefined ? [] : Array.isArray(own) ? own : [own]), chargeFull];
  });
}

/** How often @fastify/under-pressure samples the event-loop delay (its default). */
const PRESSURE_SAMPLE_MS = 1000;

/**
 * The headers a helmet policy sets, recorded from one run of its middleware. helmet itself (not
 * @fastify/helmet, which rebuilds the middleware, CSP parsing included, on every request: ~10% of
 * a cached document's server time): for a fixed policy the headers are fixed, so compute them once.
 */
export function securityHeaders(options: HelmetOptions): Record<string, string> {
  const headers = new Map<string, string>();
  const recorder = {
    setHeader: (name: string, value: string | number) => headers.set(name.toLowerCase(), String(value)),
    removeHeader: (name: string) => headers.delete(name.toLowerCase()),
  };
  // The one double cast in src: helmet's middleware only calls setHeader and removeHeader, so this
  // two-method recorder stands in for a whole ServerResponse, which has no lighter type to name.
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (err) => {
    if (err) throw err;
  });
  return Object.fromEntries(headers);
}

export default fp<{ config: Config }>(
  async (app, { config }) => {
    const headers = securityHeaders({
      // JSON responses need no resources; /docs sets its own, wider policy (see plugins/openapi.ts).
      contentSecurityPolicy: { directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
      crossOriginResourcePolicy: { policy: 'cross-origin' },
      // HSTS belongs to the TLS-terminating proxy in front of this service.
      strictTransportSecurity: false,
    });
    app.addHook('onRequest', (_request, reply, done) => {
      reply.headers(headers);
      done();
    });

    await app.register(cors, {
      origin: config.corsOrigins.includes('*') ? '*' : config.corsOrigins,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['Accept', 'Authorization', 'Content-Type', 'If-Match', 'If-None-Match', 'Idempotency-Key'],
      exposedHeaders: ['ETag', 'Link', 'Location', 'Retry-After', 'WWW-Authenticate', 'X-Request-Id', 'Idempotent-Replayed', 'X-Dataset-Version', 'X-Resume-Cursor'],
      maxAge: 600,
      // A bare OPTIONS (no preflight headers) falls through to the 404/405 problem handlers.
      strictPreflight: false,
    });

    await rateLimits(app, config);

    // The delay monitor starts here, before the database opens and the schemas compile: its first
    // sample after start-up measures that start-up (over a second here), not load, and used to
    // answer the first requests of a fresh process with 503. That one sample is ignored.
    let started = false;
    app.addHook('onReady', async () => {
      setTimeout(() => (started = true), PRESSURE_SAMPLE_MS + 100).unref();
    });
    await app.register(underPressure, {
      maxEventLoopDelay: config.maxEventLoopDelayMs,
      sampleInterval: PRESSURE_SAMPLE_MS,
      retryAfter: 5,
      exposeStatusRoute: false,
      pressureHandler: (_request, _reply, type) => {
        if (!started && type === 'eventLoopDelay') return;
        throw new HttpProblem(503, '/problems/overloaded', 'Service Unavailable', 'The server is overloaded; retry shortly.');
      },
    });
  },
  { name: 'security', dependencies: ['errors'] },
);
