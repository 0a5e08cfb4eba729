/**
 * Lookup by medical code. The code is normalized first (case, `ORPHA:`-style prefixes) and checked
 * against the system's format, so that a 404 can say whether the code is malformed or just unmapped.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { CODE_MATCHES, CODE_SYSTEMS } from '../content/schema.js';
import { DISCLAIMER } from '../content/licence.js';
import { paginate } from '../http/pagination.js';
import { NotFound } from '../http/problems.js';
import { normalizeCode } from '../repositories/codes.js';
import {
  ConfidenceSchema,
  DEFAULT_LIMIT,
  DISCLAIMER_FIELD,
  LAST_REVIEWED_FIELD,
  Nullable,
  PageSchema,
  StringEnum,
  pageQuery,
  problemResponses,
  ref,
} from '../schemas/common.js';
import { latestReviewed } from '../http/representations.js';

const CodeMappingSchema = Type.Object(
  {
    kind: StringEnum(['condition', 'treatment'] as const),
    id: Type.String({ description: 'Condition or treatment id', examples: ['calciphylaxis'] }),
    conditionId: Type.String({ description: 'The condition itself, or the condition the treatment belongs to', examples: ['calciphylaxis'] }),
    name: Type.String({ examples: ['Calciphylaxis'] }),
    match: StringEnum(CODE_MATCHES, { description: 'How the code relates to it: exact, broader (the code covers more), narrower, related. Treatments: exact' }),
    note: Nullable(Type.String()),
    display: Nullable(Type.String({ description: 'The code system’s name for the code', examples: ['Other disorders of calcium metabolism'] })),
    confidence: Nullable(ConfidenceSchema),
    url: Type.String({ examples: ['/v1/conditions/calciphylaxis'] }),
  },
  { title: 'CodeMapping' },
);

const CodeLookupSchema = Type.Object(
  {
    system: StringEnum(CODE_SYSTEMS),
    code: Type.String({ description: 'The code as looked up: upper case, without a prefix such as ORPHA:', examples: ['E83.59'] }),
    data: Type.Array(CodeMappingSchema),
    page: ref(PageSchema),
    lastReviewed: Nullable(LAST_REVIEWED_FIELD),
    disclaimer: DISCLAIMER_FIELD,
  },
  { title: 'CodeLookup', description: 'What a code maps to in the knowledge base' },
);

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const { codes } = app.repos;

  app.get(
    '/codes/:system/:code',
    {
      schema: {
        operationId: 'getConditionsByCode',
        tags: ['codes'],
        summary: 'Find what a medical code maps to',
        description:
          'Conditions a code is mapped to, with how it matches (exact, broader, narrower, related), and for drug systems ' +
          '(ATC) the treatments coded with it. Codes match case-insensitively; Orphanet accepts `ORPHA:280062` or `280062`. ' +
          'An unknown system is a 400; a code nothing maps to (malformed or not) is a 404.',
        params: Type.Object({
          system: StringEnum(CODE_SYSTEMS, { description: 'Code system', examples: ['icd10cm'] }),
          code: Type.String({ minLength: 1, maxLength: 60, description: 'The code, e.g. E83.59 (icd10cm), 280062 (orphanet), V03AB06 (atc)', examples: ['E83.59'] }),
        }),
        querystring: Type.Object(
          {
            ...pageQuery,
          },
          { additionalProperties: false },
        ),
        response: { 200: CodeLookupSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const { system, code: raw } = request.params;
      const { limit = DEFAULT_LIMIT, cursor } = request.query;
      const { code, wellFormed } = normalizeCode(system, raw);
      // The contract answers any code nothing maps to with 404; the detail says when it is malformed.
      if (!wellFormed) throw new NotFound(`"${raw}" is not a well-formed ${system} code, so nothing is mapped to it.`);
      const page = paginate(
        request,
        reply,
        { cursor, limit },
        (after, n) => {
          const rows = codes.mappings(system, code, { after, limit: n });
          // An empty page after a cursor is the end of a known code's list, not an unknown code.
          if (rows.length === 0 && (after === undefined || !codes.isKnown(system, code))) {
            throw new NotFound(`Nothing in the knowledge base is mapped to ${system} code "${code}".`);
          }
          return rows;
        },
        (r) => `${r.kind}:${r.id}`,
      );
      return {
        system,
        code,
        data: page.data.map(({ lastReviewed: _lastReviewed, ...mapping }) => mapping),
        page: page.page,
        lastReviewed: latestReviewed(page.data.map((r) => r.lastReviewed)),
        disclaimer: DISCLAIMER,
      };
    },
  );
};

export default routes;
