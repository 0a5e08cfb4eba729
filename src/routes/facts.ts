/**
 * Facts: every statement and statistic as an atomic, cited item with a stable id, across
 * conditions (GET /v1/facts), one by one (GET /v1/facts/{id}) and per condition
 * (GET /v1/conditions/{id}/facts). Lists and single facts are JSON by default and Markdown on
 * `Accept: text/markdown`, each fact with its citations, for pasting into an LLM context.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { CONFIDENCE_LEVELS, SLUG_PATTERN } from '../content/schema.js';
import { DISCLAIMER } from '../content/licence.js';
import { offsetCursor, paginate, strictKeysetCursor, type Page } from '../http/pagination.js';
import { NotFound } from '../http/problems.js';
import { JSON_TYPE, MARKDOWN_TYPE, alternatives, formatQuery } from '../http/media.js';
import { factsToMarkdown } from '../renderers/markdown.js';
import type { FactFilter, FactWithReview } from '../repositories/facts.js';
import { DEFAULT_LIMIT, DISCLAIMER_FIELD, pageQuery, LAST_REVIEWED_FIELD, Nullable, PageSchema, StringEnum, problemResponses, ref } from '../schemas/common.js';
import { FactDocumentSchema, FactSchema, FactSectionSchema } from '../schemas/fact.js';
import { ConditionIdParam, FactIdParam } from '../schemas/params.js';
import { latestReviewed, sendRendered, withoutReview } from '../http/representations.js';
import { compileSearchQuery, withQueryProblems } from '../search/query.js';
import { SECTION_KEYS } from '../repositories/facts.js';
import { SEARCH_SYNTAXES } from '../retrieval/engine.js';
import { createResponseCache, jsonResponse } from '../http/responseCache.js';

const FACT_TYPES = [JSON_TYPE, MARKDOWN_TYPE] as const;
const MARKDOWN_CONTENT_TYPE = `${MARKDOWN_TYPE}; charset=utf-8`;
/** Fact lists remembered per content epoch (src/http/responseCache.ts). */
const REMEMBERED_RESPONSES = 256;


const filterQuery = {
  section: Type.Optional(FactSectionSchema),
  confidence: Type.Optional(StringEnum(CONFIDENCE_LEVELS, { description: 'Only facts with exactly this confidence', examples: ['high'] })),
  q: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 200,
      description:
        'A question or words to look for. By default any text, ranked by relevance with the /v1/search engine (facts under its relevance floor are left out); with syntax=fts, a filter in the /v1/search query language whose results stay in id order',
      examples: ['what is the survival rate?', 'dialysis'],
    }),
  ),
  syntax: Type.Optional(StringEnum(SEARCH_SYNTAXES, { description: '`natural` (default) or `fts` (see /v1/search); applies to `q`', examples: ['natural'] })),
  ...pageQuery,
  ...formatQuery,
};

const ANSWERABLE_FIELD = Type.Optional(
  Type.Boolean({ description: 'Present with `q`: false when no fact clears the relevance floor, so the knowledge base has no cited answer' }),
);

const FactListSchema = Type.Object(
  {
    data: Type.Array(ref(FactSchema)),
    answerable: ANSWERABLE_FIELD,
    page: ref(PageSchema),
    lastReviewed: Nullable(LAST_REVIEWED_FIELD),
    disclaimer: DISCLAIMER_FIELD,
  },
  { title: 'FactList' },
);

const ConditionFactListSchema = Type.Object(
  {
    conditionId: Type.String({ examples: ['calciphylaxis'] }),
    conditionName: Type.String({ examples: ['Calciphylaxis'] }),
    data: Type.Array(ref(FactSchema)),
    answerable: ANSWERABLE_FIELD,
    page: ref(PageSchema),
    lastReviewed: LAST_REVIEWED_FIELD,
    disclaimer: DISCLAIMER_FIELD,
  },
  { title: 'ConditionFactList' },
);

