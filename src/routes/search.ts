/**
 * GET /v1/search: ranked full-text search across conditions, symptoms, treatments, other facts and
 * statistics. The query language lives in src/search/query.ts and ranking in
 * src/repositories/search.ts; this module is the HTTP contract around them.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { JSON_TYPE, MARKDOWN_TYPE, alternatives, formatQuery } from '../http/media.js';
import { searchHitsToMarkdown } from '../renderers/markdown.js';
import { Type } from 'typebox';
import { DISCLAIMER } from '../content/licence.js';
import { SLUG_PATTERN } from '../content/schema.js';
import { offsetCursor, paginate } from '../http/pagination.js';
import { SEARCH_KINDS, type SearchResult } from '../repositories/search.js';
import { latestReviewed } from '../http/representations.js';
import { DEFAULT_LIMIT, DISCLAIMER_FIELD, LAST_REVIEWED_FIELD, Nullable, PageSchema, SourceRefSchema, StringEnum, pageQuery, problemResponses, ref } from '../schemas/common.js';
import { compileSearchQuery, withQueryProblems } from '../search/query.js';

const SearchHitSchema = Type.Object(
  {
    kind: StringEnum(SEARCH_KINDS, { description: 'condition, symptom, treatment, fact (any other statement) or statistic', examples: ['treatment'] }),
    id: Type.String({ description: 'Stable id of the item', examples: ['calciphylaxis.treatment.sodium-thiosulfate'] }),
    conditionId: Type.String({ examples: ['calciphylaxis'] }),
    title: Type.String({ description: 'The item name (a statistic: its measure and population)', examples: ['Sodium thiosulfate'] }),
    snippet: Type.String({
      description:
        'HTML: the best ~16 tokens of the item text with each match in <mark></mark> and … where text was cut; everything else is ' +
        'escaped, so it is safe to insert as markup. When only the name matched, the marked name.',
      examples: ['Sodium <mark>thiosulfate</mark>, given into a vein and sometimes during a dialysis session, is the most widely…'],
    }),
    score: Type.Number({ description: 'Relevance (negated bm25, 4 significant digits): higher is better; comparable within one response only', examples: [6.492] }),
    url: Type.String({ description: 'Where the item is served in full', examples: ['/v1/treatments/calciphylaxis.treatment.sodium-thiosulfate'] }),
    sources: Type.Array(ref(SourceRefSchema), { minItems: 1 }),
  },
  { title: 'SearchHit' },
);

const SearchResponseSchema = Type.Object(
  {
    data: Type.Array(SearchHitSchema),
    page: ref(PageSchema),
    query: Type.Object(
      {
        q: Type.String({ description: 'The query as received', examples: ['dialysis mortality'] }),
        expression: Type.String({ description: 'The FTS5 expression that was run', examples: ['"dialysis" OR "mortality"'] }),
        mode: StringEnum(['all', 'any'] as const, {
          description: '`all`: the query as written. `any`: no item matched every term, so items matching any of them are ranked.',
          examples: ['any'],
        }),
      },
      { title: 'SearchQuery' },
    ),
    lastReviewed: Nullable(LAST_REVIEWED_FIELD),
    disclaimer: DISCLAIMER_FIELD,
  },
  { title: 'SearchResults' },
);

const DESCRIPTION = `Ranked hits across conditions, symptoms, treatments, other facts and statistics.

**Query language** (\`q\`, 1–200 characters):
- words are ANDed: \`skin ulcer\` finds items with both; matching is case- and accent-insensitive with English stemming (\`ulcers\` finds \`ulcer\`);
- \`"quoted phrases"\` match words in sequence; \`thio*\` matches any word starting with \`thio\` (also \`"skin bio"*\`);
- uppercase \`AND\`, \`OR\`, \`NOT\` (binary: \`a NOT b\`; \`a AND NOT b\` means the same) with FTS5 precedence NOT > AND > OR, and optional parentheses: \`(sepsis OR gangrene) NOT wound\`;
- lowercase and/or/not are ordinary words; a word with punctuation (\`net-like\`, \`0.04\`, \`e83.59\`) is the phrase of its parts.

An unbalanced quote or parenthesis, an operator without a term on each side (\`sodium AND\`, \`NOT x\`), a query with no letters or digits, column filters (\`title:x\`, \`{...}\`), \`^\` and \`NEAR(...)\` are a 400 problem whose \`errors[0].path\` is \`/querystring/q\`.

**Ranking**: a condition whose name or alias equals the whole query comes first; then bm25 relevance with the item name weighted 10× its text; ties by id. When a plain list of two or more words or phrases (no operators, no parentheses) matches no item with *all* the words, the search is retried with *any* of them (\`query.mode: "any"\`), so \`dialysis mortality\` still ranks the mortality facts. Explicit operators are always taken literally.

**Pagination**: \`limit\` and the opaque \`cursor\` as everywhere; results are ranked, so the cursor is a position in this ranking.`;

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const { search } = app.repos;

  app.get(
    '/search',
    {
      config: { produces: [JSON_TYPE, MARKDOWN_TYPE] },
      schema: {
        operationId: 'searchContent',
        tags: ['search'],
        summary: 'Search the knowledge base',
        description: DESCRIPTION,
        querystring: Type.Object(
          {
            q: Type.String({
              minLength: 1,
              maxLength: 200,
              description: 'The query (see the query language above)',
              examples: ['thiosulfate', '"skin biopsy"', 'thio*', 'dialysis mortality', '(sepsis OR gangrene) NOT wound'],
            }),
            kind: Type.Optional(StringEnum(SEARCH_KINDS, { description: 'Only hits of this kind', examples: ['statistic'] })),
            condition: Type.Optional(Type.String({ pattern: SLUG_PATTERN, maxLength: 80, description: 'Only hits of this condition', examples: ['calciphylaxis'] })),
            ...pageQuery,
            ...formatQuery,
          },
          { additionalProperties: false },
        ),
        response: { 200: alternatives(SearchResponseSchema, { markdown: true }), ...problemResponses },
      },
    },
    async (request, reply) => {
      const { q, kind, condition, limit = DEFAULT_LIMIT, cursor } = request.query;
      let result: SearchResult | undefined;
      const page = paginate(
        request,
        reply,
        { cursor, limit, decode: offsetCursor },
        (offset = 0, n) => {
          const compiled = withQueryProblems(() => compileSearchQuery(q));
          result = withQueryProblems(() => search.search({ match: compiled.expression, anyMatch: compiled.anyExpression, text: q, kind, condition, offset, limit: n }));
          return result.hits;
        },
        (_last, offset = 0) => offset + limit,
      );
      if (!result) throw new Error('search ran no query');
      const lastReviewed = latestReviewed(page.data.map((h) => h.lastReviewed));
      const body = {
        data: page.data.map(({ lastReviewed: _reviewed, ...hit }) => hit),
        page: page.page,
        query: { q, expression: result.expression, mode: result.mode },
        lastReviewed,
        disclaimer: DISCLAIMER,
      };
      if (request.representation === MARKDOWN_TYPE) {
        return reply.type(`${MARKDOWN_TYPE}; charset=utf-8`).send(searchHitsToMarkdown(body.data, q, body));
      }
      return body;
    },
  );
};

export default routes;
