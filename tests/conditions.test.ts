import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, collectPages, expectProblem, type TestContext } from './helpers.js';
import type { Condition, ConditionSummary } from '../src/schemas/condition.js';
import { responseValidator } from './schema-validator.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await buildTestApp({ extraFixtures: ['examplitis.yaml'], conditions: ['calciphylaxis'] });
});
afterAll(() => ctx.close());

const get = (url: string, headers: Record<string, string> = {}) => ctx.app.inject({ url, headers });

describe('GET /v1/conditions', () => {
  it('lists summaries with the fixed envelope and content notes', async () => {
    const res = await get('/v1/conditions');
    expect(res.statusCode).toBe(200);
    const body = res.json<{ data: ConditionSummary[]; page: { nextCursor: string | null; limit: number }; lastReviewed: string; disclaimer: string }>();
    expect(body.page).toEqual({ nextCursor: null, limit: 20 });
    expect(body.data.map((c) => c.id)).toEqual(['calciphylaxis', 'examplitis']);
    const calci = body.data[0];
    expect(calci).toMatchObject({ name: 'Calciphylaxis', aliases: ['Calcific uremic arteriolopathy', 'CUA'], url: '/v1/conditions/calciphylaxis' });
    expect(Object.keys(calci ?? {})).toEqual(expect.arrayContaining(['id', 'name', 'aliases', 'summary', 'codes']));
    expect(body.lastReviewed).toBe('2026-11-26');
    expect(body.disclaimer).toMatch(/not medical advice/);
    expect(res.headers['cache-control']).toMatch(/^public, max-age=\d+$/);
    expect(res.headers.etag).toMatch(/^"[^"]+"$/);
  });

  it('pages with limit=1 without losing or repeating an item, with a Link header', async () => {
    const first = await get('/v1/conditions?limit=1');
    expect(first.headers.link).toMatch(/^<\/v1\/conditions\?limit=1&cursor=[^>]+>; rel="next"$/);
    const { items, pages } = await collectPages<ConditionSummary>(ctx.app, '/v1/conditions?limit=1');
    expect(pages).toBe(2);
    expect(items.map((c) => c.id)).toEqual(['calciphylaxis', 'examplitis']);
    const last = await get(`/v1/conditions?limit=1&cursor=${first.json<{ page: { nextCursor: string } }>().page.nextCursor}`);
    expect(last.headers.link).toBeUndefined();
  });

  it('filters by q over name, alias and summary', async () => {
    const ids = async (q: string) => (await get(`/v1/conditions?q=${encodeURIComponent(q)}`)).json<{ data: { id: string }[] }>().data.map((c) => c.id);
    expect(await ids('uremic')).toEqual(['calciphylaxis']);
    expect(await ids('CUA')).toEqual(['calciphylaxis']);
    expect(await ids('made-up')).toEqual(['examplitis']);
    expect(await ids('zzzz')).toEqual([]);
  });

  it('filters by code, case-insensitively', async () => {
    const ids = async (code: string) => (await get(`/v1/conditions?code=${code}`)).json<{ data: { id: string }[] }>().data.map((c) => c.id);
    expect(await ids('icd10cm:E83.59')).toEqual(['calciphylaxis', 'examplitis']);
    expect(await ids('icd10cm:e83.59')).toEqual(['calciphylaxis', 'examplitis']);
    expect(await ids('orphanet:280062')).toEqual(['calciphylaxis']);
    expect(await ids('orphanet:1')).toEqual([]);
  });

  it.each([
    ['/v1/conditions?foo=1', '/querystring/foo'],
    ['/v1/conditions?limit=0', '/querystring/limit'],
    ['/v1/conditions?limit=101', '/querystring/limit'],
    ['/v1/conditions?limit=abc', '/querystring/limit'],
    ['/v1/conditions?code=E83.59', '/querystring/code'],
    ['/v1/conditions?code=nosuch:1', '/querystring/code'],
    ['/v1/conditions?cursor=garbage', '/querystring/cursor'],
  ])('rejects %s with a 400 problem naming %s', async (url, path) => {
    const problem = expectProblem(await get(url), 400);
    expect(problem.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
    expect(problem.requestId).toBeTruthy();
  });
});

describe('GET /v1/conditions/{id}', () => {
  it('serves the whole document with every fixed key, valid against its schema', async () => {
    const res = await get('/v1/conditions/calciphylaxis');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    const doc = res.json<Condition>();
    for (const key of ['id', 'name', 'aliases', 'summary', 'codes', 'symptoms', 'causes', 'riskFactors', 'complications', 'diagnosis', 'treatments', 'prognosis', 'prevention', 'statistics', 'sources', 'related', 'lastReviewed', 'version', 'disclaimer']) {
      expect(doc, key).toHaveProperty(key);
    }
    const validate = responseValidator('Condition');
    expect(validate(doc), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
  });

  it('carries a source on every statement and statistic, each one resolvable in the document', async () => {
    const doc = (await get('/v1/conditions/calciphylaxis')).json<Condition>();
    const known = new Set(doc.sources.map((s) => s.id));
    const items = [...doc.symptoms, ...doc.causes, ...doc.riskFactors, ...doc.complications, ...doc.diagnosis, ...doc.treatments, ...doc.prognosis, ...doc.prevention, ...doc.statistics, ...doc.related];
    expect(items.length).toBeGreaterThan(80);
    for (const item of items) {
      expect(item.sources.length, JSON.stringify(item)).toBeGreaterThan(0);
      for (const s of item.sources) expect(known.has(s.id), s.id).toBe(true);
    }
  });

  it('shows the treatments with regulatory notes and codes, and the related conditions', async () => {
    const doc = (await get('/v1/conditions/calciphylaxis')).json<Condition>();
    const sts = doc.treatments.find((t) => t.id === 'calciphylaxis.treatment.sodium-thiosulfate');
    expect(sts).toMatchObject({ type: 'medication', route: 'intravenous', regulatory: { status: 'off-label' }, codes: [{ system: 'atc', code: 'V03AB06' }] });
    expect(sts?.statistics).toContain('calciphylaxis.stat.usage-sodium-thiosulfate');
    expect(doc.related.map((r) => [r.conditionId, r.url])).toEqual(
      expect.arrayContaining([['end-stage-kidney-disease', null], ['sepsis', null], ['secondary-hyperparathyroidism', null]]),
    );
  });

  it('groups estimates of the same measure side by side', async () => {
    const doc = (await get('/v1/conditions/calciphylaxis')).json<Condition>();
    const mortality = doc.statisticGroups.find((g) => g.measure === 'mortality' && g.subject === 'condition');
    // The article's mortality figures, Weenig's 1-year survival and the UK study's mortality are one outcome: side by side.
    expect(mortality?.statistics).toEqual([
      'calciphylaxis.stat.mortality-6-months',
      'calciphylaxis.stat.mortality-12-months',
      'calciphylaxis.stat.survival-1-year-weenig',
      'calciphylaxis.stat.mortality-hazard-ratio-uk-study',
      'calciphylaxis.stat.mortality-annual-uk-study',
      'calciphylaxis.stat.mortality-rate-uk-study',
    ]);
    expect(doc.statisticGroups.find((g) => g.measure === 'survival')).toBeUndefined();
  });

  it('shows unknown identifiers as null, never invented', async () => {
    const doc = (await get('/v1/conditions/calciphylaxis')).json<Condition>();
    const udom = doc.sources.find((s) => s.id === 'udomkarnjananun-2019');
    expect(udom).toMatchObject({ doi: null, pmid: null, journal: null, url: null, citation: 'Udomkarnjananun et al., 2019, meta-analysis' });
    const an = doc.sources.find((s) => s.id === 'an-2015');
    expect(an).toMatchObject({ doi: '10.1111/nep.12433', url: 'https://doi.org/10.1111/nep.12433' });
  });

  it('answers If-None-Match with 304 and a changed ETag never matches', async () => {
    const first = await get('/v1/conditions/calciphylaxis');
    const etag = String(first.headers.etag);
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{32}"$/);
    const again = await get('/v1/conditions/calciphylaxis', { 'if-none-match': etag });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    expect(again.headers['cache-control']).toMatch(/^public/);
    const other = await get('/v1/conditions/calciphylaxis', { 'if-none-match': '"something-else"' });
    expect(other.statusCode).toBe(200);
    expect((await get('/v1/conditions/examplitis')).headers.etag).not.toBe(etag);
  });

  it('serves HEAD with the same ETag and no body', async () => {
    const head = await ctx.app.inject({ method: 'HEAD', url: '/v1/conditions/calciphylaxis' });
    expect(head.statusCode).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers.etag).toBe((await get('/v1/conditions/calciphylaxis')).headers.etag);
  });

  it('404s an unknown condition and 400s a malformed id', async () => {
    expect(expectProblem(await get('/v1/conditions/no-such-thing'), 404).detail).toMatch(/no-such-thing/);
    expectProblem(await get('/v1/conditions/Bad_Id!'), 400);
    expectProblem(await get(`/v1/conditions/${'a'.repeat(300)}`), 414);
  });

  it('406s an unsupported Accept and lists what is supported', async () => {
    const problem = expectProblem(await get('/v1/conditions/calciphylaxis', { accept: 'text/html' }), 406);
    expect(problem.supported).toContain('application/json');
    expect((await get('/v1/conditions/calciphylaxis', { accept: '*/*' })).statusCode).toBe(200);
    expect((await get('/v1/conditions/calciphylaxis', { accept: 'application/*' })).statusCode).toBe(200);
  });

  it('405s another method on a known path with Allow', async () => {
    // /v1/meta is read-only whatever curation adds, so its Allow list is fixed.
    const res = await ctx.app.inject({ method: 'DELETE', url: '/v1/meta' });
    expectProblem(res, 405);
    expect(res.headers.allow).toBe('GET, HEAD');
  });

  it('404s an unknown path as a problem', async () => {
    expectProblem(await get('/v2/nothing'), 404);
  });
});

describe('GET /v1/conditions/{id}/{section}', () => {
  it.each([
    ['symptoms', 'symptoms'],
    ['causes', 'causes'],
    ['risk-factors', 'riskFactors'],
    ['complications', 'complications'],
    ['diagnosis', 'diagnosis'],
    ['treatments', 'treatments'],
    ['prognosis', 'prognosis'],
    ['prevention', 'prevention'],
    ['statistics', 'statistics'],
    ['sources', 'sources'],
  ] as const)('serves %s as in the whole document', async (section, key) => {
    const doc = (await get('/v1/conditions/calciphylaxis')).json<Condition>();
    const res = await get(`/v1/conditions/calciphylaxis/${section}`);
    expect(res.statusCode).toBe(200);
    const body = res.json<{ section: string; data: unknown[]; lastReviewed: string; disclaimer: string; version: number }>();
    expect(body.section).toBe(section);
    expect(body.data).toEqual(doc[key]);
    expect(body.data.length).toBeGreaterThan(0);
    expect(body).toMatchObject({ lastReviewed: '2026-11-26', version: doc.version });
    expect(body.disclaimer).toBe(doc.disclaimer);
    const etag = String(res.headers.etag);
    expect((await get(`/v1/conditions/calciphylaxis/${section}`, { 'if-none-match': etag })).statusCode).toBe(304);
  });

  it('400s an unknown section and 404s an unknown condition', async () => {
    const problem = expectProblem(await get('/v1/conditions/calciphylaxis/nonsense'), 400);
    expect(problem.errors).toEqual([expect.objectContaining({ path: '/params/section' })]);
    expectProblem(await get('/v1/conditions/nope/symptoms'), 404);
  });
});

describe('operational endpoints', () => {
  it('answers /health and /ready without caching', async () => {
    const health = await get('/health');
    expect(health.json()).toEqual({ status: 'ok' });
    expect(health.headers['cache-control']).toBe('no-store');
    const ready = await get('/ready');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ready' });
  });

  it('describes the dataset at /v1/meta', async () => {
    const meta = (await get('/v1/meta')).json<Record<string, unknown>>();
    expect(meta).toMatchObject({ counts: { conditions: 2, statistics: 32 }, lastReviewed: '2026-11-26' });
    expect(meta.datasetVersion).toMatch(/^[0-9a-f]{16}$/);
    expect(meta.licence).toMatch(/CC BY 4.0/);
    expect(meta.disclaimer).toBeTruthy();
  });
});
