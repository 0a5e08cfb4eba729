import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { buildTestApp, expectProblem, type TestContext } from './helpers.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await buildTestApp({ env: { RATE_LIMIT_MAX: '5', CORS_ORIGINS: 'https://app.example' } });
});
afterAll(() => ctx.close());

describe('security headers and CORS', () => {
  it('sends helmet headers with a locked-down CSP on JSON', async () => {
    const res = await ctx.app.inject({ url: '/v1/meta' });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.headers['x-frame-options']).toBeDefined();
  });

  it('lets the docs page load its own scripts and styles', async () => {
    const res = await ctx.app.inject({ url: '/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(res.headers['content-security-policy']).not.toMatch(/https:|upgrade-insecure-requests/);
  });

  it('answers CORS preflight for an allowed origin only', async () => {
    const ok = await ctx.app.inject({ method: 'OPTIONS', url: '/v1/conditions', headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' } });
    expect(ok.statusCode).toBe(204);
    expect(ok.headers['access-control-allow-origin']).toBe('https://app.example');
    const plain = await ctx.app.inject({ url: '/v1/meta', headers: { origin: 'https://app.example' } });
    expect(String(plain.headers['access-control-expose-headers'])).toMatch(/ETag/);
    const other = await ctx.app.inject({ url: '/v1/meta', headers: { origin: 'https://evil.example' } });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('echoes a well-formed request id and replaces a malformed one', async () => {
    const given = await ctx.app.inject({ url: '/v1/conditions/nope', headers: { 'x-request-id': 'trace-123' } });
    expect(given.headers['x-request-id']).toBe('trace-123');
    expect(given.json()).toMatchObject({ requestId: 'trace-123' });
    const bad = await ctx.app.inject({ url: '/health', headers: { 'x-request-id': 'bad id <script>' } });
    expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('rate limiting', () => {
  it('answers 429 problem+json with Retry-After past the limit, never on /health', async () => {
    const ip = '10.1.2.3';
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 7; i++) {
      last = await ctx.app.inject({ url: '/v1/meta', remoteAddress: ip });
      statuses.push(last.statusCode);
    }
    expect(statuses.slice(0, 5).every((s) => s === 200 || s === 304)).toBe(true);
    expect(statuses[6]).toBe(429);
    if (!last) throw new Error('no response');
    expectProblem(last, 429);
    expect(Number(last.headers['retry-after'])).toBeGreaterThan(0);
    for (let i = 0; i < 10; i++) expect((await ctx.app.inject({ url: '/health', remoteAddress: ip })).statusCode).toBe(200);
  });
});

describe('configuration', () => {
  it.each([
    ['PORT', 'abc'],
    ['LOG_LEVEL', 'loud'],
    ['RATE_LIMIT_MAX', '0'],
    ['CACHE_MAX_AGE', '-1'],
  ])('refuses a bad %s with a message naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(name));
  });

  it('never logs an Authorization header', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const app = await buildApp({ ...ctx.config }, { logger: { level: 'trace', stream: { write: (l) => stream.write(l) } } });
    app.get('/echo-headers', { schema: { hide: true } }, async (request) => {
      request.log.info({ headers: request.headers }, 'headers seen');
      return {};
    });
    await app.ready();
    await app.inject({ url: '/echo-headers', headers: { authorization: 'Bearer super-secret-key-value' } });
    await app.close();
    const log = lines.join('');
    expect(log).toContain('headers seen');
    expect(log).not.toContain('super-secret-key-value');
  });
});
