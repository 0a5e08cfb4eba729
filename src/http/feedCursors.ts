/**
 * Cursors into the change feed, shared by GET /v1/changes (`since`, `cursor`) and GET /v1/export
 * (`since`), so a cursor from one is valid in the other and both refuse a bad one the same way.
 *
 * A cursor wraps `<history>.<seq>`: the last seq served, and a short hash of the history it
 * belongs to (the database's build). A rebuild starts the seqs over, so a cursor from an earlier
 * history is a 410 (start again from a full read) rather than a silent gap; a string that is not
 * a cursor at all is a 400.
 */
import type { ChangesRepository } from '../repositories/changes.js';
import { decodeCursor, encodeCursor } from './pagination.js';
import { BadRequest, HttpProblem } from './problems.js';
import { contentHash } from './renderCache.js';

export function createFeedCursors(changes: ChangesRepository) {
  const history = () => contentHash(changes.epoch()).slice(0, 8);
  return {
    /** The sort key a feed page's cursor wraps (for paginate's keyOf). */
    keyOf: (seq: number) => `${history()}.${seq}`,
    /** The cursor of the position after `seq`. */
    cursorOf: (seq: number) => encodeCursor(`${history()}.${seq}`),
    /** The seq a cursor stands for (0 without one); 400 for a foreign string, 410 for another history. */
    seqOf(cursor: string | undefined, name: string): number {
      if (cursor === undefined) return 0;
      const key = decodeCursor(cursor);
      const match = typeof key === 'string' ? /^([A-Za-z0-9_-]+)\.(\d+)$/.exec(key) : null;
      if (!match) throw new BadRequest('The cursor is not valid. Use a cursor from a previous response unchanged.', [{ path: `/querystring/${name}`, message: 'not a cursor issued by this endpoint' }]);
      if (match[1] !== history()) {
        throw new HttpProblem(410, '/problems/feed-reset', 'Gone', 'The database was rebuilt since this cursor was issued, so its history started over: read the feed again from the start.');
      }
      return Number(match[2]);
    },
  };
}
