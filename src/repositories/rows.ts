/**
 * Every row the knowledge base writes: the one place that knows how a condition is spread over
 * the tables (rowContent.ts reads them back), and the writes repository that commits curated
 * changes through it:
 *
 * - content → rows: `createRowWriter` inserts (and removes) the rows of conditions, sources,
 *   statements, treatment codes, statistics, related links, citations and the FTS index. `kb build`
 *   (src/content/build.ts) writes a whole corpus with it; curated writes use it for whole
 *   conditions or single entities in place. There is no second writer to keep in step.
 * - history: `createHistoryWriter` appends the revision and change rows of every curated create,
 *   update and delete; `createBuildHistoryWriter` the build's creates, as ranges (buildHistory.ts).
 * - curated writes: `createWritesRepository` (at the end) works out which entities changed
 *   (`diffEntities`), their versions, the rows to replace, the revisions and feed entries, and the
 *   dataset version.
 *
 * Row types are the tables' own (`$inferSelect` of db/schema.ts), and the INSERT statements are
 * generated from the table definitions, so a column added to db/schema.ts is a type error here
 * until it is mapped, and needs no hand-written SQL.
 */
import { createHash } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import { getTableColumns, getTableName } from 'drizzle-orm';
import type { SQLiteTable } from 'drizzle-orm/sqlite-core';
import type { TSchema } from 'typebox';
import * as t from '../../db/schema.js';
import type { Sqlite } from '../db/connection.js';
import { BUILT_ENCODING, builtContentKey, encodeBuiltContents, type BuiltEncoding } from './builtContents.js';
import { createBuildHistory, LAST_SEQ_SQL } from './buildHistory.js';
import {
  ConditionContentSchema,
  STATEMENT_SECTIONS,
  sectionKey,
  sectionName,
  type ChangeAction,
  type EntityType,
  citationRef,
  statementsOf,
  type CitationContent,
  type ConditionContent,
  type SourceContent,
  type StatementContent,
  type StatementSectionKey,
  type StatisticContent,
} from '../content/schema.js';
import { createContentRepository } from './content.js';
import type { CitationRow, ConditionRow, SourceRow, StatementRow, StatisticRow } from './rowContent.js';
import { contentEpoch } from './epoch.js';


/**
 * A row of `search_rows`, what the FTS5 index has of an item beyond its title and body, which it
 * reads from the item's own row through the view `search_content` (migrations/0009; with the
 * index, not in db/schema.ts).
 */
export interface SearchRow {
  kind: SearchKind;
  entityId: string;
  conditionId: string;
  /** The section key (`riskFactors`, `statistics`; `condition` for a condition's own row): not searched. */
  section: StatementSectionKey | 'statistics' | 'condition';
  /** The section's words, searched, so a question about a section finds its items. */
  sectionName: string;
  /** Curated lay questions the item answers, searched with a high weight. */
  questions: string;
}

/**
 * The searchable words of a section: its name as a reader says it. A statistic's include its
 * measure ("statistics mortality"). Mirrored by migrations/0005_search_sections.sql.
 */
export function sectionSearchName(section: SearchRow['section'], measure?: string): string {
  switch (section) {
    case 'condition':
      return 'overview';
    case 'statistics':
      return `statistics ${(measure ?? '').replace(/-/g, ' ')}`.trim();
    case 'riskFactors':
      return 'risk factors';
    case 'whenToSeekCare':
      return 'when to seek care';
    case 'differentialDiagnosis':
      return 'differential diagnosis';
    default:
      return section;
  }
}

export const SEARCH_KINDS = ['condition', 'symptom', 'treatment', 'fact', 'statistic'] as const;
export type SearchKind = (typeof SEARCH_KINDS)[number];

/** Kind shown in search results for a statement of each section: symptoms and treatments have their own, the rest are facts. */
export function searchKindOf(section: StatementSectionKey): SearchKind {
  return section === 'symptoms' ? 'symptom' : section === 'treatments' ? 'treatment' : 'fact';
}

