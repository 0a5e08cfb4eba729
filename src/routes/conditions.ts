/**
 * Condition summaries, whole documents and single sections. Documents are served from the render
 * cache as bytes with a precomputed ETag; summaries and sections are small and serialized per
 * request through their response schemas.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { CODE_SYSTEMS } from '../content/schema.js';
import { DISCLAIMER } from '../content/licence.js';
import { paginate } from '../http/pagination.js';
import { ConditionIdParam } from '../schemas/params.js';
import { BadRequest, NotFound } from '../http/problems.js';
import { SECTIONS, latestReviewed, sendRendered, type SectionName } from '../http/representations.js';
import { JSONLD_TYPE, JSON_TYPE, MARKDOWN_TYPE, alternatives, formatQuery } from '../http/media.js';
import { DEFAULT_LIMIT, DISCLAIMER_FIELD, LAST_REVIEWED_FIELD, listOf, pageQuery, problemResponses, ref } from '../schemas/common.js';
import {
  ConditionSchema,
  ConditionSummarySchema,
  DiagnosticSchema,
  DifferentialSchema,
  RiskFactorSchema,
  StatementSchema,
  SymptomSchema,
  TreatmentSchema,
} from '../schemas/condition.js';
import { SourceSchema } from '../schemas/source.js';
import { StatisticSchema } from '../schemas/statistic.js';

export const CODE_PARAM_PATTERN = `^(${CODE_SYSTEMS.join('|')}):[A-Za-z0-9.\\-]{1,40}$`;


/** Representations of a condition document, the default first. */
export const DOCUMENT_TYPES = [JSON_TYPE, JSONLD_TYPE, MARKDOWN_TYPE] as const;
const SECTION_TYPES = [JSON_TYPE, MARKDOWN_TYPE] as const;

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const { conditions } = app.repos;

  app.get(
    '/conditions',
    {
      schema: {
        operationId: 'listConditions',
        tags: ['conditions'],
        summary: 'List conditions',
        description: 'Condition summaries ordered by id. Filter by free text (`q`: name, alias or summary) or by medical code.',
        querystring: Type.Object(
          {
            ...pageQuery,
            q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Text in the name, an alias or the summary', examples: ['uremic'] })),
            code: Type.Optional(
              Type.String({ pattern: CODE_PARAM_PATTERN, maxLength: 100, description: 'A code as `system:code`', examples: ['icd10cm:E83.59', 'orphanet:280062'] }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: listOf(ref(ConditionSummarySchema), { title: 'ConditionList' }), ...problemResponses },
      },
    },
    async (request, reply) => {
      const { limit = DEFAULT_LIMIT, cursor, q, code } = request.query;
      const [system = '', value = ''] = code ? [code.slice(0, code.indexOf(':')), code.slice(code.indexOf(':') + 1)] : [];
      const page = paginate(request, reply, { cursor, limit }, (after, n) => conditions.list({ q, code: code ? { system, code: value } : undefined, after, limit: n }), (r) => r.id);
      const lastReviewed = latestReviewed(page.data.map((c) => c.lastReviewed));
      return { ...page, lastReviewed, disclaimer: DISCLAIMER };
    },
  );

  app.get(
    '/conditions/:id',
    {
      config: { produces: DOCUMENT_TYPES },
      schema: {
        operationId: 'getCondition',
        tags: ['conditions'],
        summary: 'Get a whole condition document',
        description:
          'Every section with its citations, the statistics, the sources cited, related conditions, `lastReviewed`, `version` and a ' +
          '`disclaimer`. Strong ETag (distinct per representation); send `If-None-Match` to get 304 when unchanged. ' +
          'Representations: JSON (default), schema.org JSON-LD (`Accept: application/ld+json`), Markdown for LLM context ' +
          '(`Accept: text/markdown` or `?format=markdown`).',
        params: Type.Object({ id: ConditionIdParam }),
        querystring: Type.Object(formatQuery, { additionalProperties: false }),
        response: { 200: alternatives(ref(ConditionSchema), { markdown: true, jsonld: true }), ...problemResponses },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const rendered = app.representations.condition(id, request.representation);
      if (!rendered) throw new NotFound(`No condition with id "${id}".`);
      return sendRendered(reply, rendered);
    },
  );

  const SectionResponse = Type.Object(
    {
      conditionId: Type.String(),
      conditionName: Type.String(),
      section: Type.String({ examples: ['symptoms'] }),
      data: Type.Array(
        Type.Union([
          ref(SymptomSchema),
          ref(RiskFactorSchema),
          ref(DiagnosticSchema),
          ref(TreatmentSchema),
          ref(StatisticSchema),
          ref(SourceSchema),
          // Before the plain statement, which it extends: a union serializes with its first match.
          ref(DifferentialSchema),
          ref(StatementSchema),
        ]),
      ),
      lastReviewed: LAST_REVIEWED_FIELD,
      version: Type.Integer(),
      disclaimer: DISCLAIMER_FIELD,
    },
    { title: 'ConditionSection' },
  );

  app.get(
    '/conditions/:id/:section',
    {
      config: { produces: SECTION_TYPES },
      schema: {
        operationId: 'getConditionSection',
        tags: ['conditions'],
        summary: 'Get one section of a condition',
        description:
          'The items of one section, each with its citations. `facts` is served by getConditionFacts. ' +
          'JSON by default; Markdown with numbered citations on `Accept: text/markdown` or `?format=markdown`.',
        params: Type.Object({
          id: ConditionIdParam,
          section: Type.Enum(Object.keys(SECTIONS) as SectionName[], { description: 'Section name', examples: ['risk-factors'] }),
        }),
        querystring: Type.Object(formatQuery, { additionalProperties: false }),
        response: { 200: alternatives(SectionResponse, { markdown: true }), ...problemResponses },
      },
    },
    async (request, reply) => {
      const { id, section } = request.params;
      if (!(section in SECTIONS)) throw new BadRequest(`Unknown section "${section}".`);
      const rendered = app.representations.section(id, section, request.representation);
      if (!rendered) throw new NotFound(`No condition with id "${id}".`);
      return sendRendered(reply, rendered);
    },
  );
};

export default routes;

