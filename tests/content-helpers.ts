/**
 * The shared setup of the per-condition content tests (tests/content-*.test.ts): the shipped
 * content built into a fresh database through the server's own factory (buildTestApp), the app
 * for the HTTP checks, and a read-only handle for pinning rows. Rows are typed and keyed as the
 * tables define them (`$inferSelect` of db/schema.ts, through selectColumns), so a column renamed
 * or retyped there fails to compile here instead of silently reading undefined.
 */
import { afterAll, beforeAll } from 'vitest';
import * as t from '../db/schema.js';
import { openDatabase, type Sqlite } from '../src/db/connection.js';
import { selectColumns, type CitationRow, type CodeRow, type RelatedRow, type SourceRow, type StatisticRow } from '../src/repositories/rowContent.js';
import { buildTestApp, type TestContext } from './helpers.js';

/** A code mapping as the content tests pin it: without its row bookkeeping (position, note, confidence). */
export type PinnedCode = Pick<CodeRow, 'system' | 'code' | 'display' | 'match'>;

export interface BuiltContent {
  /** The read-only handle, for the one-off queries a test makes. */
  readonly db: Sqlite;
  readonly app: TestContext['app'];
  /** A statistic's row, with the ids of the works it cites in citation order; throws when it is missing. */
  stat(id: string): StatisticRow & { sourceIds: string[] };
  /** The ids of a condition's statistics, in file order. */
  statisticIds(conditionId: string): string[];
  /** The ids of the works an item cites, in citation order. */
  citedBy(entityType: CitationRow['entityType'], entityId: string): string[];
  /** A condition's code mappings, in file order. */
  codes(conditionId: string): PinnedCode[];
  /** A condition's related links, in file order. */
  related(conditionId: string): RelatedRow[];
  source(id: string): SourceRow | undefined;
}

/**
 * Builds the shipped content (every condition file) once for the test file, before its tests,
 * and removes it after them. Call at the top level of a test file.
 */
export function useBuiltContent(): BuiltContent {
  let ctx: TestContext | undefined;
  let handle: Sqlite | undefined;
  beforeAll(async () => {
    ctx = await buildTestApp();
    handle = openDatabase(ctx.config.databasePath, { readonly: true });
  }, 120_000);
  afterAll(async () => {
    handle?.close();
    await ctx?.close();
  });
  const db = (): Sqlite => {
    if (!handle) throw new Error('the content database is read in tests only (after beforeAll)');
    return handle;
  };
  const citedBy = (entityType: CitationRow['entityType'], entityId: string): string[] =>
    db()
      .prepare<[string, string], Pick<CitationRow, 'sourceId'>>('SELECT source_id AS sourceId FROM citations WHERE entity_type = ? AND entity_id = ? ORDER BY position')
      .all(entityType, entityId)
      .map((r) => r.sourceId);
  return {
    get db() {
      return db();
    },
    get app() {
      if (!ctx) throw new Error('the app is used in tests only (after beforeAll)');
      return ctx.app;
    },
    stat(id) {
      const row = db().prepare<[string], StatisticRow>(`SELECT ${selectColumns(t.statistics)} FROM statistics WHERE id = ?`).get(id);
      if (!row) throw new Error(`statistic ${id} is missing`);
      return { ...row, sourceIds: citedBy('statistic', id) };
    },
    statisticIds(conditionId) {
      return db()
        .prepare<[string], Pick<StatisticRow, 'id'>>('SELECT id FROM statistics WHERE condition_id = ? ORDER BY position')
        .all(conditionId)
        .map((r) => r.id);
    },
    citedBy,
    codes(conditionId) {
      return db().prepare<[string], PinnedCode>('SELECT system, code, display, match FROM condition_codes WHERE condition_id = ? ORDER BY position').all(conditionId);
    },
    related(conditionId) {
      return db().prepare<[string], RelatedRow>(`SELECT ${selectColumns(t.relatedConditions)} FROM related_conditions WHERE condition_id = ? ORDER BY position`).all(conditionId);
    },
    source(id) {
      return db().prepare<[string], SourceRow>(`SELECT ${selectColumns(t.sources)} FROM sources WHERE id = ?`).get(id);
    },
  };
}
