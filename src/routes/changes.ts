/**
 * The change feed (GET /v1/changes) and revision history (GET /v1/{resource}/{id}/revisions).
 *
 * The feed lists every create, update and delete, oldest first, by seq. A cursor is the last seq
 * served, tied to this database's history (a rebuild starts a new one, and an old cursor is then a
 * 410 rather than a silent gap). `page.nextCursor` is null when nothing more exists right now;
 * `page.resumeCursor` is always set: store it and poll with `?since=<resumeCursor>` later to get
 * exactly the events after the ones you have. Both are operational, so responses are `no-store`.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { ENTITY_TYPES, type EntityType } from '../content/schema.js';
import { createFeedCursors } from '../http/feedCursors.js';
import { decodeCursor, paginate, type CursorDecoder } from '../http/pagination.js';
import { links } from '../http/links.js';
import { builtEntityAffects } from '../curation/affects.js';
import { BadRequest, NotFound } from '../http/problems.js';
import type { ChangeRecord, RevisionRecord } from '../repositories/changes.js';
import { ConditionIdParam, FactIdParam, SourceIdParam, StatisticIdParam, TreatmentIdParam } from '../schemas/params.js';
import { DEFAULT_LIMIT, Nullable, PageSchema, ProblemSchema, StringEnum, pageQuery, problemResponses, ref } from '../schemas/common.js';

const EntityField = StringEnum(ENTITY_TYPES, { description: 'condition (its own fields, codes and related links), statement, statistic or source' });
const ActionField = StringEnum(['create', 'update', 'delete'] as const);

const ChangeSchema = Type.Object(
  {
    seq: Type.Integer({ description: 'Position in the feed; increases with every change', examples: [412] }),
    entity: EntityField,
    id: Type.String({ examples: ['calciphylaxis.stat.usage-sodium-thiosulfate'] }),
    conditionId: Type.String({ examples: ['calciphylaxis'] }),
    action: ActionField,
    version: Type.Integer({ description: 'The entity’s version after the change (a delete records the last version + 1)' }),
    conditionVersion: Nullable(Type.Integer({ description: 'The condition’s version after the change; null once the condition is deleted' })),
    at: Type.String({ description: 'When the change was committed (ISO 8601)' }),
    url: Type.String({ description: 'Where the entity is served (404 after a delete)', examples: ['/v1/statistics/calciphylaxis.stat.usage-sodium-thiosulfate'] }),
    revisions: Type.String({ description: 'Its revision history; the revision with this seq holds the content before and after' }),
    affects: Type.Array(Type.String(), {
      description:
        'Every URL whose representation this change altered (the same list on every entry of one write): the entity, its condition ' +
        'document and sections, the lists it appears in (`/v1/facts`, `/v1/statistics?condition=…`, …), what shows it elsewhere (citing ' +
        'items, treatments whose evidence it is, code lookups) and `/v1/meta`. A URL stands for all its representations (Accept or ' +
        '`?format=`); a list URL for all its pages, any `limit`, and any narrower filter of it. Re-fetch each with If-None-Match; ' +
        'a 404 means it is gone. Search and context answers and revision histories are not listed.',
      examples: [
        [
          '/v1/conditions/calciphylaxis',
          '/v1/conditions/calciphylaxis/statistics',
          '/v1/facts/calciphylaxis.stat.usage-sodium-thiosulfate',
          '/v1/meta',
          '/v1/statistics',
          '/v1/statistics/calciphylaxis.stat.usage-sodium-thiosulfate',
          '/v1/statistics?condition=calciphylaxis',
        ],
      ],
    }),
  },
  { title: 'Change' },
);

const ChangeFeedSchema = Type.Object(
  {
    data: Type.Array(ChangeSchema),
    page: Type.Object({
      nextCursor: Nullable(Type.String({ description: 'Pass as ?since= for the next page; null when no more changes exist now' })),
      limit: Type.Integer({ minimum: 1, maximum: 100 }),
      resumeCursor: Type.String({ description: 'Always set: the position after the last change served (or the one given). Store it and poll with ?since= later.' }),
    }),
  },
  { title: 'ChangeFeed' },
);
/** A page of the change feed, for clients and tests that read it. */
export type ChangeFeed = Static<typeof ChangeFeedSchema>;

const RevisionSchema = Type.Object(
  {
    seq: Type.Integer({ description: 'The seq of this revision and of its entry in /v1/changes' }),
    entity: EntityField,
    id: Type.String(),
    conditionId: Type.String(),
    version: Type.Integer(),
    action: ActionField,
    actorKeyId: Nullable(Type.String({ description: 'Public id of the API key that wrote it; null for the build from content files' })),
    at: Type.String({ description: 'When it was committed (ISO 8601)' }),
    before: Type.Unknown({ description: 'The entity before (null for a create), in the shape of its write body' }),
    after: Type.Unknown({ description: 'The entity after (null for a delete), in the shape of its write body' }),
  },
  { title: 'Revision' },
);

const RevisionListSchema = Type.Object({ data: Type.Array(RevisionSchema), page: ref(PageSchema) }, { title: 'RevisionList', description: 'Newest first' });

const urlOf = (c: { entityType: EntityType; entityId: string }) => links.entity(c.entityType, c.entityId);
const revisionsUrlOf = (c: { entityType: EntityType; entityId: string }) => `${urlOf(c)}/revisions`;

