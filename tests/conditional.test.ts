/**
 * Conditional requests by RFC 9110, one test per rule, through app.inject and, where the exact
 * header bytes matter (a 304's framing), over a real socket. Plus the two rate-limit budgets:
 * revalidations that end in 304 have their own, and cannot buy extra full responses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { ifMatchPasses, ifNoneMatchPasses, parseEntityTags } from '../src/http/conditional.js';
import { buildTestApp, expectProblem, type TestContext } from './helpers.js';
import { buildCurationApp, type CurationContext } from './writes/helpers.js';

const DOC = '/v1/conditions/calciphylaxis';
const LIST = '/v1/statistics?measure=usage';

let ctx: TestContext;
let base: string;
beforeAll(async () => {
  ctx = await buildTestApp({ env: { RATE_LIMIT_MAX: '1000000' } });
  base = await ctx.app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(() => ctx.close());

const get = (url: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET') => ctx.app.inject({ method, url, headers });

/** One request over a real socket: status, raw headers and the body bytes as received. */
function wire(path: string, headers: Record<string, string>, method = 'GET'): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('entity-tag parsing (RFC 9110 §8.8.3, §13.1)', () => {
  it('reads lists, weak tags, commas inside a tag, and * on its own', () => {
    expect(parseEntityTags('"a", W/"b" ,"c,d"')).toEqual([
      { weak: false, opaque: 'a' },
      { weak: true, opaque: 'b' },
      { weak: false, opaque: 'c,d' },
    ]);
    expect(parseEntityTags(' * ')).toBe('*');
    expect(parseEntityTags('"a", , "b"')).toHaveLength(2);
    for (const bad of ['a', '"a', '"a" "b"', '*, "a"', '']) expect(parseEntityTags(bad), bad).toBeNull();
  });

  it('compares weakly for If-None-Match and strongly for If-Match', () => {
    expect(ifNoneMatchPasses('W/"x"', '"x"')).toBe(false);
    expect(ifNoneMatchPasses('"y", "x"', '"x"')).toBe(false);
    expect(ifNoneMatchPasses('"y"', '"x"')).toBe(true);
    expect(ifNoneMatchPasses('*', '"x"')).toBe(false);
    expect(ifNoneMatchPasses('not a tag', '"x"')).toBe(true);
    expect(ifMatchPasses('"x"', '"x"')).toBe(true);
    expect(ifMatchPasses('W/"x"', '"x"')).toBe(false);
    expect(ifMatchPasses('*', '"x"')).toBe(true);
    expect(ifMatchPasses('garbage', '"x"')).toBe(false);
  });
});

describe('304 Not Modified', () => {
  it('carries no Content-Length, Content-Type or body on the wire (§8.6, §15.4.5), and the validators of the 200', async () => {
    for (const [path, accept] of [
      [DOC, 'application/json'],
      [DOC, 'text/markdown'],
      [LIST, 'application/json'],
    ] as const) {
      const full = await wire(path, { accept });
      expect(full.status).toBe(200);
      const etag = String(full.headers.etag);
      const revalidated = await wire(path, { accept, 'if-none-match': etag });
      expect(revalidated.status, path).toBe(304);
      expect(revalidated.headers['content-length'], path).toBeUndefined();
      expect(revalidated.headers['content-type'], path).toBeUndefined();
      expect(revalidated.headers['transfer-encoding'], path).toBeUndefined();
      expect(revalidated.body.length).toBe(0);
      // §15.4.5: ETag, Cache-Control and Vary as the 200 would send them.
      expect(revalidated.headers.etag).toBe(etag);
      expect(revalidated.headers['cache-control']).toBe(full.headers['cache-control']);
      expect(revalidated.headers.vary).toBe(full.headers.vary);
    }
  });

  it('answers HEAD the same way', async () => {
    const etag = String((await get(DOC)).headers.etag);
    const res = await wire(DOC, { 'if-none-match': etag }, 'HEAD');
    expect(res.status).toBe(304);
    expect(res.headers['content-length']).toBeUndefined();
    expect(res.headers['content-type']).toBeUndefined();
  });
});

describe('If-None-Match (§13.1.2)', () => {
  it('* matches any current representation: 304', async () => {
    const res = await get(DOC, { 'if-none-match': '*' });
    expect(res.statusCode).toBe(304);
    expect(res.headers.etag).toMatch(/^"[^"]+"$/);
    expect((await get(LIST, { 'if-none-match': '*' })).statusCode).toBe(304);
  });

  it('* on a resource that does not exist is ignored: the 404 stands (§13.2.1)', async () => {
    const res = await get('/v1/conditions/no-such-condition', { 'if-none-match': '*' });
    expectProblem(res, 404);
    expect(res.headers.etag).toBeUndefined();
  });

  it('compares weakly: W/"<etag>" revalidates a strong ETag', async () => {
    const etag = String((await get(DOC)).headers.etag);
    expect((await get(DOC, { 'if-none-match': `W/${etag}` })).statusCode).toBe(304);
  });

  it('takes a list of ETags, matching any member', async () => {
    const etag = String((await get(DOC)).headers.etag);
    expect((await get(DOC, { 'if-none-match': `"stale-one", ${etag}, W/"another"` })).statusCode).toBe(304);
    const none = await get(DOC, { 'if-none-match': '"stale-one", W/"another"' });
    expect(none.statusCode).toBe(200);
    expect(none.headers.etag).toBe(etag);
  });

  it('is per representation: the JSON ETag does not revalidate the Markdown', async () => {
    const json = String((await get(DOC)).headers.etag);
    expect((await get(DOC, { accept: 'text/markdown', 'if-none-match': json })).statusCode).toBe(200);
  });

  it('ignores a field that is not valid syntax and sends the full response', async () => {
    expect((await get(DOC, { 'if-none-match': 'no quotes' })).statusCode).toBe(200);
  });

  it('ignores If-Modified-Since: the API sends no Last-Modified (§13.1.3)', async () => {
    const res = await get(DOC, { 'if-modified-since': new Date(Date.now() + 86_400_000).toUTCString() });
    expect(res.statusCode).toBe(200);
    expect(res.headers['last-modified']).toBeUndefined();
  });
});

