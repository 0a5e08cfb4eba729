/**
 * Finding 4 of issue 13: two server processes writing one database file. If-Match must hold
 * across them: 20 simultaneous PATCHes carrying the same ETag, split between the two processes,
 * give exactly one 2xx per round; every other answer is 412 (the precondition failed, checked
 * inside the write transaction) or 503 with Retry-After (the lock was not free within the busy
 * timeout), never a 500 and never a second success that silently overwrote the first. After each
 * round both processes serve the winner's text with one ETag, and the history holds exactly the
 * winners, read back from the file by a connection of its own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildFromContent } from '../src/content/build.js';
import { openDatabase } from '../src/db/connection.js';
import { CONTENT_DIR } from '../src/paths.js';
import { createApiKeysRepository } from '../src/repositories/apiKeys.js';
import { startServer, type ServerProcess } from './server-process.js';

const FACT_ID = 'calciphylaxis.cause.advanced-kidney-failure';
const FACT = `/v1/facts/${FACT_ID}`;
const ROUNDS = 10;
const WRITERS = 20;

const dir = mkdtempSync(join(tmpdir(), 'kb-two-writers-'));
const servers: ServerProcess[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

function revisionTexts(path: string): string[] {
  const db = openDatabase(path, { readonly: true });
  try {
    return db
      .prepare<[string], { text: string | null }>("SELECT json_extract(after, '$.text') AS text FROM revisions WHERE entity_type = 'statement' AND entity_id = ? ORDER BY seq")
      .all(FACT_ID)
      .map((r) => String(r.text));
  } finally {
    db.close();
  }
}

describe('two server processes on one file', () => {
  it(`${ROUNDS} rounds of ${WRITERS} concurrent PATCHes with one ETag: exactly one 2xx each, never a 500`, async () => {
    const path = join(dir, 'kb.sqlite');
    buildFromContent(CONTENT_DIR, path);
    const db = openDatabase(path);
    const key = createApiKeysRepository(db).create('two-writers curator', ['content:write']).key;
    db.close();
    const env = { DATABASE_PATH: path, BUILD_ON_START: 'false', MAX_EVENT_LOOP_DELAY_MS: '0', RATE_LIMIT_MAX: '100000' };
    // One after the other: the first switches the file to WAL, which takes an exclusive lock.
    const a = await startServer({ env, startTimeoutMs: 60_000 });
    servers.push(a);
    const b = await startServer({ env, startTimeoutMs: 60_000 });
    servers.push(b);
    const before = revisionTexts(path).length;

    const winners: string[] = [];
    const statuses: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const etag = (await fetch(`${a.base}${FACT}`)).headers.get('etag') ?? '';
      expect((await fetch(`${b.base}${FACT}`)).headers.get('etag'), `round ${round}: both processes serve one ETag`).toBe(etag);
      const answers = await Promise.all(
        Array.from({ length: WRITERS }, async (_, i) => {
          const text = `Round ${round}, writer ${i} (through ${i % 2 ? 'B' : 'A'}).`;
          const res = await fetch(`${(i % 2 ? b : a).base}${FACT}`, {
            method: 'PATCH',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'if-match': etag },
            body: JSON.stringify({ text }),
          });
          return { text, status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.text() };
        }),
      );
      statuses.push(...answers.map((x) => x.status));
      const won = answers.filter((x) => x.status >= 200 && x.status < 300);
      expect(won.map((x) => x.text), `round ${round}: ${answers.map((x) => x.status).join(' ')}`).toHaveLength(1);
      for (const x of answers) {
        if (x.status < 300) continue;
        expect([412, 503], `round ${round}: ${x.status} ${x.body}`).toContain(x.status);
        if (x.status === 503) expect(Number(x.retryAfter), x.body).toBeGreaterThan(0);
      }
      const winner = won[0]?.text ?? '';
      winners.push(winner);
      const [fromA, fromB] = await Promise.all([fetch(`${a.base}${FACT}`), fetch(`${b.base}${FACT}`)]);
      expect(((await fromA.json()) as { text: string }).text).toBe(winner);
      expect(((await fromB.json()) as { text: string }).text).toBe(winner);
      expect(fromA.headers.get('etag')).toBe(fromB.headers.get('etag'));
    }
    // Each winner, once, in order; no write that was answered non-2xx.
    expect(revisionTexts(path).slice(before)).toEqual(winners);
    const counts = statuses.reduce<Record<number, number>>((m, s) => ({ ...m, [s]: (m[s] ?? 0) + 1 }), {});
    console.log(`two writers: ${ROUNDS} rounds × ${WRITERS} PATCHes: ${Object.entries(counts).map(([s, n]) => `${n}×${s}`).join(', ')}`);
    expect(await a.stop()).toBe(0);
    expect(await b.stop()).toBe(0);
  }, 180_000);
});