/** A prepared INSERT of every column of `table`, taking a complete row. */
function inserter<T extends SQLiteTable>(db: Sqlite, table: T): (row: T['$inferSelect']) => void {
  const columns = Object.entries(getTableColumns(table));
  const statement = db.prepare(
    `INSERT INTO ${getTableName(table)} (${columns.map(([, c]) => c.name).join(', ')}) VALUES (${columns.map(([key]) => `@${key}`).join(', ')})`,
  );
  return (row) => {
    statement.run(row);
  };
}

/* content → rows */

export function conditionRow(c: ConditionContent): ConditionRow {
  return { id: c.id, name: c.name, summary: c.summary, version: c.version, lastReviewed: c.lastReviewed };
}

export function sourceRow(definedIn: string, s: SourceContent, position: number, version: number): SourceRow {
  return { ...s, definedIn, position, authors: JSON.stringify(s.authors), version };
}

/** A statement's row: the section-specific fields go to their nullable columns. */
export function statementRow(conditionId: string, section: StatementSectionKey, item: StatementContent, position: number, version: number): StatementRow {
  const row: StatementRow = {
    id: item.id,
    conditionId,
    section,
    position,
    name: item.name,
    text: item.text,
    confidence: item.confidence,
    frequency: null,
    relatedCondition: null,
    category: null,
    purpose: null,
    risks: null,
    route: null,
    goal: null,
    regulatoryStatus: null,
    regulatoryNote: null,
    codeSystem: null,
    code: null,
    codeDisplay: null,
    questions: item.questions ? JSON.stringify(item.questions) : null,
    version,
  };
  if ('frequency' in item) Object.assign(row, { frequency: item.frequency, relatedCondition: item.relatedCondition });
  if ('type' in item) row.category = item.type;
  if ('method' in item) Object.assign(row, { category: item.method, purpose: item.purpose, risks: item.risks });
  if ('regulatoryStatus' in item) Object.assign(row, { route: item.route, goal: item.goal, regulatoryStatus: item.regulatoryStatus, regulatoryNote: item.regulatoryNote });
  if ('code' in item && item.code) Object.assign(row, { codeSystem: item.code.system, code: item.code.code, codeDisplay: item.code.display });
  return row;
}

/**
 * A statistic's row: the nested content fields (interval, comparedWith) are flattened to columns.
 * Field by field, not a rest spread of the content (V8's slow path: ~0.5 s of `kb build` at 1,000
 * conditions); the row type names every column, and the schema allows no other field.
 */
export function statisticRow(conditionId: string, s: StatisticContent, position: number, version: number): StatisticRow {
  const { interval, comparedWith } = s;
  return {
    id: s.id,
    measure: s.measure,
    value: s.value,
    low: s.low,
    high: s.high,
    unit: s.unit,
    comparator: s.comparator,
    population: s.population,
    outcome: s.outcome,
    timepoint: s.timepoint,
    timepointMonths: s.timepointMonths,
    estimateType: s.estimateType,
    events: s.events,
    sampleSize: s.sampleSize,
    studyDesign: s.studyDesign,
    certainty: s.certainty,
    certaintyBasis: s.certaintyBasis,
    text: s.text,
    confidence: s.confidence,
    conditionId,
    position,
    treatmentId: s.treatment,
    intervalLevel: interval?.level ?? null,
    intervalLow: interval?.low ?? null,
    intervalHigh: interval?.high ?? null,
    comparedLabel: comparedWith?.label ?? null,
    comparedTreatmentId: comparedWith?.treatment ?? null,
    primarySourceId: s.primarySource,
    version,
  };
}

export function statementSearchRow(conditionId: string, row: StatementRow): SearchRow {
  const questions = row.questions === null ? '' : (JSON.parse(row.questions) as string[]).join(' ');
  return {
    kind: searchKindOf(row.section),
    entityId: row.id,
    conditionId,
    section: row.section,
    sectionName: sectionSearchName(row.section),
    questions,
  };
}

