/**
 * Migrations 0008 and 0009: search rows live in `search_rows` (indexed by condition, without the
 * texts) and `search_index` is an external-content FTS5 table over the view `search_content`, which
 * reads each item's title and body from its own row; triggers on search_rows keep the index. The
 * index must stay exact: after a write, search finds the new text and not the old, and FTS5's own
 * integrity check, which compares every indexed token with the content (`rank` 1), passes. An
 * existing database keeps its rows and rowids through the migrations.
 */
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations, openDatabase, toDrizzle, type Sqlite } from '../src/db/connection.js';
import { MIGRATIONS_DIR } from '../src/paths.js';
import { buildCurationApp, type CurationContext } from './writes/helpers.js';

const FACT = '/v1/facts/calciphylaxis.symptom.livedo-patches';
// Invented words, so that only the edited texts can match them.
const OLD_WORD = 'quorvanite';
const NEW_WORD = 'zeltharine';

/** FTS5's check of the index against its content table: throws when a token is missing or extra. */
function checkIndex(db: Sqlite): void {
  db.prepare("INSERT INTO search_index (search_index, rank) VALUES ('integrity-check', 1)").run();
}

describe('writes keep the search index exact', () => {
  let ctx: CurationContext;
  beforeAll(async () => {
    ctx = await buildCurationApp();
  });
  afterAll(() => ctx.close());

  const found = async (word: string): Promise<string[]> => {
    const res = await ctx.app.inject({ url: `/v1/search?q=${word}` });
    expect(res.statusCode).toBe(200);
    return res.json<{ data: { id: string }[] }>().data.map((h) => h.id);
  };
  const patch = async (text: string) => {
    const res = await ctx.send({ method: 'PATCH', url: FACT, payload: { text }, headers: { 'if-match': await ctx.etag(FACT) } });
    expect(res.statusCode).toBe(200);
  };

  it('a PATCH: the new text is found, the old is not, and the index matches its rows', async () => {
    const rows = () => ctx.app.db.prepare<[], { n: number }>("SELECT count(*) AS n FROM search_rows WHERE condition_id = 'calciphylaxis'").get()?.n;
    const before = rows();
    await patch(`Net-like purple patches; ${OLD_WORD} marks the first edit.`);
    expect(await found(OLD_WORD)).toEqual(['calciphylaxis.symptom.livedo-patches']);
    await patch(`Net-like purple patches; ${NEW_WORD} marks the second edit.`);
    expect(await found(NEW_WORD)).toEqual(['calciphylaxis.symptom.livedo-patches']);
    expect(await found(OLD_WORD)).toEqual([]);
    // One row per entity still: each write replaced the statement's row.
    expect(rows()).toBe(before);
    expect(ctx.app.db.prepare("SELECT count(*) AS n FROM search_rows WHERE entity_id = 'calciphylaxis.symptom.livedo-patches'").get()).toEqual({ n: 1 });
    expect(() => checkIndex(ctx.app.db)).not.toThrow();
  });

  it('the integrity check fails when the index and its content disagree (so the check above can fail)', () => {
    const db = ctx.app.db;
    db.exec('SAVEPOINT probe');
    try {
      // A statement's text changed without its search row: the index still holds the old tokens.
      db.prepare("UPDATE statements SET text = 'nothing indexed here' WHERE id = 'calciphylaxis.symptom.livedo-patches'").run();
      expect(() => checkIndex(db)).toThrow();
    } finally {
      db.exec('ROLLBACK TO probe; RELEASE probe');
    }
    expect(() => checkIndex(db)).not.toThrow();
  });
});

describe('migrations 0008 and 0009 (search rows, the index over the content)', () => {
  it('keeps every row of an existing index, with its rowid, searchable the same way', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-migrate-0008-'));
    try {
      const old = join(dir, 'migrations');
      cpSync(MIGRATIONS_DIR, old, { recursive: true });
      // The release before it: migrations 0000–0007.
      for (const name of readdirSync(old)) if (/^00(0[8-9]|[1-9])/.test(name)) rmSync(join(old, name));
      const journal = JSON.parse(readFileSync(join(old, 'meta', '_journal.json'), 'utf8')) as { entries: { tag: string }[] };
      journal.entries = journal.entries.filter((e) => e.tag < '0008');
      writeFileSync(join(old, 'meta', '_journal.json'), JSON.stringify(journal));
      const db = openDatabase(join(dir, 'old.sqlite'));
      try {
        migrate(toDrizzle(db), { migrationsFolder: old });
        db.exec(`INSERT INTO conditions (id, name, summary, version, last_reviewed) VALUES ('oldtitis', 'Oldtitis', 'An old condition of the knees.', 1, '2025-01-01');
          INSERT INTO condition_aliases (condition_id, position, alias) VALUES ('oldtitis', 0, 'knee age');
          INSERT INTO statements (id, condition_id, section, position, name, text, confidence, purpose, questions)
            VALUES ('oldtitis.treatment.rest', 'oldtitis', 'treatments', 0, 'Rest', 'Resting the knees helps.', 'high', 'Less strain', '["does rest help"]');
          INSERT INTO search_index (rowid, kind, entity_id, condition_id, section, section_name, title, body, questions) VALUES
          (7, 'condition', 'oldtitis', 'oldtitis', 'condition', 'overview', 'Oldtitis', 'An old condition of the knees. knee age', ''),
          (12, 'treatment', 'oldtitis.treatment.rest', 'oldtitis', 'treatments', 'treatments', 'Rest', 'Resting the knees helps. Less strain', 'does rest help');`);
        applyMigrations(db);
        // The rows keep their rowids; the view composes the title and body as the writer did.
        expect(db.prepare('SELECT id, kind, entity_id AS entityId, condition_id AS conditionId, section, section_name AS sectionName, title, body, questions FROM search_content ORDER BY id').all()).toEqual([
          { id: 7, kind: 'condition', entityId: 'oldtitis', conditionId: 'oldtitis', section: 'condition', sectionName: 'overview', title: 'Oldtitis', body: 'An old condition of the knees. knee age', questions: '' },
          { id: 12, kind: 'treatment', entityId: 'oldtitis.treatment.rest', conditionId: 'oldtitis', section: 'treatments', sectionName: 'treatments', title: 'Rest', body: 'Resting the knees helps. Less strain', questions: 'does rest help' },
        ]);
        const match = (q: string) => db.prepare<[string], { rowid: number; entityId: string }>('SELECT rowid, entity_id AS entityId FROM search_index WHERE search_index MATCH ? ORDER BY rowid').all(q);
        expect(match('knees')).toEqual([
          { rowid: 7, entityId: 'oldtitis' },
          { rowid: 12, entityId: 'oldtitis.treatment.rest' },
        ]);
        expect(match('questions : help')).toEqual([{ rowid: 12, entityId: 'oldtitis.treatment.rest' }]);
        expect(match('strain')).toEqual([{ rowid: 12, entityId: 'oldtitis.treatment.rest' }]);
        expect(() => checkIndex(db)).not.toThrow();
        // Rows written after the migration are indexed by the triggers.
        db.prepare("DELETE FROM search_rows WHERE entity_id = 'oldtitis.treatment.rest'").run();
        expect(match('knees')).toEqual([{ rowid: 7, entityId: 'oldtitis' }]);
        expect(() => checkIndex(db)).not.toThrow();
      } finally {
        db.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
