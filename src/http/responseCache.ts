/**
 * Whole responses of the ranked reads (/v1/search, /v1/context, /v1/facts?q=) as bytes with their
 * strong ETag and `Link`, remembered per content epoch (src/search/memo.ts) by representation and
 * URL. The rankings and result pages below them are remembered too, but a remembered page still
 * had to be serialized and hashed for every request: that work grows with the response's size
 * (13.5 KB at 1,000 conditions against 9 KB at one, for the same questions), and it was most of a
 * remembered search's CPU (sha256 16%, fast-json-stringify ~15% in `--profile search`). Like the
 * render cache's documents, every entry goes when the epoch moves on (a write here or in another
 * process), so a write is never answered from before it.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Sqlite } from '../db/connection.js';
import { contentEpoch } from '../repositories/epoch.js';
import { createMemo } from '../search/memo.js';
import { etagOf, type Rendered } from './renderCache.js';
import { sendRendered } from './representations.js';

interface CachedResponse extends Rendered {
  link: string | undefined;
}

export interface ResponseBody {
  body: string;
  contentType: string;
}

export function createResponseCache(db: Sqlite, maxEntries: number) {
  const memo = createMemo<CachedResponse>(contentEpoch(db), maxEntries);
  return {
    /**
     * Sends the response remembered for this request's URL and representation, else what `render`
     * gives (which may set headers on `reply`, such as `Link`; only `Link` is kept with the bytes).
     * A `render` that throws (a 400, a 404) is not remembered.
     */
    send(request: FastifyRequest, reply: FastifyReply, render: () => ResponseBody): FastifyReply {
      const response = memo.get(`${request.representation} ${request.url}`, () => {
        const { body, contentType } = render();
        const bytes = Buffer.from(body);
        const link = reply.getHeader('link');
        return { body: bytes, etag: etagOf(bytes), contentType, link: typeof link === 'string' ? link : undefined };
      });
      if (response.link !== undefined) reply.header('link', response.link);
      return sendRendered(reply, response);
    },
  };
}

/** JSON bytes exactly as Fastify would send `body` for this route's 200 (its own response serializer). */
export function jsonResponse(reply: FastifyReply, body: Record<string, unknown>): ResponseBody {
  const json = reply.serializeInput(body, '200', 'application/json');
  if (typeof json !== 'string') throw new Error('the route has no JSON serializer for its 200');
  return { body: json, contentType: 'application/json; charset=utf-8' };
}
