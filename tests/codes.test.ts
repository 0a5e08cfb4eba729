import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, collectPages, expectProblem, type TestContext } from './helpers.js';
import { encodeCursor } from '../src/http/pagination.js';

// examplitis maps icd10cm E83.59 as `related`, so one code finds two conditions.
let ctx: TestContext;
beforeAll(async () => {
  ctx = await buildTestApp({ extraFixtures: ['examplitis.yaml'], conditions: ['calciphylaxis'] });
});
afterAll(() => ctx.close());

interface Mapping {
  kind: 'condition' | 'treatment';
  id: string;
  conditionId: string;
  name: string;
  match: string;
  note: string | null;
  display: string | null;
  confidence: string | null;
  url: string;
}
interface Lookup {
  system: string;
  code: string;
  data: Mapping[];
  page: { nextCursor: string | null; limit: number };
  lastReviewed: string | null;
  disclaimer: string;
}

const get = (url: string, headers: Record<string, string> = {}) => ctx.app.inject({ url, headers });
const lookup = async (path: string) => {
  const res = await get(`/v1/codes/${path}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<Lookup>();
};

const CALCI_E8359: Mapping = {
  kind: 'condition',
  id: 'calciphylaxis',
  conditionId: 'calciphylaxis',
  name: 'Calciphylaxis',
  match: 'broader',
  note: 'No ICD-10-CM code is specific to calciphylaxis; E83.59 is the broader category (other disorders of calcium metabolism) used to record it.',
  display: 'Other disorders of calcium metabolism',
  confidence: 'high',
  url: '/v1/conditions/calciphylaxis',
};

describe('GET /v1/codes/{system}/{code}', () => {
  it('maps icd10cm E83.59 to calciphylaxis (broader) and examplitis (related)', async () => {
    const res = await get('/v1/codes/icd10cm/E83.59');
    expect(res.statusCode).toBe(200);
    const body = res.json<Lookup>();
    expect(body).toMatchObject({ system: 'icd10cm', code: 'E83.59', page: { nextCursor: null, limit: 20 }, lastReviewed: '2026-11-26' });
    expect(body.data).toEqual([CALCI_E8359, expect.objectContaining({ kind: 'condition', id: 'examplitis', match: 'related', confidence: 'low', url: '/v1/conditions/examplitis' })]);
    expect(body.disclaimer).toMatch(/not medical advice/);
    expect(res.headers['cache-control']).toMatch(/^public, max-age=\d+$/);
  });

  it('matches case-insensitively and answers with the canonical code', async () => {
    const lower = await lookup('icd10cm/e83.59');
    expect(lower.code).toBe('E83.59');
    expect(lower.data).toEqual((await lookup('icd10cm/E83.59')).data);
  });

  it('maps orphanet 280062 to calciphylaxis (exact), with or without the ORPHA: prefix', async () => {
    const plain = await lookup('orphanet/280062');
    expect(plain.data).toEqual([expect.objectContaining({ kind: 'condition', id: 'calciphylaxis', match: 'exact', display: null, note: 'Orphanet entry ORPHA:280062.' })]);
    for (const form of ['ORPHA:280062', 'orpha:280062', 'ORPHA%3A280062']) {
      const prefixed = await lookup(`orphanet/${form}`);
      expect(prefixed.code, form).toBe('280062');
      expect(prefixed.data, form).toEqual(plain.data);
    }
  });

  it('maps atc V03AB06 to the sodium thiosulfate treatment (exact)', async () => {
    const body = await lookup('atc/V03AB06');
    expect(body.data).toEqual([
      {
        kind: 'treatment',
        id: 'calciphylaxis.treatment.sodium-thiosulfate',
        conditionId: 'calciphylaxis',
        name: 'Sodium thiosulfate',
        match: 'exact',
        note: null,
        display: 'sodium thiosulfate',
        confidence: null,
        url: '/v1/treatments/calciphylaxis.treatment.sodium-thiosulfate',
      },
    ]);
    expect((await get(body.data[0]?.url ?? '')).statusCode).toBe(200);
    expect((await lookup('atc/h05bx01')).data.map((m) => m.id)).toEqual(['calciphylaxis.treatment.cinacalcet']);
  });

  it('covers the other code systems of the content', async () => {
    expect((await lookup('icd9cm/275.49')).data).toEqual([expect.objectContaining({ id: 'calciphylaxis', match: 'broader', confidence: 'medium' })]);
  });

  it('pages with limit=1 without losing or repeating an item, with a Link header', async () => {
    const first = await get('/v1/codes/icd10cm/E83.59?limit=1');
    expect(first.headers.link).toMatch(/^<\/v1\/codes\/icd10cm\/E83\.59\?limit=1&cursor=[^>]+>; rel="next"$/);
    const { items, pages } = await collectPages<Mapping>(ctx.app, '/v1/codes/icd10cm/E83.59?limit=1');
    expect(pages).toBe(2);
    expect(items.map((m) => m.id)).toEqual(['calciphylaxis', 'examplitis']);
    const all = (await lookup('icd10cm/E83.59?limit=100')).data;
    expect(items).toEqual(all);
  });

  it('answers a cursor past the end of a known code with an empty page, not a 404', async () => {
    const body = await lookup(`icd10cm/E83.59?cursor=${encodeCursor('treatment:zzz')}`);
    expect(body).toMatchObject({ data: [], page: { nextCursor: null }, lastReviewed: null });
  });

  it('answers If-None-Match with 304', async () => {
    const first = await get('/v1/codes/icd10cm/E83.59');
    expect(first.headers.etag).toMatch(/^"[^"]+"$/);
    expect((await get('/v1/codes/icd10cm/E83.59', { 'if-none-match': String(first.headers.etag) })).statusCode).toBe(304);
  });

  it('400s an unknown code system, listing the supported ones', async () => {
    const problem = expectProblem(await get('/v1/codes/icd99/E83.59'), 400);
    expect(problem.errors).toEqual([expect.objectContaining({ path: '/params/system' })]);
    expect(problem.detail).toMatch(/icd10cm/);
    expectProblem(await get('/v1/codes/ICD10CM/E83.59'), 400);
  });

  it('404s a well-formed code nothing maps to', async () => {
    expect(expectProblem(await get('/v1/codes/icd10cm/Z99.9'), 404).detail).toMatch(/Z99\.9/);
    expectProblem(await get('/v1/codes/orphanet/999999'), 404);
    expectProblem(await get('/v1/codes/atc/A01AA01'), 404);
    expectProblem(await get(`/v1/codes/icd10cm/Z99.9?cursor=${encodeCursor('condition:a')}`), 404);
  });

  it('404s a malformed code, saying that it is malformed', async () => {
    expect(expectProblem(await get('/v1/codes/icd10cm/not-a-code'), 404).detail).toMatch(/not a well-formed icd10cm code/);
    expectProblem(await get('/v1/codes/orphanet/ORPHA:abc'), 404);
  });

  it.each([
    ['/v1/codes/icd10cm/E83.59?foo=1', '/querystring/foo'],
    ['/v1/codes/icd10cm/E83.59?limit=0', '/querystring/limit'],
    ['/v1/codes/icd10cm/E83.59?cursor=garbage', '/querystring/cursor'],
  ])('rejects %s with a 400 problem naming %s', async (url, path) => {
    const problem = expectProblem(await get(url), 400);
    expect(problem.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
  });

  it('406s an unsupported Accept', async () => {
    expectProblem(await get('/v1/codes/icd10cm/E83.59', { accept: 'text/html' }), 406);
  });
});
