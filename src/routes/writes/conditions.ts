/**
 * Writes of whole conditions and of their codes. A condition's statements, statistics and sources
 * are entities of their own in history and the feed: replacing a condition records one change for
 * each of them that differs. Codes belong to the condition document, so code writes are condition
 * updates, checked against (and answered with) the condition document.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { CODE_SYSTEMS, type ConditionContent } from '../../content/schema.js';
import { BadRequest, HttpProblem, NotFound } from '../../http/problems.js';
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
} from './schemas.js';
import { copy, deletionReceipt, presentFields, type WriteService } from './service.js';

const CONDITION_BODY_LIMIT = 512 * 1024;
const SMALL_BODY_LIMIT = 64 * 1024;

const routes: FastifyPluginAsyncTypebox<{ service: WriteService }> = async (app, { service }) => {
  const config = { scope: 'content:write' as const };
  const url = (id: string) => `/v1/conditions/${id}`;

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
    async (request, reply) => {
      const body = request.body as unknown as Omit<ConditionContent, 'version'>;
      return service.execute(request, reply, {
        apply(corpus) {
          if (corpus.has(body.id)) {
            throw new HttpProblem(409, '/problems/conflict', 'Conflict', `The condition "${body.id}" already exists.`, [{ path: '/body/id', message: 'already exists' }]);
          }
          return { writes: [{ id: body.id, before: undefined, after: { ...body, version: 1 } }], target: { conditionId: body.id, path: '' } };
        },
        respond: () => ({ status: 201, url: url(body.id), location: url(body.id) }),
      });
    },
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
    async (request, reply) => {
      const { id } = request.params;
      const body = request.body as unknown as Omit<ConditionContent, 'version'>;
      return service.execute(request, reply, {
        precondition: { url: url(id), entity: 'condition', id },
        apply(corpus) {
          const before = corpus.get(id);
          if (!before) throw new NotFound(`No condition with id "${id}".`);
          if (body.id !== id) throw new BadRequest('The body id must be the id in the path; ids never change.', [{ path: '/body/id', message: `must be "${id}"` }]);
          return { writes: [{ id, before, after: { ...body, version: before.version } }], target: { conditionId: id, path: '' } };
        },
        respond: () => ({ status: 200, url: url(id) }),
      });
    },
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
    async (request, reply) => {
      const { id } = request.params;
      const patch = presentFields(request.body as Partial<ConditionContent>);
      return service.execute(request, reply, {
        precondition: { url: url(id), entity: 'condition', id },
        apply(corpus) {
          const before = corpus.get(id);
          if (!before) throw new NotFound(`No condition with id "${id}".`);
          return { writes: [{ id, before, after: { ...copy(before), ...patch } }], target: { conditionId: id, path: '' } };
        },
        respond: () => ({ status: 200, url: url(id) }),
      });
    },
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
    async (request, reply) => {
      const { id } = request.params;
      return service.execute(request, reply, {
        precondition: { url: url(id), entity: 'condition', id },
        apply(corpus) {
          const before = corpus.get(id);
          if (!before) throw new NotFound(`No condition with id "${id}".`);
          return { writes: [{ id, before, after: undefined }] };
        },
        respond: (result) => deletionReceipt(result, 'condition', id),
      });
    },
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
    async (request, reply) => {
      const { id } = request.params;
      const code = request.body as unknown as ConditionContent['codes'][number];
      return service.execute(request, reply, {
        apply(corpus) {
          const before = corpus.get(id);
          if (!before) throw new NotFound(`No condition with id "${id}".`);
          if (before.codes.some((c) => c.system === code.system && c.code.toUpperCase() === code.code.toUpperCase())) {
            throw new HttpProblem(409, '/problems/conflict', 'Conflict', `${code.system} code ${code.code} is already mapped to "${id}".`, [{ path: '/body/code', message: 'already mapped' }]);
          }
          const after = copy(before);
          after.codes.push(code);
          return { writes: [{ id, before, after }], target: { conditionId: id, path: `/codes/${after.codes.length - 1}` } };
        },
        respond: () => ({ status: 201, url: url(id), location: `${url(id)}/codes/${code.system}/${encodeURIComponent(code.code)}` }),
      });
    },
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
      const { code } = normalizeCode(system, raw);
      return service.execute(request, reply, {
        precondition: { url: url(id), entity: 'condition', id },
        apply(corpus) {
          const before = corpus.get(id);
          if (!before) throw new NotFound(`No condition with id "${id}".`);
          const after = copy(before);
          after.codes = before.codes.filter((c) => !(c.system === system && c.code.toUpperCase() === code));
          if (after.codes.length === before.codes.length) throw new NotFound(`No ${system} code "${raw}" is mapped to "${id}".`);
          return { writes: [{ id, before, after }] };
        },
        respond: () => ({ status: 200, url: url(id) }),
      });
    },
  );
};

export default routes;
