/**
 * Revision history and the change feed. Both are append-only: every create, update and delete of
 * an entity appends one revision (with its content before and after) and one change row carrying
 * the same seq, inside the transaction that made the change. SQLite serializes write
 * transactions and AUTOINCREMENT never reuses a seq, so committed seqs only ever grow: a reader
 * that remembers the last seq it saw never misses or repeats an event.
 *
 * The build's creates come first (seqs 1…n) and, since migration 0012, are ranges in
 * `built_contents` rather than rows (buildHistory.ts); the build reserves their seqs in
 * `sqlite_sequence`, so the first curated write gets n + 1. Every reader here merges both.
 */
import type { Sqlite } from '../db/connection.js';
import type { ChangeAction, EntityType } from '../content/schema.js';
import { createBuildHistory, LAST_SEQ_SQL, type BuiltEntry } from './buildHistory.js';

export type { ChangeAction };
// Appending revisions and changes is row writing: it lives with the other row writers.
export { createHistoryWriter, type HistoryEvent } from './rows.js';

export interface ChangeRecord {
  seq: number;
  entityType: EntityType;
  entityId: string;
  conditionId: string;
  action: ChangeAction;
  version: number;
  conditionVersion: number | null;
  at: string;
  /** The URLs the write changed; null for the build's entries (see `after`). */
  affects: string[] | null;
  /** The entity after the change, for the build's entries only (their URLs follow from it). */
  after: unknown;
}

export interface RevisionRecord {
  seq: number;
  entityType: EntityType;
  entityId: string;
  conditionId: string;
  version: number;
  action: ChangeAction;
  actorKeyId: string | null;
  at: string;
  before: unknown;
  after: unknown;
}

interface ChangeRow {
  seq: number;
  entity_type: EntityType;
  entity_id: string;
  condition_id: string;
  action: ChangeAction;
  version: number;
  condition_version: number | null;
  at: string;
  affects: string | null;
  built_after: string | null;
  /** 1 when the entry is the build's and its content is in `built_contents`. */
  in_built: number;
}

interface RevisionRow {
  seq: number;
  entity_type: EntityType;
  entity_id: string;
  condition_id: string;
  version: number;
  action: ChangeAction;
  actor_key_id: string | null;
  at: string;
  before: string | null;
  after: string | null;
}

/** A build `create` whose `after` is null has it in `built_contents` (db/schema.ts). */
const inBuiltContents = (r: Pick<RevisionRow, 'action' | 'after' | 'actor_key_id'>) => r.action === 'create' && r.after === null && r.actor_key_id === null;

const toChange = (r: ChangeRow): ChangeRecord => ({
  seq: r.seq,
  entityType: r.entity_type,
  entityId: r.entity_id,
  conditionId: r.condition_id,
  action: r.action,
  version: r.version,
  conditionVersion: r.condition_version,
  at: r.at,
  affects: r.affects === null ? null : (JSON.parse(r.affects) as string[]),
  after: r.built_after === null ? null : (JSON.parse(r.built_after) as unknown),
});

const toRevision = (r: RevisionRow): RevisionRecord => ({
  seq: r.seq,
  entityType: r.entity_type,
  entityId: r.entity_id,
  conditionId: r.condition_id,
  version: r.version,
  action: r.action,
  actorKeyId: r.actor_key_id,
  at: r.at,
  before: r.before === null ? null : (JSON.parse(r.before) as unknown),
  after: r.after === null ? null : (JSON.parse(r.after) as unknown),
});

const builtChange = (e: BuiltEntry): ChangeRecord => ({ ...e, action: 'create', affects: null });
const builtRevision = (e: BuiltEntry): RevisionRecord => ({
  seq: e.seq,
  entityType: e.entityType,
  entityId: e.entityId,
  conditionId: e.conditionId,
  version: e.version,
  action: 'create',
  actorKeyId: null,
  at: e.at,
  before: null,
  after: e.after,
});
const bySeq = (a: { seq: number }, b: { seq: number }) => a.seq - b.seq;

