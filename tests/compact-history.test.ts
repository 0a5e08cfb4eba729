/**
 * Migration 0007: the build's create revisions keep their contents compressed per condition
 * (`built_contents`) and citations is a WITHOUT ROWID table; 0011: those contents are Brotli; 0012:
 * the build's creates are one range of seqs per condition instead of rows. A database built the old way (every
 * revision's `after` in its row, citations in a rowid table) is migrated at open, and both it and a
 * database built the new way answer the change feed and every revision endpoint with the same
 * bytes, before and after curated writes.
 */
import { copyFileSync, cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, deflateRawSync } from 'node:zlib';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { buildDatabase } from '../src/content/build.js';
import { LICENCE_TEXT, ATTRIBUTION_TEXT } from '../src/content/licence.js';
import { loadContent } from '../src/content/load.js';
import { applyMigrations, openDatabase, toDrizzle } from '../src/db/connection.js';
import { CONTENT_DIR, MIGRATIONS_DIR } from '../src/paths.js';
import { createApiKeysRepository } from '../src/repositories/apiKeys.js';
import { createHistoryWriter, createRowWriter, datasetVersionOf, entitiesOf } from '../src/repositories/rows.js';
import { loadVocabulary } from '../src/retrieval/vocabulary.js';

const dir = mkdtempSync(join(tmpdir(), 'kb-compact-'));
const BUILT_AT = new Date('2026-11-30T12:00:00.000Z');
const corpus = loadContent(CONTENT_DIR);
const vocabulary = loadVocabulary(CONTENT_DIR);

