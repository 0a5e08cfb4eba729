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
import { FACT_SECTIONS } from '../schemas/fact.js';
import { SEARCH_SYNTAXES } from '../retrieval/engine.js';
import { latestReviewed } from '../http/representations.js';
import { DEFAULT_LIMIT, DISCLAIMER_FIELD, LAST_REVIEWED_FIELD, Nullable, PageSchema, SourceRefSchema, StringEnum, pageQuery, problemResponses, ref } from '../schemas/common.js';
import { compileSearchQuery, withQueryProblems } from '../search/query.js';
import { createResponseCache, jsonResponse } from '../http/responseCache.js';

/** Search responses remembered per content epoch (src/http/responseCache.ts); one is ~10 KB. */
const REMEMBERED_RESPONSES = 256;

const SearchHitSchema = Type.Object(
  {
    kind: StringEnum(SEARCH_KINDS, { description: 'condition, symptom, treatment, fact (any other statement) or statistic', examples: ['treatment'] }),
    id: Type.String({ description: 'Stable id of the item', examples: ['calciphylaxis.treatment.sodium-thiosulfate'] }),
    conditionId: Type.String({ examples: ['calciphylaxis'] }),
    section: StringEnum([...FACT_SECTIONS, 'overview'] as const, {
      description: 'The section the item lives in (as in /v1/conditions/{id}/{section}); `overview` for a condition itself',
      examples: ['treatments'],
    }),
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
        syntax: StringEnum(SEARCH_SYNTAXES, { description: 'The query mode used', examples: ['natural'] }),
        expression: Type.String({ description: 'The FTS5 expression that was run (empty when nothing was left to search for)', examples: ['"dialysis"* OR "mortality"*'] }),
        mode: StringEnum(['natural', 'all', 'any'] as const, {
          description:
            "`natural`: text in people's words (the default syntax). With `syntax=fts`: `all`, the query as written; `any`, no item matched every term, so items matching any of them are ranked.",
          examples: ['natural'],
        }),
      },
      { title: 'SearchQuery' },
    ),
    answerable: Type.Boolean({
      description: 'False when nothing in the knowledge base clears the relevance floor for this query: there is no cited answer, and `data` is empty.',
    }),
    lastReviewed: Nullable(LAST_REVIEWED_FIELD),
    disclaimer: DISCLAIMER_FIELD,
  },
  { title: 'SearchResults' },
);

const DESCRIPTION = `Ranked hits across conditions, symptoms, treatments, other facts and statistics.

**Default mode (\`syntax=natural\`): any text, as a person types it.** Questions are accepted as they are and never answered with a 400 for their syntax: quotes, \`*\`, parentheses and the words AND, OR, NOT are plain text. Stop words and question words are dropped ("what is the…"), words are stemmed, lay phrases are mapped to the words the content uses through the consumer vocabulary ("survival rate" → mortality, survival; "blood thinner" → anticoagulant, warfarin), a misspelt word is corrected to the closest word of the index, and a condition named in the question ("…of sepsis") scopes it when \`condition\` is not given. Hits are ranked by bm25 over each item's name (weight 10), curated lay questions (8), section name (4) and text (1), reweighted by how many parts of the question an item covers. Items under the relevance floor are left out; when nothing clears it, or the question asks about something its scope never mentions, \`answerable\` is false and \`data\` is empty: the knowledge base has no cited answer.

**\`syntax=fts\`: the query language** (\`q\`, 1–200 characters):
- words are ANDed: \`skin ulcer\` finds items with both; matching is case- and accent-insensitive with English stemming (\`ulcers\` finds \`ulcer\`);
- \`"quoted phrases"\` match words in sequence; \`thio*\` matches any word starting with \`thio\` (also \`"skin bio"*\`);
- uppercase \`AND\`, \`OR\`, \`NOT\` (binary: \`a NOT b\`; \`a AND NOT b\` means the same) with FTS5 precedence NOT > AND > OR, and optional parentheses: \`(sepsis OR gangrene) NOT wound\`;
- lowercase and/or/not are ordinary words; a word with punctuation (\`net-like\`, \`0.04\`, \`e83.59\`) is the phrase of its parts.

An unbalanced quote or parenthesis, an operator without a term on each side (\`sodium AND\`, \`NOT x\`), a query with no letters or digits, column filters (\`title:x\`, \`{...}\`), \`^\` and \`NEAR(...)\` are a 400 problem whose \`errors[0].path\` is \`/querystring/q\`.

**Ranking in fts mode**: a condition whose name or alias equals the whole query comes first; then bm25 relevance with the item name weighted 10× its text; ties by id. When a plain list of two or more words or phrases (no operators, no parentheses) matches no item with *all* the words, the search is retried with *any* of them (\`query.mode: "any"\`), so \`dialysis mortality\` still ranks the mortality facts. Explicit operators are always taken literally.

**Pagination**: \`limit\` and the opaque \`cursor\` as everywhere; results are ranked, so the cursor is a position in this ranking.`;

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const { search } = app.repos;
  const responses = createResponseCache(app.db, REMEMBERED_RESPONSES);

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
              description: 'The query: any text by default; the query language above with syntax=fts',
              examples: ['what is the survival rate?', 'thiosulfate', 'dialysis mortality'],
            }),
            syntax: Type.Optional(
              StringEnum(SEARCH_SYNTAXES, {
                description: "`natural` (default): any text, in people's words. `fts`: the phrase/prefix/boolean query language, whose malformed expressions are a 400.",
                examples: ['natural'],
              }),
            ),
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
    async (request, reply) =>
      // The whole response (bytes, ETag, Link) per URL and representation for the content epoch.
      responses.send(request, reply, () => {
        const { q, syntax = 'natural', kind, condition, limit = DEFAULT_LIMIT, cursor } = request.query;
        let result: SearchResult | undefined;
        const page = paginate(
          request,
          reply,
          { cursor, limit, decode: offsetCursor },
          (offset = 0, n) => {
            result =
              syntax === 'natural'
                ? search.natural({ text: q, kind, condition, offset, limit: n })
                : withQueryProblems(() => {
                    const compiled = compileSearchQuery(q);
                    return search.search({ match: compiled.expression, anyMatch: compiled.anyExpression, text: q, kind, condition, offset, limit: n });
                  });
            return result.hits;
          },
          (_last, offset = 0) => offset + limit,
        );
        if (!result) throw new Error('search ran no query');
        const lastReviewed = latestReviewed(page.data.map((h) => h.lastReviewed));
        const body = {
          data: page.data.map(({ lastReviewed: _reviewed, ...hit }) => hit),
          page: page.page,
          query: { q, syntax, expression: result.expression, mode: result.mode },
          answerable: result.answerable,
          lastReviewed,
          disclaimer: DISCLAIMER,
        };
        if (request.representation === MARKDOWN_TYPE) return { body: searchHitsToMarkdown(body.data, q, body), contentType: `${MARKDOWN_TYPE}; charset=utf-8` };
        return jsonResponse(reply, body);
      }),
  );
};

export default routes;
