/**
 * Protective HTTP defaults, each from a maintained plugin: security headers (helmet), CORS,
 * per-client rate limits (429 with Retry-After), and load shedding (503 when the event loop is
 * saturated). Every refusal is a problem+json body from the errors plugin.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';
import fp from 'fastify-plugin';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import underPressure from '@fastify/under-pressure';
import type { Config } from '../config.js';
import { HttpProblem } from '../http/problems.js';

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
      exposedHeaders: ['ETag', 'Link', 'Location', 'Retry-After', 'WWW-Authenticate', 'X-Request-Id', 'Idempotent-Replayed'],
      maxAge: 600,
      // A bare OPTIONS (no preflight headers) falls through to the 404/405 problem handlers.
      strictPreflight: false,
    });

    await app.register(rateLimit, {
      max: config.rateLimitMax,
      timeWindow: config.rateLimitWindowMs,
      // Operational probes must never be throttled.
      allowList: (request) => request.url === '/health' || request.url === '/ready',
      errorResponseBuilder: (_request, context) =>
        new HttpProblem(429, '/problems/too-many-requests', 'Too Many Requests', `Rate limit of ${context.max} requests per ${context.after} exceeded; retry after ${context.after}.`),
    });

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
