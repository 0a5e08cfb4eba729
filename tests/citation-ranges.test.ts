/**
 * A condition's citations are read as ranges of the citations key (`<condition>.` up to
 * `<condition>/`, src/repositories/content.ts): a condition whose id begins with another's must
 * still get exactly its own citations, every list in its order, as its file has them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildFromContent } from '../src/content/build.js';
import { loadContent } from '../src/content/load.js';
import { openDatabase, type Sqlite } from '../src/db/connection.js';
import { createContentRepository } from '../src/repositories/content.js';
import { FIXTURES_DIR, tempContent } from './helpers.js';

let dir: string;
let contentDir: string;
let db: Sqlite;

beforeAll(() => {
  ({ dir, contentDir } = tempContent(['examplitis.yaml']));
  // examplitis-b: examplitis under an id that has examplitis's as its start (its sources renamed:
  // source ids are unique across the corpus), so a citation read into the wrong condition shows.
  const fixture = loadContent(contentDir).find((c) => c.content.id === 'examplitis')?.content;
  let text = readFileSync(join(FIXTURES_DIR, 'examplitis.yaml'), 'utf8').replaceAll('examplitis', 'examplitis-b').replace(/^name: .*$/m, 'name: Examplitis B');
  for (const s of fixture?.sources ?? []) text = text.replace(new RegExp(`(?<![\\w-])${s.id}(?![\\w-])`, 'g'), `${s.id}-b`);
  writeFileSync(join(contentDir, 'examplitis-b.yaml'), text);
  buildFromContent(contentDir, join(dir, 'kb.sqlite'));
  db = openDatabase(join(dir, 'kb.sqlite'), { readonly: true });
});
afterAll(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('citations read back by key range', () => {
  it('gives each condition exactly the citations of its files, in order, when one id begins with another', () => {
    const content = createContentRepository(db);
    const files = new Map(loadContent(contentDir).map((c) => [c.content.id, c.content]));
    expect([...files.keys()]).toEqual(expect.arrayContaining(['calciphylaxis', 'examplitis', 'examplitis-b']));
    for (const [id, file] of files) expect(content.get(id), id).toEqual(file);
  });

  it('the fixture has what the ranges must keep apart: statement, statistic and summary citations, and lists of several sources', () => {
    const own = loadContent(contentDir).find((c) => c.content.id === 'examplitis-b')?.content;
    expect(own?.statistics.some((s) => s.sources.length > 0)).toBe(true);
    expect(own?.summarySources.length).toBeGreaterThan(0);
    expect(db.prepare("SELECT count(*) FROM citations WHERE entity_type IN ('statement', 'statistic') AND position > 0").pluck().get()).toBeGreaterThan(0);
    const counts = db.prepare<[], { entity_type: string; n: number }>("SELECT entity_type, count(*) AS n FROM citations WHERE entity_id LIKE 'examplitis%' GROUP BY entity_type").all();
    expect(counts.map((c) => c.entity_type).sort()).toEqual(expect.arrayContaining(['statement', 'statistic', 'summary']));
  });
});
