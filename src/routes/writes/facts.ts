/**
 * Writes of statements: the items of the eight statement sections (symptoms, causes, risk factors,
 * complications, diagnosis, treatments, prognosis, prevention), addressed as facts. Statistics are
 * facts too when read, but are written through /v1/statistics. Treatment-specific fields can also
 * be patched through PATCH /v1/treatments/{id} (treatments.ts).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { sectionKey, sectionName } from '../../content/entities.js';
import type { StatementContent } from '../../content/schema.js';
import { BadRequest, NotFound } from '../../http/problems.js';
import { COMMON_PROBLEMS, BODY_PROBLEMS, DeletionSchema, EntityIdParam, FactBodySchema, FactDocumentSchema, FactPatchSchema, IdempotencyHeaders, IfMatchHeaders, NoQuery, WRITE_SECURITY, PATCH_TYPES, problems, WRITTEN_WITHOUT_BODY } from './schemas.js';
import { assertFactIdFree, copy, editCondition, deletionReceipt, findStatement, presentFields, requireCondition, type WriteService } from './service.js';

const BODY_LIMIT = 64 * 1024;
const FactIdParam = EntityIdParam('Statement', 'calciphylaxis.symptom.livedo-patches');

type FactBody = StatementContent & { conditionId: string; section: string };

function notAStatement(id: string): NotFound {
  return new NotFound(`No statement with id "${id}". Statistics are written through /v1/statistics/{id}.`);
}

const routes: FastifyPluginAsyncTypebox<{ service: WriteService }> = async (app, { service }) => {
  const config = { scope: 'content:write' as const };
  const url = (id: string) => `/v1/facts/${id}`;

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
    async (request, reply) => {
      const { conditionId, section, ...item } = request.body as unknown as FactBody;
      const key = sectionKey(section);
      if (!key) throw new BadRequest(`Unknown section "${section}".`, [{ path: '/body/section', message: 'unknown section' }]);
      return service.execute(request, reply, {
        apply(corpus) {
          const before = requireCondition(corpus, conditionId, '/body/conditionId');
          assertFactIdFree(corpus, item.id);
          const after = copy(before);
          (after[key] as StatementContent[]).push(item);
          return { writes: [{ id: conditionId, before, after }], target: { conditionId, path: `/${key}/${after[key].length - 1}` } };
        },
        respond: () => ({ status: 201, url: url(item.id), location: url(item.id) }),
      });
    },
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
    async (request, reply) => {
      const { id } = request.params;
      const { conditionId, section, ...item } = request.body as unknown as FactBody;
      return service.execute(request, reply, {
        precondition: { url: url(id), entity: 'statement', id },
        apply(corpus) {
          const found = findStatement(corpus, id);
          if (!found) throw notAStatement(id);
          const fixed = [
            ['id', item.id, id],
            ['conditionId', conditionId, found.condition.id],
            ['section', section, sectionName(found.section)],
          ] as const;
          const wrong = fixed.filter(([, given, current]) => given !== current);
          if (wrong.length) {
            throw new BadRequest('A statement keeps its id, condition and section; delete it and create a new one to move it.', wrong.map(([field, , current]) => ({ path: `/body/${field}`, message: `must be "${current}"` })));
          }
          return editCondition(found.condition, (after) => void ((after[found.section] as StatementContent[])[found.index] = item), `/${found.section}/${found.index}`);
        },
        respond: () => ({ status: 200, url: url(id) }),
      });
    },
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
    async (request, reply) => {
      const { id } = request.params;
      const patch = presentFields(request.body as Partial<StatementContent>);
      return service.execute(request, reply, {
        precondition: { url: url(id), entity: 'statement', id },
        apply(corpus) {
          const found = findStatement(corpus, id);
          if (!found) throw notAStatement(id);
          const item = { ...found.item, ...patch } as StatementContent;
          return editCondition(found.condition, (after) => void ((after[found.section] as StatementContent[])[found.index] = item), `/${found.section}/${found.index}`);
        },
        respond: () => ({ status: 200, url: url(id) }),
      });
    },
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
    async (request, reply) => {
      const { id } = request.params;
      return service.execute(request, reply, {
        precondition: { url: url(id), entity: 'statement', id },
        apply(corpus) {
          const found = findStatement(corpus, id);
          if (!found) throw notAStatement(id);
          return editCondition(found.condition, (after) => void (after[found.section] as StatementContent[]).splice(found.index, 1));
        },
        respond: (result) => deletionReceipt(result, 'statement', id),
      });
    },
  );
};

export default routes;
