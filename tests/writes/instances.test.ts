/**
 * Two app instances on one database file, as two processes behind a load balancer would be: each
 * has its own connection and its own caches. A write through one is seen by the other's next GET
 * (the content epoch moved on: no invalidation message travels between them), two writes with the
 * same If-Match are serialized by SQLite whichever instance takes them (the later one gets 412),
 * and a writer that cannot get the database's write lock gets 503 with Retry-After, not 500.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { buildFromContent } from '../../src/content/build.js';
import { createApiKeysRepository } from '../../src/repositories/apiKeys.js';
import { expectProblem, tempContent } from '../helpers.js';
import { TEST_ENV, checksum } from './helpers.js';

const FACT = '/v1/facts/calciphylaxis.symptom.livedo-patches';
const DOCUMENT = '/v1/conditions/calciphylaxis';
const SECTION = '/v1/conditions/calciphylaxis/symptoms';
const STAT = '/v1/statistics/calciphylaxis.stat.usage-sodium-thiosulfate';
/** A word no content has, so that a search for it finds only what the write added. */
const WORD = 'zyxquorumtest';
const SEARCH = `/v1/search?q=${WORD}`;

let dir: string;
let databasePath: string;
let a: App;
let b: App;
let key: string;

async function get(app: App, url: string) {
  const res = await app.inject({ url });
  expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
  return { etag: String(res.headers.etag), body: res.body };
}

function send(app: App, method: 'PATCH', url: string, payload: object, ifMatch: string) {
  return app.inject({ method, url, payload, headers: { authorization: `Bearer ${key}`, 'if-match': ifMatch } });
}

beforeAll(async () => {
  const content = tempContent();
  dir = content.dir;
  databasePath = join(dir, 'kb.sqlite');
  buildFromContent(content.contentDir, databasePath);
  const config = { ...loadConfig(TEST_ENV), databasePath, contentDir: content.contentDir };
  [a, b] = await Promise.all([buildApp(config, { logger: false }), buildApp(config, { logger: false })]);
  await Promise.all([a.ready(), b.ready()]);
  key = createApiKeysRepository(a.db).create('curator', ['content:write']).key;
});

afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('two app instances on one database file', () => {
  it('see each other’s writes in the next GET of the document, a section, the fact and search, with new ETags', async () => {
    const urls = [DOCUMENT, SECTION, FACT, SEARCH];
    // Instance B reads everything first, so its caches hold the old content.
    const before = new Map<string, { etag: string; body: string }>();
    for (const url of urls) before.set(url, await get(b, url));
    for (const url of urls) expect((await get(b, url)).etag, `${url} is stable while nothing changes`).toBe(before.get(url)?.etag);

    const text = `A purplish, net-patterned mottling of the skin, here marked ${WORD} by a test write.`;
    const written = await send(a, 'PATCH', FACT, { text }, (await get(a, FACT)).etag);
    expect(written.statusCode, written.body).toBe(200);

    for (const url of urls) {
      const after = await get(b, url);
      expect(after.etag, `${url}: a new ETag at B`).not.toBe(before.get(url)?.etag);
      expect(after.body, `${url}: the new text at B`).toContain(WORD);
      // And the same bytes as at A: one representation, whichever instance renders it.
      expect(await get(a, url), url).toEqual(after);
    }
  });

  it('serialize two writes with the same If-Match across instances: the later one gets 412 with the winner’s ETag', async () => {
    const etag = (await get(a, STAT)).etag;
    expect((await get(b, STAT)).etag).toBe(etag);
    const first = await send(a, 'PATCH', STAT, { value: 44 }, etag);
    expect(first.statusCode, first.body).toBe(200);
    const second = await send(b, 'PATCH', STAT, { value: 45 }, etag);
    const problem = expectProblem(second, 412);
    expect(problem.currentEtag).toBe(first.headers.etag);
    expect(JSON.parse((await get(b, STAT)).body).value).toBe(44);
  });

  it('answer 503 with Retry-After while another connection holds the write lock, and write nothing', async () => {
    const holder = new Database(databasePath);
    // A short wait for the lock, so the test does not sit out the production busy timeout.
    b.db.pragma('busy_timeout = 50');
    try {
      holder.exec('BEGIN IMMEDIATE');
      const before = checksum(b.db);
      const busy = await send(b, 'PATCH', STAT, { value: 46 }, (await get(b, STAT)).etag);
      expect(expectProblem(busy, 503).type).toBe('/problems/busy');
      expect(Number(busy.headers['retry-after'])).toBeGreaterThan(0);
      holder.exec('ROLLBACK');
      expect(checksum(b.db)).toBe(before);
      // Once the lock is free, the same write goes through.
      const retried = await send(b, 'PATCH', STAT, { value: 46 }, (await get(b, STAT)).etag);
      expect(retried.statusCode, retried.body).toBe(200);
    } finally {
      if (holder.inTransaction) holder.exec('ROLLBACK');
      holder.close();
    }
  });

  it('see a change that another connection commits outside the change feed (SQLite’s data_version moves on)', async () => {
    const before = await get(b, DOCUMENT);
    const other = new Database(databasePath);
    try {
      other.prepare('UPDATE conditions SET name = ? WHERE id = ?').run(`Calciphylaxis ${WORD}`, 'calciphylaxis');
    } finally {
      other.close();
    }
    const after = await get(b, DOCUMENT);
    expect(after.etag).not.toBe(before.etag);
    expect(JSON.parse(after.body).name).toBe(`Calciphylaxis ${WORD}`);
  });
});
