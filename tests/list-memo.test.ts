/**
 * GET /v1/statistics and /v1/facts remember whole pages (bytes, ETag, Link) per URL and representation for the
 * content epoch (src/http/responseCache.ts). A remembered page is the page the route would render,
 * and it never outlives its content: after a write, the same URL answers from the new content.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCurationApp, type CurationContext } from './writes/helpers.js';

const STAT = '/v1/statistics/calciphylaxis.stat.mortality-6-months';
const LIST = '/v1/statistics?condition=calciphylaxis&measure=mortality&limit=2';
const CSV = `${LIST}&format=csv`;

describe('remembered statistics pages follow writes', () => {
  let ctx: CurationContext;
  beforeAll(async () => {
    ctx = await buildCurationApp();
  });
  afterAll(() => ctx.close());

  const get = (url: string, headers: Record<string, string> = {}) => ctx.app.inject({ url, headers });

  it('a repeated request gets the same bytes, ETag and Link; JSON and CSV are remembered apart', async () => {
    const first = await get(LIST);
    const again = await get(LIST);
    expect(first.statusCode).toBe(200);
    expect(again.body).toBe(first.body);
    expect(again.headers.etag).toBe(first.headers.etag);
    expect(first.headers.link).toMatch(/rel="next"/);
    expect(again.headers.link).toBe(first.headers.link);
    expect(again.headers['content-type']).toBe('application/json; charset=utf-8');
    const csv = await get(CSV);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8; header=present');
    expect(csv.headers.etag).not.toBe(first.headers.etag);
    expect((await get(CSV)).body).toBe(csv.body);
    expect((await get(LIST, { 'if-none-match': String(first.headers.etag) })).statusCode).toBe(304);
  });

  it('after a PATCH the same URLs show the new figure text, with a new ETag', async () => {
    const before = await get(LIST);
    const beforeCsv = await get(CSV);
    const text = 'About three in ten people with calciphylaxis died within six months (edited for the list test).';
    const res = await ctx.send({ method: 'PATCH', url: STAT, payload: { text }, headers: { 'if-match': await ctx.etag(STAT) } });
    expect(res.statusCode).toBe(200);
    const after = await get(LIST);
    expect(after.json<{ data: { id: string; text: string }[] }>().data.find((s) => s.id.endsWith('mortality-6-months'))?.text).toBe(text);
    expect(after.headers.etag).not.toBe(before.headers.etag);
    expect((await get(LIST, { 'if-none-match': String(before.headers.etag) })).statusCode).toBe(200);
    const afterCsv = await get(CSV);
    expect(afterCsv.body).toContain('edited for the list test');
    expect(afterCsv.headers.etag).not.toBe(beforeCsv.headers.etag);
  });

  it('a facts page follows a PATCH of one of its facts, in JSON and Markdown', async () => {
    const fact = '/v1/facts/calciphylaxis.symptom.livedo-patches';
    const page = '/v1/facts?condition=calciphylaxis&section=symptoms&limit=50';
    const markdown = { accept: 'text/markdown' };
    const before = await get(page);
    const livedo = (r: typeof before) => r.json<{ data: { id: string; text: string }[] }>().data.find((f) => f.id.endsWith('livedo-patches'))?.text;
    expect(livedo(before)).toMatch(/\w/);
    expect((await get(page)).body).toBe(before.body);
    const beforeMd = await get(page, markdown);
    expect(beforeMd.headers['content-type']).toBe('text/markdown; charset=utf-8');
    const text = 'Net-like purple patches on the skin (edited for the list test).';
    const res = await ctx.send({ method: 'PATCH', url: fact, payload: { text }, headers: { 'if-match': await ctx.etag(fact) } });
    expect(res.statusCode).toBe(200);
    const after = await get(page);
    expect(livedo(after)).toBe(text);
    expect(after.headers.etag).not.toBe(before.headers.etag);
    expect((await get(page, markdown)).body).toContain('edited for the list test');
  });
});
