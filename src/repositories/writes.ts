/**
 * Curated writes at the storage level. A write is expressed as whole conditions: the content of
 * each condition it touches before and after (undefined = absent). Committing stores the after
 * state through the build's own row writer (rows.ts), bumps versions, and appends one
 * revision and one change per entity that differs.
 *
 * Storage takes the cheap path when it can: when a condition keeps the order of its existing
 * items (updates in place, deletions, appends: every single-entity write), only the rows of the
 * changed entities are replaced, in their old positions. A created or deleted condition, or one
 * whose items a PUT reorders, is rewritten whole.
 *
 * Everything happens in one transaction with foreign-key checks deferred to the commit: rows may
 * be briefly absent while other rows point at them, but the commit fails (and rolls back) if any
 * reference is left dangling. `transaction(fn)` runs a whole curated write (precondition check,
 * validation, commit) in one `BEGIN IMMEDIATE` transaction, so that writers in other processes
 * on the same file are serialized by SQLite and see each other's commits.
 */
import type { Statement } from 'better-sqlite3';
import type { Sqlite } from '../db/connection.js';
import { datasetVersionOf } from '../content/build.js';
import { canonicalCondition, diffEntities, entitiesOf, sectionKey, type EntityType } from '../content/entities.js';
import { STATEMENT_SECTIONS, type ConditionContent, type SourceContent, type StatementContent, type StatementSectionKey, type StatisticContent } from '../content/schema.js';
import { createContentRepository } from './content.js';
import { contentEpoch } from './epoch.js';
import { createHistoryWriter, createRowWriter } from './rows.js';

export interface ConditionWrite {
  id: string;
  before: ConditionContent | undefined;
  after: ConditionContent | undefined;
}

export interface CommittedChange {
  seq: number;
  entityType: EntityType;
  entityId: string;
  conditionId: string;
  action: 'create' | 'update' | 'delete';
  version: number;
  conditionVersion: number | null;
}

export interface CommitResult {
  changes: CommittedChange[];
  /** Conditions whose stored content changed, with their new versions (null = deleted). */
  conditionVersions: Map<string, number | null>;
}

const VERSION_TABLE: Record<EntityType, string> = { condition: 'conditions', statement: 'statements', statistic: 'statistics', source: 'sources' };
const LISTS = ['sources', ...STATEMENT_SECTIONS.map((s) => s.key), 'statistics'] as const;

/** Whether `after` keeps the relative order of the items it shares with `before` and only appends new ones. */
export function keepsOrder(before: ConditionContent, after: ConditionContent): boolean {
  return LISTS.every((key) => {
    const was = (before[key] as { id: string }[]).map((x) => x.id);
    const now = (after[key] as { id: string }[]).map((x) => x.id);
    const old = new Set(was);
    const stays = new Set(now);
    const firstNew = now.findIndex((id) => !old.has(id));
    if (firstNew >= 0 && now.slice(firstNew).some((id) => old.has(id))) return false;
    const kept = now.filter((id) => old.has(id));
    return kept.join('\n') === was.filter((id) => stays.has(id)).join('\n');
  });
}

