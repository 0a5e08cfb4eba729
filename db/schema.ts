/**
 * Drizzle table definitions for the knowledge base. drizzle-kit generates `migrations/` from this
 * file; the FTS5 index lives in a hand-written migration because drizzle-kit cannot express
 * virtual tables.
 *
 * Every section item of a condition (symptom, cause, risk factor, ...) is one row of `statements`:
 * one atomic, citable fact with a stable id. Section-specific attributes are nullable columns
 * rather than one table per section, so that facts, search and citations treat all sections alike.
 */
import { sql } from 'drizzle-orm';
import { sqliteTable, text, integer, real, blob, primaryKey, index, uniqueIndex } from 'drizzle-orm/sqlite-core';
// Types only (erased at run time, so drizzle-kit loads this file alone): the row types that
// `$inferSelect` / `$inferInsert` give carry the content schema's enums instead of plain strings.
import type { ChangeAction, Confidence, ConditionContent, EntityType, SourceContent, StatementSectionKey, StatisticContent } from '../src/content/schema.js';
import type { BuiltEncoding } from '../src/repositories/builtContents.js';

type Code = ConditionContent['codes'][number];
type Treatment = ConditionContent['treatments'][number];
/** What `statements.category` holds: a risk factor's type, a diagnostic method or a treatment's type. */
export type StatementCategory = ConditionContent['riskFactors'][number]['type'] | ConditionContent['diagnosis'][number]['method'] | Treatment['type'];
/** What a citation row cites from. */
export type CitingType = 'statement' | 'statistic' | 'summary' | 'related';

export const conditions = sqliteTable('conditions', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  summary: text('summary').notNull(),
  version: integer('version').notNull(),
  lastReviewed: text('last_reviewed').notNull(),
});

