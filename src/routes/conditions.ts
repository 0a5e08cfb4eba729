/**
 * Condition summaries, whole documents and single sections. Documents are served from the render
 * cache as bytes with a precomputed ETag; summaries and sections are small and serialized per
 * request through their response schemas.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { CODE_SYSTEMS } from '../content/schema.js';
import { DISCLAIMER } from '../content/licence.js';
import { decodeCursor, setNextLink, toPage } from '../http/pagination.js';
import { BadRequest, NotFound } from '../http/problems.js';
import type { Rendered } from '../http/renderCache.js';
import { JSONLD_TYPE, JSON_TYPE, MARKDOWN_TYPE, alternatives, formatQuery } from '../http/media.js';
import { conditionToJsonLd } from '../renderers/jsonld.js';
import { conditionToMarkdown, sectionToMarkdown } from '../renderers/markdown.js';
import { DEFAULT_LIMIT, DISCLAIMER_FIELD, LAST_REVIEWED_FIELD, listOf, pageQuery, problemResponses, ref } from '../schemas/common.js';
import {
  ConditionSchema,
  ConditionSummarySchema,
  DiagnosticSchema,

  RiskFactorSchema,
  StatementSchema,
  SymptomSchema,
  TreatmentSchema,
  type Condition,
} from '../schemas/condition.js';
import { SourceSchema } from '../schemas/source.js';
import { StatisticSchema } from '../schemas/statistic.js';

/** URL section names (kebab-case, as in the contract) → document keys. `facts` lives in routes/facts.ts. */
export const SECTIONS = {
  symptoms: 'symptoms',
  causes: 'causes',
  'risk-factors': 'riskFactors',
  complications: 'complications',
  diagnosis: 'diagnosis',
  treatments: 'treatments',
  prognosis: 'prognosis',
  prevention: 'prevention',
  'when-to-seek-care': 'whenToSeekCare',
  'differential-diagnosis': 'differentialDiagnosis',
  statistics: 'statistics',
  sources: 'sources',
} as const satisfies Record<string, keyof Condition>;
type SectionName = keyof typeof SECTIONS;

export const CODE_PARAM_PATTERN = `^(${CODE_SYSTEMS.join('|')}):[A-Za-z0-9.\\-]{1,40}$`;

const ConditionIdParam = Type.String({ pattern: '^[a-z0-9]+(?:-[a-z0-9]+)*$', maxLength: 80, description: 'Condition id', examples: ['calciphylaxis'] });

/** Representations of a condition document, the default first. */
export const DOCUMENT_TYPES = [JSON_TYPE, JSONLD_TYPE, MARKDOWN_TYPE] as const;
const SECTION_TYPES = [JSON_TYPE, MARKDOWN_TYPE] as const;

/** Human titles of the sections, for the Markdown rendering. */
const SECTION_TITLES: Record<SectionName, string> = {
  symptoms: 'Symptoms',
  causes: 'Causes',
  'risk-factors': 'Risk factors',
  complications: 'Complications',
  diagnosis: 'Diagnosis',
  treatments: 'Treatments',
  prognosis: 'Prognosis',
  prevention: 'Prevention',
  'when-to-seek-care': 'When to seek care',
  'differential-diagnosis': 'Conditions that look similar',
  statistics: 'Statistics',
  sources: 'Sources',
};

/** One document in the negotiated representation; the bytes are cached, so this runs once per version. */
function renderDocument(doc: Condition, type: string): { body: string; contentType: string } {
  if (type === MARKDOWN_TYPE) return { body: conditionToMarkdown(doc), contentType: `${MARKDOWN_TYPE}; charset=utf-8` };
  if (type === JSONLD_TYPE) return { body: JSON.stringify(conditionToJsonLd(doc)), contentType: `${JSONLD_TYPE}; charset=utf-8` };
  return { body: JSON.stringify(doc), contentType: 'application/json; charset=utf-8' };
}

export function sendRendered(reply: FastifyReply, rendered: Rendered): FastifyReply {
  return reply.header('etag', rendered.etag).type(rendered.contentType).send(rendered.body);
}

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
      const after = decodeCursor(cursor);
      const [system = '', value = ''] = code ? [code.slice(0, code.indexOf(':')), code.slice(code.indexOf(':') + 1)] : [];
      const rows = conditions.list({
        q,
        code: code ? { system, code: value } : undefined,
        after: after === undefined ? undefined : String(after),
        limit: limit + 1,
      });
      const page = toPage(rows, limit, (r) => r.id);
      setNextLink(request, reply, page.page.nextCursor);
      const lastReviewed = page.data.reduce<string | null>((max, c) => (max === null || c.lastReviewed > max ? c.lastReviewed : max), null);
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
      const current = conditions.version(id);
      if (!current) throw new NotFound(`No condition with id "${id}".`);
      const rendered = app.renderCache.get(`condition:${id}@${current.version}:${request.representation}`, () => {
        const doc = conditions.document(id);
        if (!doc) throw new NotFound(`No condition with id "${id}".`);
        return renderDocument(doc, request.representation);
      });
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
      const key = SECTIONS[section as SectionName];
      if (!key) throw new BadRequest(`Unknown section "${section}".`);
      const current = conditions.version(id);
      if (!current) throw new NotFound(`No condition with id "${id}".`);
      const rendered = app.renderCache.get(`condition:${id}@${current.version}:section:${section}:${request.representation}`, () => {
        const doc = conditions.document(id);
        if (!doc) throw new NotFound(`No condition with id "${id}".`);
        if (request.representation === MARKDOWN_TYPE) {
          return { body: sectionToMarkdown(doc, key, `${doc.name}: ${SECTION_TITLES[section as SectionName]}`), contentType: `${MARKDOWN_TYPE}; charset=utf-8` };
        }
        const body = {
          conditionId: doc.id,
          conditionName: doc.name,
          section,
          data: doc[key],
          lastReviewed: doc.lastReviewed,
          version: doc.version,
          disclaimer: doc.disclaimer,
        };
        return { body: JSON.stringify(body), contentType: 'application/json; charset=utf-8' };
      });
      return sendRendered(reply, rendered);
    },
  );
};

export default routes;

