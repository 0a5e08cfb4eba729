/**
 * GET /v1/export: NDJSON of every condition document, each line the exact bytes of its GET; gzip;
 * a strong ETag that 304s; `?since=` a feed cursor giving what changed (a mirror kept with it ends
 * byte-identical to a fresh export); the feed's cursor problems; its own rate-limit budget.
 */
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, expectProblem, type TestContext } from './helpers.js';
import { createApiKeysRepository } from '../src/repositories/apiKeys.js';
import { encodeCursor } from '../src/http/pagination.js';

const lines = (body: Buffer): Buffer[] => {
  const text = body.toString('utf8');
  expect(text === '' || text.endsWith('\n')).toBe(true);
  return text === '' ? [] : text.slice(0, -1).split('\n').map((l) => Buffer.from(l));
};
const idOf = (line: Buffer) => (JSON.parse(line.toString('utf8')) as { id: string }).id;

let ctx: TestContext;
let key: string;
beforeAll(async () => {
  ctx = await buildTestApp({ env: { RATE_LIMIT_MAX: '100000', RATE_LIMIT_EXPORT_MAX: '100000' } });
  key = createApiKeysRepository(ctx.app.db).create('exporter test', ['content:write']).key;
});
afterAll(() => ctx.close());

const exportOf = (query = '', headers: Record<string, string> = {}) => ctx.app.inject({ url: `/v1/export${query}`, headers });
async function write(method: 'PATCH' | 'DELETE', url: string, payload?: object) {
  const etag = String((await ctx.app.inject({ url })).headers.etag);
  const res = await ctx.app.inject({ method, url, payload, headers: { authorization: `Bearer ${key}`, 'if-match': etag } });
  expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(200);
}

describe('GET /v1/export', () => {
  it('has one line per condition, in id order, each byte-identical to GET /v1/conditions/{id}', async () => {
    const res = await exportOf();
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    expect(res.headers['content-encoding']).toBeUndefined();
    const ids = (await ctx.app.inject({ url: '/v1/conditions?limit=100' })).json<{ data: { id: string }[] }>().data.map((c) => c.id);
    const got = lines(res.rawPayload);
    expect(got.map(idOf)).toEqual(ids);
    expect(ids.length).toBeGreaterThanOrEqual(4);
    for (const line of got) {
      const doc = await ctx.app.inject({ url: `/v1/conditions/${idOf(line)}` });
      expect(line.equals(doc.rawPayload), idOf(line)).toBe(true);
    }
    expect(res.headers['x-dataset-version']).toBe((await ctx.app.inject({ url: '/v1/meta' })).json<{ datasetVersion: string }>().datasetVersion);
    expect(String(res.headers.etag)).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(String(res.headers.vary)).toContain('Accept-Encoding');
  });

  it('is gzip when the client accepts it, decoding to the same bytes under a different strong ETag', async () => {
    const plain = await exportOf();
    const gz = await exportOf('', { 'accept-encoding': 'gzip, deflate, br' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.rawPayload).equals(plain.rawPayload)).toBe(true);
    expect(gz.rawPayload.length).toBeLessThan(plain.rawPayload.length / 3);
    expect(gz.headers.etag).not.toBe(plain.headers.etag);
    // gzip;q=0 refuses gzip; identity is always acceptable here.
    expect((await exportOf('', { 'accept-encoding': 'gzip;q=0' })).headers['content-encoding']).toBeUndefined();
  });

  it('answers If-None-Match with its ETag with 304, through the same conditional-request code as other routes', async () => {
    const variants: Record<string, string>[] = [{}, { 'accept-encoding': 'gzip' }];
    for (const headers of variants) {
      const first = await exportOf('', headers);
      const again = await exportOf('', { ...headers, 'if-none-match': String(first.headers.etag) });
      expect(again.statusCode).toBe(304);
      expect(again.rawPayload.length).toBe(0);
      expect(again.headers['content-type']).toBeUndefined();
      expect(again.headers['content-length']).toBeUndefined();
      expect(again.headers.etag).toBe(first.headers.etag);
      expect(again.headers['content-encoding']).toBeUndefined();
      // A failed If-Match is a plain problem+json 412, never labelled gzip.
      const failed = await exportOf('', { ...headers, 'if-match': '"stale"' });
      expectProblem(failed, 412);
      expect(failed.headers['content-encoding']).toBeUndefined();
      // Weak comparison, as RFC 9110 §13.1.2 asks, and `*`.
      expect((await exportOf('', { ...headers, 'if-none-match': `W/${String(first.headers.etag)}` })).statusCode).toBe(304);
      expect((await exportOf('', { ...headers, 'if-none-match': '*' })).statusCode).toBe(304);
      expect((await exportOf('', { ...headers, 'if-none-match': '"other"' })).statusCode).toBe(200);
    }
  });

  it('keeps none of the documents it renders in the render cache, so it evicts none that clients read', async () => {
    ctx.app.renderCache.clear();
    const read = await ctx.app.inject({ url: '/v1/conditions/calciphylaxis' });
    const held = ctx.app.renderCache.size;
    expect(held).toBeGreaterThan(read.rawPayload.length);
    for (const headers of [{}, { 'accept-encoding': 'gzip' }] as Record<string, string>[]) {
      const res = await exportOf('', headers);
      expect(res.statusCode).toBe(200);
      expect(ctx.app.renderCache.size).toBe(held);
    }
    // The document a client read is still served from the cache, and is the export's line.
    const line = lines((await exportOf()).rawPayload).find((l) => idOf(l) === 'calciphylaxis');
    expect(line?.equals(read.rawPayload)).toBe(true);
    expect((await ctx.app.inject({ url: '/v1/conditions/calciphylaxis' })).headers.etag).toBe(read.headers.etag);
    expect(ctx.app.renderCache.size).toBe(held);
  });

  it('refuses a bad cursor like the feed does: 400 for a foreign one, 410 for one from another history', async () => {
    for (const [cursor, status] of [
      ['not-a-cursor', 400],
      [encodeCursor('deadbeef.3'), 410],
    ] as const) {
      const exp = await exportOf(`?since=${cursor}`);
      const feed = await ctx.app.inject({ url: `/v1/changes?since=${cursor}` });
      expectProblem(exp, status);
      expectProblem(feed, status);
      expect(exp.json<{ type: string }>().type).toBe(feed.json<{ type: string }>().type);
    }
    expectProblem(await exportOf('?since='), 400);
    expectProblem(await exportOf('?cursor=x'), 400);
  });

  it('since a cursor: only what changed, tombstones for deletions, and a mirror that ends byte-identical to a fresh export', async () => {
    const first = await exportOf();
    const mirror = new Map(lines(first.rawPayload).map((l) => [idOf(l), l]));
    const cursor0 = String(first.headers['x-resume-cursor']);
    // The resume cursor is a feed position: nothing has happened after it yet.
    expect(lines((await exportOf(`?since=${cursor0}`)).rawPayload)).toEqual([]);
    expect((await ctx.app.inject({ url: `/v1/changes?since=${cursor0}` })).json<{ data: unknown[] }>().data).toEqual([]);

    // One condition's own field: only its document changes.
    await write('PATCH', '/v1/conditions/calciphylaxis', { summary: 'Calciphylaxis is a rare, serious disease in which calcium builds up in small blood vessels of the skin and fat.' });
    const one = await exportOf(`?since=${cursor0}`);
    expect(lines(one.rawPayload).map(idOf)).toEqual(['calciphylaxis']);

    // A source owned by one file and cited by another changes both documents; deleting a condition
    // changes the documents that link to it (related[].url) and is a tombstone.
    await write('PATCH', '/v1/sources/kdigo-2017-ckd-mbd', { note: 'Edited by the export test.' });
    await write('DELETE', '/v1/conditions/sepsis');
    const since = await exportOf(`?since=${cursor0}`);
    expect(since.statusCode).toBe(200);
    const changed = lines(since.rawPayload);
    expect(changed.map(idOf)).toEqual(['calciphylaxis', 'end-stage-kidney-disease', 'secondary-hyperparathyroidism', 'sepsis']);
    expect(JSON.parse(changed[3]?.toString('utf8') ?? '')).toEqual({ id: 'sepsis', deleted: true });
    for (const line of changed.slice(0, 3)) {
      const doc = await ctx.app.inject({ url: `/v1/conditions/${idOf(line)}` });
      expect(line.equals(doc.rawPayload), idOf(line)).toBe(true);
    }

    for (const line of changed) {
      const parsed = JSON.parse(line.toString('utf8')) as { id: string; deleted?: boolean };
      if (parsed.deleted === true) mirror.delete(parsed.id);
      else mirror.set(parsed.id, line);
    }
    const fresh = await exportOf();
    const rebuilt = Buffer.concat([...mirror.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).flatMap(([, l]) => [l, Buffer.from('\n')]));
    expect(rebuilt.equals(fresh.rawPayload)).toBe(true);

    // Caught up: the export's resume cursor is where the feed continues, and nothing is left.
    const cursor1 = String(since.headers['x-resume-cursor']);
    expect(cursor1).toBe(String(fresh.headers['x-resume-cursor']));
    expect(lines((await exportOf(`?since=${cursor1}`)).rawPayload)).toEqual([]);
    // The ETag of a since-export changes with its content and 304s like the full one.
    const sinceAgain = await exportOf(`?since=${cursor0}`, { 'if-none-match': String(since.headers.etag) });
    expect(sinceAgain.statusCode).toBe(304);
  });
});

