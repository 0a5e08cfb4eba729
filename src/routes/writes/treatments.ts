/**
 * Treatment fields through the treatment resource. Treatments are statements (created, replaced
 * and deleted through /v1/facts); this route lets a client that read GET /v1/treatments/{id}
 * patch it with that representation's ETag.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { ConditionContent, StatementContent } from '../../content/schema.js';
import { NotFound } from '../../http/problems.js';
import { BODY_PROBLEMS, COMMON_PROBLEMS, EntityIdParam, IfMatchHeaders, NoQuery, TreatmentDocumentSchema, TreatmentPatchSchema, WRITE_SECURITY, PATCH_TYPES, problems, WRITTEN_WITHOUT_BODY } from './schemas.js';
import { editCondition, findStatement, presentFields, type WriteService } from './service.js';

type TreatmentContent = ConditionContent['treatments'][number];

const routes: FastifyPluginAsyncTypebox<{ service: WriteService }> = async (app, { service }) => {
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
    async (request, reply) => {
      const { id } = request.params;
      const patch = presentFields(request.body as Partial<StatementContent>);
      const url = `/v1/treatments/${id}`;
      return service.execute(request, reply, {
        precondition: { url, entity: 'statement', id },
        apply(corpus) {
          const found = findStatement(corpus, id);
          if (!found || found.section !== 'treatments') throw new NotFound(`No treatment with id "${id}".`);
          const treatment = { ...found.item, ...patch } as TreatmentContent;
          return editCondition(found.condition, (after) => void (after.treatments[found.index] = treatment), `/treatments/${found.index}`);
        },
        respond: () => ({ status: 200, url }),
      });
    },
  );
};

export default routes;
