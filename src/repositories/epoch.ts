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
 * - the highest seq of the change feed, which every curated write appends to, so this connection's
 *   own commits (which data_version ignores) change it too.
 *
 * Reading it costs two tiny statements; a request may consult several caches, so the value is
 * kept for the rest of the current synchronous run (until the next microtask). A commit on this
 * connection calls `refresh()`, so code that writes and then reads in one run sees the write.
 */
import type { Sqlite } from '../db/connection.js';

export interface ContentEpoch {
  /** The current epoch; equal values mean nothing changed in between. */
  current(): string;
  /** Forget the value kept for this run: call after committing on this connection. */
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
  const lastSeq = db.prepare<[], number | null>('SELECT max(seq) FROM changes').pluck();
  let kept: string | undefined;
  const forget = () => {
    kept = undefined;
  };
  return {
    current() {
      if (kept === undefined) {
        kept = `${dataVersion.get() ?? 0}:${lastSeq.get() ?? 0}`;
        queueMicrotask(forget);
      }
      return kept;
    },
    refresh: forget,
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