export function statisticSearchRow(conditionId: string, s: StatisticContent): SearchRow {
  return {
    kind: 'statistic',
    entityId: s.id,
    conditionId,
    section: 'statistics',
    sectionName: sectionSearchName('statistics', s.measure),
    questions: '',
  };
}

export function conditionSearchRow(c: ConditionContent): SearchRow {
  return {
    kind: 'condition',
    entityId: c.id,
    conditionId: c.id,
    section: 'condition',
    sectionName: sectionSearchName('condition'),
    questions: '',
  };
}

/** The citation entity id of a condition's related link at `position`. */
export function relatedEntityId(conditionId: string, position: number): string {
  return `${conditionId}#related-${position}`;
}

/* The writer */

export function createRowWriter(db: Sqlite) {
  const insert = {
    condition: inserter(db, t.conditions),
    alias: inserter(db, t.conditionAliases),
    code: inserter(db, t.conditionCodes),
    source: inserter(db, t.sources),
    statement: inserter(db, t.statements),
    treatmentCode: inserter(db, t.treatmentCodes),
    statistic: inserter(db, t.statistics),
    related: inserter(db, t.relatedConditions),
    citation: inserter(db, t.citations),
  };
  const s = {
    search: db.prepare<[SearchRow]>(
      // search_rows, whose trigger indexes the row in search_index with the title and body of the
      // item's own row (migrations/0009): written after that row.
      `INSERT INTO search_rows (kind, entity_id, condition_id, section, section_name, questions)
       VALUES (@kind, @entityId, @conditionId, @section, @sectionName, @questions)`,
    ),
    updateCondition: db.prepare<[ConditionRow]>('UPDATE conditions SET name = @name, summary = @summary, version = @version, last_reviewed = @lastReviewed WHERE id = @id'),
    setConditionVersion: db.prepare<[number, string]>('UPDATE conditions SET version = ? WHERE id = ?'),
    // Removing single entities and a condition's own rows.
    deleteCitations: db.prepare<[string, string]>('DELETE FROM citations WHERE entity_type = ? AND entity_id = ?'),
    // Found through search_rows' condition index; its trigger takes the row out of search_index with
    // the title and body it was indexed with, so it runs before the item's own row changes.
    deleteSearch: db.prepare<[string, string]>('DELETE FROM search_rows WHERE entity_id = ? AND condition_id = ?'),
    deleteStatement: db.prepare<[string]>('DELETE FROM statements WHERE id = ?'),
    deleteStatistic: db.prepare<[string]>('DELETE FROM statistics WHERE id = ?'),
    deleteSource: db.prepare<[string]>('DELETE FROM sources WHERE id = ?'),
    deleteAliases: db.prepare<[string]>('DELETE FROM condition_aliases WHERE condition_id = ?'),
    deleteCodes: db.prepare<[string]>('DELETE FROM condition_codes WHERE condition_id = ?'),
    deleteRelated: db.prepare<[string]>('DELETE FROM related_conditions WHERE condition_id = ?'),
    deleteRelatedCitations: db.prepare<[string, string]>("DELETE FROM citations WHERE entity_type = 'related' AND entity_id >= ? AND entity_id < ?"),
    position: {
      statement: db.prepare<[string], { position: number; conditionId: string; section: string }>('SELECT position, condition_id AS conditionId, section FROM statements WHERE id = ?'),
      statistic: db.prepare<[string], { position: number; conditionId: string }>('SELECT position, condition_id AS conditionId FROM statistics WHERE id = ?'),
      source: db.prepare<[string], { position: number; conditionId: string }>('SELECT position, defined_in AS conditionId FROM sources WHERE id = ?'),
    },
    next: {
      statement: db.prepare<[string, string], { next: number }>('SELECT coalesce(max(position) + 1, 0) AS next FROM statements WHERE condition_id = ? AND section = ?'),
      statistic: db.prepare<[string], { next: number }>('SELECT coalesce(max(position) + 1, 0) AS next FROM statistics WHERE condition_id = ?'),
      source: db.prepare<[string], { next: number }>('SELECT coalesce(max(position) + 1, 0) AS next FROM sources WHERE defined_in = ?'),
    },
  };
  const cite = (entityType: CitationRow['entityType'], entityId: string, sources: readonly CitationContent[]) =>
    sources.forEach((entry, position) => {
      const { id: sourceId, locator } = citationRef(entry);
      insert.citation({ entityType, entityId, position, sourceId, locator });
    });

  function writeSource(conditionId: string, x: SourceContent, position: number, version: number): void {
    insert.source(sourceRow(conditionId, x, position, version));
  }

  function writeStatement(conditionId: string, section: StatementSectionKey, item: StatementContent, position: number, version: number): void {
    const row = statementRow(conditionId, section, item, position, version);
    insert.statement(row);
    if ('codes' in item) item.codes.forEach((k, i) => insert.treatmentCode({ treatmentId: item.id, position: i, ...k }));
    cite('statement', item.id, item.sources);
    s.search.run(statementSearchRow(conditionId, row));
  }

  function writeStatistic(conditionId: string, x: StatisticContent, position: number, version: number): void {
    insert.statistic(statisticRow(conditionId, x, position, version));
    cite('statistic', x.id, x.sources);
    s.search.run(statisticSearchRow(conditionId, x));
  }

  /** The condition's own rows besides its `conditions` row: aliases, codes, summary citations, FTS row, related links. */
  function writeOwn(c: ConditionContent): void {
    c.aliases.forEach((alias, position) => insert.alias({ conditionId: c.id, position, alias }));
    c.codes.forEach((k, position) => insert.code({ conditionId: c.id, position, ...k }));
    cite('summary', c.id, c.summarySources);
    s.search.run(conditionSearchRow(c));
    c.related.forEach((r, position) => {
      insert.related({ conditionId: c.id, position, relatedId: r.condition, name: r.name, relation: r.relation, text: r.text });
      cite('related', relatedEntityId(c.id, position), r.sources);
    });
  }

  function writeHead(c: ConditionContent, version: (type: EntityType, id: string) => number): void {
    insert.condition(conditionRow(c));
    c.sources.forEach((x, i) => writeSource(c.id, x, i, version('source', x.id)));
  }

  function writeBody(c: ConditionContent, version: (type: EntityType, id: string) => number): void {
    writeOwn(c);
    for (const { section, item, position } of statementsOf(c)) writeStatement(c.id, section, item, position, version('statement', item.id));
    c.statistics.forEach((x, i) => writeStatistic(c.id, x, i, version('statistic', x.id)));
  }

  return {
    /**
     * Whole conditions that have no rows yet: every condition row and its sources first (a
     * statement may cite a source of another condition), then everything else. `version` gives
     * each source, statement and statistic its version (1 in a build).
     */
    write(conditions: ConditionContent[], version: (type: EntityType, id: string) => number): void {
      for (const c of conditions) writeHead(c, version);
      for (const c of conditions) writeBody(c, version);
    },

    /**
     * One whole condition that has no rows yet, all of its rows at once. A statement citing a
     * source of a condition not yet written breaks a foreign key until that condition is: for a
     * build that writes conditions as they are read, with `PRAGMA defer_foreign_keys` on. Each
     * table receives its rows in the same order as from `write`.
     */
    writeCondition(c: ConditionContent, version: (type: EntityType, id: string) => number): void {
      writeHead(c, version);
      writeBody(c, version);
    },

    /** Replaces a condition's own fields (name, summary, aliases, codes, summary sources, related links) and sets its version. */
    replaceOwn(c: ConditionContent): void {
      // The FTS row first: the index removes the name, summary and aliases it was built with.
      s.deleteSearch.run(c.id, c.id);
      s.updateCondition.run(conditionRow(c));
      for (const del of [s.deleteAliases, s.deleteCodes, s.deleteRelated]) del.run(c.id);
      s.deleteCitations.run('summary', c.id);
      s.deleteRelatedCitations.run(`${c.id}#related-`, `${c.id}#related.`);
      writeOwn(c);
    },

    setConditionVersion(id: string, version: number): void {
      s.setConditionVersion.run(version, id);
    },

    /**
     * Removes one statement, statistic or source; returns where it was, so that an update can
     * take its place (order is part of the content).
     */
    remove(type: Exclude<EntityType, 'condition'>, id: string): { conditionId: string; position: number; section?: string } | undefined {
      const at: { position: number; conditionId: string; section?: string } | undefined = s.position[type].get(id);
      if (!at) return undefined;
      if (type === 'source') s.deleteSource.run(id);
      else {
        s.deleteCitations.run(type, id);
        s.deleteSearch.run(id, at.conditionId);
        if (type === 'statement') s.deleteStatement.run(id);
        else s.deleteStatistic.run(id);
      }
      return { conditionId: at.conditionId, position: at.position, section: at.section };
    },

    /** Inserts one entity at `position`, or after the last of its list when there is none to reuse. */
    insertStatement(conditionId: string, section: StatementSectionKey, item: StatementContent, version: number, position?: number): void {
      writeStatement(conditionId, section, item, position ?? s.next.statement.get(conditionId, section)?.next ?? 0, version);
    },
    insertStatistic(conditionId: string, x: StatisticContent, version: number, position?: number): void {
      writeStatistic(conditionId, x, position ?? s.next.statistic.get(conditionId)?.next ?? 0, version);
    },
    insertSource(conditionId: string, x: SourceContent, version: number, position?: number): void {
      writeSource(conditionId, x, position ?? s.next.source.get(conditionId)?.next ?? 0, version);
    },
  };
}

