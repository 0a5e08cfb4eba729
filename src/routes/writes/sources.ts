/**
 * Writes of sources (cited works). A source is listed in one condition's content file
 * (`definedIn`) and may be cited from any condition; moving it changes both files. A source that
 * anything still cites cannot be deleted (409, listing what cites it).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { ConditionContent, SourceContent } from '../../content/schema.js';
import { BadRequest, HttpProblem, NotFound } from '../../http/problems.js';
import type { ConditionWrite } from '../../repositories/writes.js';
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
} from './schemas.js';
import { copy, editCondition, deletionReceipt, findSource, presentFields, requireCondition, type Located, type Plan, type WriteService } from './service.js';

const BODY_LIMIT = 64 * 1024;

type SourceBody = SourceContent & { definedIn: string };

/** The writes that put `source` into `definedIn`: in place when it stays, else out of one file and into the other. */
function placeSource(corpus: Map<string, ConditionContent>, found: Located<SourceContent>, definedIn: string, source: SourceContent): Plan {
  if (definedIn === found.condition.id) {
    return editCondition(found.condition, (after) => void (after.sources[found.index] = source), `/sources/${found.index}`);
  }
  const target = requireCondition(corpus, definedIn, '/body/definedIn');
  const from = copy(found.condition);
  from.sources.splice(found.index, 1);
  const to = copy(target);
  to.sources.push(source);
  const writes: ConditionWrite[] = [
    { id: found.condition.id, before: found.condition, after: from },
    { id: definedIn, before: target, after: to },
  ];
  return { writes, target: { conditionId: definedIn, path: `/sources/${to.sources.length - 1}` } };
}

const routes: FastifyPluginAsyncTypebox<{ service: WriteService }> = async (app, { service }) => {
  const config = { scope: 'content:write' as const };
  const url = (id: string) => `/v1/sources/${id}`;
  const notFound = (id: string) => new NotFound(`No source with id "${id}".`);

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
    async (request, reply) => {
      const { definedIn, ...source } = request.body as unknown as SourceBody;
      return service.execute(request, reply, {
        apply(corpus) {
          const before = requireCondition(corpus, definedIn, '/body/definedIn');
          if (findSource(corpus, source.id)) {
            throw new HttpProblem(409, '/problems/conflict', 'Conflict', `The source id "${source.id}" is already in use.`, [{ path: '/body/id', message: 'already in use' }]);
          }
          const after = copy(before);
          after.sources.push(source);
          return { writes: [{ id: definedIn, before, after }], target: { conditionId: definedIn, path: `/sources/${after.sources.length - 1}` } };
        },
        respond: () => ({ status: 201, url: url(source.id), location: url(source.id) }),
      });
    },
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
        params: Type.Object({ id: SourceIdParam }),
        headers: IfMatchHeaders,
        querystring: NoQuery,
        body: SourceBodySchema,
        response: { 200: SourceDocumentSchema, ...WRITTEN_WITHOUT_BODY, ...problems(...COMMON_PROBLEMS, ...BODY_PROBLEMS, 404, 409, 412, 428) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const { definedIn, ...source } = request.body as unknown as SourceBody;
      return service.execute(request, reply, {
        precondition: { url: url(id), entity: 'source', id },
        apply(corpus) {
          const found = findSource(corpus, id);
          if (!found) throw notFound(id);
          if (source.id !== id) throw new BadRequest('The body id must be the id in the path; ids never change.', [{ path: '/body/id', message: `must be "${id}"` }]);
          return placeSource(corpus, found, definedIn, source);
        },
        respond: () => ({ status: 200, url: url(id) }),
      });
    },
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
        params: Type.Object({ id: SourceIdParam }),
        headers: IfMatchHeaders,
        querystring: NoQuery,
        consumes: PATCH_TYPES,
        body: SourcePatchSchema,
        response: { 200: SourceDocumentSchema, ...WRITTEN_WITHOUT_BODY, ...problems(...COMMON_PROBLEMS, ...BODY_PROBLEMS, 404, 409, 412, 428) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const { definedIn, ...patch } = presentFields(request.body as Partial<SourceBody>);
      return service.execute(request, reply, {
        precondition: { url: url(id), entity: 'source', id },
        apply(corpus) {
          const found = findSource(corpus, id);
          if (!found) throw notFound(id);
          return placeSource(corpus, found, definedIn ?? found.condition.id, { ...found.item, ...patch });
        },
        respond: () => ({ status: 200, url: url(id) }),
      });
    },
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
        params: Type.Object({ id: SourceIdParam }),
        headers: IfMatchHeaders,
        querystring: NoQuery,
        response: { 200: DeletionSchema, ...problems(...COMMON_PROBLEMS, 400, 404, 409, 412, 428) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      return service.execute(request, reply, {
        precondition: { url: url(id), entity: 'source', id },
        apply(corpus) {
          const found = findSource(corpus, id);
          if (!found) throw notFound(id);
          return editCondition(found.condition, (after) => void after.sources.splice(found.index, 1));
        },
        respond: (result) => deletionReceipt(result, 'source', id),
      });
    },
  );
};

export default routes;