/** Revision pages: the cursor wraps the seq to continue before. */
const seqCursor: CursorDecoder<number> = (cursor) => {
  const key = decodeCursor(cursor);
  if (key !== undefined && typeof key !== 'number') throw new BadRequest('The cursor is not valid.', [{ path: '/querystring/cursor', message: 'not a cursor issued by this endpoint' }]);
  return key;
};

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const { changes } = app.repos;

  // Cursors carry the history they belong to (shared with GET /v1/export).
  const { cursorOf, keyOf, seqOf } = createFeedCursors(changes);

  app.get(
    '/changes',
    {
      config: { cache: 'no-store' },
      schema: {
        operationId: 'listChanges',
        tags: ['curation'],
        summary: 'The change feed',
        description:
          'Every create, update and delete of a condition, statement, statistic or source, oldest first. Without `since`, the ' +
          'feed starts with the build (one create per entity), so reading it all reproduces the whole knowledge base. Pages never ' +
          'lose or repeat a change, also while writes happen. `page.nextCursor` is null when no more changes exist now; ' +
          '`page.resumeCursor` is always set: keep it and poll with `?since=` to receive what happens next. A cursor from before a ' +
          'rebuild of the database is a 410: start over. Each change links to its revision history, which holds the content ' +
          'before and after.',
        querystring: Type.Object(
          {
            since: Type.Optional(
              Type.String({
                minLength: 1,
                maxLength: 200,
                // No example: a cursor belongs to one database's history, so any fixed one is a 410.
                description: 'A nextCursor or resumeCursor from an earlier response; omit to start from the beginning',
              }),
            ),
            cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'The same as `since` (the name other lists use)' })),
            limit: pageQuery.limit,
          },
          { additionalProperties: false },
        ),
        response: { 200: ChangeFeedSchema, ...problemResponses, 410: ref(ProblemSchema) },
      },
    },
    async (request, reply) => {
      const { since, cursor, limit = DEFAULT_LIMIT } = request.query;
      if (since !== undefined && cursor !== undefined && since !== cursor) {
        throw new BadRequest('Send the position as `since` or as `cursor`, not two different ones.', [{ path: '/querystring/cursor', message: 'differs from since' }]);
      }
      const given = since ?? cursor;
      const name = since !== undefined ? 'since' : 'cursor';
      const page = paginate(
        request,
        reply,
        { cursor: given, limit, decode: (c) => seqOf(c, name), linkParam: 'since' },
        (after = 0, n) => changes.since(after, n),
        (last) => keyOf(last.seq),
      );
      const last = page.data[page.data.length - 1];
      // Where to poll from next, even when nothing follows now.
      const resumeCursor = page.page.nextCursor ?? (last ? cursorOf(last.seq) : (given ?? cursorOf(0)));
      return { data: page.data.map(presentChange), page: { ...page.page, resumeCursor } };
    },
  );

  const RESOURCES: { path: string; types: EntityType[]; param: ReturnType<typeof Type.String>; what: string; accept?: (id: string) => boolean }[] = [
    { path: 'conditions', types: ['condition'], what: 'condition', param: ConditionIdParam },
    {
      path: 'facts',
      types: ['statement', 'statistic'],
      what: 'fact',
      param: FactIdParam,
    },
    {
      path: 'treatments',
      types: ['statement'],
      what: 'treatment',
      accept: (id) => id.split('.')[1] === 'treatment',
      param: TreatmentIdParam,
    },
    {
      path: 'statistics',
      types: ['statistic'],
      what: 'statistic',
      param: StatisticIdParam,
    },
    { path: 'sources', types: ['source'], what: 'source', param: SourceIdParam() },
  ];

  for (const r of RESOURCES) {
    const name = r.path.charAt(0).toUpperCase() + r.path.slice(1, -1);
    app.get(
      `/${r.path}/:id/revisions`,
      {
        config: { cache: 'no-store' },
        schema: {
          operationId: `list${name}Revisions`,
          tags: ['curation'],
          summary: `Revision history of a ${r.what}`,
          description:
            `Every version of the ${r.what}, newest first: who wrote it (API key id; null for the build), when, and its content ` +
            `before and after in the shape of its write body. History outlives the ${r.what}: a deleted one still has it.` +
            (r.path === 'conditions' ? ' A condition’s own revisions cover its top-level fields, codes and related links; its statements, statistics and sources have their own.' : ''),
          params: Type.Object({ id: r.param }),
          querystring: Type.Object(pageQuery, { additionalProperties: false }),
          response: { 200: RevisionListSchema, ...problemResponses },
        },
      },
      async (request, reply) => {
        const { id } = request.params as { id: string };
        const { limit = DEFAULT_LIMIT, cursor } = request.query as { limit?: number; cursor?: string };
        const page = paginate(
          request,
          reply,
          { cursor, limit, decode: seqCursor },
          (beforeSeq, n) => {
            const rows = r.accept && !r.accept(id) ? [] : changes.revisions(r.types, id, { beforeSeq, limit: n });
            if (rows.length === 0 && beforeSeq === undefined) throw new NotFound(`No ${r.what} with id "${id}" has ever existed.`);
            return rows;
          },
          (last) => last.seq,
        );
        return { data: page.data.map(presentRevision), page: page.page };
      },
    );
  }
};

function presentChange(c: ChangeRecord) {
  return {
    seq: c.seq,
    entity: c.entityType,
    id: c.entityId,
    conditionId: c.conditionId,
    action: c.action,
    version: c.version,
    conditionVersion: c.conditionVersion,
    at: c.at,
    url: urlOf(c),
    revisions: revisionsUrlOf(c),
    affects: c.affects ?? builtEntityAffects(c.entityType, c.entityId, c.conditionId, c.after),
  };
}

function presentRevision(r: RevisionRecord) {
  return {
    seq: r.seq,
    entity: r.entityType,
    id: r.entityId,
    conditionId: r.conditionId,
    version: r.version,
    action: r.action,
    actorKeyId: r.actorKeyId,
    at: r.at,
    before: r.before,
    after: r.after,
  };
}

export default routes;
