/**
 * What keeps a curated write's cost from growing with the corpus (the bench's write scenario
 * measures the time; these pin the causes, which a timing cannot):
 * - every foreign key's child column leads an index, because SQLite checks a key from the child's
 *   side whenever a parent row is deleted, and a write replaces each changed entity's row (without
 *   one, each statement replaced scanned every statistic: 3–35 ms at 1,000 conditions);
 * - the URLs a write changes are found from the written condition and the conditions it reaches,
 *   never by walking every condition (a fallback that did, for each statistic, cost ~30 ms a write
 *   at 1,000 conditions).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { affectedUrls } from '../src/curation/affects.js';
import type { ConditionContent } from '../src/content/schema.js';
import { loadContent } from '../src/content/load.js';
import { CONTENT_DIR } from '../src/paths.js';
import { buildTestApp, type TestContext } from './helpers.js';

describe('foreign keys are indexed on their child columns', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await buildTestApp();
  });
  afterAll(() => ctx.close());

  it('every foreign key of every table leads an index or the primary key', () => {
    const db = ctx.app.db;
    const tables = db.prepare<[], string>("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND sql NOT LIKE 'CREATE VIRTUAL%'").pluck().all();
    const unindexed: string[] = [];
    let keys = 0;
    for (const table of tables) {
      const fks = db.prepare<[], { from: string; table: string }>(`SELECT "from", "table" FROM pragma_foreign_key_list('${table}')`).all();
      const leading = new Set(
        db
          .prepare<[], { name: string }>(`SELECT name FROM pragma_index_list('${table}')`)
          .all()
          .map((i) => db.prepare<[], string>(`SELECT name FROM pragma_index_info('${i.name}') WHERE seqno = 0`).pluck().get()),
      );
      const pk = db.prepare<[], string>(`SELECT name FROM pragma_table_info('${table}') WHERE pk = 1`).pluck().get();
      for (const fk of fks) {
        keys++;
        if (!leading.has(fk.from) && pk !== fk.from) unindexed.push(`${table}.${fk.from} -> ${fk.table}`);
      }
    }
    expect(keys).toBeGreaterThan(5);
    expect(unindexed).toEqual([]);
  });

  it("the check a statement's deletion makes uses the index (statistics about a treatment)", () => {
    const plan = ctx.app.db
      .prepare<[string], { detail: string }>('EXPLAIN QUERY PLAN SELECT 1 FROM statistics WHERE treatment_id = ?')
      .all('calciphylaxis.treatment.multidisciplinary-care')
      .map((r) => r.detail)
      .join('\n');
    expect(plan).toMatch(/USING (COVERING )?INDEX statistics_treatment/);
  });
});

/** A corpus that refuses to be walked: only lookups by id are allowed. */
class LookupOnly extends Map<string, ConditionContent> {
  override values(): MapIterator<ConditionContent> {
    throw new Error('the corpus was walked');
  }
}

describe("a write's affected URLs", () => {
  const corpus = new Map(loadContent(CONTENT_DIR).map(({ content }) => [content.id, content]));
  const calciphylaxis = corpus.get('calciphylaxis');

  it('are found without walking the corpus, and are the same as with a plain map', () => {
    if (!calciphylaxis) throw new Error('content lacks calciphylaxis');
    // A figure's value changes: its fact, the lists holding it, the condition's document.
    const [first, ...rest] = calciphylaxis.statistics;
    if (!first) throw new Error('calciphylaxis has no statistics');
    const edited: ConditionContent = { ...calciphylaxis, statistics: [{ ...first, text: `${first.text} (edited)` }, ...rest] };
    const after = new Map(corpus).set('calciphylaxis', edited);
    const urls = affectedUrls(new LookupOnly(corpus), new LookupOnly(after), ['calciphylaxis']);
    expect(urls).toContain(`/v1/facts/${first.id}`);
    expect(urls).toContain('/v1/conditions/calciphylaxis');
    expect(urls).toEqual(affectedUrls(corpus, after, ['calciphylaxis']));
  });
});
