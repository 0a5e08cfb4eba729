/**
 * Opaque cursors. A cursor wraps the sort key of the last item served (keyset pagination), so a
 * page never repeats or skips items even when earlier pages change. Clients must treat it as
 * opaque: the encoding may change.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BadRequest } from './problems.js';

export interface Page<T> {
  data: T[];
  page: { nextCursor: string | null; limit: number };
}

export function encodeCursor(key: string | number): string {
  return Buffer.from(JSON.stringify({ k: key })).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): string | number | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (parsed && typeof parsed === 'object' && 'k' in parsed && (typeof parsed.k === 'string' || typeof parsed.k === 'number')) return parsed.k;
  } catch {
    // fall through to the problem below
  }
  throw new BadRequest('The cursor is not valid. Use page.nextCursor from a previous response unchanged.', [
    { path: '/querystring/cursor', message: 'not a cursor issued by this API' },
  ]);
}

/**
 * Turns `limit + 1` fetched rows into a page: the extra row only says that a next page exists.
 */
export function toPage<T>(rows: T[], limit: number, keyOf: (row: T) => string | number): Page<T> {
  const hasMore = rows.length > limit;
  const data = hasMore ? rows.slice(0, limit) : rows;
  const last = data[data.length - 1];
  return { data, page: { nextCursor: hasMore && last !== undefined ? encodeCursor(keyOf(last)) : null, limit } };
}

/** Sets `Link: <...>; rel="next"` with the request's own query and the next cursor. */
export function setNextLink(request: FastifyRequest, reply: FastifyReply, nextCursor: string | null): void {
  if (nextCursor === null) return;
  const url = new URL(request.url, 'http://placeholder');
  url.searchParams.set('cursor', nextCursor);
  reply.header('link', `<${url.pathname}${url.search}>; rel="next"`);
}
