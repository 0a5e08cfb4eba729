import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { DISCLAIMER } from '../content/licence.js';
import { DISCLAIMER_FIELD, Nullable, LAST_REVIEWED_FIELD, problemResponses } from '../schemas/common.js';
import { API_VERSION } from '../plugins/openapi.js';

const MetaSchema = Type.Object(
  {
    apiVersion: Type.String({ examples: [API_VERSION] }),
    datasetVersion: Type.String({ description: 'Hash of the content the database was built from' }),
    builtAt: Type.String({ description: 'When the database was built (ISO 8601)' }),
    lastReviewed: Nullable(LAST_REVIEWED_FIELD),
    counts: Type.Object({
      conditions: Type.Integer(),
      statements: Type.Integer(),
      statistics: Type.Integer(),
      sources: Type.Integer(),
      codes: Type.Integer(),
    }),
    licence: Type.String(),
    attribution: Type.String(),
    disclaimer: DISCLAIMER_FIELD,
  },
  { title: 'DatasetMeta' },
);

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/meta',
    {
      schema: {
        operationId: 'getMeta',
        tags: ['meta'],
        summary: 'Dataset version, counts, build time, licence and attribution',
        description: 'What this copy of the knowledge base holds and how to attribute it. Two replicas built from the same content report the same datasetVersion.',
        response: { 200: MetaSchema, 400: problemResponses[400], 406: problemResponses[406] },
      },
    },
    async () => ({ apiVersion: API_VERSION, ...app.repos.meta.get(), disclaimer: DISCLAIMER }),
  );
};

export default routes;
