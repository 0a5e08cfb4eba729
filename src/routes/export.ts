/**
 * Bulk export (GET /v1/export): every condition document as NDJSON, one line per condition, each
 * line the exact bytes GET /v1/conditions/{id} answers with (the render cache's representation,
 * so the two cannot drift). With `?since=<feed cursor>`, only the documents that changed after it,
 * and a tombstone `{"id":…,"deleted":true}` for each condition deleted after it.
 *
 * - Order: by condition id; a tombstone takes the place of its document.
 * - Validators: a strong ETag over the ETags of the lines (each a hash of a document's bytes) and
 *   the content coding, so it changes exactly when the bytes sent change, and differs between the
 *   gzip and the identity body (RFC 9110 §8.8.3). The shared http-caching plugin answers
 *   If-None-Match with 304, as on every other route.
 * - Headers: `X-Dataset-Version` (as in /v1/meta) and `X-Resume-Cursor`, the feed position the
 *   export is current to: poll GET /v1/changes?since=<it> (or export again with ?since=<it>) for
 *   what happens next. It is read before the documents, so a write that lands meanwhile can only
 *   be delivered twice (once in the export, once by the feed), never lost.
 * - Streaming: lines are produced one at a time as the socket drains (gzip through node:zlib, the
 *   app has no compression plugin), never as one string. If a document changes while its export
 *   is being sent, the response is aborted rather than finished with bytes its ETag does not name.
 * - Rate limit: a budget of its own (RATE_LIMIT_EXPORT_MAX, plugins/security.ts), not the
 *   per-request one: one export stands in for a crawl of about 115 requests per condition.
 */
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { createFeedCursors } from '../http/feedCursors.js';
import { links } from '../http/links.js';
import { JSON_TYPE, NDJSON_TYPE } from '../http/media.js';
import { etagOf } from '../http/renderCache.js';
import { contentEpoch, perEpoch } from '../repositories/epoch.js';
import { ProblemSchema, problemResponses, ref } from '../schemas/common.js';

type Line = { id: string; deleted: true } | { id: string; etag: string };

