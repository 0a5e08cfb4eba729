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
  codedWith: string;
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
  codedWith: 'E83.59',
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
    expect(plain.data).toEqual([expect.objectContaining({ kind: 'condition', id: 'calciphylaxis', match: 'exact', display: 'Calciphylaxis', note: expect.stringMatching(/^Orphanet entry ORPHA:280062/) })]);
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
        codedWith: 'V03AB06',
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
    expectProblem(await get('/v1/codes?system=icd10cm&code=E83.59', { accept: 'text/html' }), 406);
    expectProblem(await get('/v1/codes/icd10cm/E83.59', { accept: 'text/html' }), 406);
  });
});

describe('EHR-style code lookup', () => {
  it('reads ICD-10-CM codes without the dot and in any case: E8359, e83.59, e8359', async () => {
    const canonical = await lookup('icd10cm/E83.59');
    for (const form of ['E8359', 'e83.59', 'e8359', ' E83.59 '.trim()]) {
      const body = await lookup(`icd10cm/${form}`);
      expect(body.code, form).toBe('E83.59');
      expect(body.data, form).toEqual(canonical.data);
    }
    // ICD-9-CM too: 27549 is 275.49.
    expect((await lookup('icd9cm/27549')).code).toBe('275.49');
  });

  it('finds the conditions coded under a parent ICD-10-CM code (E83.5, E83), broader, with the child code', async () => {
    for (const [parent, canonical] of [
      ['E83.5', 'E83.5'],
      ['E835', 'E83.5'],
      ['e83', 'E83'],
    ]) {
      const body = await lookup(`icd10cm/${parent}`);
      expect(body.code, parent).toBe(canonical);
      const calci = body.data.find((m) => m.id === 'calciphylaxis');
      expect(calci, parent).toMatchObject({ kind: 'condition', match: 'broader', codedWith: 'E83.59', url: '/v1/conditions/calciphylaxis' });
      // examplitis is only `related` to E83.59, so it is only related to the parent.
      expect(body.data.find((m) => m.id === 'examplitis'), parent).toMatchObject({ match: 'related', codedWith: 'E83.59' });
    }
    // Nothing is coded under E84: still a 404.
    expect(expectProblem(await get('/v1/codes/icd10cm/E84'), 404).detail).toMatch(/or to a code under it/);
    // A sibling under the same category is not under E83.5.
    expectProblem(await get('/v1/codes/icd10cm/E83.4'), 404);
  });

  it('pages a hierarchy lookup like any other', async () => {
    const { items, pages } = await collectPages<Mapping>(ctx.app, '/v1/codes/icd10cm/E83.5?limit=1');
    expect(pages).toBe(2);
    expect(items.map((m) => m.id)).toEqual(['calciphylaxis', 'examplitis']);
  });

  it('takes ORPHA:280062 in the path and in the query form', async () => {
    const path = await lookup('orphanet/ORPHA:280062');
    const query = await get('/v1/codes?system=orphanet&code=ORPHA:280062');
    expect(query.statusCode).toBe(200);
    expect(query.json<Lookup>()).toEqual(path);
  });

  it.each([
    ['http://hl7.org/fhir/sid/icd-10-cm', 'E8359'],
    ['2.16.840.1.113883.6.90', 'E83.59'],
    ['urn:oid:2.16.840.1.113883.6.90', 'e83.59'],
    ['HTTP://HL7.ORG/fhir/sid/icd-10-cm/', 'E83.59'],
  ])('GET /v1/codes?system=%s&code=%s finds calciphylaxis by ICD-10-CM', async (system, code) => {
    const res = await get(`/v1/codes?system=${encodeURIComponent(system)}&code=${encodeURIComponent(code)}`);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<Lookup>();
    expect(body).toMatchObject({ system: 'icd10cm', code: 'E83.59' });
    expect(body.data[0]).toEqual(CALCI_E8359);
  });

  it.each([
    ['http://www.orpha.net', '280062'],
    ['https://www.orpha.net', 'ORPHA:280062'],
  ])('GET /v1/codes?system=%s&code=%s finds calciphylaxis by Orphanet', async (system, code) => {
    const body = (await get(`/v1/codes?system=${encodeURIComponent(system)}&code=${encodeURIComponent(code)}`)).json<Lookup>();
    expect(body).toMatchObject({ system: 'orphanet', code: '280062' });
    expect(body.data.map((m) => m.id)).toEqual(['calciphylaxis']);
  });

  it('finds treatments by the ATC OID', async () => {
    const body = (await get('/v1/codes?system=2.16.840.1.113883.6.73&code=v03ab06')).json<Lookup>();
    expect(body.data.map((m) => m.id)).toEqual(['calciphylaxis.treatment.sodium-thiosulfate']);
  });

  it('400s an unknown system in the query form, listing the accepted names, URIs and OIDs', async () => {
    const problem = expectProblem(await get('/v1/codes?system=http://example.org/codes&code=E83.59'), 400);
    expect(problem.errors).toEqual([{ path: '/querystring/system', message: 'not a known code system' }]);
    expect(problem.detail).toMatch(/icd10cm/);
    expect(problem.detail).toContain('2.16.840.1.113883.6.90');
    const missing = expectProblem(await get('/v1/codes?code=E83.59'), 400);
    expect(missing.errors).toEqual([expect.objectContaining({ path: '/querystring/system' })]);
  });
});