describe('If-Match on GET (§13.1.1, §13.2.2)', () => {
  it('passes with the current ETag or *, and 412s otherwise, before If-None-Match is looked at', async () => {
    const etag = String((await get(DOC)).headers.etag);
    expect((await get(DOC, { 'if-match': etag })).statusCode).toBe(200);
    expect((await get(DOC, { 'if-match': '*' })).statusCode).toBe(200);
    const stale = expectProblem(await get(DOC, { 'if-match': '"stale"' }), 412);
    expect(stale.currentEtag).toBe(etag);
    // Strong comparison: a weak tag never matches.
    expectProblem(await get(DOC, { 'if-match': `W/${etag}` }), 412);
    // Precedence: a failed If-Match wins over a matching If-None-Match.
    expectProblem(await get(DOC, { 'if-match': '"stale"', 'if-none-match': etag }), 412);
    expect((await get(DOC, { 'if-match': etag, 'if-none-match': etag })).statusCode).toBe(304);
  });
});

describe('responses that are not representations', () => {
  it('carry no ETag: problems and 304s of other resources', async () => {
    const missing = await get('/v1/conditions/nope');
    expect(missing.headers.etag).toBeUndefined();
    const bad = await get('/v1/statistics?limit=0');
    expect(bad.headers.etag).toBeUndefined();
    expect(bad.headers['cache-control']).toBe('no-store');
  });
});

describe('If-None-Match on writes (§13.1.2: 412 for methods other than GET and HEAD)', () => {
  let cur: CurationContext;
  beforeAll(async () => {
    cur = await buildCurationApp();
  });
  afterAll(() => cur.close());
  const STAT = '/v1/statistics/calciphylaxis.stat.usage-sodium-thiosulfate';

  it('refuses a write whose If-None-Match matches the current representation, and writes nothing', async () => {
    const etag = await cur.etag(STAT);
    for (const inm of [etag, '*', `W/${etag}`]) {
      const res = await cur.send({ method: 'PATCH', url: STAT, payload: { confidence: 'medium' }, headers: { 'if-match': etag, 'if-none-match': inm } });
      expect(expectProblem(res, 412).detail, inm).toMatch(/If-None-Match/);
    }
    expect(await cur.etag(STAT)).toBe(etag);
    const ok = await cur.send({ method: 'PATCH', url: STAT, payload: { confidence: 'medium' }, headers: { 'if-match': etag, 'if-none-match': '"something-else"' } });
    expect(ok.statusCode).toBe(200);
    // The write's answer is never turned into a 304, whatever If-None-Match says.
    expect(ok.body.length).toBeGreaterThan(0);
  });
});

describe('rate limits: revalidations have a budget of their own', () => {
  let rl: TestContext;
  beforeAll(async () => {
    rl = await buildTestApp({ env: { RATE_LIMIT_MAX: '3', RATE_LIMIT_REVALIDATE_MAX: '8' } });
  });
  afterAll(() => rl.close());
  const from = (remoteAddress: string, headers: Record<string, string> = {}) => rl.app.inject({ url: DOC, remoteAddress, headers });

  it('lets 304s continue after the full-response budget is spent, up to their own budget', async () => {
    const ip = '10.0.0.1';
    const first = await from(ip);
    expect(first.statusCode).toBe(200);
    const etag = String(first.headers.etag);
    expect((await from(ip)).statusCode).toBe(200);
    expect((await from(ip)).statusCode).toBe(200);
    const spent = expectProblem(await from(ip), 429);
    expect(spent.detail).toBe(`Rate limit of 3 requests per 60 seconds exceeded; retry after ${String((await from(ip)).headers['retry-after'])} seconds.`);
    const revalidated = [];
    for (let i = 0; i < 8; i++) revalidated.push((await from(ip, { 'if-none-match': etag })).statusCode);
    expect(revalidated).toEqual(Array(8).fill(304));
    const over = expectProblem(await from(ip, { 'if-none-match': etag }), 429);
    expect(over.detail).toMatch(/^Rate limit of 8 revalidations \(conditional requests answered 304\) per 60 seconds exceeded; retry after \d+ seconds?\.$/);
  });

  it('charges a conditional request that ends in a full response to the full budget', async () => {
    const ip = '10.0.0.2';
    const stale = { 'if-none-match': '"not-the-current-etag"' };
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await from(ip, stale)).statusCode);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const refused = await from(ip, stale);
    expectProblem(refused, 429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.headers.etag).toBeUndefined();
    expect((await from(ip)).statusCode).toBe(429);
  });

  it('sends the full-response budget in X-RateLimit-* headers', async () => {
    const res = await from('10.0.0.3');
    expect(res.headers['x-ratelimit-limit']).toBe('3');
    expect(res.headers['x-ratelimit-remaining']).toBe('2');
  });
});
