/**
 * Writes of whole conditions and of their codes. A condition's statements, statistics and sources
 * are entities of their own in history and the feed: replacing a condition records one change for
 * each of them that differs. Codes belong to the condition document, so code writes are condition
 * updates, checked against (and answered with) the condition document.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { CODE_SYSTEMS } from '../../content/schema.js';
import { normalizeCode } from '../../repositories/codes.js';
import { StringEnum, ref } from '../../schemas/common.js';
import { ConditionSchema } from '../../schemas/condition.js';
import {
  BODY_PROBLEMS,
  COMMON_PROBLEMS,
  CodeBodySchema,
  ConditionBodySchema,
  ConditionIdParam,
  ConditionPatchSchema,
  DeletionSchema,
  IdempotencyHeaders,
  IfMatchHeaders,
  NoQuery,
  WRITE_SECURITY,
  PATCH_TYPES,
  problems,
  WRITTEN_WITHOUT_BODY,
  write,
} from './schemas.js';
import type { CurationService } from '../../curation/service.js';

const CONDITION_BODY_LIMIT = 512 * 1024;
const SMALL_BODY_LIMIT = 64 * 1024;

const routes: FastifyPluginAsyncTypebox<{ curation: CurationService }> = async (app, { curation }) => {
  const config = { scope: 'content:write' as const };

  app.post(
    '/conditions',
    {
      config,
      bodyLimit: CONDITION_BODY_LIMIT,
      schema: {
        operationId: 'createCondition',
        tags: ['curation'],
        summary: 'Create a condition',
        description:
          'A whole condition in the content-file shape (everything a `db/content/*.yaml` file holds except `version`), validated ' +
          'like `kb validate`: ids unique across the knowledge base and prefixed with the condition id, every citation resolving. ' +
          'Answers 201 with the new document, its ETag and `Location`. Send `Idempotency-Key` to make retries safe.',
        security: WRITE_SECURITY,
        headers: IdempotencyHeaders,
        querystring: NoQuery,
        body: ConditionBodySchema,
        response: { 201: ref(ConditionSchema), ...problems(...COMMON_PROBLEMS, ...BODY_PROBLEMS, 409, 422) },
      },
    },
    async (request, reply) => write(request, reply, (ctx) => curation.createCondition(ctx, request.body)),
  );

  app.put(
    '/conditions/:id',
    {
      config,
      bodyLimit: CONDITION_BODY_LIMIT,
      schema: {
        operationId: 'replaceCondition',
        tags: ['curation'],
        summary: 'Replace a condition',
        description:
          'Replaces the whole condition: statements, statistics and sources missing from the body are deleted, new ones created. ' +
          'The body `id` must be the path id. Needs `If-Match` with the ETag of GET /v1/conditions/{id}.',
        security: WRITE_SECURITY,
        params: Type.Object({ id: ConditionIdParam }),
        headers: IfMatchHeaders,
        querystring: NoQuery,
        body: ConditionBodySchema,
        response: { 200: ref(ConditionSchema), ...WRITTEN_WITHOUT_BODY, ...problems(...COMMON_PROBLEMS, ...BODY_PROBLEMS, 404, 409, 412, 428) },
      },
    },
    async (request, reply) => write(request, reply, (ctx) => curation.replaceCondition(ctx, request.params.id, request.body)),
  );

  app.patch(
    '/conditions/:id',
    {
      config,
      bodyLimit: SMALL_BODY_LIMIT,
      schema: {
        operationId: 'updateCondition',
        tags: ['curation'],
        summary: 'Update top-level fields of a condition',
        description:
          'Replaces the fields sent among `name`, `aliases`, `summary`, `summarySources` and `lastReviewed`; the others keep their ' +
          'values. Sections, codes and sources have their own write routes. Needs `If-Match` with the ETag of GET /v1/conditions/{id}. ' +
          'Accepts `application/json` and `application/merge-patch+json`.',
        security: WRITE_SECURITY,
        params: Type.Object({ id: ConditionIdParam }),
        headers: IfMatchHeaders,
        querystring: NoQuery,
        consumes: PATCH_TYPES,
        body: ConditionPatchSchema,
        response: { 200: ref(ConditionSchema), ...WRITTEN_WITHOUT_BODY, ...problems(...COMMON_PROBLEMS, ...BODY_PROBLEMS, 404, 409, 412, 428) },
      },
    },
    async (request, reply) => write(request, reply, (ctx) => curation.patchCondition(ctx, request.params.id, request.body)),
  );

  app.delete(
    '/conditions/:id',
    {
      config,
      schema: {
        operationId: 'deleteCondition',
        tags: ['curation'],
        summary: 'Delete a condition',
        description:
          'Deletes the condition with its statements, statistics and sources (each recorded in history and the feed). Refused ' +
          'with 409 while other conditions cite its sources or have statistics about its treatments. Needs `If-Match`.',
        security: WRITE_SECURITY,
        params: Type.Object({ id: ConditionIdParam }),
        headers: IfMatchHeaders,
        querystring: NoQuery,
        response: { 200: DeletionSchema, ...problems(...COMMON_PROBLEMS, 400, 404, 409, 412, 428) },
      },
    },
    async (request, reply) => write(request, reply, (ctx) => curation.deleteCondition(ctx, request.params.id)),
  );

  app.post(
    '/conditions/:id/codes',
    {
      config,
      bodyLimit: SMALL_BODY_LIMIT,
      schema: {
        operationId: 'addConditionCode',
        tags: ['curation'],
        summary: 'Map a code to a condition',
        description:
          'Adds a code (ICD-10-CM, Orphanet, SNOMED CT, ...) with how it matches. The code must be well-formed for its system and ' +
          'not yet mapped to this condition (409). Codes are part of the condition document: the answer is that document, with ' +
          'its new ETag; `Location` names the code (for DELETE). Send `Idempotency-Key` to make retries safe.',
        security: WRITE_SECURITY,
        params: Type.Object({ id: ConditionIdParam }),
        headers: IdempotencyHeaders,
        querystring: NoQuery,
        body: CodeBodySchema,
        response: { 201: ref(ConditionSchema), ...problems(...COMMON_PROBLEMS, ...BODY_PROBLEMS, 404, 409, 422) },
      },
    },
    async (request, reply) => write(request, reply, (ctx) => curation.addCode(ctx, request.params.id, request.body)),
  );

  app.delete(
    '/conditions/:id/codes/:system/:code',
    {
      config,
      schema: {
        operationId: 'removeConditionCode',
        tags: ['curation'],
        summary: 'Remove a code from a condition',
        description:
          'Removes one code mapping (matched case-insensitively, Orphanet also as `ORPHA:…`). Needs `If-Match` with the ETag of ' +
          'GET /v1/conditions/{id}; answers with the updated condition document.',
        security: WRITE_SECURITY,
        params: Type.Object({
          id: ConditionIdParam,
          system: StringEnum(CODE_SYSTEMS, { description: 'Code system', examples: ['icd9cm'] }),
          code: Type.String({ minLength: 1, maxLength: 60, description: 'The code', examples: ['275.49'] }),
        }),
        headers: IfMatchHeaders,
        querystring: NoQuery,
        response: { 200: ref(ConditionSchema), ...WRITTEN_WITHOUT_BODY, ...problems(...COMMON_PROBLEMS, 400, 404, 409, 412, 428) },
      },
    },
    async (request, reply) => {
      const { id, system, code: raw } = request.params;
      return write(request, reply, (ctx) => curation.removeCode(ctx, id, system, normalizeCode(system, raw).code, raw));
    },
  );
};

export default routes;
