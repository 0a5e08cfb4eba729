/**
 * Lookup by medical code, in two forms: the path form `/v1/codes/{system}/{code}` with the short
 * system names, and the MedlinePlus-Connect-style query `/v1/codes?system=&code=`, whose system
 * may also be a FHIR system URI or an OID (repositories/codes.ts lists the verified ones). The code
 * is normalized first (case, the ICD dot, `ORPHA:`-style prefixes) and checked against the
 * system's format, so that a 404 can say whether the code is malformed or just unmapped.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { CODE_MATCHES, CODE_SYSTEMS } from '../content/schema.js';
import { DISCLAIMER } from '../content/licence.js';
import { paginate } from '../http/pagination.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BadRequest, NotFound } from '../http/problems.js';
import { normalizeCode, resolveSystem, SYSTEM_IDENTIFIER_LIST, type CodeSystem, type CodesRepository } from '../repositories/codes.js';
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
    codedWith: Type.String({
      description:
        'The code it is coded with: the code looked up, or for an ICD-10-CM code that nothing is mapped to, the narrower code under it (E83.59 under E83.5); `display` and `note` are about this code',
      examples: ['E83.59'],
    }),
  },
  { title: 'CodeMapping' },
);

const CodeLookupSchema = Type.Object(
  {
    system: StringEnum(CODE_SYSTEMS),
    code: Type.String({ description: 'The code as looked up, in canonical form: upper case, with the ICD dot, without a prefix such as ORPHA:', examples: ['E83.59'] }),
    data: Type.Array(CodeMappingSchema),
    page: ref(PageSchema),
    lastReviewed: Nullable(LAST_REVIEWED_FIELD),
    disclaimer: DISCLAIMER_FIELD,
  },
  { title: 'CodeLookup', description: 'What a code maps to in the knowledge base' },
);
/** The body of a code lookup, for clients and tests that read it. */
export type CodeLookup = Static<typeof CodeLookupSchema>;

const LOOKUP_DESCRIPTION =
  'Conditions a code is mapped to, with how it matches (exact, broader, narrower, related), and for drug systems ' +
  '(ATC) the treatments coded with it. Codes are read as health records write them: any case, ICD codes with or ' +
  'without the dot (`E8359`, `e83.59`), Orphanet with or without `ORPHA:`. An ICD-10-CM code that nothing is mapped ' +
  'to finds the conditions coded under it in the hierarchy (E83.5 → those coded E83.59), each with `match: broader` ' +
  'and the code it is coded with in `codedWith`. A code nothing maps to (malformed or not) is a 404.';

/** Shared by both forms: normalize, look up (with the hierarchy fallback), page, answer. */
function lookup(codes: CodesRepository, request: FastifyRequest, reply: FastifyReply, system: CodeSystem, raw: string, limit: number, cursor: string | undefined) {
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
        throw new NotFound(`Nothing in the knowledge base is mapped to ${system} code "${code}"${system === 'icd10cm' ? ' or to a code under it' : ''}.`);
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
}

const CodeParam = Type.String({ minLength: 1, maxLength: 60, description: 'The code, e.g. E83.59 or E8359 (icd10cm), 280062 or ORPHA:280062 (orphanet), V03AB06 (atc)', examples: ['E83.59'] });

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const { codes } = app.repos;

  app.get(
    '/codes/:system/:code',
    {
      schema: {
        operationId: 'getConditionsByCode',
        tags: ['codes'],
        summary: 'Find what a medical code maps to',
        description: `${LOOKUP_DESCRIPTION} An unknown system is a 400; system URIs and OIDs are taken by the query form, GET /v1/codes.`,
        params: Type.Object({
          system: StringEnum(CODE_SYSTEMS, { description: 'Code system', examples: ['icd10cm'] }),
          code: CodeParam,
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
      const { limit = DEFAULT_LIMIT, cursor } = request.query;
      return lookup(codes, request, reply, request.params.system, request.params.code, limit, cursor);
    },
  );

  app.get(
    '/codes',
    {
      schema: {
        operationId: 'lookupCode',
        tags: ['codes'],
        summary: 'Find what a medical code maps to (system URI or OID accepted)',
        description:
          `${LOOKUP_DESCRIPTION} The query form of getConditionsByCode, in the style of MedlinePlus Connect: \`system\` is a short ` +
          `name (${CODE_SYSTEMS.join(', ')}), a FHIR system URI or an OID, with or without \`urn:oid:\` (${SYSTEM_IDENTIFIER_LIST.join(', ')}). ` +
          'An unknown system is a 400 listing them.',
        querystring: Type.Object(
          {
            system: Type.String({
              minLength: 1,
              maxLength: 200,
              description: 'Code system: a short name, a system URI (http://hl7.org/fhir/sid/icd-10-cm) or an OID (2.16.840.1.113883.6.90)',
              examples: ['http://hl7.org/fhir/sid/icd-10-cm'],
            }),
            code: CodeParam,
            ...pageQuery,
          },
          { additionalProperties: false },
        ),
        response: { 200: CodeLookupSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const { system: given, code, limit = DEFAULT_LIMIT, cursor } = request.query;
      const system = resolveSystem(given);
      if (!system) {
        throw new BadRequest(`Unknown code system "${given}". Use a short name (${CODE_SYSTEMS.join(', ')}) or one of these URIs and OIDs: ${SYSTEM_IDENTIFIER_LIST.join(', ')}.`, [
          { path: '/querystring/system', message: 'not a known code system' },
        ]);
      }
      return lookup(codes, request, reply, system, code, limit, cursor);
    },
  );
};

export default routes;
