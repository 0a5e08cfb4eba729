/**
 * Treatments across conditions, with regulatory notes, ATC codes and the statistics about them.
 * A single treatment embeds its evidence in full so a client needs one request to show it.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { SLUG_PATTERN, TREATMENT_TYPES } from '../content/schema.js';
import { DISCLAIMER } from '../content/licence.js';
import { paginate } from '../http/pagination.js';
import { TreatmentIdParam } from '../schemas/params.js';
import { NotFound } from '../http/problems.js';
import { normalizeCode, type CodeSystem } from '../repositories/codes.js';
import { DEFAULT_LIMIT, StringEnum, listOf, pageQuery, problemResponses, ref } from '../schemas/common.js';
import { TreatmentDocumentSchema, TreatmentSchema } from '../schemas/condition.js';
import { CODE_PARAM_PATTERN } from './conditions.js';
import { latestReviewed, sendRendered } from '../http/representations.js';

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const { treatments } = app.repos;

  app.get(
    '/treatments',
    {
      schema: {
        operationId: 'listTreatments',
        tags: ['evidence'],
        summary: 'List treatments across conditions',
        description:
          'Treatments of every condition, ordered by id, each with its regulatory status (e.g. off-label), drug codes (ATC) ' +
          'and the ids of the statistics about it. Filters combine with AND.',
        querystring: Type.Object(
          {
            ...pageQuery,
            condition: Type.Optional(Type.String({ pattern: SLUG_PATTERN, maxLength: 80, description: 'Condition id', examples: ['calciphylaxis'] })),
            type: Type.Optional(StringEnum(TREATMENT_TYPES, { description: 'Kind of treatment', examples: ['medication'] })),
            code: Type.Optional(Type.String({ pattern: CODE_PARAM_PATTERN, maxLength: 100, description: 'A drug code as `system:code`', examples: ['atc:V03AB06'] })),
          },
          { additionalProperties: false },
        ),
        response: { 200: listOf(ref(TreatmentSchema), { title: 'TreatmentList' }), ...problemResponses },
      },
    },
    async (request, reply) => {
      const { limit = DEFAULT_LIMIT, cursor, condition, type, code } = request.query;
      let codeFilter: { system: string; code: string } | undefined;
      if (code !== undefined) {
        // Same normalization as /v1/codes; a malformed code simply matches nothing, as in /v1/conditions.
        const system = code.slice(0, code.indexOf(':')) as CodeSystem;
        codeFilter = { system, code: normalizeCode(system, code.slice(code.indexOf(':') + 1)).code };
      }
      const page = paginate(request, reply, { cursor, limit }, (after, n) => treatments.list({ condition, type, code: codeFilter, after, limit: n }), (r) => r.treatment.id);
      return {
        data: page.data.map((r) => r.treatment),
        page: page.page,
        lastReviewed: latestReviewed(page.data.map((r) => r.lastReviewed)),
        disclaimer: DISCLAIMER,
      };
    },
  );

  app.get(
    '/treatments/:id',
    {
      schema: {
        operationId: 'getTreatment',
        tags: ['evidence'],
        summary: 'Get one treatment with its evidence',
        description:
          'One treatment as in its condition document, plus `evidence`: the full statistics about it. `lastReviewed` is the ' +
          'latest review date of the conditions the treatment and its evidence come from.',
        params: Type.Object({
          id: TreatmentIdParam,
        }),
        querystring: Type.Object({}, { additionalProperties: false }),
        response: { 200: TreatmentDocumentSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const rendered = app.representations.treatment(id);
      if (!rendered) throw new NotFound(`No treatment with id "${id}".`);
      return sendRendered(reply, rendered);
    },
  );
};

export default routes;