export function createWritesRepository(db: Sqlite) {
  const content = createContentRepository(db);
  const record = createHistoryWriter(db);
  const rows = createRowWriter(db);
  const q = {
    deleteCitations: db.prepare<[{ id: string }]>(
      `DELETE FROM citations
       WHERE (entity_type = 'summary' AND entity_id = @id)
          OR (entity_type = 'statement' AND entity_id IN (SELECT id FROM statements WHERE condition_id = @id))
          OR (entity_type = 'statistic' AND entity_id IN (SELECT id FROM statistics WHERE condition_id = @id))
          OR (entity_type = 'related' AND entity_id >= @id || '#related-' AND entity_id < @id || '#related.')`,
    ),
    deleteSearchRows: db.prepare<[string]>('DELETE FROM search_index WHERE condition_id = ?'),
    deleteCondition: db.prepare<[string]>('DELETE FROM conditions WHERE id = ?'),
    childVersions: db.prepare<[{ id: string }], { type: EntityType; id: string; version: number }>(
      `SELECT 'statement' AS type, id, version FROM statements WHERE condition_id = @id
       UNION ALL SELECT 'statistic', id, version FROM statistics WHERE condition_id = @id
       UNION ALL SELECT 'source', id, version FROM sources WHERE defined_in = @id`,
    ),
    lastVersion: db.prepare<[string, string], { version: number | null }>('SELECT max(version) AS version FROM revisions WHERE entity_type = ? AND entity_id = ?'),
    setDatasetVersion: db.prepare<[string]>("UPDATE meta SET value = ? WHERE key = 'datasetVersion'"),
    version: Object.fromEntries(
      (Object.entries(VERSION_TABLE) as [EntityType, string][]).map(([type, table]) => [type, db.prepare<[string], { version: number }>(`SELECT version FROM ${table} WHERE id = ?`)]),
    ) as Record<EntityType, Statement<[string], { version: number }>>,
  };

  const epoch = contentEpoch(db);
  /**
   * The corpus as of the last change, kept between writes: reading every condition back costs
   * more than the write itself. Keyed by the content epoch, so a change committed by anything
   * else (another process) makes it reload. `pending` is the corpus after a commit nested in a
   * transaction that has not committed yet.
   */
  let cached: { epoch: string; corpus: Map<string, ConditionContent> } | undefined;
  let pending: Map<string, ConditionContent> | undefined;

  const load = db.transaction((): Map<string, ConditionContent> => {
    const all = new Map<string, ConditionContent>();
    for (const id of content.ids()) {
      const c = content.get(id);
      if (c) all.set(id, c);
    }
    return all;
  });

  function lastKnownVersion(type: EntityType, id: string): number {
    return q.lastVersion.get(type, id)?.version ?? 0;
  }

  function deleteConditionRows(id: string): void {
    q.deleteCitations.run({ id });
    q.deleteSearchRows.run(id);
    q.deleteCondition.run(id);
  }

  const commit = db.transaction((writes: ConditionWrite[], corpusAfter: ConditionContent[], actorKeyId: string, at: string, affects: readonly string[] | undefined) => {
    db.pragma('defer_foreign_keys = ON');
    const before = writes.flatMap((w) => (w.before ? entitiesOf(w.before) : []));
    const after = writes.flatMap((w) => (w.after ? entitiesOf(canonicalCondition(w.after)) : []));
    const diff = diffEntities(before, after);
    const conditionVersions = new Map<string, number | null>();
    if (diff.length === 0) return { result: { changes: [], conditionVersions }, final: undefined };

    // New versions: an update or delete is the current version + 1; a create continues after the
    // highest version the id ever had, so versions never repeat even across delete and re-create.
    const changed = new Map<string, number>();
    for (const d of diff) {
      const current = d.action === 'create' ? undefined : q.version[d.type].get(d.id)?.version;
      changed.set(`${d.type}:${d.id}`, (current ?? lastKnownVersion(d.type, d.id)) + 1);
    }

    // A condition changes when any of its entities does (a moved source changes both conditions).
    const touched = new Set<string>();
    for (const d of diff) for (const e of [d.before, d.after]) if (e) touched.add(e.conditionId);
    const final = new Map<string, ConditionContent>();
    const inPlace = new Set<string>();
    const whole: ConditionWrite[] = [];
    for (const w of writes) {
      if (!touched.has(w.id)) continue;
      if (w.after) {
        const version = w.before ? w.before.version + 1 : lastKnownVersion('condition', w.id) + 1;
        final.set(w.id, { ...canonicalCondition(w.after), version });
        conditionVersions.set(w.id, version);
      } else conditionVersions.set(w.id, null);
      if (w.before && w.after && keepsOrder(w.before, w.after)) inPlace.add(w.id);
      else whole.push(w);
    }

    // 1. Conditions rewritten whole lose their rows (their children's versions noted first).
    const kept = new Map<string, number>();
    for (const w of whole) {
      if (!w.before) continue;
      for (const r of q.childVersions.all({ id: w.id })) kept.set(`${r.type}:${r.id}`, r.version);
      deleteConditionRows(w.id);
    }
    // 2. Changed entities of conditions written in place lose their rows, noting their positions.
    const places = new Map<string, { conditionId: string; position: number; section?: string }>();
    for (const d of diff) {
      if (d.type === 'condition' || !d.before || !inPlace.has(d.before.conditionId)) continue;
      const place = rows.remove(d.type, d.id);
      if (place) places.set(`${d.type}:${d.id}`, place);
    }
    // 3. Whole conditions are written, then 4. the changed entities in place (same position when
    // an update stays in its list, else at the end).
    rows.write(
      whole.flatMap((w) => final.get(w.id) ?? []),
      (type, id) => changed.get(`${type}:${id}`) ?? kept.get(`${type}:${id}`) ?? 1,
    );
    for (const d of diff) {
      if (d.type === 'condition' || !d.after || !inPlace.has(d.after.conditionId)) continue;
      const conditionId = d.after.conditionId;
      const version = changed.get(`${d.type}:${d.id}`) ?? 1;
      const place = places.get(`${d.type}:${d.id}`);
      // The entity's content is its write body: strip the fields that place it.
      const { conditionId: _c, definedIn: _d, section: name, ...item } = d.after.content;
      if (d.type === 'source') rows.insertSource(conditionId, item as SourceContent, version, place?.conditionId === conditionId ? place.position : undefined);
      else if (d.type === 'statistic') rows.insertStatistic(conditionId, item as StatisticContent, version, place?.conditionId === conditionId ? place.position : undefined);
      else {
        const section = sectionKey(String(name)) as StatementSectionKey;
        const same = place?.conditionId === conditionId && place.section === section;
        rows.insertStatement(conditionId, section, item as StatementContent, version, same ? place.position : undefined);
      }
    }
    for (const id of inPlace) {
      const c = final.get(id);
      if (!c) continue;
      if (diff.some((d) => d.type === 'condition' && d.id === id)) rows.replaceOwn(c);
      else rows.setConditionVersion(id, c.version);
    }

    const changes: CommittedChange[] = [];
    for (const d of diff) {
      const entity = d.after ?? d.before;
      if (!entity) continue;
      const version = changed.get(`${d.type}:${d.id}`) ?? 1;
      const conditionVersion = conditionVersions.has(entity.conditionId)
        ? (conditionVersions.get(entity.conditionId) ?? null)
        : (q.version.condition.get(entity.conditionId)?.version ?? null);
      const seq = record({
        entityType: d.type,
        entityId: d.id,
        conditionId: entity.conditionId,
        action: d.action,
        version,
        conditionVersion,
        actorKeyId,
        at,
        before: d.before?.content ?? null,
        after: d.after?.content ?? null,
        // Every entry of the write lists all it changed: a URL often changed through several entities.
        ...(affects ? { affects } : {}),
      });
      changes.push({ seq, entityType: d.type, entityId: d.id, conditionId: entity.conditionId, action: d.action, version, conditionVersion });
    }
    // The dataset version stays a hash of the content, so exporting and rebuilding reproduces it.
    const corpus = corpusAfter.map((c) => final.get(c.id) ?? c);
    q.setDatasetVersion.run(datasetVersionOf(corpus));
    return { result: { changes, conditionVersions }, final: corpus };
  });

  /** After a transaction ended: the epoch moved on (or back), and the cache holds only committed content. */
  function settled(committed: Map<string, ConditionContent> | undefined): void {
    epoch.refresh();
    cached = committed ? { epoch: epoch.current(), corpus: committed } : undefined;
  }

  return {
    /** Every condition's content as of the last change (a consistent snapshot). Treat it as read-only. */
    corpus(): Map<string, ConditionContent> {
      const now = epoch.current();
      if (cached?.epoch !== now) cached = { epoch: now, corpus: load() };
      return new Map(cached.corpus);
    },
    /**
     * Stores a validated write in one transaction (a savepoint inside `transaction`); see the module
     * comment. `affects` (the URLs the write changes) is recorded on each of its change-feed entries.
     */
    commit(writes: ConditionWrite[], corpusAfter: ConditionContent[], actorKeyId: string, at: string, affects?: readonly string[]): CommitResult {
      const nested = db.inTransaction;
      try {
        const { result, final } = commit(writes, corpusAfter, actorKeyId, at, affects);
        const corpus = final ? new Map(final.map((c) => [c.id, c])) : undefined;
        // Only once committed for good: the cache must never hold what was rolled back.
        if (nested) pending = corpus ?? pending;
        else if (corpus) settled(corpus);
        return result;
      } catch (error) {
        pending = undefined;
        if (!nested) settled(undefined);
        throw error;
      }
    },
    /**
     * Runs `fn` in one `BEGIN IMMEDIATE` transaction: the write lock is taken first (waiting up to
     * the busy timeout, then SQLITE_BUSY), so everything `fn` reads is the latest committed state
     * and stays so until it commits. A curated write checks its precondition and commits in here.
     */
    transaction<T>(fn: () => T): T {
      try {
        const out = db.transaction(fn).immediate();
        if (pending) settled(pending);
        else epoch.refresh();
        return out;
      } catch (error) {
        settled(undefined);
        throw error;
      } finally {
        pending = undefined;
      }
    },
    /** Current version of an entity, for 412 problems; undefined when absent. */
    version(type: EntityType, id: string): number | undefined {
      return q.version[type].get(id)?.version;
    },
  };
}

export type WritesRepository = ReturnType<typeof createWritesRepository>;
