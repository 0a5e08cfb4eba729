/**
 * The curator write routes, one module per resource, in one encapsulated scope that sets what
 * only writes need:
 * - a non-coercing validator for every part of the request (validator.ts);
 * - JSON bodies only: `text/plain` is a 415 here (Fastify would parse it as a string), and PATCH
 *   also accepts `application/merge-patch+json`, whose semantics it follows for top-level fields;
 * - READ_ONLY: every write answers 503 (after authentication, which the auth plugin does first).
 * Every route declares `config.scope`, so the auth plugin requires a key with that scope.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../../config.js';
import { HttpProblem } from '../../http/problems.js';
import conditionWrites from './conditions.js';
import factWrites from './facts.js';
import sourceWrites from './sources.js';
import statisticWrites from './statistics.js';
import treatmentWrites from './treatments.js';
import { createCurationService } from '../../curation/service.js';
import { strictValidatorCompiler } from './validator.js';
import { lazily } from '../../http/lazyValidators.js';

const writeRoutes: FastifyPluginAsync<{ config: Config }> = async (app, { config }) => {
  // Each route's checker compiled on its first request, not at start-up (src/http/lazyValidators.ts).
  app.setValidatorCompiler(lazily(strictValidatorCompiler));
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('application/merge-patch+json', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));

  app.addHook('onRequest', async () => {
    if (config.readOnly) {
      throw new HttpProblem(503, '/problems/read-only', 'Service Unavailable', 'This server is read-only (READ_ONLY): curator writes go to the primary.');
    }
  });

  const curation = createCurationService(app.repos, app.representations, { durably: (commit) => app.storage.commit(commit) });
  await app.register(conditionWrites, { curation });
  await app.register(factWrites, { curation });
  await app.register(treatmentWrites, { curation });
  await app.register(statisticWrites, { curation });
  await app.register(sourceWrites, { curation });
};

export default writeRoutes;
