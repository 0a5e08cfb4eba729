/**
 * GET /v1/context: one call for retrieval-augmented generation. The best cited facts for a
 * question, ready to put in a prompt: each with its id, section, text, citations (with links),
 * condition and review date, trimmed to a character budget without cutting a fact, in JSON or
 * Markdown (numbered citation markers and a reference list). When nothing in the knowledge base
 * clears the relevance floor, `answerable` is false and there are no facts: a model given this
 * context has nothing to cite, and the Markdown says so.
 *
 * Responses are deterministic for identical requests and content, so the ETag (a hash of the
 * bytes, plugins/http-caching.ts) is stable.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { DISCLAIMER } from '../content/licence.js';
import { SLUG_PATTERN } from '../content/schema.js';
import { JSON_TYPE, MARKDOWN_TYPE, alternatives, formatQuery } from '../http/media.js';
import { NotFound } from '../http/problems.js';
import { contextToMarkdown } from '../renderers/markdown.js';
import { DISCLAIMER_FIELD, LAST_REVIEWED_FIELD, Nullable, SourceRefSchema, StringEnum, problemResponses, ref } from '../schemas/common.js';
import { FACT_SECTIONS } from '../schemas/fact.js';
import { createResponseCache, jsonResponse } from '../http/responseCache.js';

export const DEFAULT_MAX_CHARS = 4000;

const ContextFactSchema = Type.Object(
  {
    id: Type.String({ description: 'Stable fact id (a condition id for its overview)', examples: ['calciphylaxis.prognosis.mortality'] }),
    conditionId: Type.String({ examples: ['calciphylaxis'] }),
    conditionName: Type.String({ examples: ['Calciphylaxis'] }),
    section: StringEnum([...FACT_SECTIONS, 'overview'] as const, { examples: ['prognosis'] }),
    name: Type.String(),
    text: Type.String({ description: 'The fact as one self-contained sentence' }),
    sources: Type.Array(ref(SourceRefSchema), { minItems: 1, description: 'Its citations, with locator, DOI, PMID and link where known' }),
    url: Type.String({ description: 'Where the item is served in full' }),
    score: Type.Number({ description: 'Relevance to the question (higher is better; comparable within one response)' }),
    lastReviewed: LAST_REVIEWED_FIELD,
  },
  { title: 'ContextFact' },
);

const ContextSchema = Type.Object(
  {
    query: Type.Object({ q: Type.String(), condition: Nullable(Type.String({ description: 'The scope used: the condition parameter, else a condition the question names' })) }),
    answerable: Type.Boolean({ description: 'False when nothing in the knowledge base answers the question: `facts` is empty and there is nothing to cite' }),
    facts: Type.Array(ContextFactSchema, { description: 'Best first, as many whole facts as fit in maxChars' }),
    omitted: Type.Integer({ description: 'Relevant facts left out to stay within maxChars' }),
    maxChars: Type.Integer(),
    lastReviewed: Nullable(LAST_REVIEWED_FIELD),
    disclaimer: DISCLAIMER_FIELD,
  },
  { title: 'Context', description: 'Cited facts answering one question, ready for a prompt' },
);
type ContextFact = Static<typeof ContextFactSchema>;

/** Candidates ranked before the budget is applied. */
const CANDIDATES = 12;
/** Context responses remembered per content epoch (src/http/responseCache.ts); one is ~5 KB. */
const REMEMBERED_RESPONSES = 256;

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const { facts, retrieval } = app.repos;
  const responses = createResponseCache(app.db, REMEMBERED_RESPONSES);

  app.get(
    '/context',
    {
      config: { produces: [JSON_TYPE, MARKDOWN_TYPE] },
      schema: {
        operationId: 'getContext',
        tags: ['search'],
        summary: 'Cited context for a question (RAG)',
        description:
          "The best cited facts for a question in people's words, in one call: the /v1/search engine in its default natural mode " +
          '(stop words dropped, lay terms mapped, misspellings corrected, a named condition scopes the question), facts under its ' +
          'relevance floor left out. `maxChars` bounds the Markdown rendering (facts, reference list and footer); facts are never cut, ' +
          'so fewer are sent, and `omitted` says how many relevant ones did not fit; JSON carries the same facts. ' +
          '`answerable: false` (and no facts) means the knowledge base has no cited answer. Identical requests give identical bytes and ETag.',
        querystring: Type.Object(
          {
            q: Type.String({ minLength: 1, maxLength: 200, description: 'The question, as the user wrote it', examples: ['what is the survival rate for calciphylaxis?'] }),
            condition: Type.Optional(Type.String({ pattern: SLUG_PATTERN, maxLength: 80, description: 'Only facts of this condition', examples: ['calciphylaxis'] })),
            maxChars: Type.Optional(
              Type.Integer({ format: 'int32', minimum: 200, maximum: 50000, default: DEFAULT_MAX_CHARS, description: 'Budget for the Markdown rendering, in characters', examples: [DEFAULT_MAX_CHARS] }),
            ),
            ...formatQuery,
          },
          { additionalProperties: false },
        ),
        response: { 200: alternatives(ContextSchema, { markdown: true }), ...problemResponses },
      },
    },
    async (request, reply) =>
      // The whole response (bytes, ETag) per URL and representation for the content epoch.
      responses.send(request, reply, () => {
        const { q, condition, maxChars = DEFAULT_MAX_CHARS } = request.query;
        if (condition !== undefined && !facts.condition(condition)) throw new NotFound(`No condition with id "${condition}".`);
        const ranking = retrieval.rank(q, { condition, limit: CANDIDATES });
        const score = new Map(ranking.rows.map((r) => [r.entityId, Number(r.score.toPrecision(4))]));
        const candidates = ranking.rows.flatMap((r): ContextFact[] => {
          if (r.kind === 'condition') {
            const o = facts.overview(r.entityId);
            return o ? [{ ...o, score: score.get(r.entityId) ?? 0 }] : [];
          }
          return facts.byIds([r.entityId]).map(({ confidence: _c, ...f }) => ({ ...f, score: score.get(f.id) ?? 0 }));
        });
        const answerable = ranking.answerable && candidates.length > 0;
        const render = (list: readonly ContextFact[]) =>
          contextToMarkdown(q, list, { answerable, lastReviewed: latest(list), disclaimer: DISCLAIMER });
        // Whole facts only: add them best first while the rendering fits the budget.
        const chosen: ContextFact[] = [];
        for (const f of candidates) if (render([...chosen, f]).length <= maxChars) chosen.push(f);
        const body = {
          query: { q, condition: ranking.condition ?? null },
          answerable,
          facts: chosen,
          omitted: candidates.length - chosen.length,
          maxChars,
          lastReviewed: latest(chosen),
          disclaimer: DISCLAIMER,
        };
        if (request.representation === MARKDOWN_TYPE) return { body: render(chosen), contentType: `${MARKDOWN_TYPE}; charset=utf-8` };
        return jsonResponse(reply, body);
      }),
  );
};

function latest(list: readonly { lastReviewed: string }[]): string | null {
  return list.reduce<string | null>((max, f) => (max === null || f.lastReviewed > max ? f.lastReviewed : max), null);
}

export default routes;
