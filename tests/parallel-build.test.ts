/**
 * `kb build` reads the files in a worker thread while it writes rows (src/content/parallelBuild.ts):
 * the database must be the one a one-thread build makes of the same files, table by table and row
 * by row, and bad content must be reported exactly as the one-thread build reports it, with
 * nothing built.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeBenchContent } from '../bench/corpus.js';
import { buildDatabase, buildFromContent } from '../src/content/build.js';
import { loadContent } from '../src/content/load.js';
import { buildFromContentInParallel } from '../src/content/parallelBuild.js';
import { openDatabase } from '../src/db/connection.js';
import { CONTENT_DIR } from '../src/paths.js';
import { loadVocabulary } from '../src/retrieval/vocabulary.js';
import { contentProblemsOf } from './helpers.js';

let dir: string;
let contentDir: string;
const BUILT_AT = new Date('2026-01-02T03:04:05.000Z');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kb-parallel-'));
  contentDir = join(dir, 'content');
  // Calciphylaxis, the consumer vocabulary and 11 synthetic conditions.
  writeBenchContent(CONTENT_DIR, contentDir, 12);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every table's rows in storage order (rowid, or key for WITHOUT ROWID tables), as one digest per table. */
function tableDigests(path: string): Record<string, string> {
  const db = openDatabase(path, { readonly: true });
  try {
    const tables = db.prepare<[], { name: string; sql: string }>("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all();
    const out: Record<string, string> = {};
    for (const { name, sql } of tables) {
      // A WITHOUT ROWID table scans in key order.
      const query = /WITHOUT ROWID/i.test(sql) ? `SELECT * FROM "${name}"` : `SELECT rowid, * FROM "${name}" ORDER BY rowid`;
      const hash = createHash('sha256');
      let rows = 0;
      for (const row of db.prepare(query).raw().iterate() as Iterable<unknown[]>) {
        hash.update(JSON.stringify(row.map((v) => (Buffer.isBuffer(v) ? v.toString('hex') : v))));
        rows++;
      }
      out[name] = `${rows} rows ${hash.digest('hex')}`;
    }
    return out;
  } finally {
    db.close();
  }
}

describe('kb build on two threads', () => {
  it('makes the database a one-thread build makes: every table, every row, in the same order', () => {
    const one = buildDatabase(loadContent(contentDir), join(dir, 'one.sqlite'), BUILT_AT, loadVocabulary(contentDir));
    const two = buildFromContentInParallel(contentDir, join(dir, 'two.sqlite'), undefined, BUILT_AT);
    expect(two).toEqual({ ...one, path: join(dir, 'two.sqlite') });
    expect(two.conditions).toBe(12);
    const digests = tableDigests(join(dir, 'two.sqlite'));
    expect(Object.keys(digests)).toEqual(expect.arrayContaining(['statements', 'citations', 'changes', 'revisions', 'built_contents', 'search_index_data']));
    expect(digests).toEqual(tableDigests(join(dir, 'one.sqlite')));
  });

  it('writes a citation of a source defined by a condition read after it (foreign keys checked at the commit)', () => {
    const cross = join(dir, 'cross');
    cpSync(contentDir, cross, { recursive: true });
    // calciphylaxis.yaml is read before synthetic-0012.yaml; cite one of the latter's sources from it.
    const later = readFileSync(join(cross, 'synthetic-0012.yaml'), 'utf8');
    const sourceId = /^ {2}- id: (\S+)$/m.exec(later.slice(later.indexOf('\nsources:')))?.[1];
    expect(sourceId).toBeDefined();
    const file = join(cross, 'calciphylaxis.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('      - kodumudi-2020\n', `      - kodumudi-2020\n      - ${sourceId}\n`));
    const two = buildFromContentInParallel(cross, join(dir, 'cross.sqlite'), undefined, BUILT_AT);
    expect(tableDigests(join(dir, 'cross.sqlite'))).toEqual(tableDigests(buildDatabase(loadContent(cross), join(dir, 'cross-one.sqlite'), BUILT_AT, loadVocabulary(cross)).path));
    const db = openDatabase(two.path, { readonly: true });
    try {
      expect(db.prepare('SELECT count(*) FROM citations WHERE source_id = ?').pluck().get(sourceId)).toBeGreaterThan(0);
    } finally {
      db.close();
    }
  });

  it.each([
    ['a file that is not valid YAML', (text: string) => `${text}\n  bad: [unclosed\n`],
    ['a schema problem', (text: string) => text.replace(/^name: .*$/m, 'name: 0b101\nnonsense: 1')],
    ['a cross-reference problem found only once every file is read', (text: string) => text.replace(/^( {6}- )(\S+)$/m, '$1no-such-source')],
  ])('reports %s as the one-thread build does and builds nothing', (_name, breakIt) => {
    const bad = join(dir, `bad-${_name.length}`);
    cpSync(contentDir, bad, { recursive: true });
    const file = join(bad, 'synthetic-0007.yaml');
    writeFileSync(file, breakIt(readFileSync(file, 'utf8')));
    const target = join(dir, `bad-${_name.length}.sqlite`);
    const expected = contentProblemsOf(() => buildFromContent(bad, target));
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.every((p) => p.file.endsWith('synthetic-0007.yaml'))).toBe(true);
    expect(contentProblemsOf(() => buildFromContentInParallel(bad, target))).toEqual(expected);
    expect(existsSync(target)).toBe(false);
    expect(readdirSync(dir).filter((name) => name.includes('.build-'))).toEqual([]);
  });
});
