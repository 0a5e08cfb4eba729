/**
 * The build's history, read from `built_contents` (db/schema.ts). `kb build` creates every entity
 * of the corpus; since migration 0012 those creates are not one revision row and one change row
 * each (124,000 of both at 1,000 conditions, 30 MB) but one range of seqs per built condition,
 * whose entries follow the order of the keys of its compressed body. This module turns a range
 * back into the entries the feed and the revision endpoints show, exactly as the rows said them.
 *
 * Rows written before 0012 have no range (their entries are rows, read by changes.ts); this
 * module gives them only their bodies (`contentOf`), for the rows whose `after` is null.
 */
import type { Sqlite } from '../db/connection.js';
import type { EntityType } from '../content/schema.js';
import { builtContentKey, decodeBuiltContents, type BuiltEncoding } from './builtContents.js';

/**
 * The seq of the last committed history entry, 0 when there is none: the last change row or,
 * before any curated write, the end of the last built range (index lookups both).
 */
export const LAST_SEQ_SQL = `SELECT coalesce(
  (SELECT max(seq) FROM changes),
  (SELECT first_seq + entries - 1 FROM built_contents WHERE first_seq IS NOT NULL ORDER BY first_seq DESC LIMIT 1),
  0)`;

/** One `create` of the build, in the fields a revision and a change row held. */
export interface BuiltEntry {
  seq: number;
  entityType: EntityType;
  entityId: string;
  conditionId: string;
  /** The condition's content version for the condition itself, 1 for every other entity. */
  version: number;
  conditionVersion: number;
  at: string;
  after: unknown;
}

interface Range {
  condition_id: string;
  first_seq: number;
  entries: number;
  condition_version: number;
}

interface Body {
  contents: Record<string, unknown>;
  /** The body's keys in order: entry i has seq first_seq + i. */
  keys: string[];
  position: Map<string, number>;
}

/** How many conditions' decoded bodies are kept (a feed page spans one or two). */
const KEPT_BODIES = 8;

/** The condition whose body holds an entity's build entry, where its id says it. */
function conditionOfId(type: EntityType, id: string): string | undefined {
  if (type === 'condition') return id;
  // Validation makes every statement and statistic id begin with its condition's id and a '.'.
  if (type === 'statement' || type === 'statistic') return id.slice(0, id.indexOf('.'));
  return undefined;
}

export function createBuildHistory(db: Sqlite) {
  const q = {
    body: db.prepare<[string], { body: Buffer; encoding: BuiltEncoding }>('SELECT body, encoding FROM built_contents WHERE condition_id = ?'),
    range: db.prepare<[string], Range>('SELECT condition_id, first_seq, entries, condition_version FROM built_contents WHERE condition_id = ? AND first_seq IS NOT NULL'),
    // The range holding seq ? + 1 and every later one, in seq order.
    from: db.prepare<[number], Range>(
      `SELECT condition_id, first_seq, entries, condition_version FROM built_contents
       WHERE first_seq >= coalesce((SELECT max(first_seq) FROM built_contents WHERE first_seq <= ? + 1), 0)
       ORDER BY first_seq`,
    ),
    endingAfter: db.prepare<[number], string>('SELECT condition_id FROM built_contents WHERE first_seq + entries - 1 > ?').pluck(),
    sourceCondition: db.prepare<[string], string>('SELECT condition_id FROM built_sources WHERE source_id = ?').pluck(),
    builtAt: db.prepare<[], string>("SELECT value FROM meta WHERE key = 'builtAt'").pluck(),
  };

  // Written once by the build and never changed, so what was read stays true for this database.
  const bodies = new Map<string, Body>();
  function bodyOf(conditionId: string): Body {
    let body = bodies.get(conditionId);
    if (body === undefined) {
      const row = q.body.get(conditionId);
      const contents = row ? decodeBuiltContents(row.body, row.encoding) : {};
      const keys = Object.keys(contents);
      body = { contents, keys, position: new Map(keys.map((k, i) => [k, i])) };
      bodies.set(conditionId, body);
      for (const key of bodies.keys()) if (bodies.size > KEPT_BODIES) bodies.delete(key);
    }
    return body;
  }

  function entry(range: Range, body: Body, i: number, at: string): BuiltEntry {
    const key = body.keys[i] ?? '';
    const space = key.indexOf(' ');
    const entityType = key.slice(0, space) as EntityType;
    return {
      seq: range.first_seq + i,
      entityType,
      entityId: key.slice(space + 1),
      conditionId: range.condition_id,
      version: entityType === 'condition' ? range.condition_version : 1,
      conditionVersion: range.condition_version,
      at,
      after: body.contents[key],
    };
  }

  return {
    /** An entity's content in its condition's body (null when absent): rows before 0012 with `after` null. */
    contentOf(conditionId: string, entityType: EntityType, entityId: string): unknown {
      const { contents } = bodyOf(conditionId);
      const key = builtContentKey(entityType, entityId);
      return Object.hasOwn(contents, key) ? contents[key] : null;
    },
    /** The build's entries after seq `afterSeq`, oldest first, at most `limit`. */
    entriesAfter(afterSeq: number, limit: number): BuiltEntry[] {
      const out: BuiltEntry[] = [];
      if (limit <= 0) return out;
      const at = q.builtAt.get() ?? '';
      for (const range of q.from.iterate(afterSeq)) {
        const body = bodyOf(range.condition_id);
        for (let i = Math.max(0, afterSeq + 1 - range.first_seq); i < range.entries; i++) {
          out.push(entry(range, body, i, at));
          if (out.length === limit) return out;
        }
      }
      return out;
    },
    /** The build's entry of one entity, when the build created it. */
    entryOf(entityType: EntityType, entityId: string): BuiltEntry | undefined {
      const conditionId = conditionOfId(entityType, entityId) ?? q.sourceCondition.get(entityId);
      const range = conditionId === undefined ? undefined : q.range.get(conditionId);
      if (!range) return undefined;
      const body = bodyOf(range.condition_id);
      const i = body.position.get(builtContentKey(entityType, entityId));
      return i === undefined ? undefined : entry(range, body, i, q.builtAt.get() ?? '');
    },
    /** The conditions with a build entry after seq `afterSeq`. */
    conditionsAfter(afterSeq: number): string[] {
      return q.endingAfter.all(afterSeq);
    },
  };
}

export type BuildHistory = ReturnType<typeof createBuildHistory>;
