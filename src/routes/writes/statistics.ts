/**
 * Writes of statistics: typed, cited figures. Besides the content schema, the checks of
 * `kb validate` apply: a value or both low and high, low ≤ value ≤ high, percentages within
 * 0–100, a count not above the sample size, an existing treatment and existing sources.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  BODY_PROBLEMS,
  COMMON_PROBLEMS,
  DeletionSchema,
  EntityIdParam,
  IdempotencyHeaders,
  IfMatchHeaders,
  NoQuery,
  StatisticBodySchema,
  StatisticDocumentSchema,
  StatisticPatchSchema,
  WRITE_SECURITY,
  PATCH_TYPES,
  problems,
  WRITTEN_WITHOUT_BODY,
  write,
} from './schemas.js';
import type { CurationService } from '../../curation/service.js';

const BODY_LIMIT = 64 * 1024;
const StatisticIdParam = EntityIdParam('Statistic', 'calciphylaxis.stat.usage-sodium-thiosulfate');

const routes: FastifyPluginAsyncTypebox<{ curation: CurationService }> = async (app, { curation }) => {
  const config = { scope: 'content:write' as const };

  app.post(
    '/statistics',
    {
      config,
      bodyLimit: BODY_LIMIT,
      schema: {
        operationId: 'createStatistic',
        tags: ['curation'],
        summary: 'Create a statistic',
        description:
          'Adds a statistic to the end of a condition’s statistics. The id must be `<condition>.stat.<slug>` and unused (409); ' +
          'it must cite existing sources, and a `treatment` must be an existing treatment id. Numbers must be JSON numbers. ' +
          'Answers 201 with the statistic, its ETag and `Location`. Send `Idempotency-Key` to make retries safe.',
        security: WRITE_SECURITY,
        headers: IdempotencyHeaders,
        querystring: NoQuery,
        body: StatisticBodySchema,
        response: { 201: StatisticDocumentSchema, ...problems(...COMMON_PROBLEMS, ...BODY_PROBLEMS, 409, 422) },
      },
    },
    async (request, reply) => write(request, reply, (ctx) => curation.createStatistic(ctx, request.body)),
  );

  app.put(
    '/statistics/:id',
    {
      config,
      bodyLimit: BODY_LIMIT,
      schema: {
        operationId: 'replaceStatistic',
        tags: ['curation'],
        summary: 'Replace a statistic',
        description:
          'Replaces every field of a statistic; `id` and `conditionId` must stay as they are. Needs `If-Match` with the ETag of ' +
          'GET /v1/statistics/{id}.',
        security: WRITE_SECURITY,
        params: Type.Object({ id: StatisticIdParam }),
        headers: IfMatchHeaders,
        querystring: NoQuery,
        body: StatisticBodySchema,
        response: { 200: StatisticDocumentSchema, ...WRITTEN_WITHOUT_BODY, ...problems(...COMMON_PROBLEMS, ...BODY_PROBLEMS, 404, 409, 412, 428) },
      },
    },
    async (request, reply) => write(request, reply, (ctx) => curation.replaceStatistic(ctx, request.params.id, request.body)),
  );

  app.patch(
    '/statistics/:id',
    {
      config,
      bodyLimit: BODY_LIMIT,
      schema: {
        operationId: 'updateStatistic',
        tags: ['curation'],
        summary: 'Update fields of a statistic',
        description:
          'Replaces the fields sent; the others keep their values, and the result must still pass every check (e.g. sending ' +
          '`low` above the stored `high` is a 400). Needs `If-Match` with the ETag of GET /v1/statistics/{id}. Accepts ' +
          '`application/json` and `application/merge-patch+json`.',
        security: WRITE_SECURITY,
        params: Type.Object({ id: StatisticIdParam }),
        headers: IfMatchHeaders,
        querystring: NoQuery,
        consumes: PATCH_TYPES,
        body: StatisticPatchSchema,
        response: { 200: StatisticDocumentSchema, ...WRITTEN_WITHOUT_BODY, ...problems(...COMMON_PROBLEMS, ...BODY_PROBLEMS, 404, 409, 412, 428) },
      },
    },
    async (request, reply) => write(request, reply, (ctx) => curation.patchStatistic(ctx, request.params.id, request.body)),
  );

  app.delete(
    '/statistics/:id',
    {
      config,
      schema: {
        operationId: 'deleteStatistic',
        tags: ['curation'],
        summary: 'Delete a statistic',
        description: 'Deletes a statistic. Needs `If-Match` with the ETag of GET /v1/statistics/{id}.',
        security: WRITE_SECURITY,
        params: Type.Object({ id: StatisticIdParam }),
        headers: IfMatchHeaders,
        querystring: NoQuery,
        response: { 200: DeletionSchema, ...problems(...COMMON_PROBLEMS, 400, 404, 409, 412, 428) },
      },
    },
    async (request, reply) => write(request, reply, (ctx) => curation.deleteStatistic(ctx, request.params.id)),
  );
};

export default routes;