const NEWLINE = Buffer.from('\n');

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const { changes, conditions, meta } = app.repos;
  const cursors = createFeedCursors(changes);
  // The ETag of each document, by id and version, for the current content epoch (the render
  // cache's key and lifetime; 1,000 conditions are ~80 KB of them). Planning an export needs every
  // document's ETag before the first byte is sent; at 1,000 conditions the documents (~133 MB)
  // outgrow the render cache, so without these each document was rendered twice per export: once
  // for its ETag, again for its bytes. With them, an export renders each document once.
  const etags = perEpoch(contentEpoch(app.db), () => new Map<string, string>());
  function etagOfDocument(id: string): string | undefined {
    const current = conditions.version(id);
    if (!current) return undefined;
    const key = `${id}@${current.version}`;
    const known = etags.get();
    const remembered = known.get(key);
    if (remembered !== undefined) return remembered;
    const etag = app.representations.condition(id, JSON_TYPE, { keep: false })?.etag;
    if (etag !== undefined) known.set(key, etag);
    return etag;
  }

  /** The documents the client lacks: all of them, or those whose bytes may have changed after `afterSeq`. */
  function plan(afterSeq: number | undefined): Line[] {
    const ids = conditions.ids();
    const current = (id: string): Line[] => {
      const etag = etagOfDocument(id);
      return etag === undefined ? [] : [{ id, etag }];
    };
    if (afterSeq === undefined) return ids.flatMap(current);

    // The feed's own account of what changed: a document is sent when an entry after the cursor
    // lists its URL in `affects`, the rule a mirror following the feed applies (README, keeping a
    // local copy in sync), so both ways of catching up fetch the same documents.
    const { urls, builtConditions } = changes.affectsSince(afterSeq);
    const existing = new Set(ids);
    const lines: Line[] = ids.filter((id) => urls.has(links.condition(id)) || builtConditions.has(id)).flatMap(current);
    for (const id of changes.conditionsDeletedSince(afterSeq)) if (!existing.has(id)) lines.push({ id, deleted: true });
    return lines.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** The lines' bytes, one document at a time, as the consumer reads them. */
  function* bytes(lines: Line[]): Generator<Buffer> {
    for (const line of lines) {
      if ('deleted' in line) {
        yield Buffer.from(`${JSON.stringify({ id: line.id, deleted: true })}\n`);
        continue;
      }
      const r = app.representations.condition(line.id, JSON_TYPE, { keep: false });
      if (!r || r.etag !== line.etag) throw new Error(`condition ${line.id} changed during the export; the response is aborted`);
      yield r.body;
      yield NEWLINE;
    }
  }

  app.get(
    '/export',
    {
      config: { produces: [NDJSON_TYPE], rateLimitBudget: 'export' },
      // After the shared conditional-request hook has decided (route hooks run last): only the
      // 200 has a gzip body. A 304 carries no representation metadata (RFC 9110 §15.4.5), and a
      // problem (412, 429…) is plain JSON.
      onSend: (_request, reply, payload, done) => {
        if (reply.statusCode !== 200) reply.removeHeader('content-encoding');
        if (reply.statusCode >= 400) reply.removeHeader('x-dataset-version').removeHeader('x-resume-cursor');
        done(null, payload);
      },
      schema: {
        operationId: 'exportConditions',
        tags: ['conditions'],
        summary: 'Every condition document in one response (NDJSON), or those changed since a feed cursor',
        description:
          'For mirrors: the first copy in one request instead of about 115 per condition. The body is NDJSON ' +
          '(`application/x-ndjson`), one line per condition in id order, each line byte-identical to the JSON body of ' +
          '`GET /v1/conditions/{id}`; gzip when Accept-Encoding allows it. `X-Resume-Cursor` is the change-feed position ' +
          'the export is current to: keep it and poll `GET /v1/changes?since=` for later changes, or call this again with ' +
          '`?since=` to get the documents changed after it. With `since`, a condition deleted after the cursor is the line ' +
          '`{"id":"<id>","deleted":true}`. A cursor that is not one is a 400, one from before a rebuild of the database a 410, ' +
          'as on the feed. Strong ETag (If-None-Match gives 304). Exports have a rate-limit budget of their own ' +
          '(RATE_LIMIT_EXPORT_MAX per window) and do not count against the per-request limit.',
        querystring: Type.Object(
          {
            since: Type.Optional(
              Type.String({
                minLength: 1,
                maxLength: 200,
                // No example: a cursor belongs to one database's history, so any fixed one is a 410.
                description: 'A resumeCursor or nextCursor from the change feed, or X-Resume-Cursor from an earlier export; omit for every document',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: {
            description:
              'NDJSON: one condition document per line (the body of GET /v1/conditions/{id}, schema Condition), or with `since` a ' +
              'tombstone `{"id": string, "deleted": true}` for a deleted condition. Headers X-Dataset-Version and X-Resume-Cursor.',
            headers: {
              'X-Dataset-Version': { type: 'string', description: 'The dataset version, as in GET /v1/meta' },
              'X-Resume-Cursor': { type: 'string', description: 'Change-feed cursor this export is current to: pass it as ?since= to /v1/changes or /v1/export' },
              'Content-Encoding': { type: 'string', enum: ['gzip'], description: 'Present when the body is gzip-compressed (Accept-Encoding: gzip)' },
              Vary: { type: 'string', description: '`Accept-Encoding` (the body is gzip or not by it), and `Origin` with a CORS allow-list' },
            },
            // Documented as text; what the handler sends is a stream of it.
            content: { [NDJSON_TYPE]: { schema: Type.Unsafe<Readable>({ type: 'string', description: 'Lines of JSON, each ending in a line feed' }) } },
          },
          ...problemResponses,
          410: ref(ProblemSchema),
        },
      },
    },
    async (request, reply) => {
      const { since } = request.query;
      const afterSeq = since === undefined ? undefined : cursors.seqOf(since, 'since');
      // Before the documents are read: a write landing meanwhile is then also in the feed after this.
      const resumeSeq = Math.max(changes.lastSeq(), afterSeq ?? 0);
      const lines = plan(afterSeq);
      const gzip = request.headers['accept-encoding'] !== undefined && request.accepts().encoding(['gzip', 'identity']) === 'gzip';
      const tags = lines.map((l) => ('deleted' in l ? `deleted:${l.id}` : l.etag)).join(',');
      const vary = reply.getHeader('vary');
      reply
        .header('etag', etagOf(`${gzip ? 'gzip' : 'identity'}|${since === undefined ? 'all' : 'since'}|${tags}`))
        .header('vary', typeof vary === 'string' && vary.length > 0 ? `${vary}, Accept-Encoding` : 'Accept-Encoding')
        .header('x-dataset-version', meta.get().datasetVersion)
        .header('x-resume-cursor', cursors.cursorOf(resumeSeq))
        .type(`${NDJSON_TYPE}; charset=utf-8`);
      const body = Readable.from(bytes(lines), { objectMode: false });
      if (!gzip) return reply.send(body);
      const compressed = createGzip();
      body.on('error', (err) => compressed.destroy(err));
      reply.header('content-encoding', 'gzip');
      return reply.send(body.pipe(compressed));
    },
  );
};

export default routes;
