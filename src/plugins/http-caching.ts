/**
 * Caching and content negotiation for every route.
 *
 * - Negotiation: each route declares the media types it produces (`config.produces`, default
 *   JSON); the Accept header picks one once, before the handler, and an unsupported Accept is a 406
 *   problem listing what is supported. Handlers read `request.representation`.
 * - Caching: successful GETs of content get `Cache-Control: public, max-age=N`; every successful
 *   GET and HEAD gets a strong ETag, a hash of the exact bytes sent (so two replicas agree), unless
 *   the handler set a precomputed one (the render cache's, the same hash).
 * - Preconditions (RFC 9110 §13, rules in http/conditional.ts), evaluated on the response the
 *   request would get without them, and only when that is a 2xx (§13.2.1: a 404 stays a 404):
 *   If-Match first (strong comparison; false → 412), then If-None-Match (weak comparison, `*`
 *   matches any existing resource; false → 304). Writes evaluate their own (src/curation/service.ts).
 * - A 304 carries the headers a 200 would need to refresh a cache (ETag, Cache-Control, Vary, and
 *   the others set before it) but no body and no Content-Type or Content-Length: §15.4.5 says a
 *   304 SHOULD NOT carry representation metadata beyond those, and §8.6 allows Content-Length on
 *   one only with the exact length of the 200, which `content-length: 0` was not.
 */
import { Readable } from 'node:stream';
import fp from 'fastify-plugin';
import accepts from '@fastify/accepts';
import { HttpProblem, NotAcceptable } from '../http/problems.js';
import { ifMatchPasses, ifNoneMatchPasses } from '../http/conditional.js';
import { FORMATS, JSON_TYPE, type FormatName } from '../http/media.js';
import { etagOf } from '../http/renderCache.js';

const DEFAULT_PRODUCES: readonly string[] = [JSON_TYPE];

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Media types this route can produce, the default first. */
    produces?: readonly string[];
    /** `no-store` for operational endpoints; content routes are public and cacheable. */
    cache?: 'content' | 'no-store';
  }
  interface FastifyRequest {
    representation: string;
  }
}

export default fp<{ maxAge: number }>(
  async (app, { maxAge }) => {
    await app.register(accepts);
    app.decorateRequest('representation', JSON_TYPE);

    // Callback-style hooks (no promise per request): they run on every request, so they are kept
    // to a few property reads on the common path.
    app.addHook('preHandler', (request, reply, done) => {
      const produces = request.routeOptions.config.produces ?? DEFAULT_PRODUCES;
      if (produces.length > 1) reply.header('vary', 'Accept');
      // ?format= wins over Accept; the route's querystring schema has already validated the name.
      const format = (request.query as { format?: FormatName } | undefined)?.format;
      if (format !== undefined) {
        const type = FORMATS[format];
        if (!produces.includes(type)) return done(new NotAcceptable(produces));
        request.representation = type;
        return done();
      }
      // No Accept header means anything; the first listed type is the default.
      const accept = request.headers.accept;
      if (!accept || accept === '*/*') {
        request.representation = produces[0] ?? JSON_TYPE;
        return done();
      }
      const chosen = request.accepts().type([...produces]);
      if (typeof chosen !== 'string') return done(new NotAcceptable(produces));
      request.representation = chosen;
      done();
    });

    const contentCacheControl = `public, max-age=${maxAge}`;
    app.addHook('onSend', (request, reply, payload, done) => {
      if (request.method !== 'GET' && request.method !== 'HEAD') return done(null, payload);
      const status = reply.statusCode;
      if (status < 200 || status >= 300) {
        // A problem is not a representation of the resource: no validator, never stored.
        reply.removeHeader('etag');
        if (status >= 400) reply.header('cache-control', 'no-store');
        return done(null, payload);
      }
      reply.header('cache-control', request.routeOptions.config.cache === 'no-store' ? 'no-store' : contentCacheControl);
      let etag = reply.getHeader('etag');
      if (typeof etag !== 'string') {
        // Streams (none today) carry no hash of their bytes, so no validator either.
        if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return done(null, payload);
        etag = etagOf(payload);
        reply.header('etag', etag);
      }
      const ifMatch = request.headers['if-match'];
      if (ifMatch !== undefined && !ifMatchPasses(ifMatch, etag)) {
        return done(new HttpProblem(412, '/problems/precondition-failed', 'Precondition Failed', 'If-Match does not carry the current ETag of this representation.', undefined, { currentEtag: etag }));
      }
      const ifNoneMatch = request.headers['if-none-match'];
      if (ifNoneMatch !== undefined && !ifNoneMatchPasses(ifNoneMatch, etag)) {
        reply.code(304);
        reply.removeHeader('content-type');
        reply.removeHeader('content-length');
        // Fastify's HEAD handler (a route-level onSend after this one) measures a string or
        // buffer into Content-Length and fails on null; an empty stream it drains without one.
        return done(null, request.method === 'HEAD' ? Readable.from([]) : null);
      }
      done(null, payload);
    });
  },
  { name: 'http-caching' },
);
