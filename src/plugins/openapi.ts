/**
 * The OpenAPI 3.1 document is generated from the route schemas (@fastify/swagger), served at
 * /openapi.json, rendered at /docs (@fastify/swagger-ui, assets served locally so it works
 * offline), and exported to openapi/openapi.json by `npm run openapi`.
 *
 * What every route has in common on the wire (304s, problem+json errors, caching and rate-limit
 * headers, conditional-request parameters, security per operation) is added centrally from a
 * little metadata per route, collected here in an onRoute hook: see http/openapiContract.ts.
 * Route files declare only their own bodies and problems.
 */
import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { completeDocument, openApiPath, type RouteContract } from '../http/openapiContract.js';
import { JSON_TYPE } from '../http/media.js';

export const API_VERSION = '1.0.0';

// A variable, not a literal: swagger's ServerObject type omits the x- extensions OpenAPI allows.
const THIS_SERVER = { url: '/', description: 'This server: the production or local deployment that serves this document', 'x-internal': false };

export default fp(
  async (app) => {
    const routes: RouteContract[] = [];
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) {
        if (method === 'HEAD' || method === 'OPTIONS') continue;
        routes.push({
          method,
          path: openApiPath(route.url),
          produces: route.config?.produces ?? [JSON_TYPE],
          // The probes are never rate-limited (plugins/security.ts).
          rateLimited: route.url !== '/health' && route.url !== '/ready',
        });
      }
    });

    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Condition Knowledge API',
          version: API_VERSION,
          description:
            'Structured, cited medical-condition knowledge. Every statement and statistic carries its sources; every content ' +
            'response carries `lastReviewed` and a `disclaimer`. Information only, not medical advice.',
          license: { name: 'Apache-2.0 (code); CC BY 4.0 (content text)', identifier: 'Apache-2.0' },
        },
        servers: [THIS_SERVER],
        tags: [
          { name: 'conditions', description: 'Condition documents and their sections' },
          { name: 'evidence', description: 'Statistics, treatments and sources across conditions' },
          { name: 'codes', description: 'Lookup by medical code (ICD-10-CM, Orphanet, ATC, ...)' },
          { name: 'search', description: 'Full-text search and citable facts for grounding' },
          { name: 'meta', description: 'Dataset metadata, health and readiness' },
          { name: 'curation', description: 'Curator writes (API key with the content:write scope, If-Match), revision history and the change feed' },
        ],
        components: {
          securitySchemes: {
            bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'kb_<id>_<secret>', description: 'An API key from `npm run kb -- keys create`' },
          },
        },
      },
      transformObject: (documentObject) => {
        if (!('openapiObject' in documentObject)) return documentObject.swaggerObject;
        completeDocument(documentObject.openapiObject, routes);
        return documentObject.openapiObject;
      },
      // Named schemas ($id) become #/components/schemas/<id> instead of def-0, def-1, ...
      refResolver: {
        buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
      },
    });

    await app.register(swaggerUi, {
      routePrefix: '/docs',
      // validatorUrl null: the page must not call an outside validator (it works offline).
      uiConfig: { docExpansion: 'list', deepLinking: true, tryItOutEnabled: true, validatorUrl: null },
      // The page's own policy: only same-origin scripts, styles and API calls. Unlike the plugin's
      // default it does not upgrade to https, so the page also works on a plain-HTTP deployment.
      staticCSP:
        "default-src 'self'; base-uri 'self'; connect-src 'self'; font-src 'self' data:; frame-ancestors 'self'; " +
        "img-src 'self' data:; object-src 'none'; script-src 'self'; script-src-attr 'none'; style-src 'self' 'unsafe-inline'",
    });

    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  },
  { name: 'openapi' },
);
