/**
 * Caching and content negotiation for every route.
 *
 * - Negotiation: each route declares the media types it produces (`config.produces`, default
 *   JSON); the Accept header picks one once, before the handler, and an unsupported Accept is a 406
 *   problem listing what is supported. Handlers read `request.representation`.
 * - Caching: successful GETs of content get `Cache-Control: public, max-age=N`; strong ETags come
 *   from @fastify/etag (a hash of the exact bytes sent, so two replicas agree) unless a handler
 *   set a precomputed one; `If-None-Match` gets 304.
 */
import fp from 'fastify-plugin';
import accepts from '@fastify/accepts';
import etag from '@fastify/etag';
import { NotAcceptable } from '../http/problems.js';
import { FORMATS, JSON_TYPE, type FormatName } from '../http/media.js';
import { contentHash } from '../http/renderCache.js';

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
      if (request.method === 'GET' || request.method === 'HEAD') {
        const status = reply.statusCode;
        if (request.routeOptions.config.cache === 'no-store' || status >= 400) {
          reply.header('cache-control', 'no-store');
        } else if (status === 200 || status === 304) {
          reply.header('cache-control', contentCacheControl);
        }
      }
      done(null, payload);
    });

    // The same content hash as the render cache: strong, and identical across processes.
    await app.register(etag, { hashFn: contentHash });
  },
  { name: 'http-caching' },
);