export const conditionAliases = sqliteTable(
  'condition_aliases',
  {
    conditionId: text('condition_id')
      .notNull()
      .references(() => conditions.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    alias: text('alias').notNull(),
  },
  (t) => [primaryKey({ columns: [t.conditionId, t.position] })],
);

export const conditionCodes = sqliteTable(
  'condition_codes',
  {
    conditionId: text('condition_id')
      .notNull()
      .references(() => conditions.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    system: text('system').$type<Code['system']>().notNull(),
    code: text('code').notNull(),
    display: text('display'),
    match: text('match').$type<Code['match']>().notNull(),
    note: text('note'),
    confidence: text('confidence').$type<Confidence>().notNull(),
  },
  (t) => [primaryKey({ columns: [t.conditionId, t.system, t.code] }), index('condition_codes_lookup').on(t.system, t.code)],
);

export const sources = sqliteTable(
  'sources',
  {
    id: text('id').primaryKey(),
    /** The condition file that defines this source; other conditions may cite it too. */
    definedIn: text('defined_in')
      .notNull()
      .references(() => conditions.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    kind: text('kind').$type<SourceContent['kind']>().notNull(),
    year: integer('year'),
    title: text('title'),
    label: text('label'),
    /** JSON array of author names in citation order. */
    authors: text('authors').notNull(),
    journal: text('journal'),
    volume: text('volume'),
    pages: text('pages'),
    doi: text('doi'),
    pmid: text('pmid'),
    pmcid: text('pmcid'),
    url: text('url'),
    citedAs: text('cited_as'),
    attribution: text('attribution').$type<SourceContent['attribution']>().notNull(),
    licence: text('licence'),
    note: text('note'),
    /** Bumped by every curated write of this source; 1 after a build. */
    version: integer('version').notNull().default(1),
  },
  // A condition's own sources are read with every document: without this, a full scan per read.
  (t) => [index('sources_defined_in').on(t.definedIn, t.position)],
);

export const statements = sqliteTable(
  'statements',
  {
    id: text('id').primaryKey(),
    conditionId: text('condition_id')
      .notNull()
      .references(() => conditions.id, { onDelete: 'cascade' }),
    /** Document section key: symptoms, causes, riskFactors, complications, diagnosis, treatments, prognosis, prevention. */
    section: text('section').$type<StatementSectionKey>().notNull(),
    position: integer('position').notNull(),
    name: text('name').notNull(),
    text: text('text').notNull(),
    confidence: text('confidence').$type<Confidence>().notNull(),
    /** symptoms */
    frequency: text('frequency').$type<ConditionContent['symptoms'][number]['frequency']>(),
    relatedCondition: text('related_condition'),
    /** riskFactors: demographic/condition/medication/lab; treatments: medication/procedure/...; diagnosis: method */
    category: text('category').$type<StatementCategory>(),
    /** diagnosis */
    purpose: text('purpose'),
    risks: text('risks'),
    /** treatments */
    route: text('route'),
    goal: text('goal'),
    regulatoryStatus: text('regulatory_status').$type<Treatment['regulatoryStatus']>(),
    regulatoryNote: text('regulatory_note'),
    /** differentialDiagnosis: the verified code of the condition ruled out */
    codeSystem: text('code_system').$type<Code['system']>(),
    code: text('code'),
    codeDisplay: text('code_display'),
    /** JSON array of lay questions the item answers; null when none are curated. */
    questions: text('questions'),
    /** Bumped by every curated write of this statement; 1 after a build. */
    version: integer('version').notNull().default(1),
  },
  (t) => [uniqueIndex('statements_order').on(t.conditionId, t.section, t.position)],
);

export const treatmentCodes = sqliteTable(
  'treatment_codes',
  {
    treatmentId: text('treatment_id')
      .notNull()
      .references(() => statements.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    system: text('system').$type<Treatment['codes'][number]['system']>().notNull(),
    code: text('code').notNull(),
    display: text('display'),
  },
  (t) => [primaryKey({ columns: [t.treatmentId, t.position] }), index('treatment_codes_lookup').on(t.system, t.code)],
);

export const statistics = sqliteTable(
  'statistics',
  {
    id: text('id').primaryKey(),
    conditionId: text('condition_id')
      .notNull()
      .references(() => conditions.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    measure: text('measure').$type<StatisticContent['measure']>().notNull(),
    value: real('value'),
    low: real('low'),
    high: real('high'),
    unit: text('unit').$type<StatisticContent['unit']>().notNull(),
    comparator: text('comparator').$type<StatisticContent['comparator']>(),
    population: text('population').notNull(),
    outcome: text('outcome'),
    timepoint: text('timepoint'),
    timepointMonths: real('timepoint_months'),
    sampleSize: integer('sample_size'),
    treatmentId: text('treatment_id').references(() => statements.id),
    text: text('text').notNull(),
    confidence: text('confidence').$type<Confidence>().notNull(),
    // The evidence model (migration 0004 backfills databases built before it).
    estimateType: text('estimate_type').$type<StatisticContent['estimateType']>().notNull().default('other'),
    intervalLevel: real('interval_level'),
    intervalLow: real('interval_low'),
    intervalHigh: real('interval_high'),
    events: integer('events'),
    comparedLabel: text('compared_label'),
    comparedTreatmentId: text('compared_treatment_id'),
    studyDesign: text('study_design').$type<StatisticContent['studyDesign']>().notNull().default('unknown'),
    /** The work that produced the figure; studyType and year filters match it. */
    primarySourceId: text('primary_source_id').references(() => sources.id),
    certainty: text('certainty').$type<StatisticContent['certainty']>().notNull().default('not-assessed'),
    certaintyBasis: text('certainty_basis'),
    /** Bumped by every curated write of this statistic; 1 after a build. */
    version: integer('version').notNull().default(1),
  },
  (t) => [
    index('statistics_measure').on(t.measure),
    index('statistics_condition').on(t.conditionId, t.position),
    // SQLite checks these foreign keys whenever a statement or source row is deleted (a curated
    // write replaces a changed entity's row): without an index each check scans every statistic.
    // Partial where most figures have none: `treatment_id = ?` implies the condition.
    index('statistics_treatment').on(t.treatmentId).where(sql`${t.treatmentId} IS NOT NULL`),
    index('statistics_primary_source').on(t.primarySourceId),
  ],
);

export const relatedConditions = sqliteTable(
  'related_conditions',
  {
    conditionId: text('condition_id')
      .notNull()
      .references(() => conditions.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    relatedId: text('related_id').notNull(),
    name: text('name').notNull(),
    relation: text('relation').$type<ConditionContent['related'][number]['relation']>().notNull(),
    text: text('text').notNull(),
  },
  (t) => [primaryKey({ columns: [t.conditionId, t.position] })],
);

/**
 * Citations of any citing entity: a statement, a statistic, a condition summary or a related link.
 * `entityId` is the statement/statistic id, the condition id for a summary, or
 * `<condition>#related-<position>` for a related link.
 *
 * A WITHOUT ROWID table since migration 0007 (hand-written there: drizzle-kit cannot say it): its
 * rows live in the primary key's b-tree, not in a rowid table plus an index repeating every column.
 */
export const citations = sqliteTable(
  'citations',
  {
    entityType: text('entity_type').$type<CitingType>().notNull(),
    entityId: text('entity_id').notNull(),
    position: integer('position').notNull(),
    sourceId: text('source_id')
      .notNull()
      .references(() => sources.id),
    /** Where in the work the item is supported ("abstract", "Table 2"); null when not recorded. */
    locator: text('locator'),
  },
  (t) => [primaryKey({ columns: [t.entityType, t.entityId, t.position] }), index('citations_source').on(t.sourceId)],
);

/** Build-level facts: dataset version, build time, licence text. */
export const meta = sqliteTable('meta', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
});

/**
 * Curator API keys. The key itself (`kb_<id>_<secret>`) is shown once at creation; only a per-key
 * salt and an HMAC-SHA256 of the secret are stored, so a copy of the database grants no access.
 */
export const apiKeys = sqliteTable('api_keys', {
  /** Short random public id: the middle part of the key, safe to show in logs and revisions. */
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  /** JSON array of scopes, e.g. ["content:write"]. */
  scopes: text('scopes').notNull(),
  salt: text('salt').notNull(),
  hash: text('hash').notNull(),
  createdAt: text('created_at').notNull(),
  revokedAt: text('revoked_at'),
});

/**
 * Every version of every entity: who changed it (null for the build), when, and its content before
 * and after, as JSON in the shape a write body takes. Entities: condition (its own fields), statement,
 * statistic, source. Kept after an entity is deleted, so history outlives content.
 *
 * The build's own `create` entries are not rows here or in `changes` since migration 0012: each
 * built condition's are one range of seqs in `built_contents` (src/repositories/buildHistory.ts;
 * 124,000 revision and change rows at 1,000 conditions were 30 MB of 146). Databases built before
 * it keep theirs as rows: from migration 0007 with `after` null and the content in
 * `built_contents`, before 0007 with `after` in the row.
 */
export const revisions = sqliteTable(
  'revisions',
  {
    seq: integer('seq').primaryKey({ autoIncrement: true }),
    entityType: text('entity_type').$type<EntityType>().notNull(),
    entityId: text('entity_id').notNull(),
    conditionId: text('condition_id').notNull(),
    version: integer('version').notNull(),
    /** create, update or delete */
    action: text('action').$type<ChangeAction>().notNull(),
    actorKeyId: text('actor_key_id'),
    at: text('at').notNull(),
    before: text('before'),
    after: text('after'),
  },
  (t) => [index('revisions_entity').on(t.entityType, t.entityId, t.seq)],
);

/**
 * The contents the build created, per condition: a JSON object mapping `"<entityType> <entityId>"`
 * to the entity's content in the shape a write body takes, exactly what its `create` revision
 * would hold in `after`, compressed as `encoding` says (src/repositories/builtContents.ts: Brotli
 * since migration 0011, raw DEFLATE before). Written once by `kb build`, never changed, and kept
 * when the condition is deleted (no foreign key): history outlives content.
 *
 * Since migration 0012 the row is also the history of that build: its `entries` creates have the
 * seqs `firstSeq`, `firstSeq + 1`, … in the body's key order, each at the build's time (meta
 * `builtAt`), the condition at `conditionVersion` and every other entity at version 1. The three
 * are null in rows written before 0012, whose entries are rows of `revisions` and `changes`.
 */
export const builtContents = sqliteTable(
  'built_contents',
  {
    conditionId: text('condition_id').primaryKey(),
    body: blob('body', { mode: 'buffer' }).notNull(),
    encoding: text('encoding').$type<BuiltEncoding>().notNull().default('deflate-raw'),
    firstSeq: integer('first_seq'),
    entries: integer('entries'),
    conditionVersion: integer('condition_version'),
  },
  (t) => [uniqueIndex('built_contents_first_seq').on(t.firstSeq)],
);

/**
 * Which condition's `built_contents` holds a source's build entry (its condition at build time;
 * a curated write may move it since). Statements and statistics need none: their ids begin with
 * their condition's. A WITHOUT ROWID table (hand-written in migration 0012: drizzle-kit cannot say
 * it), so its 15,000 rows at 1,000 conditions are one b-tree.
 */
export const builtSources = sqliteTable('built_sources', {
  sourceId: text('source_id').primaryKey(),
  conditionId: text('condition_id').notNull(),
});

/**
 * The change feed: one row per revision, with the revision's seq, so reading it in seq order
 * replays every create, update and delete. Rows are only ever appended.
 */
export const changes = sqliteTable('changes', {
  seq: integer('seq').primaryKey({ autoIncrement: true }),
  entityType: text('entity_type').$type<EntityType>().notNull(),
  entityId: text('entity_id').notNull(),
  conditionId: text('condition_id').notNull(),
  action: text('action').$type<ChangeAction>().notNull(),
  version: integer('version').notNull(),
  /** The condition's version after this change; null when the condition itself is gone. */
  conditionVersion: integer('condition_version'),
  at: text('at').notNull(),
  /**
   * JSON array of the URLs whose representation the write changed (src/curation/affects.ts); null
   * for the build's entries, whose URLs follow from the entity (builtEntityAffects).
   */
  affects: text('affects'),
});

/** Responses of successful creates by (API key, Idempotency-Key), replayed when a POST is retried. */
export const idempotencyKeys = sqliteTable(
  'idempotency_keys',
  {
    keyId: text('key_id')
      .notNull()
      .references(() => apiKeys.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    status: integer('status').notNull(),
    body: text('body').notNull(),
    location: text('location'),
    createdAt: text('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.keyId, t.key] }), index('idempotency_keys_created').on(t.createdAt)],
);
