/**
 * Writes of statements: the items of the eight statement sections (symptoms, causes, risk factors,
 * complications, diagnosis, treatments, prognosis, prevention), addressed as facts. Statistics are
 * facts too when read, but are written through /v1/statistics. Treatment-specific fields can also
 * be patched through PATCH /v1/treatments/{id} (treatments.ts).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { COMMON_PROBLEMS, BODY_PROBLEMS, DeletionSchema, EntityIdParam, FactBodySchema, FactDocumentSchema, FactPatchSchema, IdempotencyHeaders, IfMatchHeaders, NoQuery, WRITE_SECURITY, PATCH_TYPES, problems, WRITTEN_WITHOUT_BODY, write } from './schemas.js';
import type { CurationService } from '../../curation/service.js';

const BODY_LIMIT = 64 * 1024;
const FactIdParam = EntityIdParam('Statement', 'calciphylaxis.symptom.livedo-patches');

const routes: FastifyPluginAsyncTypebox<{ curation: CurationService }> = async (app, { curation }) => {
  const config = { scope: 'content:write' as const };

  app.post(
    '/facts',
    {
      config,
      bodyLimit: BODY_LIMIT,
      schema: {
        operationId: 'createFact',
        tags: ['curation'],
        summary: 'Create a statement',
        description:
          'Adds a statement to the end of a section of a condition. `section` decides the fields (a symptom has `frequency`, a ' +
          'treatment `regulatoryStatus`, ...); the id must be `<condition>.<kind>.<slug>` with the kind of the section ' +
          '(symptom, cause, risk, complication, diagnosis, treatment, prognosis, prevention) and unused anywhere (409); every ' +
          'source must exist. Answers 201 with the fact, its ETag and `Location`. Send `Idempotency-Key` to make retries safe.',
        security: WRITE_SECURITY,
        headers: IdempotencyHeaders,
        querystring: NoQuery,
        body: FactBodySchema,
        response: { 201: FactDocumentSchema, ...problems(...COMMON_PROBLEMS, ...BODY_PROBLEMS, 409, 422) },
      },
    },
    async (request, reply) => write(request, reply, (ctx) => curation.createStatement(ctx, request.body)),
  );

  app.put(
    '/facts/:id',
    {
      config,
      bodyLimit: BODY_LIMIT,
      schema: {
        operationId: 'replaceFact',
        tags: ['curation'],
        summary: 'Replace a statement',
        description:
          'Replaces every field of a statement. `id`, `conditionId` and `section` must stay as they are (ids are stable forever; ' +
          'to move a statement, delete it and create a new one). Needs `If-Match` with the ETag of GET /v1/facts/{id}.',
        security: WRITE_SECURITY,
        params: Type.Object({ id: FactIdParam }),
        headers: IfMatchHeaders,
        querystring: NoQuery,
        body: FactBodySchema,
        response: { 200: FactDocumentSchema, ...WRITTEN_WITHOUT_BODY, ...problems(...COMMON_PROBLEMS, ...BODY_PROBLEMS, 404, 409, 412, 428) },
      },
    },
    async (request, reply) => write(request, reply, (ctx) => curation.replaceStatement(ctx, request.params.id, request.body)),
  );

  app.patch(
    '/facts/:id',
    {
      config,
      bodyLimit: BODY_LIMIT,
      schema: {
        operationId: 'updateFact',
        tags: ['curation'],
        summary: 'Update fields of a statement',
        description:
          'Replaces the fields sent; the others keep their values. Only fields of the statement’s section are accepted (e.g. ' +
          '`frequency` for a symptom; a field of another section is a 400). Needs `If-Match` with the ETag of GET /v1/facts/{id}. ' +
          'Accepts `application/json` and `application/merge-patch+json`.',
        security: WRITE_SECURITY,
        params: Type.Object({ id: FactIdParam }),
        headers: IfMatchHeaders,
        querystring: NoQuery,
        consumes: PATCH_TYPES,
        body: FactPatchSchema,
        response: { 200: FactDocumentSchema, ...WRITTEN_WITHOUT_BODY, ...problems(...COMMON_PROBLEMS, ...BODY_PROBLEMS, 404, 409, 412, 428) },
      },
    },
    async (request, reply) => write(request, reply, (ctx) => curation.patchStatement(ctx, request.params.id, request.body)),
  );

  app.delete(
    '/facts/:id',
    {
      config,
      schema: {
        operationId: 'deleteFact',
        tags: ['curation'],
        summary: 'Delete a statement',
        description:
          'Deletes a statement. A treatment that statistics are about cannot be deleted while they refer to it (409). Needs ' +
          '`If-Match` with the ETag of GET /v1/facts/{id}. The id stays reserved in history: re-creating it continues its versions.',
        security: WRITE_SECURITY,
        params: Type.Object({ id: FactIdParam }),
        headers: IfMatchHeaders,
        querystring: NoQuery,
        response: { 200: DeletionSchema, ...problems(...COMMON_PROBLEMS, 400, 404, 409, 412, 428) },
      },
    },
    async (request, reply) => write(request, reply, (ctx) => curation.deleteStatement(ctx, request.params.id)),
  );
};

export default routes;
