import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, collectPages, expectProblem, type TestContext } from './helpers.js';
import type { Condition } from '../src/schemas/condition.js';
import type { Source } from '../src/schemas/source.js';
import { responseValidator } from './schema-validator.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await buildTestApp({ extraFixtures: ['examplitis.yaml'], conditions: ['calciphylaxis'] });
});
afterAll(() => ctx.close());

interface SourceList {
  data: Source[];
  page: { nextCursor: string | null; limit: number };
  lastReviewed: string | null;
  disclaimer: string;
}
interface Citing {
  entityType: string;
  id: string;
  conditionId: string;
  url: string;
}
type SourceDocument = Source & { citedBy: Citing[]; lastReviewed: string | null; disclaimer: string };

const get = (url: string, headers: Record<string, string> = {}) => ctx.app.inject({ url, headers });
const list = async (query: string) => {
  const res = await get(`/v1/sources?limit=100${query ? `&${query}` : ''}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<SourceList>();
};
const ids = async (query: string) => (await list(query)).data.map((s) => s.id);

const SOURCE_KEYS = ['id', 'kind', 'year', 'title', 'label', 'authors', 'journal', 'volume', 'pages', 'doi', 'pmid', 'pmcid', 'url', 'citedAs', 'attribution', 'licence', 'note', 'citation'];

let all: string[];
beforeAll(async () => {
  all = await ids('');
});

describe('GET /v1/sources', () => {
  it('lists every source, ordered by id, with the list envelope', async () => {
    const res = await get('/v1/sources');
    expect(res.statusCode).toBe(200);
    const body = res.json<SourceList>();
    expect(body.page.limit).toBe(20);
    expect(all).toHaveLength(33);
    // 33 sources: the default page holds the first 20 and says where the rest are.
    expect(body.page.nextCursor).not.toBeNull();
    expect(body.data.map((s) => s.id)).toEqual(all.slice(0, 20));
    expect(all).toEqual([...all].sort());
    expect(all).toContain('test-handbook-2020');
    expect(body.lastReviewed).toBe('2026-11-26');
    expect(body.disclaimer).toMatch(/not medical advice/);
    expect(res.headers['cache-control']).toMatch(/^public, max-age=\d+$/);
    const validate = responseValidator('Source');
    for (const s of body.data) expect(validate(s), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
  });

  it('serializes unknown identifiers as null, never omitted or guessed', async () => {
    const { data } = await list('');
    for (const s of data) expect(Object.keys(s).sort()).toEqual([...SOURCE_KEYS].sort());
    const udom = data.find((s) => s.id === 'udomkarnjananun-2019');
    expect(udom).toMatchObject({ kind: 'meta-analysis', year: 2019, doi: null, pmid: null, journal: null, url: null, attribution: 'confirmed' });
    expect(udom?.citation).toBe('Udomkarnjananun et al., 2019, meta-analysis');
    const an = data.find((s) => s.id === 'an-2015');
    expect(an).toMatchObject({ doi: '10.1111/nep.12433', pmid: '25707425', url: 'https://doi.org/10.1111/nep.12433', journal: 'Nephrology (Carlton)' });
    expect(data.find((s) => s.id === 'mayo-clinic')).toMatchObject({ authors: [], year: null, title: null, label: 'Mayo Clinic', citation: 'Mayo Clinic, website' });
  });

  it('shapes each source exactly as the condition document does', async () => {
    const listed = (await list('')).data;
    const doc = (await get('/v1/conditions/calciphylaxis')).json<Condition>();
    for (const s of doc.sources) expect(listed.find((x) => x.id === s.id)).toEqual(s);
  });

  it('filters by kind', async () => {
    expect(await ids('kind=case-series')).toEqual(['an-2015', 'nordheim-2016']);
    expect(await ids('kind=meta-analysis')).toEqual(['udomkarnjananun-2019']);
    expect(await ids('kind=systematic-review')).toEqual([]);
    expect(await ids('kind=review')).toEqual(['deen-2019', 'kodumudi-2020', 'mathur-2001', 'nigwekar-2015', 'nigwekar-2018', 'sprague-2013', 'test-handbook-2020']);
    expect(await ids('kind=guideline')).toEqual([]);
  });

  it('filters by attribution', async () => {
    expect(await ids('attribution=unknown')).toEqual(['unidentified-demographics-study', 'unidentified-diagnosis-study-2019', 'unidentified-mortality-study']);
    expect(await ids('attribution=probable')).toEqual(['deen-2019', 'kodumudi-2020', 'nigwekar-2018']);
    const confirmed = await ids('attribution=confirmed');
    expect(confirmed).toHaveLength(27);
    expect(confirmed).toContain('udomkarnjananun-2019');
    expect(confirmed).toContain('test-handbook-2020');
  });

  it('filters by the condition that cites them', async () => {
    expect(await ids('condition=examplitis')).toEqual(['test-handbook-2020']);
    const calci = await ids('condition=calciphylaxis');
    const doc = (await get('/v1/conditions/calciphylaxis')).json<Condition>();
    expect(calci).toEqual(doc.sources.map((s) => s.id).sort());
    expect(calci).not.toContain('test-handbook-2020');
    expect(calci.length).toBeLessThan(all.length);
    expect(await ids('condition=no-such-condition')).toEqual([]);
  });

  it('combines filters with AND and takes lastReviewed from the defining conditions', async () => {
    const body = await list('kind=review&condition=examplitis');
    expect(body.data.map((s) => s.id)).toEqual(['test-handbook-2020']);
    expect(body.lastReviewed).toBe('2026-01-15');
    expect(await list('kind=guideline')).toMatchObject({ data: [], lastReviewed: null });
  });

  it('pages with limit=2 without losing or repeating an item, with a Link header', async () => {
    const first = await get('/v1/sources?limit=2');
    expect(first.headers.link).toMatch(/^<\/v1\/sources\?limit=2&cursor=[^>]+>; rel="next"$/);
    const { items, pages } = await collectPages<Source>(ctx.app, '/v1/sources?limit=2');
    expect(pages).toBe(17);
    expect(items.map((s) => s.id)).toEqual(all);
    expect(new Set(items.map((s) => s.id)).size).toBe(items.length);
  });

  it('answers If-None-Match with 304', async () => {
    const first = await get('/v1/sources?kind=review');
    expect((await get('/v1/sources?kind=review', { 'if-none-match': String(first.headers.etag) })).statusCode).toBe(304);
  });

  it.each([
    ['/v1/sources?foo=1', '/querystring/foo'],
    ['/v1/sources?kind=book', '/querystring/kind'],
    ['/v1/sources?attribution=maybe', '/querystring/attribution'],
    ['/v1/sources?condition=Bad_Id', '/querystring/condition'],
    ['/v1/sources?cursor=garbage', '/querystring/cursor'],
  ])('rejects %s with a 400 problem naming %s', async (url, path) => {
    const problem = expectProblem(await get(url), 400);
    expect(problem.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
  });

  it('406s an unsupported Accept', async () => {
    expectProblem(await get('/v1/sources', { accept: 'text/html' }), 406);
  });
});

describe('GET /v1/sources/{id}', () => {
  it('serves one source with what cites it', async () => {
    const res = await get('/v1/sources/kodumudi-2020');
    expect(res.statusCode).toBe(200);
    const { citedBy, lastReviewed, disclaimer, ...source } = res.json<SourceDocument>();
    expect(source).toEqual((await list('')).data.find((s) => s.id === 'kodumudi-2020'));
    expect(source).toMatchObject({ kind: 'review', year: 2020, pmid: '32997277', doi: '10.1007/s12325-020-01504-w', attribution: 'probable' });
    expect(lastReviewed).toBe('2026-11-26');
    expect(disclaimer).toMatch(/not medical advice/);
    expect(citedBy).toEqual([
      { entityType: 'related', id: 'end-stage-kidney-disease', conditionId: 'calciphylaxis', url: '/v1/conditions/calciphylaxis' },
      { entityType: 'statement', id: 'calciphylaxis.cause.advanced-kidney-failure', conditionId: 'calciphylaxis', url: '/v1/conditions/calciphylaxis/causes' },
      { entityType: 'statement', id: 'calciphylaxis.diagnosis.skin-biopsy', conditionId: 'calciphylaxis', url: '/v1/conditions/calciphylaxis/diagnosis' },
      { entityType: 'statement', id: 'calciphylaxis.diagnosis.skin-ulcers-in-esrd', conditionId: 'calciphylaxis', url: '/v1/conditions/calciphylaxis/diagnosis' },
      {
        entityType: 'statement',
        id: 'calciphylaxis.treatment.pain-management',
        conditionId: 'calciphylaxis',
        url: '/v1/treatments/calciphylaxis.treatment.pain-management',
      },
      {
        entityType: 'statistic',
        id: 'calciphylaxis.stat.incidence-dialysis',
        conditionId: 'calciphylaxis',
        url: '/v1/statistics/calciphylaxis.stat.incidence-dialysis',
      },
    ]);
  });

  it('links treatments, statistics and summaries to where they are served', async () => {
    const udom = (await get('/v1/sources/udomkarnjananun-2019')).json<SourceDocument>();
    expect(udom.citedBy).toEqual(
      expect.arrayContaining([
        { entityType: 'statistic', id: 'calciphylaxis.stat.usage-sodium-thiosulfate', conditionId: 'calciphylaxis', url: '/v1/statistics/calciphylaxis.stat.usage-sodium-thiosulfate' },
        { entityType: 'statement', id: 'calciphylaxis.treatment.sodium-thiosulfate', conditionId: 'calciphylaxis', url: '/v1/treatments/calciphylaxis.treatment.sodium-thiosulfate' },
      ]),
    );
    const handbook = (await get('/v1/sources/test-handbook-2020')).json<SourceDocument>();
    expect(handbook.lastReviewed).toBe('2026-01-15');
    expect(handbook.citedBy).toContainEqual({ entityType: 'summary', id: 'examplitis', conditionId: 'examplitis', url: '/v1/conditions/examplitis' });
    expect(handbook.citedBy.map((c) => c.id)).toEqual(
      expect.arrayContaining(['examplitis.symptom.blue-thumbs', 'examplitis.treatment.warm-gloves', 'examplitis.stat.glove-usage']),
    );
  });

  it('gives citedBy urls that all resolve', async () => {
    const article = (await get('/v1/sources/mnt-calciphylaxis-article')).json<SourceDocument>();
    expect(article.citedBy.length).toBeGreaterThan(30);
    for (const url of new Set(article.citedBy.map((c) => c.url))) expect((await get(url)).statusCode, url).toBe(200);
  });

  it('answers If-None-Match with 304', async () => {
    const first = await get('/v1/sources/an-2015');
    expect(first.headers.etag).toMatch(/^"[^"]+"$/);
    expect((await get('/v1/sources/an-2015', { 'if-none-match': String(first.headers.etag) })).statusCode).toBe(304);
  });

  it('404s an unknown id and 400s a malformed one', async () => {
    expect(expectProblem(await get('/v1/sources/no-such-source'), 404).detail).toMatch(/no-such-source/);
    expect(expectProblem(await get('/v1/sources/Not_A_Source'), 400).errors).toEqual([expect.objectContaining({ path: '/params/id' })]);
    expectProblem(await get('/v1/sources/an-2015?foo=1'), 400);
  });

  it('406s an unsupported Accept', async () => {
    expectProblem(await get('/v1/sources/an-2015', { accept: 'text/html' }), 406);
  });
});