describe('GET /v1/export and the rate limits', () => {
  let limited: TestContext;
  beforeAll(async () => {
    limited = await buildTestApp({ conditions: ['calciphylaxis'], env: { RATE_LIMIT_MAX: '3', RATE_LIMIT_EXPORT_MAX: '2' } });
  });
  afterAll(() => limited.close());
  const get = (url: string, remoteAddress: string) => limited.app.inject({ url, remoteAddress });

  it('is exempt from the per-request limit: it works when that budget is spent, and costs none of it', async () => {
    for (let i = 0; i < 3; i++) expect((await get('/v1/meta', '10.0.0.1')).statusCode).toBe(200);
    expectProblem(await get('/v1/meta', '10.0.0.1'), 429);
    expect((await get('/v1/export', '10.0.0.1')).statusCode).toBe(200);

    expect((await get('/v1/export', '10.0.0.2')).statusCode).toBe(200);
    expect((await get('/v1/export', '10.0.0.2')).statusCode).toBe(200);
    for (let i = 0; i < 3; i++) expect((await get('/v1/meta', '10.0.0.2')).statusCode).toBe(200);
  });

  it('has a budget of its own, RATE_LIMIT_EXPORT_MAX, with a 429 that names it', async () => {
    expect((await get('/v1/export', '10.0.0.3')).statusCode).toBe(200);
    expect((await get('/v1/export', '10.0.0.3')).statusCode).toBe(200);
    const refused = await get('/v1/export', '10.0.0.3');
    const problem = expectProblem(refused, 429);
    expect(String(problem.detail)).toMatch(/2 exports per 60 seconds/);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect((await get('/v1/meta', '10.0.0.3')).statusCode).toBe(200);
  });
});
