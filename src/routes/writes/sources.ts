/**
 * Writes of sources (cited works). A source is listed in one condition's content file
 * (`definedIn`) and may be cited from any condition; moving it changes both files. A source that
 * anything still cites cannot be deleted (409, listing what cites it).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  BODY_PROBLEMS,
  COMMON_PROBLEMS,
  DeletionSchema,
  IdempotencyHeaders,
  IfMatchHeaders,
  NoQuery,
  SourceBodySchema,
  SourceDocumentSchema,
  SourceIdParam,
  SourcePatchSchema,
  WRITE_SECURITY,
  PATCH_TYPES,
  problems,
  WRITTEN_WITHOUT_BODY,
  write,
} from './schemas.js';
import type { CurationService } from '../../curation/service.js';

const BODY_LIMIT = 64 * 1024;

const routes: FastifyPluginAsyncTypebox<{ curation: CurationService }> = async (app, { curation }) => {
  const config = { scope: 'content:write' as const };

  app.post(
    '/sources',
    {
      config,
      bodyLimit: BODY_LIMIT,
      schema: {
        operationId: 'createSource',
        tags: ['curation'],
        summary: 'Create a source',
        description:
          'Adds a cited work to the content file of `definedIn`. Ids are unique (409). Leave identifiers you have not verified ' +
          'null. Answers 201 with the source, its ETag and `Location`. Send `Idempotency-Key` to make retries safe.',
        security: WRITE_SECURITY,
        headers: IdempotencyHeaders,
        querystring: NoQuery,
        body: SourceBodySchema,
        response: { 201: SourceDocumentSchema, ...problems(...COMMON_PROBLEMS, ...BODY_PROBLEMS, 409, 422) },
      },
    },
    async (request, reply) => write(request, reply, (ctx) => curation.createSource(ctx, request.body)),
  );

  app.put(
    '/sources/:id',
    {
      config,
      bodyLimit: BODY_LIMIT,
      schema: {
        operationId: 'replaceSource',
        tags: ['curation'],
        summary: 'Replace a source',
        description:
          'Replaces every field of a source; the body `id` must be the path id. A different `definedIn` moves the source to that ' +
          'condition’s file. Needs `If-Match` with the ETag of GET /v1/sources/{id}.',
        security: WRITE_SECURITY,
        params: Type.Object({ id: SourceIdParam() }),
        headers: IfMatchHeaders,
        querystring: NoQuery,
        body: SourceBodySchema,
        response: { 200: SourceDocumentSchema, ...WRITTEN_WITHOUT_BODY, ...problems(...COMMON_PROBLEMS, ...BODY_PROBLEMS, 404, 409, 412, 428) },
      },
    },
    async (request, reply) => write(request, reply, (ctx) => curation.replaceSource(ctx, request.params.id, request.body)),
  );

  app.patch(
    '/sources/:id',
    {
      config,
      bodyLimit: BODY_LIMIT,
      schema: {
        operationId: 'updateSource',
        tags: ['curation'],
        summary: 'Update fields of a source',
        description:
          'Replaces the fields sent; the others keep their values (`definedIn` moves the source). Needs `If-Match` with the ETag ' +
          'of GET /v1/sources/{id}. Accepts `application/json` and `application/merge-patch+json`.',
        security: WRITE_SECURITY,
        params: Type.Object({ id: SourceIdParam() }),
        headers: IfMatchHeaders,
        querystring: NoQuery,
        consumes: PATCH_TYPES,
        body: SourcePatchSchema,
        response: { 200: SourceDocumentSchema, ...WRITTEN_WITHOUT_BODY, ...problems(...COMMON_PROBLEMS, ...BODY_PROBLEMS, 404, 409, 412, 428) },
      },
    },
    async (request, reply) => write(request, reply, (ctx) => curation.patchSource(ctx, request.params.id, request.body)),
  );

  app.delete(
    '/sources/:id',
    {
      config,
      schema: {
        operationId: 'deleteSource',
        tags: ['curation'],
        summary: 'Delete a source',
        description:
          'Deletes a source that nothing cites. While a statement, statistic, summary or related link cites it, the answer is 409 ' +
          'listing where. Needs `If-Match` with the ETag of GET /v1/sources/{id}.',
        security: WRITE_SECURITY,
        params: Type.Object({ id: SourceIdParam() }),
        headers: IfMatchHeaders,
        querystring: NoQuery,
        response: { 200: DeletionSchema, ...problems(...COMMON_PROBLEMS, 400, 404, 409, 412, 428) },
      },
    },
    async (request, reply) => write(request, reply, (ctx) => curation.deleteSource(ctx, request.params.id)),
  );
};

export default routes;
