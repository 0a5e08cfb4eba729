/**
 * Revision history and the change feed. Both are append-only: every create, update and delete of
 * an entity appends one revision (with its content before and after) and one change row carrying
 * the same seq, inside the transaction that made the change. SQLite serializes write
 * transactions and AUTOINCREMENT never reuses a seq, so committed seqs only ever grow: a reader
 * that remembers the last seq it saw never misses or repeats an event.
 */
import type { Sqlite } from '../db/connection.js';
import type { ChangeAction, EntityType } from '../content/schema.js';
import { builtContentKey } from './rows.js';
import { decodeBuiltContents, type BuiltEncoding } from './builtContents.js';

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

/** How many conditions' decompressed build contents a repository keeps (a feed page spans one or two). */
const BUILT_CACHE = 8;

export function createChangesRepository(db: Sqlite) {
  // The revision's content only where the entry has no stored `affects` (the build's entries).
  const since = db.prepare<[number, number], ChangeRow>(
    `SELECT c.*, CASE WHEN c.affects IS NULL THEN r.after END AS built_after,
       (c.affects IS NULL AND r.after IS NULL AND r.action = 'create' AND r.actor_key_id IS NULL) AS in_built
     FROM changes c LEFT JOIN revisions r ON r.seq = c.seq WHERE c.seq > ? ORDER BY c.seq LIMIT ?`,
  );
  const builtBody = db.prepare<[string], { body: Buffer; encoding: BuiltEncoding }>('SELECT body, encoding FROM built_contents WHERE condition_id = ?');
  // Written once by the build and never changed, so what was read stays true for this database.
  const built = new Map<string, Record<string, unknown>>();
  function builtContent(conditionId: string, entityType: EntityType, entityId: string): unknown {
    let contents = built.get(conditionId);
    if (contents === undefined) {
      const row = builtBody.get(conditionId);
      contents = row ? decodeBuiltContents(row.body, row.encoding) : {};
      built.set(conditionId, contents);
      for (const key of built.keys()) if (built.size > BUILT_CACHE) built.delete(key);
    }
    const key = builtContentKey(entityType, entityId);
    return Object.hasOwn(contents, key) ? contents[key] : null;
  }
  // Newest first; `types` is a JSON array so one statement serves facts (statements + statistics).
  const revisions = db.prepare<[string, string, number, number], RevisionRow>(
    `SELECT * FROM revisions WHERE entity_type IN (SELECT value FROM json_each(?)) AND entity_id = ? AND seq < ?
     ORDER BY seq DESC LIMIT ?`,
  );
  const touched = db.prepare<[number], Pick<ChangeRow, 'entity_type' | 'entity_id' | 'condition_id' | 'action'>>(
    // The last action per entity: a create then delete of one entity is one delete.
    'SELECT entity_type, entity_id, condition_id, action FROM changes WHERE seq IN (SELECT max(seq) FROM changes WHERE seq > ? GROUP BY entity_type, entity_id)',
  );
  const affectsSince = db.prepare<[number], { condition_id: string; affects: string | null }>('SELECT condition_id, affects FROM changes WHERE seq > ?');
  const lastSeq = db.prepare<[], { seq: number | null }>('SELECT max(seq) AS seq FROM changes');
  const builtAt = db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'builtAt'");

  return {
    /** Changes after `afterSeq`, oldest first. */
    since(afterSeq: number, limit: number): ChangeRecord[] {
      return since.all(afterSeq, limit).map((r) => (r.in_built ? { ...toChange(r), after: builtContent(r.condition_id, r.entity_type, r.entity_id) } : toChange(r)));
    },
    /** Every entity changed after `afterSeq`, once, with its last action (for exports since a cursor). */
    touchedSince(afterSeq: number): Pick<ChangeRecord, 'entityType' | 'entityId' | 'conditionId' | 'action'>[] {
      return touched.all(afterSeq).map((r) => ({ entityType: r.entity_type, entityId: r.entity_id, conditionId: r.condition_id, action: r.action }));
    },
    /**
     * Every URL the changes after `afterSeq` list in `affects`. A build's entry stores none: it
     * changed its own condition's URLs (see builtEntityAffects), given here as its condition id.
     */
    affectsSince(afterSeq: number): { urls: Set<string>; builtConditions: Set<string> } {
      const urls = new Set<string>();
      const builtConditions = new Set<string>();
      for (const r of affectsSince.iterate(afterSeq)) {
        if (r.affects === null) builtConditions.add(r.condition_id);
        else for (const url of JSON.parse(r.affects) as string[]) urls.add(url);
      }
      return { urls, builtConditions };
    },
    /** The seq of the last committed change (0 when there is none). */
    lastSeq(): number {
      return lastSeq.get()?.seq ?? 0;
    },
    /** Revisions of one entity, newest first, older than `beforeSeq` when given. */
    revisions(types: readonly EntityType[], entityId: string, page: { beforeSeq?: number; limit: number }): RevisionRecord[] {
      return revisions
        .all(JSON.stringify(types), entityId, page.beforeSeq ?? Number.MAX_SAFE_INTEGER, page.limit)
        .map((r) => (inBuiltContents(r) ? { ...toRevision(r), after: builtContent(r.condition_id, r.entity_type, r.entity_id) } : toRevision(r)));
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
