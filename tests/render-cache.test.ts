/**
 * The hot-path caches: the render cache's bounds and invalidation, the conditions repository's
 * remembered versions (dropped by the same invalidate call writers make), and the security
 * headers computed once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RenderCache, costOf, etagOf } from '../src/http/renderCache.js';
import { securityHeaders } from '../src/plugins/security.js';
import { buildTestApp, type TestContext } from './helpers.js';

const render = (body: string) => () => ({ body, contentType: 'text/plain' });

describe('RenderCache', () => {
  it('renders once per key and serves the same bytes and ETag after', () => {
    const cache = new RenderCache();
    let calls = 0;
    const first = cache.get('a', () => (calls++, { body: 'hello', contentType: 'text/plain' }));
    const second = cache.get('a', () => (calls++, { body: 'other', contentType: 'text/plain' }));
    expect(calls).toBe(1);
    expect(second).toBe(first);
    expect(first.etag).toBe(etagOf('hello'));
  });

  it('renders every time when off (maxEntries 0)', () => {
    const cache = new RenderCache(0);
    let calls = 0;
    for (let i = 0; i < 3; i++) cache.get('a', () => (calls++, { body: 'x', contentType: 'text/plain' }));
    expect(calls).toBe(3);
  });

  it('drops the least recently used entry past the entry bound', () => {
    const cache = new RenderCache(2);
    cache.get('a', render('a'));
    cache.get('b', render('b'));
    cache.get('a', render('a')); // a is now the most recent
    cache.get('c', render('c')); // evicts b
    let rendered = '';
    cache.get('a', () => ((rendered += 'a'), { body: 'a', contentType: 'text/plain' }));
    cache.get('b', () => ((rendered += 'b'), { body: 'b', contentType: 'text/plain' }));
    expect(rendered).toBe('b');
  });

  it('keeps what it holds under the byte bound, counting keys, ETags and per-entry objects', () => {
    const one = costOf('a', { body: Buffer.from('12345'), etag: etagOf('12345'), contentType: 'text/plain' });
    expect(one).toBeGreaterThan(5 + 200);
    const cache = new RenderCache(100, 2 * one);
    cache.get('a', render('12345'));
    cache.get('b', render('12345'));
    expect(cache.size).toBe(2 * one);
    cache.get('c', render('12345')); // three entries > the bound: a goes
    expect(cache.size).toBe(2 * one);
    let again = 0;
    cache.get('a', () => (again++, { body: '12345', contentType: 'text/plain' }));
    cache.get('c', () => (again++, { body: '12345', contentType: 'text/plain' }));
    expect(again).toBe(1);
    // A body larger than the whole budget is served, never kept.
    let big = 0;
    for (let i = 0; i < 2; i++) cache.get('big', () => (big++, { body: 'x'.repeat(2 * one), contentType: 'text/plain' }));
    expect(big).toBe(2);
    cache.invalidate('');
    expect(cache.size).toBe(0);
  });

  it('keeps a small body in an allocation of its own, not a slice of a shared pool it would keep alive', () => {
    const cache = new RenderCache();
    const pooled = Buffer.from('small');
    expect(pooled.buffer.byteLength).toBeGreaterThan(pooled.length); // Node's 8 KB pool
    const kept = cache.get('a', () => ({ body: pooled, contentType: 'text/plain' }));
    expect(kept.body.equals(pooled)).toBe(true);
    expect(kept.body.buffer.byteLength).toBe(kept.body.length);
    expect(kept.etag).toBe(etagOf('small'));
  });

  it('peekOrRender serves a cached entry, renders what is not cached without keeping it, and leaves the order alone', () => {
    const cache = new RenderCache(2);
    const a = cache.get('a', render('a'));
    cache.get('b', render('b'));
    expect(cache.peekOrRender('a', render('other'))).toBe(a);
    let calls = 0;
    const fresh = cache.peekOrRender('x', () => (calls++, { body: 'x', contentType: 'text/plain' }));
    expect(fresh?.etag).toBe(etagOf('x'));
    cache.peekOrRender('x', () => (calls++, { body: 'x', contentType: 'text/plain' }));
    expect(calls).toBe(2);
    expect(cache.peekOrRender('missing', () => undefined)).toBeUndefined();
    // The peek did not make a the most recent: adding c evicts a, not b.
    cache.get('c', render('c'));
    let rendered = '';
    cache.get('b', () => ((rendered += 'b'), { body: 'b', contentType: 'text/plain' }));
    cache.get('a', () => ((rendered += 'a'), { body: 'a', contentType: 'text/plain' }));
    expect(rendered).toBe('a');
  });

  it('invalidates by prefix and tells its listeners', () => {
    const cache = new RenderCache();
    const heard: (string | undefined)[] = [];
    cache.onInvalidate((prefix) => heard.push(prefix));
    cache.get('condition:a@1:json', render('a'));
    cache.get('condition:ab@1:json', render('ab'));
    cache.invalidate('condition:a@');
    let rerendered = '';
    cache.get('condition:a@1:json', () => ((rerendered += 'a'), { body: 'a', contentType: 'text/plain' }));
    cache.get('condition:ab@1:json', () => ((rerendered += 'ab'), { body: 'ab', contentType: 'text/plain' }));
    expect(rerendered).toBe('a');
    cache.clear();
    expect(heard).toEqual(['condition:a@', undefined]);
  });
});

describe('remembered condition versions', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await buildTestApp();
  });
  afterAll(() => ctx.close());

  it('answers documents without asking the database, and sees a write after invalidate', async () => {
    const url = '/v1/conditions/calciphylaxis';
    const before = await ctx.app.inject({ url });
    expect(before.statusCode).toBe(200);
    const version = before.json<{ version: number }>().version;
    // A write behind the caches' back (as a commit does before it invalidates)...
    ctx.app.db.prepare('UPDATE conditions SET version = version + 1 WHERE id = ?').run('calciphylaxis');
    expect(ctx.app.repos.conditions.version('calciphylaxis')?.version).toBe(version);
    expect((await ctx.app.inject({ url })).headers.etag).toBe(before.headers.etag);
    // ...is served once the writer makes the call it makes after every commit.
    ctx.app.renderCache.invalidate('condition:calciphylaxis@');
    expect(ctx.app.repos.conditions.version('calciphylaxis')?.version).toBe(version + 1);
    const after = await ctx.app.inject({ url });
    expect(after.json<{ version: number }>().version).toBe(version + 1);
    expect(after.headers.etag).not.toBe(before.headers.etag);
  });

  it('never remembers an unknown id', async () => {
    expect(ctx.app.repos.conditions.version('not-yet-written')).toBeUndefined();
    expect((await ctx.app.inject({ url: '/v1/conditions/not-yet-written' })).statusCode).toBe(404);
  });
});

describe('security headers', () => {
  it('are the headers helmet sets for the policy, computed once', () => {
    const headers = securityHeaders({ contentSecurityPolicy: { directives: { defaultSrc: ["'none'"] } }, strictTransportSecurity: false });
    expect(headers['content-security-policy']).toMatch(/^default-src 'none'/);
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(headers).not.toHaveProperty('strict-transport-security');
  });

  it('reach every response, errors included', async () => {
    const ctx = await buildTestApp();
    try {
      for (const url of ['/v1/conditions/calciphylaxis', '/v1/conditions/nope', '/health']) {
        const res = await ctx.app.inject({ url });
        expect(res.headers['content-security-policy'], url).toContain("default-src 'none'");
        expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      }
    } finally {
      await ctx.close();
    }
  });
});
