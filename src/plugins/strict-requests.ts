/**
 * Two request checks that route schemas cannot make, for every route:
 *
 * - **Host is required** on HTTP/1.1 (RFC 9112 §3.2). Node answers a request without one with an
 *   empty 400 before Fastify sees it; app.ts turns that off (`requireHostHeader: false`) so the
 *   refusal is made here, as a problem like every other.
 * - **Unknown query parameters are refused** (400), as the contract says, also on routes that
 *   declare no query parameters at all (/health, /ready, /v1/meta, /openapi.json, /docs): a
 *   querystring schema with `additionalProperties: false` does that where one is declared, and
 *   without one Fastify accepts anything. Static files under a wildcard route are left alone.
 */
import fp from 'fastify-plugin';
import { HttpProblem } from '../http/problems.js';

export default fp(
  async (app) => {
    // Callback-form hooks (no promise per request); a throw is answered like a rejection.
    app.addHook('onRequest', (request, _reply, done) => {
      if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) {
        throw new HttpProblem(400, '/problems/bad-request', 'Bad Request', 'An HTTP/1.1 request must carry a Host header.', [{ path: '/headers/host', message: 'is required' }]);
      }
      done();
    });
    app.addHook('preValidation', (request, _reply, done) => {
      const { schema, url } = request.routeOptions;
      if (schema?.querystring !== undefined || url === undefined || url.includes('*')) return done();
      const query = request.query;
      const names = query !== null && typeof query === 'object' ? Object.keys(query) : [];
      if (names.length === 0) return done();
      const errors = names.map((name) => ({ path: `/querystring/${name}`, message: 'unknown parameter' }));
      throw new HttpProblem(400, '/problems/validation-error', 'Bad Request', `The request is not valid: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}. ${url} takes no query parameters.`, errors);
    });
  },
  { name: 'strict-requests' },
);
