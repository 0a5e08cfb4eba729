/**
 * Treatment fields through the treatment resource. Treatments are statements (created, replaced
 * and deleted through /v1/facts); this route lets a client that read GET /v1/treatments/{id}
 * patch it with that representation's ETag.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { BODY_PROBLEMS, COMMON_PROBLEMS, EntityIdParam, IfMatchHeaders, NoQuery, TreatmentDocumentSchema, TreatmentPatchSchema, WRITE_SECURITY, PATCH_TYPES, problems, WRITTEN_WITHOUT_BODY, write } from './schemas.js';
import type { CurationService } from '../../curation/service.js';

const routes: FastifyPluginAsyncTypebox<{ curation: CurationService }> = async (app, { curation }) => {
  app.patch(
    '/treatments/:id',
    {
      config: { scope: 'content:write' },
      bodyLimit: 64 * 1024,
      schema: {
        operationId: 'updateTreatment',
        tags: ['curation'],
        summary: 'Update fields of a treatment',
        description:
          'Replaces the treatment fields sent (content-file shape: `regulatoryStatus`, `regulatoryNote`, `route`, `goal`, `codes`, ' +
          '...). Needs `If-Match` with the ETag of GET /v1/treatments/{id}; answers with that representation. Accepts ' +
          '`application/json` and `application/merge-patch+json`.',
        security: WRITE_SECURITY,
        params: Type.Object({ id: EntityIdParam('Treatment', 'calciphylaxis.treatment.sodium-thiosulfate') }),
        headers: IfMatchHeaders,
        querystring: NoQuery,
        consumes: PATCH_TYPES,
        body: TreatmentPatchSchema,
        response: { 200: TreatmentDocumentSchema, ...WRITTEN_WITHOUT_BODY, ...problems(...COMMON_PROBLEMS, ...BODY_PROBLEMS, 404, 409, 412, 428) },
      },
    },
    async (request, reply) => write(request, reply, (ctx) => curation.patchTreatment(ctx, request.params.id, request.body)),
  );
};

export default routes;
