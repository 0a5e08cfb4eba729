/**
 * Cited works. Sources are curated inside condition files, so their `lastReviewed` is that of the
 * condition defining them; identifiers nobody verified are null, never guessed.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ATTRIBUTIONS, SLUG_PATTERN, SOURCE_ID_PATTERN, SOURCE_KINDS } from '../content/schema.js';
import { DISCLAIMER } from '../content/licence.js';
import { decodeCursor, setNextLink, toPage } from '../http/pagination.js';
import { NotFound } from '../http/problems.js';
import { DEFAULT_LIMIT, DISCLAIMER_FIELD, LAST_REVIEWED_FIELD, Nullable, StringEnum, listOf, pageQuery, problemResponses, ref } from '../schemas/common.js';
import { SourceSchema } from '../schemas/source.js';

const CitingSchema = Type.Object(
  {
    entityType: StringEnum(['statement', 'statistic', 'summary', 'related'] as const, {
      description: 'statement (any section item), statistic, summary (of a condition) or related (a link between conditions)',
    }),
    id: Type.String({
      description: 'Statement or statistic id; the condition id for a summary; the linked condition id for a related link',
      examples: ['calciphylaxis.stat.usage-sodium-thiosulfate'],
    }),
    conditionId: Type.String({ description: 'The condition whose content cites the source', examples: ['calciphylaxis'] }),
    url: Type.String({ description: 'Where the citing content is served', examples: ['/v1/statistics/calciphylaxis.stat.usage-sodium-thiosulfate'] }),
  },
  { title: 'Citing' },
);

const SourceDocumentSchema = Type.Object(
  {
    ...SourceSchema.properties,
    citedBy: Type.Array(CitingSchema, { description: 'Everything in the knowledge base that cites this source, by condition' }),
    lastReviewed: Nullable(LAST_REVIEWED_FIELD),
    disclaimer: DISCLAIMER_FIELD,
  },
  { title: 'SourceDocument', description: 'One cited work and what cites it. Unknown identifiers are null, never guessed.' },
);

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
      const after = decodeCursor(cursor);
      const rows = sources.list({ ...filters, after: after === undefined ? undefined : String(after), limit: limit + 1 });
      const page = toPage(rows, limit, (s) => s.id);
      setNextLink(request, reply, page.page.nextCursor);
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
        params: Type.Object({ id: Type.String({ pattern: SOURCE_ID_PATTERN, maxLength: 80, description: 'Source id', examples: ['udomkarnjananun-2019'] }) }),
        querystring: Type.Object({}, { additionalProperties: false }),
        response: { 200: SourceDocumentSchema, ...problemResponses },
      },
    },
    async (request) => {
      const { id } = request.params;
      const source = sources.get(id);
      if (!source) throw new NotFound(`No source with id "${id}".`);
      return { ...source, citedBy: sources.citedBy(id), lastReviewed: sources.lastReviewed([id]), disclaimer: DISCLAIMER };
    },
  );
};

export default routes;