/** What `kb build` wrote before migration 0007: migrations 0000–0006 and one full `after` per create revision. */
function buildTheOldWay(path: string): void {
  const old = join(dir, 'migrations-0006');
  cpSync(MIGRATIONS_DIR, old, { recursive: true });
  for (const name of readdirSync(old)) if (/^00(0[7-9]|[1-9])/.test(name)) rmSync(join(old, name));
  const journal = JSON.parse(readFileSync(join(old, 'meta', '_journal.json'), 'utf8')) as { entries: { tag: string }[] };
  journal.entries = journal.entries.filter((e) => e.tag < '0007');
  writeFileSync(join(old, 'meta', '_journal.json'), JSON.stringify(journal));
  const db = openDatabase(path);
  try {
    migrate(toDrizzle(db), { migrationsFolder: old });
    const contents = corpus.map((c) => c.content);
    // Before migration 0008 the writer inserted into search_index itself, with each item's title
    // and body; today's writes search_rows without them, so a temporary one hands each row on to
    // that release's search_index, composed as that writer composed them.
    db.exec(`CREATE TEMP TABLE search_rows (id INTEGER PRIMARY KEY, kind, entity_id, condition_id, section, section_name, questions);
      CREATE TEMP TRIGGER search_rows_insert AFTER INSERT ON search_rows BEGIN
        INSERT INTO main.search_index (kind, entity_id, condition_id, section, section_name, title, body, questions)
        SELECT new.kind, new.entity_id, new.condition_id, new.section, new.section_name,
          CASE new.kind WHEN 'condition' THEN c.name WHEN 'statistic' THEN st.measure || ': ' || st.population ELSE s.name END,
          CASE new.kind
            WHEN 'condition' THEN c.summary || coalesce((SELECT ' ' || group_concat(a.alias, ' ' ORDER BY a.position) FROM main.condition_aliases a WHERE a.condition_id = c.id), '')
            WHEN 'statistic' THEN concat_ws(' ', nullif(st.text, ''), nullif(st.outcome, ''), nullif(st.timepoint, ''))
            ELSE concat_ws(' ', s.text, nullif(s.purpose, ''), nullif(s.risks, ''), nullif(s.route, ''), nullif(s.goal, ''), nullif(s.regulatory_note, ''))
          END,
          new.questions
        FROM (SELECT 1) LEFT JOIN main.conditions c ON c.id = new.entity_id LEFT JOIN main.statistics st ON st.id = new.entity_id LEFT JOIN main.statements s ON s.id = new.entity_id;
      END;`);
    db.transaction(() => {
      createRowWriter(db).write(contents, () => 1);
      const meta = { datasetVersion: datasetVersionOf(contents), builtAt: BUILT_AT.toISOString(), licence: LICENCE_TEXT, attribution: ATTRIBUTION_TEXT, vocabulary: JSON.stringify(vocabulary) };
      const insert = db.prepare<[string, string]>('INSERT INTO meta (key, value) VALUES (?, ?)');
      for (const [key, value] of Object.entries(meta)) insert.run(key, value);
      const record = createHistoryWriter(db);
      for (const c of contents) {
        for (const e of entitiesOf(c)) {
          const version = e.type === 'condition' ? c.version : 1;
          record({ entityType: e.type, entityId: e.id, conditionId: e.conditionId, action: 'create', version, conditionVersion: c.version, actorKeyId: null, at: BUILT_AT.toISOString(), before: null, after: e.content });
        }
      }
    })();
    expect(db.prepare<[], { n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE name = 'built_contents'").get()?.n).toBe(0);
    db.exec('DROP TABLE temp.search_rows');
  } finally {
    db.close();
  }
}

/** Removes the last `n` migrations' records, so the next open applies them again. */
function forgetLastMigrations(db: ReturnType<typeof openDatabase>, n: number): void {
  db.prepare<[number]>('DELETE FROM __drizzle_migrations WHERE created_at IN (SELECT created_at FROM __drizzle_migrations ORDER BY created_at DESC LIMIT ?)').run(n);
}

/**
 * What a database built between migrations 0007 and 0011 holds, made from one built today: the
 * build's creates as one revision row (without `after`) and one change row each, the contents in
 * `built_contents`, and neither 0012's table nor its columns.
 */
function asBuiltBefore0012(from: string, path: string): void {
  copyFileSync(from, path);
  const db = openDatabase(path);
  try {
    db.transaction(() => {
      const builtAt = db.prepare<[], string>("SELECT value FROM meta WHERE key = 'builtAt'").pluck().get() ?? '';
      const ranges = db.prepare<[], { condition_id: string; body: Buffer; first_seq: number; condition_version: number }>('SELECT * FROM built_contents ORDER BY first_seq').all();
      const revision = db.prepare('INSERT INTO revisions (seq, entity_type, entity_id, condition_id, version, action, actor_key_id, at, before, after) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, NULL, NULL)');
      const change = db.prepare('INSERT INTO changes (seq, entity_type, entity_id, condition_id, action, version, condition_version, at, affects) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)');
      for (const r of ranges) {
        Object.keys(JSON.parse(brotliDecompressSync(r.body).toString('utf8')) as object).forEach((key, i) => {
          const [type = '', id = ''] = key.split(' ');
          const version = type === 'condition' ? r.condition_version : 1;
          revision.run(r.first_seq + i, type, id, r.condition_id, version, 'create', builtAt);
          change.run(r.first_seq + i, type, id, r.condition_id, 'create', version, r.condition_version, builtAt);
        });
      }
      db.exec(`DROP TABLE built_sources; DROP INDEX built_contents_first_seq;
        ALTER TABLE built_contents DROP COLUMN first_seq; ALTER TABLE built_contents DROP COLUMN entries; ALTER TABLE built_contents DROP COLUMN condition_version;
        UPDATE sqlite_sequence SET seq = (SELECT max(seq) FROM revisions) WHERE name = 'revisions';
        INSERT INTO sqlite_sequence (name, seq) SELECT 'changes', max(seq) FROM changes;`);
      forgetLastMigrations(db, 1);
    })();
  } finally {
    db.close();
  }
}

/**
 * What a database built before migration 0011 holds: every `built_contents` body raw DEFLATE at
 * level 3 (that build's writer) and no `encoding` column, with 0011 not yet applied. Made from one
 * as built before 0012, so its contents are the same ones.
 */
function asBuiltBefore0011(from: string, path: string): void {
  asBuiltBefore0012(from, path);
  const db = openDatabase(path);
  try {
    db.transaction(() => {
      const rows = db.prepare<[], { condition_id: string; body: Buffer }>('SELECT condition_id, body FROM built_contents').all();
      db.exec('ALTER TABLE built_contents DROP COLUMN encoding');
      const update = db.prepare<[Buffer, string]>('UPDATE built_contents SET body = ? WHERE condition_id = ?');
      for (const r of rows) update.run(deflateRawSync(brotliDecompressSync(r.body), { level: 3 }), r.condition_id);
      forgetLastMigrations(db, 1);
    })();
  } finally {
    db.close();
  }
}

interface Side {
  app: App;
  key: string;
}

async function serve(path: string): Promise<Side> {
  // A fixed key id and secret are not available, so each side gets its own key; responses that
  // show the actor are compared by the key's public id position only through the writes below.
  const db = openDatabase(path);
  let key: string;
  try {
    applyMigrations(db);
    key = createApiKeysRepository(db).create('curator', ['content:write']).key;
  } finally {
    db.close();
  }
  const app = await buildApp({ ...loadConfig({ MAX_EVENT_LOOP_DELAY_MS: '0', RATE_LIMIT_MAX: '1000000' }), databasePath: path, contentDir: CONTENT_DIR }, { logger: false });
  await app.ready();
  return { app, key };
}

let oldSide: Side;
let newSide: Side;
let deflateSide: Side;

beforeAll(async () => {
  const oldPath = join(dir, 'old.sqlite');
  const newPath = join(dir, 'new.sqlite');
  buildTheOldWay(oldPath);
  buildDatabase(corpus, newPath, BUILT_AT, vocabulary);
  asBuiltBefore0011(newPath, join(dir, 'deflate.sqlite'));
  asBuiltBefore0012(newPath, join(dir, 'before-0012.sqlite'));
  oldSide = await serve(oldPath);
  newSide = await serve(newPath);
  deflateSide = await serve(join(dir, 'deflate.sqlite'));
}, 120_000);

afterAll(async () => {
  await oldSide.app.close();
  await newSide.app.close();
  await deflateSide.app.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Every page of the feed from the start, as bytes. */
async function feedBytes(app: App): Promise<string[]> {
  const pages: string[] = [];
  let url: string | null = '/v1/changes?limit=97';
  while (url) {
    const res: { statusCode: number; body: string } = await app.inject({ url });
    expect(res.statusCode).toBe(200);
    pages.push(res.body);
    const next = (JSON.parse(res.body) as { page: { nextCursor: string | null } }).page.nextCursor;
    url = next === null ? null : `/v1/changes?limit=97&cursor=${encodeURIComponent(next)}`;
  }
  return pages;
}

/** The revision endpoint of every entity the feed names, as bytes. */
async function revisionBytes(app: App): Promise<Map<string, string>> {
  const urls = new Set<string>();
  for (const page of await feedBytes(app)) for (const c of (JSON.parse(page) as { data: { revisions: string }[] }).data) urls.add(c.revisions);
  const out = new Map<string, string>();
  for (const url of urls) {
    const res = await app.inject({ url: `${url}?limit=3` });
    expect(res.statusCode, url).toBe(200);
    out.set(url, res.body);
  }
  return out;
}

/** The same curated writes on each side, with their actor ids masked (each side has its own key). */
async function write(side: Side, url: string, payload: Record<string, unknown>): Promise<void> {
  const etag = String((await side.app.inject({ url })).headers.etag);
  const res = await side.app.inject({ method: 'PATCH', url, payload, headers: { authorization: `Bearer ${side.key}`, 'if-match': etag } });
  expect(res.statusCode, res.body).toBe(200);
}

/** Each side has its own key and writes at its own time: those are masked, nothing else. */
const maskActors = (body: string, side: Side) =>
  body
    .split(side.key.slice(3, 15))
    .join('<actor>')
    .replace(/"at":"(?!2026-11-30T12:00:00\.000Z)[^"]*"/g, '"at":"<time>"');

// Before the curated writes below, which only the old and new sides receive.
describe('migration 0011: Brotli bodies, and raw DEFLATE ones from before it', () => {
  it('the build stores each condition’s contents as Brotli, smaller than their JSON', () => {
    const rows = newSide.app.db.prepare<[], { body: Buffer; encoding: string }>('SELECT body, encoding FROM built_contents').all();
    expect(rows).toHaveLength(corpus.length);
    for (const r of rows) {
      expect(r.encoding).toBe('br');
      const json = brotliDecompressSync(r.body);
      expect(JSON.parse(json.toString('utf8'))).toEqual(expect.any(Object));
      expect(r.body.length).toBeLessThan(json.length / 3);
    }
  });

  it('a database built before it is migrated to say raw DEFLATE and answers with the same bytes', async () => {
    const db = deflateSide.app.db;
    expect(db.prepare<[], { encoding: string; n: number }>('SELECT encoding, count(*) AS n FROM built_contents GROUP BY encoding').all()).toEqual([{ encoding: 'deflate-raw', n: corpus.length }]);
    // The first page alone is built entries only, so this reads every condition's body.
    expect(await feedBytes(deflateSide.app)).toEqual(await feedBytes(newSide.app));
    expect(await revisionBytes(deflateSide.app)).toEqual(await revisionBytes(newSide.app));
  });
});

describe('migration 0012: the build’s creates as one range of seqs per condition', () => {
  it('writes no revision or change row, and one contiguous range per condition from seq 1', () => {
    const db = newSide.app.db;
    expect(db.prepare<[], number>('SELECT count(*) FROM revisions').pluck().get()).toBe(0);
    expect(db.prepare<[], number>('SELECT count(*) FROM changes').pluck().get()).toBe(0);
    const ranges = db.prepare<[], { condition_id: string; body: Buffer; first_seq: number; entries: number; condition_version: number }>('SELECT * FROM built_contents ORDER BY first_seq').all();
    expect(ranges.map((r) => r.condition_id)).toEqual(corpus.map((c) => c.content.id));
    let next = 1;
    for (const [i, { content }] of corpus.entries()) {
      const r = ranges[i] ?? { body: Buffer.from('{}'), entries: -1 };
      const keys = Object.keys(JSON.parse(brotliDecompressSync(r.body).toString('utf8')) as object);
      expect(r).toMatchObject({ first_seq: next, entries: keys.length, condition_version: content.version });
      expect(keys).toEqual(entitiesOf(content).map((e) => `${e.type} ${e.id}`));
      next += r.entries;
    }
    // The first curated write's revision takes the seq after the build's last.
    expect(db.prepare<[], number>("SELECT seq FROM sqlite_sequence WHERE name = 'revisions'").pluck().get()).toBe(next - 1);
    const sources = corpus.flatMap((c) => c.content.sources.map((s) => ({ source_id: s.id, condition_id: c.content.id })));
    expect(db.prepare('SELECT source_id, condition_id FROM built_sources ORDER BY source_id').all()).toEqual(sources.sort((a, b) => (a.source_id < b.source_id ? -1 : 1)));
  });

  it('a database built before it keeps its rows and answers with the same bytes', async () => {
    const side = await serve(join(dir, 'before-0012.sqlite'));
    try {
      expect(side.app.db.prepare<[], number>('SELECT count(*) FROM changes').pluck().get()).toBe(side.app.db.prepare<[], number>("SELECT seq FROM sqlite_sequence WHERE name = 'revisions'").pluck().get());
      expect(side.app.db.prepare<[], number>('SELECT count(*) FROM built_contents WHERE first_seq IS NOT NULL').pluck().get()).toBe(0);
      expect(await feedBytes(side.app)).toEqual(await feedBytes(newSide.app));
      expect(await revisionBytes(side.app)).toEqual(await revisionBytes(newSide.app));
    } finally {
      await side.app.close();
    }
  });
});

describe('migration 0007 and the compact build history', () => {
  it('stores the build’s contents once per condition and no revision of the build holds one', () => {
    const db = newSide.app.db;
    expect(db.prepare<[], { n: number }>('SELECT count(*) AS n FROM built_contents').get()?.n).toBe(corpus.length);
    expect(db.prepare<[], { n: number }>('SELECT count(*) AS n FROM revisions WHERE after IS NOT NULL').get()?.n).toBe(0);
    expect(db.prepare<[], { wr: number }>("SELECT wr FROM pragma_table_list WHERE name = 'citations'").get()?.wr).toBe(1);
    // The migrated database keeps its rows as they were, and its citations are all there.
    const old = oldSide.app.db;
    expect(old.prepare<[], { n: number }>('SELECT count(*) AS n FROM revisions WHERE after IS NULL').get()?.n).toBe(0);
    expect(old.prepare<[], { wr: number }>("SELECT wr FROM pragma_table_list WHERE name = 'citations'").get()?.wr).toBe(1);
    const citations = (d: typeof db) => d.prepare('SELECT * FROM citations ORDER BY entity_type, entity_id, position').all();
    expect(citations(old)).toEqual(citations(db));
  });

  it('answers the change feed and every revision endpoint with the same bytes as a database built the old way', async () => {
    expect(await feedBytes(newSide.app)).toEqual(await feedBytes(oldSide.app));
    const fresh = await revisionBytes(newSide.app);
    expect(fresh.size).toBeGreaterThan(100);
    expect(fresh).toEqual(await revisionBytes(oldSide.app));
  });

  it('and after curated writes on top of the build', async () => {
    const fact = corpus[0]?.content.symptoms[0]?.id ?? '';
    const condition = corpus[0]?.content.id ?? '';
    for (const side of [oldSide, newSide]) {
      await write(side, `/v1/facts/${fact}`, { text: 'Edited once after the build.' });
      await write(side, `/v1/facts/${fact}`, { confidence: 'low' });
      await write(side, `/v1/conditions/${condition}`, { name: 'Renamed after the build' });
    }
    const mask = async (side: Side) => (await feedBytes(side.app)).map((b) => maskActors(b, side)).slice(-2);
    expect(await mask(newSide)).toEqual(await mask(oldSide));
    for (const url of [`/v1/facts/${fact}/revisions`, `/v1/conditions/${condition}/revisions`]) {
      const bodies = await Promise.all([oldSide, newSide].map(async (side) => maskActors((await side.app.inject({ url })).body, side)));
      expect(bodies[1], url).toBe(bodies[0]);
      expect(JSON.parse(bodies[1] ?? '{}')).toMatchObject({ data: expect.arrayContaining([expect.objectContaining({ action: 'create', before: null, after: expect.objectContaining({ id: expect.any(String) }) })]) });
    }
  });
});
