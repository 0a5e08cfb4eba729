/**
 * What the write routes share besides their bodies (src/curation/bodies.ts): path parameters,
 * headers, the documents they answer with and their problems, and `write()`, the HTTP side of a
 * curated write: what the request says (key, If-Match, Idempotency-Key) in, the curation
 * service's answer out. Each route is one call: `write(request, reply, (ctx) => ...)`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DatabaseBusy, requestHash, type Answer, type WriteContext } from '../../curation/service.js';
import { Type } from 'typebox';
import { ENTITY_TYPES } from '../../content/schema.js';
import { DISCLAIMER_FIELD, LAST_REVIEWED_FIELD, Nullable, ProblemSchema, ref } from '../../schemas/common.js';
import { FactSchema } from '../../schemas/fact.js';
import { SourceSchema } from '../../schemas/source.js';
import { StatisticSchema } from '../../schemas/statistic.js';
import { TreatmentSchema } from '../../schemas/condition.js';

export * from '../../curation/bodies.js';

/* Params and headers */

export { ConditionIdParam, EntityIdParam, SourceIdParam } from '../../schemas/params.js';

export const NoQuery = Type.Object({}, { additionalProperties: false });

export const IfMatchHeaders = Type.Object({
  'if-match': Type.Optional(
    Type.String({
      maxLength: 1000,
      description: 'The ETag from the GET of this resource (or of the condition, for codes). Required: missing → 428, stale → 412.',
      examples: ['"q3d6bOo1xqkbPp0yv0S3Mw4F5m2Yx1tA"'],
    }),
  ),
});

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 200,
      pattern: '^[\\x21-\\x7E]+$',
      description: 'A unique key per create (e.g. a UUID): retrying with the same key and body replays the first answer; another body → 422.',
      examples: ['5b2f8e0c-3d1a-4c9e-9f7b-2a6d0e4c8b11'],
    }),
  ),
});

/* Responses */

const PreconditionFailedSchema = Type.Object(
  {
    ...ProblemSchema.properties,
    currentEtag: Type.String({ description: 'The ETag of the resource now' }),
    currentVersion: Nullable(Type.Integer({ description: 'The version of the entity now' })),
  },
  { title: 'PreconditionFailedProblem', description: 'A problem with the current ETag and version of the resource' },
);

const problem = ref(ProblemSchema);
export const PROBLEMS = {
  400: problem,
  401: problem,
  403: problem,
  404: problem,
  406: problem,
  409: problem,
  412: PreconditionFailedSchema,
  413: problem,
  415: problem,
  422: problem,
  428: problem,
  429: problem,
  503: problem,
} as const;

type ProblemStatus = keyof typeof PROBLEMS;
export function problems<S extends ProblemStatus>(...statuses: S[]): Pick<typeof PROBLEMS, S> {
  return Object.fromEntries(statuses.map((s) => [s, PROBLEMS[s]])) as Pick<typeof PROBLEMS, S>;
}
/** The answer when a committed write's new representation cannot be rendered (see service.ts). */
export const WRITTEN_WITHOUT_BODY = {
  204: Type.Null({ description: 'Written, but the new representation could not be rendered (e.g. the rate limit was reached meanwhile); read it with GET' }),
};

/** Problems every write can answer. */
export const COMMON_PROBLEMS = [401, 403, 406, 429, 503] as const;
export const BODY_PROBLEMS = [400, 413, 415] as const;

const notes = { lastReviewed: LAST_REVIEWED_FIELD, disclaimer: DISCLAIMER_FIELD };

export const FactDocumentSchema = Type.Object({ ...FactSchema.properties, ...notes }, { title: 'FactDocument', description: 'The fact as GET /v1/facts/{id} returns it' });
export const StatisticDocumentSchema = Type.Object(
  { ...StatisticSchema.properties, ...notes },
  { title: 'StatisticDocument', description: 'The statistic as GET /v1/statistics/{id} returns it' },
);
export const TreatmentDocumentSchema = Type.Object(
  { ...TreatmentSchema.properties, evidence: Type.Array(ref(StatisticSchema)), ...notes },
  { title: 'TreatmentDocument', description: 'The treatment as GET /v1/treatments/{id} returns it' },
);
export const SourceDocumentSchema = Type.Object(
  {
    ...SourceSchema.properties,
    citedBy: Type.Array(Type.Object({ entityType: Type.String(), id: Type.String(), conditionId: Type.String(), url: Type.String() })),
    lastReviewed: Nullable(LAST_REVIEWED_FIELD),
    disclaimer: DISCLAIMER_FIELD,
  },
  { title: 'SourceDocument', description: 'The source as GET /v1/sources/{id} returns it' },
);

export const DeletionSchema = Type.Object(
  {
    entity: Type.Enum([...ENTITY_TYPES], { description: 'What was deleted' }),
    id: Type.String({ examples: ['calciphylaxis.stat.example-recovery'] }),
    conditionId: Type.String({ examples: ['calciphylaxis'] }),
    action: Type.Literal('delete'),
    version: Type.Integer({ description: 'The version the deletion recorded (the last version + 1)' }),
    conditionVersion: Nullable(Type.Integer({ description: 'The condition version after the deletion; null when the condition was deleted' })),
    seq: Type.Integer({ description: 'Position of the deletion in /v1/changes (and its revision)' }),
  },
  { title: 'Deletion', description: 'What a delete recorded; the change feed lists the same event' },
);

export const WRITE_SECURITY = [{ bearerAuth: [] }];
/** PATCH takes JSON, or JSON merge patch (RFC 7396), whose semantics it follows for top-level fields. */
export const PATCH_TYPES = ['application/json', 'application/merge-patch+json'];

/* The HTTP side of a write */

function contextOf(request: FastifyRequest): WriteContext {
  const key = request.apiKey;
  if (!key) throw new Error('write route without an authenticated key'); // the auth plugin runs first
  const header = request.method === 'POST' ? request.headers['idempotency-key'] : undefined;
  return {
    actorKeyId: key.id,
    ifMatch: request.headers['if-match'],
    ifNoneMatch: request.headers['if-none-match'],
    ...(typeof header === 'string' ? { idempotency: { key: header, requestHash: requestHash(request.method, request.url, request.body) } } : {}),
  };
}

/** Runs a write with the request's context and sends its answer (never cached: `no-store`). */
export function write(request: FastifyRequest, reply: FastifyReply, run: (ctx: WriteContext) => Answer): FastifyReply {
  let answer: Answer;
  try {
    answer = run(contextOf(request));
  } catch (error) {
    if (error instanceof DatabaseBusy) reply.header('retry-after', String(error.retryAfter));
    throw error;
  }
  reply.code(answer.status).header('cache-control', 'no-store');
  if (answer.contentType) reply.type(answer.contentType);
  if (answer.etag) reply.header('etag', answer.etag);
  if (answer.location) reply.header('location', answer.location);
  if (answer.contentLocation) reply.header('content-location', answer.contentLocation);
  if (answer.replayed) reply.header('idempotent-replayed', 'true');
  return reply.send(answer.body);
}
