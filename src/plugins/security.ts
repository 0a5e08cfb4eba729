/**
 * Protective HTTP defaults, each from a maintained plugin: security headers (helmet), CORS,
 * per-client rate limits (429 with Retry-After), and load shedding (503 when the event loop is
 * saturated). Every refusal is a problem+json body from the errors plugin.
 */
import fp from 'fastify-plugin';
import helmet from '@fastify/helmet';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import underPressure from '@fastify/under-pressure';
import type { Config } from '../config.js';
import { HttpProblem } from '../http/problems.js';

export default fp<{ config: Config }>(
  async (app, { config }) => {
    await app.register(helmet, {
      // JSON responses need no resources; /docs sets its own, wider policy (see plugins/openapi.ts).
      contentSecurityPolicy: { directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
      crossOriginResourcePolicy: { policy: 'cross-origin' },
      // HSTS belongs to the TLS-terminating proxy in front of this service.
      strictTransportSecurity: false,
    });

    await app.register(cors, {
      origin: config.corsOrigins.includes('*') ? '*' : config.corsOrigins,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['Accept', 'Authorization', 'Content-Type', 'If-Match', 'If-None-Match', 'Idempotency-Key'],
      exposedHeaders: ['ETag', 'Link', 'Retry-After', 'X-Request-Id'],
      maxAge: 600,
    });

    await app.register(rateLimit, {
      max: config.rateLimitMax,
      timeWindow: config.rateLimitWindowMs,
      // Operational probes must never be throttled.
      allowList: (request) => request.url === '/health' || request.url === '/ready',
      errorResponseBuilder: (_request, context) =>
        new HttpProblem(429, '/problems/too-many-requests', 'Too Many Requests', `Rate limit of ${context.max} requests per ${context.after} exceeded; retry after ${context.after}.`),
    });

    await app.register(underPressure, {
      maxEventLoopDelay: config.maxEventLoopDelayMs,
      retryAfter: 5,
      exposeStatusRoute: false,
      pressureHandler: () => {
        throw new HttpProblem(503, '/problems/overloaded', 'Service Unavailable', 'The server is overloaded; retry shortly.');
      },
    });
  },
  { name: 'security', dependencies: ['errors'] },
);
