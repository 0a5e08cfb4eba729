/**
 * The content epoch of a database connection: a value that changes whenever the content may have
 * changed, whoever changed it. Every in-process cache of content (rendered documents, remembered
 * versions, short citations, the curation corpus) is keyed by it, so no writer has to know which
 * caches exist, and a write committed by another process on the same file is seen by the next
 * request here.
 *
 * It is two numbers:
 * - `PRAGMA data_version`, which SQLite changes for this connection when any *other* connection
 *   (in this process or another) commits to the file;
 * - the highest seq of the change feed (LAST_SEQ_SQL), which every curated write appends to, so
 *   this connection's own commits (which data_version ignores) change it too.
 *
 * Reading it costs two tiny statements, each a read transaction (with its shared-memory lock
 * system calls, ~15 µs together here; 15% of a 304's server time in the bench's profile). So the
 * value is kept for the rest of the current event-loop turn (until the next `setImmediate`), not
 * read for every request: requests that arrive on sockets are read from them in the loop's poll
 * phase, so one that a client sent after it saw another process's write commit was already
 * waiting when the poll began, after the last turn's value was dropped, and the first read of the
 * epoch in its turn (made after the poll began) sees the write. Two exceptions read afresh:
 * - inside a transaction (the write path's `BEGIN IMMEDIATE`): what a write reads must be the
 *   latest committed state, whatever was read earlier in the turn;
 * - after `refresh()`: a commit on this connection calls it, so code that writes and then reads
 *   sees the write; the db plugin also calls it for a request that did not come from a socket
 *   (`app.inject`, which runs a request synchronously, in the middle of a turn).
 */
import type { Sqlite } from '../db/connection.js';
import { LAST_SEQ_SQL } from './buildHistory.js';

export interface ContentEpoch {
  /** The current epoch; equal values mean nothing changed in between. */
  current(): string;
  /** Forget the value kept for this turn: call after committing on this connection. */
  refresh(): void;
}

const epochs = new WeakMap<Sqlite, ContentEpoch>();

/** The epoch of a connection: one per connection, shared by every repository on it. */
export function contentEpoch(db: Sqlite): ContentEpoch {
  let epoch = epochs.get(db);
  if (!epoch) {
    epoch = createEpoch(db);
    epochs.set(db, epoch);
  }
  return epoch;
}

function createEpoch(db: Sqlite): ContentEpoch {
  const dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
  const lastSeq = db.prepare<[], number>(LAST_SEQ_SQL).pluck();
  const read = () => `${dataVersion.get() ?? 0}:${lastSeq.get() ?? 0}`;
  let kept: string | undefined;
  let dropScheduled = false;
  const endOfTurn = () => {
    kept = undefined;
    dropScheduled = false;
  };
  return {
    current() {
      if (db.inTransaction) return read();
      if (kept === undefined) {
        kept = read();
        if (!dropScheduled) {
          dropScheduled = true;
          setImmediate(endOfTurn);
        }
      }
      return kept;
    },
    refresh() {
      kept = undefined;
    },
  };
}

/**
 * A value derived from content, computed on first use and again after the epoch changed. The
 * derived caches of the repositories are built with it.
 */
export function perEpoch<T>(epoch: ContentEpoch, compute: () => T): { get(): T; clear(): void } {
  let cached: { epoch: string; value: T } | undefined;
  return {
    get() {
      const now = epoch.current();
      if (cached?.epoch !== now) cached = { epoch: now, value: compute() };
      return cached.value;
    },
    clear() {
      cached = undefined;
    },
  };
}