export type RowWriter = ReturnType<typeof createRowWriter>;

/* History */

export interface HistoryEvent {
  entityType: EntityType;
  entityId: string;
  conditionId: string;
  action: ChangeAction;
  version: number;
  conditionVersion: number | null;
  actorKeyId: string | null;
  at: string;
  before: unknown;
  after: unknown;
  /** The URLs the write changed (curated writes); absent for the build's events. */
  affects?: readonly string[];
}

/**
 * Appends the build's history, one condition at a time: its contents as one compressed
 * `built_contents` body (per condition because its entities share field names, sources and words:
 * Brotli takes 58 MB of JSON at 1,000 conditions to 8.2 MB, where each entity alone compressed to
 * 31 MB), and its creates as the range of seqs after the previous condition's, in the body's key
 * order (buildHistory.ts reads them). `finish` reserves the seqs in `sqlite_sequence`, so the
 * first curated write's revision takes the next one. Inside the build's transaction.
 */
export function createBuildHistoryWriter(db: Sqlite) {
  const insert = db.prepare<[string, Uint8Array, BuiltEncoding, number, number, number]>(
    'INSERT INTO built_contents (condition_id, body, encoding, first_seq, entries, condition_version) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const source = db.prepare<[string, string]>('INSERT INTO built_sources (source_id, condition_id) VALUES (?, ?)');
  const reserved = db.prepare<[number]>("UPDATE sqlite_sequence SET seq = ? WHERE name = 'revisions'");
  const reserve = db.prepare<[number]>("INSERT INTO sqlite_sequence (name, seq) VALUES ('revisions', ?)");
  let last = db.prepare<[], number>(LAST_SEQ_SQL).pluck().get() ?? 0;
  return {
    /** `body`, when given, is `encodeBuiltContents(builtContentsOf(c))`, made elsewhere (the build's reading worker). */
    record(c: ConditionContent, body?: Uint8Array): void {
      const entries = entityCount(c);
      insert.run(c.id, body ?? encodeBuiltContents(builtContentsOf(c)), BUILT_ENCODING, last + 1, entries, c.version);
      for (const s of c.sources) source.run(s.id, c.id);
      last += entries;
    },
    finish(): void {
      if (reserved.run(last).changes === 0) reserve.run(last);
    },
  };
}

/** How many entities entitiesOf(c) lists, without making them. */
function entityCount(c: ConditionContent): number {
  let n = 1 + c.sources.length + c.statistics.length;
  for (const { key } of STATEMENT_SECTIONS) n += c[key].length;
  return n;
}

/** A condition's `built_contents` before encoding: each entity's content under its key, in entity order. */
export function builtContentsOf(c: ConditionContent): Record<string, unknown> {
  const contents: Record<string, unknown> = {};
  for (const e of entitiesOf(c)) contents[builtContentKey(e.type, e.id)] = e.content;
  return contents;
}

/**
 * Appends history events (one revision and one change, sharing a seq; see changes.ts); call
 * inside the transaction that made the changes. Returns their seqs.
 */
export function createHistoryWriter(db: Sqlite) {
  const revision = db.prepare<[string, string, string, number, string, string | null, string, string | null, string | null]>(
    `INSERT INTO revisions (entity_type, entity_id, condition_id, version, action, actor_key_id, at, before, after)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  // The change takes its revision's seq, so a feed entry names the revision that explains it.
  const change = db.prepare<[number, string, string, string, string, number, number | null, string, string | null]>(
    'INSERT INTO changes (seq, entity_type, entity_id, condition_id, action, version, condition_version, at, affects) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v));
  return (e: HistoryEvent): number => {
    const seq = Number(
      revision.run(e.entityType, e.entityId, e.conditionId, e.version, e.action, e.actorKeyId, e.at, json(e.before), json(e.after)).lastInsertRowid,
    );
    change.run(seq, e.entityType, e.entityId, e.conditionId, e.action, e.version, e.conditionVersion, e.at, e.affects ? JSON.stringify(e.affects) : null);
    return seq;
  };
}

/* The dataset version */

const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * JSON with object keys sorted: the same content hashes the same whatever order a file wrote its
 * fields in. The definition (and the fallback for anything but plain JSON data, e.g. a value with
 * `toJSON`): JSON.stringify with a replacer that rebuilds every object with sorted entries.
 */
function canonicalJsonByReplacer(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => byCodeUnits(a, b))) : v,
  );
}

/** An array index as JavaScript objects order them (before every other key, in numeric order). */
const ARRAY_INDEX = /^(?:0|[1-9][0-9]{0,9})$/;
const isArrayIndex = (key: string) => ARRAY_INDEX.test(key) && Number(key) < 4294967295;

class NotPlainData extends Error {}

/**
 * The same string as canonicalJsonByReplacer, written directly (`kb build` at 1,000 conditions:
 * the replacer's sorted copy of every object was ~1 s, most of it garbage collection). Keys go in
 * the order the rebuilt object would list them: array indices first, numerically, then the rest
 * sorted; values JSON.stringify leaves out (undefined, functions, symbols) are left out.
 */
function canonicalValue(v: unknown): string | undefined {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
    case 'number':
    case 'boolean':
      return JSON.stringify(v);
    case 'object': {
      if (typeof (v as { toJSON?: unknown }).toJSON === 'function') throw new NotPlainData();
      if (Array.isArray(v)) {
        let out = '[';
        for (let i = 0; i < v.length; i++) out += `${i ? ',' : ''}${canonicalValue(v[i]) ?? 'null'}`;
        return `${out}]`;
      }
      const record = v as Record<string, unknown>;
      const keys = Object.keys(record).sort(byCodeUnits);
      const indices = keys.filter(isArrayIndex);
      const ordered = indices.length ? [...indices.sort((a, b) => Number(a) - Number(b)), ...keys.filter((k) => !isArrayIndex(k))] : keys;
      let out = '{';
      for (const key of ordered) {
        const item = canonicalValue(record[key]);
        if (item !== undefined) out += `${out.length > 1 ? ',' : ''}${JSON.stringify(key)}:${item}`;
      }
      return `${out}}`;
    }
    case 'bigint':
      throw new NotPlainData();
    default:
      return undefined;
  }
}

export function canonicalJson(value: unknown): string {
  try {
    return canonicalValue(value) as string;
  } catch (error) {
    if (error instanceof NotPlainData) return canonicalJsonByReplacer(value);
    throw error;
  }
}

/** Exported for tests/dataset-version.test.ts, which holds canonicalJson to it. */
export { canonicalJsonByReplacer };

/**
 * Each condition's content hash, remembered per content object: content read for a write is never
 * mutated (writes edit copies), so after a write only the conditions it changed are hashed again.
 */
const conditionHashes = new WeakMap<ConditionContent, string>();

export function conditionHash(c: ConditionContent): string {
  let h = conditionHashes.get(c);
  if (h === undefined) {
    h = createHash('sha256').update(canonicalJson(c)).digest('hex');
    conditionHashes.set(c, h);
  }
  return h;
}

/** Takes a condition's hash computed elsewhere (by `conditionHash` of the same content in the build's reading worker). */
export function rememberConditionHash(c: ConditionContent, hash: string): void {
  conditionHashes.set(c, hash);
}

/**
 * A content hash: the same corpus always gets the same dataset version, on any machine. It hashes
 * the conditions' own hashes in id order, so a write costs one condition's hashing, not the corpus's.
 */
export function datasetVersionOf(corpus: ConditionContent[]): string {
  const hash = createHash('sha256');
  for (const c of [...corpus].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) hash.update(`${c.id}\n${conditionHash(c)}\n`);
  return hash.digest('hex').slice(0, 16);
}

/* Entities: what the change feed and the revision history track */

/*
 * A condition's content split into entities: the condition's own fields, each source it defines,
 * each statement and each statistic. An entity's content is JSON in exactly the shape its write
 * body takes (a statement carries its `conditionId` and `section`, a source its `definedIn`), so
 * a revision's `after` can be sent back as a PUT/POST body, and replaying the feed's `after`s
 * rebuilds the content files.
 */

/** The fields of a condition that belong to no child entity (codes and related links included). */
export const CONDITION_OWN_FIELDS = ['id', 'name', 'aliases', 'summary', 'summarySources', 'lastReviewed', 'codes', 'related'] as const;
export type ConditionOwn = Pick<ConditionContent, (typeof CONDITION_OWN_FIELDS)[number]>;

export interface Entity {
  type: EntityType;
  id: string;
  /** The condition the entity belongs to (for a source: the one defining it). */
  conditionId: string;
  content: Record<string, unknown>;
}

export function conditionOwn(c: ConditionContent): ConditionOwn {
  return { id: c.id, name: c.name, aliases: c.aliases, summary: c.summary, summarySources: c.summarySources, lastReviewed: c.lastReviewed, codes: c.codes, related: c.related };
}

export function sourceEntity(definedIn: string, s: SourceContent): Record<string, unknown> {
  return { definedIn, ...s };
}

export function statisticEntity(conditionId: string, s: StatisticContent): Record<string, unknown> {
  return { conditionId, ...s };
}

export function statementEntity(conditionId: string, section: StatementSectionKey, item: object): Record<string, unknown> {
  return { conditionId, section: sectionName(section), ...item };
}

/** Every entity of a condition: the condition first, then its sources, statements and statistics in document order. */
export function entitiesOf(c: ConditionContent): Entity[] {
  return [
    { type: 'condition', id: c.id, conditionId: c.id, content: { ...conditionOwn(c) } },
    ...c.sources.map((s): Entity => ({ type: 'source', id: s.id, conditionId: c.id, content: sourceEntity(c.id, s) })),
    ...statementsOf(c).map(({ section, item }): Entity => ({ type: 'statement', id: item.id, conditionId: c.id, content: statementEntity(c.id, section, item) })),
    ...c.statistics.map((s): Entity => ({ type: 'statistic', id: s.id, conditionId: c.id, content: statisticEntity(c.id, s) })),
  ];
}

export interface EntityChange {
  type: EntityType;
  id: string;
  action: 'create' | 'update' | 'delete';
  before: Entity | undefined;
  after: Entity | undefined;
}

/**
 * What changed between two sets of entities. Creates and updates come in document order (a
 * condition before its children), deletes after them in reverse (children before their condition),
 * so a consumer applying the feed in order never sees a child without its condition.
 */
export function diffEntities(before: Entity[], after: Entity[]): EntityChange[] {
  const key = (e: Entity) => `${e.type}:${e.id}`;
  const old = new Map(before.map((e) => [key(e), e]));
  const next = new Map(after.map((e) => [key(e), e]));
  const changes: EntityChange[] = [];
  for (const e of after) {
    const prev = old.get(key(e));
    if (!prev) changes.push({ type: e.type, id: e.id, action: 'create', before: undefined, after: e });
    else if (JSON.stringify(prev.content) !== JSON.stringify(e.content)) changes.push({ type: e.type, id: e.id, action: 'update', before: prev, after: e });
  }
  for (const e of [...before].reverse()) {
    if (!next.has(key(e))) changes.push({ type: e.type, id: e.id, action: 'delete', before: e, after: undefined });
  }
  return changes;
}

/**
 * A value with its object keys in the order of the schema's properties (recursively), so content
 * that arrives in a request body compares and serializes exactly like content read from the
 * database. Keys the schema does not know are kept at the end (validation rejects them).
 */
export function canonicalize(schema: TSchema | undefined, value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => canonicalize((schema as { items?: TSchema } | undefined)?.items, v));
  if (value === null || typeof value !== 'object') return value;
  const s = schema as { properties?: Record<string, TSchema>; anyOf?: TSchema[] } | undefined;
  const props = s?.properties ?? (s?.anyOf?.find((b) => (b as { properties?: unknown }).properties) as { properties?: Record<string, TSchema> } | undefined)?.properties;
  if (!props) return value;
  const input = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(props)) if (k in input) out[k] = canonicalize(props[k], input[k]);
  for (const k of Object.keys(input)) if (!(k in props)) out[k] = input[k];
  return out;
}

export function canonicalCondition(c: ConditionContent): ConditionContent {
  return canonicalize(ConditionContentSchema, c) as ConditionContent;
}

/* Curated writes */

/*
 * Curated writes at the storage level. A write is expressed as whole conditions: the content of
 * each condition it touches before and after (undefined = absent). Committing stores the after
 * state through the build's own row writer (above), bumps versions, and appends one
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
  const built = createBuildHistory(db);
  const rows = createRowWriter(db);
  const q = {
    deleteCitations: db.prepare<[{ id: string }]>(
      `DELETE FROM citations
       WHERE (entity_type = 'summary' AND entity_id = @id)
          OR (entity_type = 'statement' AND entity_id IN (SELECT id FROM statements WHERE condition_id = @id))
          OR (entity_type = 'statistic' AND entity_id IN (SELECT id FROM statistics WHERE condition_id = @id))
          OR (entity_type = 'related' AND entity_id >= @id || '#related-' AND entity_id < @id || '#related.')`,
    ),
    deleteSearchRows: db.prepare<[string]>('DELETE FROM search_rows WHERE condition_id = ?'),
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
    // A curated revision's version is above the build's, so the build's counts only without one.
    return q.lastVersion.get(type, id)?.version ?? built.entryOf(type, id)?.version ?? 0;
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
