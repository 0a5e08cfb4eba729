/**
 * Cited works. Sources are curated inside condition files, so their `lastReviewed` is that of the
 * condition defining them; identifiers nobody verified are null, never guessed.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ATTRIBUTIONS, SLUG_PATTERN, SOURCE_KINDS } from '../content/schema.js';
import { DISCLAIMER } from '../content/licence.js';
import { paginate } from '../http/pagination.js';
import { SourceIdParam } from '../schemas/params.js';
import { NotFound } from '../http/problems.js';
import { DEFAULT_LIMIT, StringEnum, listOf, pageQuery, problemResponses, ref } from '../schemas/common.js';
import { SourceDocumentSchema, SourceSchema } from '../schemas/source.js';
import { sendRendered } from '../http/representations.js';

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const { sources } = app.repos;

  app.get(
    '/sources',
    {
      schema: {
        operationId: 'listSources',
        tags: ['evidence'],
        summary: 'List cited sources',
        description:
          'Every cited work, ordered by id, with its kind, year, authors and identifiers (null when not verified) and how ' +
          'sure the attribution is. Filters combine with AND; `condition` keeps the sources that condition cites.',
        querystring: Type.Object(
          {
            ...pageQuery,
            kind: Type.Optional(StringEnum(SOURCE_KINDS, { description: 'Kind of work', examples: ['case-series'] })),
            attribution: Type.Optional(StringEnum(ATTRIBUTIONS, { description: 'How sure it is that this is the work cited', examples: ['confirmed'] })),
            condition: Type.Optional(Type.String({ pattern: SLUG_PATTERN, maxLength: 80, description: 'Condition id: sources it cites', examples: ['calciphylaxis'] })),
          },
          { additionalProperties: false },
        ),
        response: { 200: listOf(ref(SourceSchema), { title: 'SourceList' }), ...problemResponses },
      },
    },
    async (request, reply) => {
      const { limit = DEFAULT_LIMIT, cursor, ...filters } = request.query;
      const page = paginate(request, reply, { cursor, limit }, (after, n) => sources.list({ ...filters, after, limit: n }), (s) => s.id);
      return { ...page, lastReviewed: sources.lastReviewed(page.data.map((s) => s.id)), disclaimer: DISCLAIMER };
    },
  );

  app.get(
    '/sources/:id',
    {
      schema: {
        operationId: 'getSource',
        tags: ['evidence'],
        summary: 'Get one source and what cites it',
        description: 'One cited work plus `citedBy`: the statements, statistics, summaries and related-condition links citing it.',
        params: Type.Object({ id: SourceIdParam('udomkarnjananun-2019') }),
        querystring: Type.Object({}, { additionalProperties: false }),
        response: { 200: SourceDocumentSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const rendered = app.representations.source(id);
      if (!rendered) throw new NotFound(`No source with id "${id}".`);
      return sendRendered(reply, rendered);
    },
  );
};

export default routes;
