/**
 * Decorates the app with the representations of single resources (src/http/representations.ts),
 * which GET handlers send and curated writes compare `If-Match` with and answer with.
 */
import fp from 'fastify-plugin';
import { createRepresentations, type Representations } from '../http/representations.js';

declare module 'fastify' {
  interface FastifyInstance {
    representations: Representations;
  }
}

export default fp(
  async (app, options: { publicBaseUrl: string }) => {
    app.decorate('representations', createRepresentations(app.repos, app.renderCache, { publicBaseUrl: options.publicBaseUrl }));
  },
  { name: 'representations', dependencies: ['db'] },
);
