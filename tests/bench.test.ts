/**
 * The benchmark cannot rot: its corpus (bench/corpus.ts) builds and validates, and every request of
 * every scenario of `npm run bench` (bench/scenarios.ts) answers the status it is measured at, on
 * the one-condition corpus and on a multi-condition one, through the same factory the server uses.
 * So does the write scenario: a PATCH with the last ETag, then a document that shows it. No timing
 * is asserted here; `npm run bench` measures.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { buildFromContent } from '../src/content/build.js';
import { CONTENT_DIR } from '../src/paths.js';
import { createApiKeysRepository } from '../src/repositories/apiKeys.js';
import { MODEL_CONDITION, writeBenchContent } from '../bench/corpus.js';
import { DOC_PATH, WRITE_FACT, WRITE_VALUES, scenarios } from '../bench/scenarios.js';

for (const n of [1, 12]) {
  describe(`bench corpus of ${n} condition(s)`, () => {
    let dir: string;
    let app: App;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'kb-bench-test-'));
      const contentDir = join(dir, 'content');
      writeBenchContent(CONTENT_DIR, contentDir, n);
      const databasePath = join(dir, 'kb.sqlite');
      const built = buildFromContent(contentDir, databasePath);
      expect(built.conditions).toBe(n);
      expect(readdirSync(contentDir).filter((f) => f.startsWith('synthetic-'))).toHaveLength(n - 1);
      app = await buildApp({ ...loadConfig({ MAX_EVENT_LOOP_DELAY_MS: '0', RATE_LIMIT_MAX: '1000000' }), databasePath, contentDir }, { logger: false });
      await app.ready();
    });
    afterAll(async () => {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('answers every request of every read scenario with its expected status', async () => {
      const doc = await app.inject({ url: DOC_PATH });
      expect(doc.statusCode).toBe(200);
      const etag = String(doc.headers.etag);
      const exportPath = (await app.inject({ url: '/v1/export' })).statusCode === 200 ? '/v1/export' : null;
      const list = scenarios(etag, exportPath);
      expect(list.map((s) => s.key)).toEqual(expect.arrayContaining(['document', 'notModified', 'uncached', 'section', 'statistics', 'facts', 'search', 'context']));
      for (const s of list) {
        for (const r of s.requests) {
          const res = await app.inject({ method: r.method, url: r.path, headers: r.headers });
          expect({ scenario: s.key, path: r.path, status: res.statusCode }).toEqual({ scenario: s.key, path: r.path, status: s.expect });
        }
      }
    });

    it('search matches a few conditions, not all of them', async () => {
      if (n === 1) return;
      const res = await app.inject({ url: '/v1/search?q=warfarin&limit=100' });
      expect(res.statusCode).toBe(200);
      const conditions = new Set(res.json<{ data: { conditionId: string }[] }>().data.map((h) => h.conditionId));
      expect(conditions.has(MODEL_CONDITION)).toBe(true);
      expect(conditions.size).toBeLessThan(n);
    });

    it('the write scenario: PATCH with the last ETag, then the document shows the write', async () => {
      const key = createApiKeysRepository(app.db).create('bench test', ['content:write']).key;
      const factUrl = `/v1/facts/${WRITE_FACT}`;
      const fact = await app.inject({ url: factUrl });
      expect(fact.statusCode).toBe(200);
      let factEtag = String(fact.headers.etag);
      let docEtag = String((await app.inject({ url: DOC_PATH })).headers.etag);
      // Each write changes the value (the first one away from the shipped value), as the bench's do.
      const first = WRITE_VALUES.indexOf(fact.json<{ confidence: (typeof WRITE_VALUES)[number] }>().confidence) + 1;
      for (let i = first; i < first + 4; i++) {
        const confidence = WRITE_VALUES[i % WRITE_VALUES.length];
        const res = await app.inject({
          method: 'PATCH',
          url: factUrl,
          headers: { authorization: `Bearer ${key}`, 'if-match': factEtag, 'content-type': 'application/json' },
          payload: { confidence },
        });
        expect(res.statusCode).toBe(200);
        factEtag = String(res.headers.etag);
        const doc = await app.inject({ url: DOC_PATH, headers: { 'if-none-match': docEtag } });
        expect(doc.statusCode).toBe(200);
        expect(doc.headers.etag).not.toBe(docEtag);
        docEtag = String(doc.headers.etag);
      }
    });
  });
}