export function createChangesRepository(db: Sqlite) {
  const built = createBuildHistory(db);
  // The revision's content only where the entry has no stored `affects` (the build's entries, in
  // databases built before migration 0012).
  const since = db.prepare<[number, number], ChangeRow>(
    `SELECT c.*, CASE WHEN c.affects IS NULL THEN r.after END AS built_after,
       (c.affects IS NULL AND r.after IS NULL AND r.action = 'create' AND r.actor_key_id IS NULL) AS in_built
     FROM changes c LEFT JOIN revisions r ON r.seq = c.seq WHERE c.seq > ? ORDER BY c.seq LIMIT ?`,
  );
  // Newest first; `types` is a JSON array so one statement serves facts (statements + statistics).
  const revisions = db.prepare<[string, string, number, number], RevisionRow>(
    `SELECT * FROM revisions WHERE entity_type IN (SELECT value FROM json_each(?)) AND entity_id = ? AND seq < ?
     ORDER BY seq DESC LIMIT ?`,
  );
  const deleted = db.prepare<[number], string>(
    // The last action per condition: a delete then a re-create of one condition is a create.
    `SELECT entity_id FROM changes WHERE seq IN (SELECT max(seq) FROM changes WHERE seq > ? AND entity_type = 'condition' GROUP BY entity_id)
     AND action = 'delete'`,
  ).pluck();
  const affectsSince = db.prepare<[number], { condition_id: string; affects: string | null }>('SELECT condition_id, affects FROM changes WHERE seq > ?');
  const lastSeq = db.prepare<[], number>(LAST_SEQ_SQL).pluck();
  const builtAt = db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'builtAt'");

  return {
    /** Changes after `afterSeq`, oldest first. */
    since(afterSeq: number, limit: number): ChangeRecord[] {
      const rows = since.all(afterSeq, limit).map((r) => (r.in_built ? { ...toChange(r), after: built.contentOf(r.condition_id, r.entity_type, r.entity_id) } : toChange(r)));
      const entries = built.entriesAfter(afterSeq, limit).map(builtChange);
      return entries.length === 0 ? rows : [...entries, ...rows].sort(bySeq).slice(0, limit);
    },
    /**
     * The conditions whose last change after `afterSeq` deleted them (for exports since a cursor).
     * The build's entries cannot be one: they are creates, older than every change row.
     */
    conditionsDeletedSince(afterSeq: number): string[] {
      return deleted.all(afterSeq);
    },
    /**
     * Every URL the changes after `afterSeq` list in `affects`. A build's entry stores none: it
     * changed its own condition's URLs (see builtEntityAffects), given here as its condition id.
     */
    affectsSince(afterSeq: number): { urls: Set<string>; builtConditions: Set<string> } {
      const urls = new Set<string>();
      const builtConditions = new Set<string>(built.conditionsAfter(afterSeq));
      for (const r of affectsSince.iterate(afterSeq)) {
        if (r.affects === null) builtConditions.add(r.condition_id);
        else for (const url of JSON.parse(r.affects) as string[]) urls.add(url);
      }
      return { urls, builtConditions };
    },
    /** The seq of the last committed change (0 when there is none). */
    lastSeq(): number {
      return lastSeq.get() ?? 0;
    },
    /** Revisions of one entity, newest first, older than `beforeSeq` when given. */
    revisions(types: readonly EntityType[], entityId: string, page: { beforeSeq?: number; limit: number }): RevisionRecord[] {
      const beforeSeq = page.beforeSeq ?? Number.MAX_SAFE_INTEGER;
      const rows = revisions
        .all(JSON.stringify(types), entityId, beforeSeq, page.limit)
        .map((r) => (inBuiltContents(r) ? { ...toRevision(r), after: built.contentOf(r.condition_id, r.entity_type, r.entity_id) } : toRevision(r)));
      if (rows.length === page.limit) return rows;
      // The build's entry is the entity's oldest revision, when the page reaches back that far.
      const entries = types.flatMap((type) => built.entryOf(type, entityId) ?? []).filter((e) => e.seq < beforeSeq);
      return entries.length === 0 ? rows : [...rows, ...entries.map(builtRevision)].sort((a, b) => bySeq(b, a)).slice(0, page.limit);
    },
    /**
     * Identifies this database's history: a rebuild starts a new one (seqs start over), so a
     * cursor from another history must be refused rather than silently skip or repeat events.
     */
    epoch(): string {
      return builtAt.get()?.value ?? 'unknown';
    },
  };
}

export type ChangesRepository = ReturnType<typeof createChangesRepository>;