const FILTERS_DESCRIPTION =
  'Filters: `section` (kebab-case, `statistics` included), `confidence` (exact), and `q`. Without `q`, facts are ordered by id and ' +
  'keyset-paginated, so pages never repeat or skip a fact. With `q` (default `syntax=natural`), any text is accepted and facts come ' +
  'ranked by relevance with the /v1/search engine, those under its relevance floor left out; `answerable: false` says nothing answers ' +
  'it. With `syntax=fts`, `q` is a filter in the /v1/search query language (a malformed query is a 400) and the order stays by id. ' +
  '`Accept: text/markdown` renders the page as a list with citations.';

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const { facts } = app.repos;
  const responses = createResponseCache(app.db, REMEMBERED_RESPONSES);

  /** One page of facts; `q` is compiled here so a bad query is a 400 before any SQL runs. */
  function pageOf(
    request: FastifyRequest,
    reply: FastifyReply,
    filter: Omit<FactFilter, 'match' | 'after' | 'limit'>,
    query: { q?: string; syntax?: (typeof SEARCH_SYNTAXES)[number]; cursor?: string; limit: number },
  ): Page<FactWithReview> & { answerable?: boolean } {
    const q = query.q;
    if (q !== undefined && query.syntax !== 'fts') {
      // A ranked list: the cursor is an offset into the ranking (as in /v1/search).
      let answerable = false;
      const page = paginate(
        request,
        reply,
        { cursor: query.cursor, limit: query.limit, decode: offsetCursor },
        (offset = 0, n) => {
          const section = filter.section === undefined ? undefined : [SECTION_KEYS.get(filter.section) ?? filter.section];
          // A confidence filter applies after ranking, so rank the whole list above the floor then.
          const depth = filter.confidence === undefined ? offset + n : RANK_DEPTH;
          const ranking = app.repos.retrieval.rank(q, { kinds: FACT_KINDS, condition: filter.condition, sections: section, limit: depth });
          const ranked = facts.byIds(ranking.rows.map((r) => r.entityId)).filter((f) => filter.confidence === undefined || f.confidence === filter.confidence);
          answerable = ranking.answerable && ranked.length > 0;
          return ranked.slice(offset, offset + n);
        },
        (_last, offset = 0) => offset + query.limit,
      );
      return { ...page, answerable };
    }
    // A /v1/search offset cursor is valid base64 for the wrong endpoint: refused (strictKeysetCursor).
    return paginate(
      request,
      reply,
      { cursor: query.cursor, limit: query.limit, decode: strictKeysetCursor },
      (after, n) => {
        const q = query.q;
        const match = q === undefined ? undefined : withQueryProblems(() => compileSearchQuery(q)).expression;
        return withQueryProblems(() => facts.list({ ...filter, match, after, limit: n }));
      },
      (r) => r.id,
    );
  }

  app.get(
    '/facts',
    {
      config: { produces: FACT_TYPES },
      schema: {
        operationId: 'listFacts',
        tags: ['search'],
        summary: 'List citable facts',
        description:
          'Every statement (symptoms, causes, risk factors, complications, diagnosis, treatments, prognosis, prevention) and every ' +
          'statistic of every condition, each with a stable id, its sources and a confidence: the units to retrieve and quote. ' +
          `Filter by \`condition\`. ${FILTERS_DESCRIPTION}`,
        querystring: Type.Object(
          {
            condition: Type.Optional(Type.String({ pattern: SLUG_PATTERN, maxLength: 80, description: 'Only facts of this condition', examples: ['calciphylaxis'] })),
            ...filterQuery,
          },
          { additionalProperties: false },
        ),
        response: { 200: alternatives(FactListSchema, { markdown: true }), ...problemResponses },
      },
    },
    async (request, reply) => {
      const { condition, section, confidence, q, syntax, cursor, limit = DEFAULT_LIMIT } = request.query;
      const list = () => {
        const page = pageOf(request, reply, { condition, section, confidence }, { q, syntax, cursor, limit });
        const lastReviewed = latestReviewed(page.data.map((f) => f.lastReviewed));
        return { data: page.data.map(withoutReview), ...answerableOf(page), page: page.page, lastReviewed, disclaimer: DISCLAIMER };
      };
      // The whole response per URL and representation for the content epoch, ranked (`q`) or not:
      // a page of twenty facts costs ~0.5 ms to query, serialize and hash, its bytes far less.
      return responses.send(request, reply, () => {
        const body = list();
        if (request.representation === MARKDOWN_TYPE) return { body: factsToMarkdown(body.data, body, { nextCursor: body.page.nextCursor }), contentType: MARKDOWN_CONTENT_TYPE };
        return jsonResponse(reply, body);
      });
    },
  );

  app.get(
    '/facts/:id',
    {
      config: { produces: FACT_TYPES },
      schema: {
        operationId: 'getFact',
        tags: ['search'],
        summary: 'Get one fact',
        description: 'One statement or statistic by its stable id, with its sources, the review date of its condition and the disclaimer.',
        params: Type.Object({ id: FactIdParam }),
        querystring: Type.Object(formatQuery, { additionalProperties: false }),
        response: { 200: alternatives(FactDocumentSchema, { markdown: true }), ...problemResponses },
      },
    },
    async (request, reply) => {
      const rendered = app.representations.fact(request.params.id, request.representation);
      if (!rendered) throw new NotFound(`No fact with id "${request.params.id}".`);
      return sendRendered(reply, rendered);
    },
  );

  // A static segment: the router prefers it over /conditions/:id/:section in routes/conditions.ts.
  app.get(
    '/conditions/:id/facts',
    {
      config: { produces: FACT_TYPES },
      schema: {
        operationId: 'getConditionFacts',
        tags: ['search'],
        summary: 'List the facts of one condition',
        description: `The facts of one condition (404 when there is no such condition). ${FILTERS_DESCRIPTION}`,
        params: Type.Object({ id: ConditionIdParam }),
        querystring: Type.Object(filterQuery, { additionalProperties: false }),
        response: { 200: alternatives(ConditionFactListSchema, { markdown: true }), ...problemResponses },
      },
    },
    async (request, reply) => {
      const condition = facts.condition(request.params.id);
      if (!condition) throw new NotFound(`No condition with id "${request.params.id}".`);
      const { section, confidence, q, syntax, cursor, limit = DEFAULT_LIMIT } = request.query;
      const page = pageOf(request, reply, { condition: condition.id, section, confidence }, { q, syntax, cursor, limit });
      const body = {
        conditionId: condition.id,
        conditionName: condition.name,
        data: page.data.map(withoutReview),
        ...answerableOf(page),
        page: page.page,
        lastReviewed: condition.lastReviewed,
        disclaimer: DISCLAIMER,
      };
      if (request.representation === MARKDOWN_TYPE) {
        return sendMarkdown(reply, factsToMarkdown(body.data, body, { title: `Facts: ${condition.name}`, nextCursor: body.page.nextCursor }));
      }
      return body;
    },
  );
};

/** `answerable` only on ranked lists, where it means something. */
function answerableOf(page: { answerable?: boolean }): { answerable?: boolean } {
  return page.answerable === undefined ? {} : { answerable: page.answerable };
}

/** Index kinds that are facts (a condition's own row is not). */
const FACT_KINDS = ['symptom', 'treatment', 'fact', 'statistic'] as const;
/** How deep a ranking goes when a filter applies after it. */
const RANK_DEPTH = 500;

/** Sent as bytes with its own type: the JSON response schema does not apply to Markdown. */
function sendMarkdown(reply: FastifyReply, markdown: string): FastifyReply {
  return reply.type(MARKDOWN_CONTENT_TYPE).send(markdown);
}

export default routes;
