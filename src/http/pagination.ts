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

/** A cursor's decoded key; undefined for the first page. Throws a 400 problem for a foreign cursor. */
export type CursorDecoder<K> = (cursor: string | undefined) => K | undefined;

const notThisEndpoint = (name = 'cursor') =>
  new BadRequest('The cursor is not valid. Use page.nextCursor from a previous response unchanged.', [
    { path: `/querystring/${name}`, message: 'not a cursor issued by this endpoint' },
  ]);

/** Keyset lists ordered by a text key: the cursor wraps the last key served. */
export const keysetCursor: CursorDecoder<string> = (cursor) => {
  const key = decodeCursor(cursor);
  return key === undefined ? undefined : String(key);
};

/** Like keysetCursor, but an offset cursor (a /v1/search one: valid, wrong endpoint) is refused. */
export const strictKeysetCursor: CursorDecoder<string> = (cursor) => {
  const key = decodeCursor(cursor);
  if (typeof key === 'number') throw notThisEndpoint();
  return key;
};

/** Ranked lists (search) have no stable sort key to resume after, so the cursor wraps an offset. */
export const offsetCursor: CursorDecoder<number> = (cursor) => {
  const key = decodeCursor(cursor);
  if (key === undefined) return undefined;
  if (typeof key === 'number' && Number.isSafeInteger(key) && key >= 0) return key;
  throw notThisEndpoint();
};

export interface PageOptions<K> {
  cursor: string | undefined;
  limit: number;
  /** How the cursor is read; keysetCursor by default. */
  decode?: CursorDecoder<K>;
  /** The query parameter the next link carries the cursor in (`cursor` by default; the feed uses `since`). */
  linkParam?: string;
}

/**
 * One page of a list, the same way for every list route: the cursor is decoded, `limit + 1` rows
 * are fetched after it (the extra one only says that a next page exists), the page is cut, its
 * `nextCursor` made from the key of its last row, and `Link: <...>; rel="next"` set.
 */
export function paginate<T, K = string>(
  request: FastifyRequest,
  reply: FastifyReply,
  options: PageOptions<K>,
  fetch: (after: K | undefined, limit: number) => T[],
  nextKey: (last: T, after: K | undefined) => string | number,
): Page<T> {
  const decode = (options.decode ?? keysetCursor) as CursorDecoder<K>;
  const after = decode(options.cursor);
  const rows = fetch(after, options.limit + 1);
  const page = toPage(rows, options.limit, (row) => nextKey(row, after));
  const param = options.linkParam ?? 'cursor';
  if (param === 'cursor') setNextLink(request, reply, page.page.nextCursor);
  else if (page.page.nextCursor !== null) {
    const url = new URL(request.url, 'http://placeholder');
    url.searchParams.delete('cursor');
    url.searchParams.set(param, page.page.nextCursor);
    reply.header('link', `<${url.pathname}${url.search}>; rel="next"`);
  }
  return page;
}
