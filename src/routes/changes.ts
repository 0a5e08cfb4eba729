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
import { Type } from 'typebox';
import { ENTITY_ID_PATTERN, SLUG_PATTERN, SOURCE_ID_PATTERN } from '../content/schema.js';
import { ENTITY_TYPES, type EntityType } from '../content/entities.js';
import { decodeCursor, encodeCursor, setNextLink } from '../http/pagination.js';
import { BadRequest, HttpProblem, NotFound } from '../http/problems.js';
import { contentHash } from '../http/renderCache.js';
import { createChangesRepository, type ChangeRecord, type RevisionRecord } from '../repositories/changes.js';
import { entityUrl } from '../repositories/facts.js';
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

function urlOf(c: { entityType: EntityType; entityId: string }): string {
  switch (c.entityType) {
    case 'condition':
      return entityUrl('condition', c.entityId);
    case 'statistic':
      return entityUrl('statistic', c.entityId);
    case 'source':
      return `/v1/sources/${encodeURIComponent(c.entityId)}`;
    case 'statement':
      return entityUrl(c.entityId.split('.')[1] === 'treatment' ? 'treatment' : 'statement', c.entityId);
  }
}

function revisionsUrlOf(c: { entityType: EntityType; entityId: string }): string {
  return `${urlOf(c)}/revisions`;
}

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const changes = createChangesRepository(app.db);

  /** Cursors carry the history they belong to; `k` is `<epoch>.<seq>`. */
  const epoch = () => contentHash(changes.epoch()).slice(0, 8);
  const cursorOf = (seq: number) => encodeCursor(`${epoch()}.${seq}`);
  function seqOf(cursor: string | undefined, name: string): number {
    if (cursor === undefined) return 0;
    const key = decodeCursor(cursor);
    const match = typeof key === 'string' ? /^([A-Za-z0-9_-]+)\.(\d+)$/.exec(key) : null;
    if (!match) throw new BadRequest('The cursor is not valid. Use a cursor from a previous response unchanged.', [{ path: `/querystring/${name}`, message: 'not a cursor issued by this endpoint' }]);
    if (match[1] !== epoch()) {
      throw new HttpProblem(410, '/problems/feed-reset', 'Gone', 'The database was rebuilt since this cursor was issued, so its history started over: read the feed again from the start.');
    }
    return Number(match[2]);
  }

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
                description: 'A nextCursor or resumeCursor from an earlier response; omit to start from the beginning',
                examples: ['eyJrIjoiMWEyYjNjNGQuMTAwIn0'],
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
      const after = seqOf(given, since !== undefined ? 'since' : 'cursor');
      const rows = changes.since(after, limit + 1);
      const data = rows.slice(0, limit);
      const last = data[data.length - 1];
      const resumeCursor = last ? cursorOf(last.seq) : (given ?? cursorOf(0));
      const nextCursor = rows.length > limit ? resumeCursor : null;
      if (nextCursor) {
        const url = new URL(request.url, 'http://placeholder');
        url.searchParams.delete('cursor');
        url.searchParams.set('since', nextCursor);
        reply.header('link', `<${url.pathname}${url.search}>; rel="next"`);
      }
      return { data: data.map(presentChange), page: { nextCursor, limit, resumeCursor } };
    },
  );

  const RESOURCES: { path: string; types: EntityType[]; param: ReturnType<typeof Type.String>; what: string; accept?: (id: string) => boolean }[] = [
    { path: 'conditions', types: ['condition'], what: 'condition', param: Type.String({ pattern: SLUG_PATTERN, maxLength: 80, description: 'Condition id', examples: ['calciphylaxis'] }) },
    {
      path: 'facts',
      types: ['statement', 'statistic'],
      what: 'fact',
      param: Type.String({ pattern: ENTITY_ID_PATTERN, maxLength: 120, description: 'Fact id', examples: ['calciphylaxis.symptom.livedo-patches'] }),
    },
    {
      path: 'treatments',
      types: ['statement'],
      what: 'treatment',
      accept: (id) => id.split('.')[1] === 'treatment',
      param: Type.String({ pattern: ENTITY_ID_PATTERN, maxLength: 120, description: 'Treatment id', examples: ['calciphylaxis.treatment.sodium-thiosulfate'] }),
    },
    {
      path: 'statistics',
      types: ['statistic'],
      what: 'statistic',
      param: Type.String({ pattern: ENTITY_ID_PATTERN, maxLength: 120, description: 'Statistic id', examples: ['calciphylaxis.stat.usage-sodium-thiosulfate'] }),
    },
    { path: 'sources', types: ['source'], what: 'source', param: Type.String({ pattern: SOURCE_ID_PATTERN, maxLength: 80, description: 'Source id', examples: ['nigwekar-2018'] }) },
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
        const key = decodeCursor(cursor);
        if (key !== undefined && typeof key !== 'number') throw new BadRequest('The cursor is not valid.', [{ path: '/querystring/cursor', message: 'not a cursor issued by this endpoint' }]);
        const rows = r.accept && !r.accept(id) ? [] : changes.revisions(r.types, id, { beforeSeq: key, limit: limit + 1 });
        if (rows.length === 0 && key === undefined) throw new NotFound(`No ${r.what} with id "${id}" has ever existed.`);
        const data = rows.slice(0, limit);
        const last = data[data.length - 1];
        const nextCursor = rows.length > limit && last ? encodeCursor(last.seq) : null;
        setNextLink(request, reply, nextCursor);
        return { data: data.map(presentRevision), page: { nextCursor, limit } };
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
