import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, collectPages, expectProblem, type TestContext } from './helpers.js';
import { encodeCursor } from '../src/http/pagination.js';
import type { Condition } from '../src/schemas/condition.js';
import type { Statistic } from '../src/schemas/statistic.js';
import { responseValidator } from './schema-validator.js';

// examplitis adds a second condition, so every filter is proven across conditions.
let ctx: TestContext;
beforeAll(async () => {
  ctx = await buildTestApp({ extraFixtures: ['examplitis.yaml'], conditions: ['calciphylaxis'] });
});
afterAll(() => ctx.close());

interface StatisticList {
  data: Statistic[];
  page: { nextCursor: string | null; limit: number };
  lastReviewed: string | null;
  disclaimer: string;
}

const get = (url: string, headers: Record<string, string> = {}) => ctx.app.inject({ url, headers });
const list = async (query: string) => {
  const res = await get(`/v1/statistics?limit=100${query ? `&${query}` : ''}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<StatisticList>();
};
const ids = async (query: string) => (await list(query)).data.map((s) => s.id);

const STST = 'calciphylaxis.stat.usage-sodium-thiosulfate';
const CALCI_MEDIUM = [
  'calciphylaxis.stat.complete-response-cinacalcet-alone',
  'calciphylaxis.stat.complete-response-cinacalcet-combined',
  'calciphylaxis.stat.mortality-12-months',
  'calciphylaxis.stat.mortality-6-months',
  'calciphylaxis.stat.mortality-risk-ratio-hyperbaric-oxygen',
  'calciphylaxis.stat.response-cinacalcet-alone',
  'calciphylaxis.stat.response-cinacalcet-combined',
];
/** The mortality family (mortality and survival): every estimate of the one outcome. */
const MORTALITY = [
  'calciphylaxis.stat.mortality-12-months',
  'calciphylaxis.stat.mortality-6-months',
  'calciphylaxis.stat.mortality-annual-uk-study',
  'calciphylaxis.stat.mortality-hazard-ratio-uk-study',
  'calciphylaxis.stat.mortality-rate-uk-study',
  'calciphylaxis.stat.mortality-risk-ratio-bisphosphonates',
  'calciphylaxis.stat.mortality-risk-ratio-cinacalcet',
  'calciphylaxis.stat.mortality-risk-ratio-hyperbaric-oxygen',
  'calciphylaxis.stat.mortality-risk-ratio-parathyroidectomy',
  'calciphylaxis.stat.mortality-risk-ratio-sodium-thiosulfate',
  'calciphylaxis.stat.survival-1-year-debridement-weenig',
  'calciphylaxis.stat.survival-1-year-weenig',
];
/** The pooled mortality risk ratios of the 2019 meta-analysis, one per treatment. */
const RISK_RATIOS = MORTALITY.filter((id) => id.includes('.mortality-risk-ratio-'));
const USAGE = [
  'calciphylaxis.stat.usage-bisphosphonates',
  'calciphylaxis.stat.usage-cinacalcet',
  'calciphylaxis.stat.usage-hyperbaric-oxygen',
  'calciphylaxis.stat.usage-parathyroidectomy',
  STST,
];

let all: string[];
beforeAll(async () => {
  all = await ids('');
});

describe('GET /v1/statistics', () => {
  it('lists every statistic of every condition, ordered by id, with the list envelope', async () => {
    const res = await get('/v1/statistics');
    expect(res.statusCode).toBe(200);
    const body = res.json<StatisticList>();
    expect(body.page.limit).toBe(20);
    // 32 figures: the default page holds the first 20 and says where the rest are.
    expect(all).toHaveLength(32);
    expect(body.page.nextCursor).not.toBeNull();
    expect(body.data.map((s) => s.id)).toEqual(all.slice(0, 20));
    expect(all).toEqual([...all].sort());
    expect(all.filter((id) => id.startsWith('examplitis.'))).toEqual(['examplitis.stat.glove-usage']);
    expect(body.lastReviewed).toBe('2026-11-26');
    expect(body.disclaimer).toMatch(/not medical advice/);
    expect(res.headers['cache-control']).toMatch(/^public, max-age=\d+$/);
    expect(res.headers.etag).toMatch(/^"[^"]+"$/);
    const validate = responseValidator('Statistic');
    for (const s of body.data) expect(validate(s), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
  });

  it('shapes each statistic exactly as its condition document does', async () => {
    const listed = (await list('')).data;
    for (const conditionId of ['calciphylaxis', 'examplitis']) {
      const doc = (await get(`/v1/conditions/${conditionId}`)).json<Condition>();
      const fromList = listed.filter((s) => s.conditionId === conditionId).sort((a, b) => a.id.localeCompare(b.id));
      expect(fromList).toEqual([...doc.statistics].sort((a, b) => a.id.localeCompare(b.id)));
    }
  });

  it('carries the exact figures of the content', async () => {
    const s = (await list('')).data.find((x) => x.id === STST);
    expect(s).toMatchObject({
      conditionId: 'calciphylaxis',
      measure: 'usage',
      value: 50.3,
      low: null,
      high: null,
      unit: '%',
      studyType: 'meta-analysis',
      year: 2019,
      confidence: 'high',
      treatment: { id: 'calciphylaxis.treatment.sodium-thiosulfate', name: 'Sodium thiosulfate' },
    });
    expect(s?.sources.map((x) => x.id)).toEqual(['udomkarnjananun-2019', 'mnt-calciphylaxis-article']);
    expect(s?.sources[0]?.citation).toBe('Udomkarnjananun et al., 2019, meta-analysis');
    const range = (await list('')).data.find((x) => x.id === 'calciphylaxis.stat.incidence-dialysis');
    expect(range).toMatchObject({ value: null, low: 0.04, high: 4, comparator: 'about', primarySource: 'kodumudi-2020', studyType: 'review', year: 2020 });
  });

  it('filters by condition', async () => {
    expect(await ids('condition=examplitis')).toEqual(['examplitis.stat.glove-usage']);
    const calci = await ids('condition=calciphylaxis');
    expect(calci).toHaveLength(31);
    expect(calci).toEqual(all.filter((id) => id.startsWith('calciphylaxis.')));
    expect(await ids('condition=no-such-condition')).toEqual([]);
  });

  it('filters by treatment', async () => {
    expect(await ids('treatment=calciphylaxis.treatment.sodium-thiosulfate')).toEqual(['calciphylaxis.stat.mortality-risk-ratio-sodium-thiosulfate', STST]);
    expect(await ids('treatment=calciphylaxis.treatment.cinacalcet')).toEqual([
      'calciphylaxis.stat.complete-response-cinacalcet-alone',
      'calciphylaxis.stat.complete-response-cinacalcet-combined',
      'calciphylaxis.stat.mortality-risk-ratio-cinacalcet',
      'calciphylaxis.stat.response-cinacalcet-alone',
      'calciphylaxis.stat.response-cinacalcet-combined',
      'calciphylaxis.stat.usage-cinacalcet',
    ]);
    expect(await ids('treatment=examplitis.treatment.warm-gloves')).toEqual(['examplitis.stat.glove-usage']);
  });

  it('filters by measure across conditions', async () => {
    const usage = await ids('measure=usage');
    expect(usage).toEqual([...USAGE, 'examplitis.stat.glove-usage']);
    expect(usage.length).toBeLessThan(all.length);
    // Mortality and survival are one outcome: the conflicting or complementary estimates come together.
    expect(await ids('measure=mortality')).toEqual(MORTALITY);
    expect(await ids('measure=survival')).toEqual(MORTALITY);
    expect(await ids('measure=usage&treatment=calciphylaxis.treatment.sodium-thiosulfate')).toEqual(['calciphylaxis.stat.usage-sodium-thiosulfate']);
    expect(await ids('measure=prevalence')).toEqual([]);
  });

  it('filters by studyType: the kind of any cited source, not only the first', async () => {
    // The usage figures and the risk ratios come from the 2019 meta-analysis, their primary source.
    expect(await ids('studyType=meta-analysis')).toEqual([...RISK_RATIOS, ...USAGE]);
    expect(await ids('studyType=systematic-review')).toEqual([]);
    // incidence-dialysis cites an article first and a review second; the review produced the figure.
    expect(await ids('studyType=review')).toEqual([
      'calciphylaxis.stat.complete-response-cinacalcet-alone',
      'calciphylaxis.stat.complete-response-cinacalcet-combined',
      'calciphylaxis.stat.incidence-dialysis',
      'calciphylaxis.stat.response-cinacalcet-alone',
      'calciphylaxis.stat.response-cinacalcet-combined',
      'examplitis.stat.glove-usage',
    ]);
    expect(await ids('studyType=case-series')).toEqual([
      'calciphylaxis.stat.benefit-hyperbaric-oxygen-completed-course',
      'calciphylaxis.stat.benefit-hyperbaric-oxygen-more-than-half',
      'calciphylaxis.stat.recovery-kidney-transplant',
    ]);
    expect(await ids('studyType=guideline')).toEqual([]);
  });

  it('filters by the year of any cited source', async () => {
    expect(await ids('yearFrom=2019&yearTo=2019')).toEqual([
      'calciphylaxis.stat.complete-response-cinacalcet-alone',
      'calciphylaxis.stat.complete-response-cinacalcet-combined',
      ...RISK_RATIOS,
      'calciphylaxis.stat.response-cinacalcet-alone',
      'calciphylaxis.stat.response-cinacalcet-combined',
      ...USAGE,
    ]);
    expect(await ids('yearFrom=2020')).toEqual(['calciphylaxis.stat.incidence-dialysis', 'examplitis.stat.glove-usage']);
    expect(await ids('yearTo=2015')).toEqual([
      'calciphylaxis.stat.benefit-hyperbaric-oxygen-completed-course',
      'calciphylaxis.stat.benefit-hyperbaric-oxygen-more-than-half',
      'calciphylaxis.stat.female-odds-ratio-mazhar',
      'calciphylaxis.stat.survival-1-year-debridement-weenig',
      'calciphylaxis.stat.survival-1-year-weenig',
    ]);
    // Figures whose sources all lack a year never match a year filter.
    const anyYear = await ids('yearFrom=1800');
    expect(anyYear).not.toContain('calciphylaxis.stat.mortality-6-months');
    expect(anyYear).not.toContain('calciphylaxis.stat.female-share-orphanet');
    expect(anyYear.length).toBeLessThan(all.length);
  });

  it('filters by minimum confidence: high > medium > low > unknown', async () => {
    expect(await ids('minConfidence=high')).toEqual(all.filter((id) => id.startsWith('calciphylaxis.') && !CALCI_MEDIUM.includes(id)));
    const medium = await ids('minConfidence=medium');
    expect(medium).toEqual(all.filter((id) => id.startsWith('calciphylaxis.')));
    expect(medium).toEqual(expect.arrayContaining(CALCI_MEDIUM));
    expect(await ids('minConfidence=low')).toEqual(all);
    expect(await ids('minConfidence=unknown')).toEqual(all);
  });

  it('combines filters with AND', async () => {
    expect(await ids('measure=usage&minConfidence=high')).toEqual(USAGE);
    expect(await ids('measure=usage&condition=examplitis')).toEqual(['examplitis.stat.glove-usage']);
    expect(await ids('measure=response-rate&studyType=systematic-review')).toEqual([]);
  });

  it('takes lastReviewed from the conditions on the page, null when the page is empty', async () => {
    expect((await list('condition=examplitis')).lastReviewed).toBe('2026-01-15');
    expect((await list('')).lastReviewed).toBe('2026-11-26');
    const empty = await list('measure=prevalence');
    expect(empty).toMatchObject({ data: [], lastReviewed: null, page: { nextCursor: null } });
    expect(empty.disclaimer).toMatch(/not medical advice/);
  });

  it('pages with limit=2 without losing or repeating an item, with a Link header', async () => {
    const first = await get('/v1/statistics?limit=2');
    expect(first.headers.link).toMatch(/^<\/v1\/statistics\?limit=2&cursor=[^>]+>; rel="next"$/);
    const { items, pages } = await collectPages<Statistic>(ctx.app, '/v1/statistics?limit=2');
    expect(pages).toBe(16);
    expect(items.map((s) => s.id)).toEqual(all);
    expect(new Set(items.map((s) => s.id)).size).toBe(items.length);
  });

  it('pages a filtered list and keeps the filter in the Link header', async () => {
    const first = await get('/v1/statistics?measure=usage&limit=2');
    expect(first.headers.link).toMatch(/^<\/v1\/statistics\?measure=usage&limit=2&cursor=[^>]+>; rel="next"$/);
    const { items, pages } = await collectPages<Statistic>(ctx.app, '/v1/statistics?measure=usage&limit=2');
    expect(pages).toBe(3);
    expect(items.map((s) => s.id)).toEqual([...USAGE, 'examplitis.stat.glove-usage']);
    const last = await get(`/v1/statistics?measure=usage&limit=2&cursor=${encodeCursor(USAGE[3] ?? '')}`);
    expect(last.json<StatisticList>().data.map((s) => s.id)).toEqual([STST, 'examplitis.stat.glove-usage']);
    expect(last.headers.link).toBeUndefined();
  });

  it('answers If-None-Match with 304', async () => {
    const first = await get('/v1/statistics?measure=usage');
    const again = await get('/v1/statistics?measure=usage', { 'if-none-match': String(first.headers.etag) });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
  });

  it.each([
    ['/v1/statistics?foo=1', '/querystring/foo'],
    ['/v1/statistics?measure=height', '/querystring/measure'],
    ['/v1/statistics?studyType=blog', '/querystring/studyType'],
    ['/v1/statistics?minConfidence=certain', '/querystring/minConfidence'],
    ['/v1/statistics?yearFrom=twenty', '/querystring/yearFrom'],
    ['/v1/statistics?yearFrom=2020&yearTo=2019', '/querystring/yearFrom'],
    ['/v1/statistics?condition=Bad_Id', '/querystring/condition'],
    ['/v1/statistics?limit=0', '/querystring/limit'],
    ['/v1/statistics?cursor=garbage', '/querystring/cursor'],
  ])('rejects %s with a 400 problem naming %s', async (url, path) => {
    const problem = expectProblem(await get(url), 400);
    expect(problem.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
  });

  it('406s an unsupported Accept', async () => {
    const problem = expectProblem(await get('/v1/statistics', { accept: 'text/html' }), 406);
    expect(problem.supported).toEqual(['application/json', 'text/csv']);
  });
});

describe('GET /v1/statistics/{id}', () => {
  it('serves one statistic as in its condition document, with lastReviewed and disclaimer', async () => {
    const res = await get(`/v1/statistics/${STST}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    const { lastReviewed, disclaimer, ...statistic } = res.json<Statistic & { lastReviewed: string; disclaimer: string }>();
    expect(lastReviewed).toBe('2026-11-26');
    expect(disclaimer).toMatch(/not medical advice/);
    expect(statistic).toMatchObject({ value: 50.3, unit: '%', studyType: 'meta-analysis', year: 2019 });
    expect(statistic.sources[0]?.id).toBe('udomkarnjananun-2019');
    const doc = (await get('/v1/conditions/calciphylaxis')).json<Condition>();
    expect(statistic).toEqual(doc.statistics.find((s) => s.id === STST));
    const validate = responseValidator('Statistic');
    expect(validate(statistic), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
  });

  it('takes lastReviewed from the statistic’s own condition', async () => {
    const body = (await get('/v1/statistics/examplitis.stat.glove-usage')).json<Statistic & { lastReviewed: string }>();
    expect(body).toMatchObject({ conditionId: 'examplitis', value: 12.5, sampleSize: 8, lastReviewed: '2026-01-15' });
  });

  it('answers If-None-Match with 304 and sends cache headers', async () => {
    const first = await get(`/v1/statistics/${STST}`);
    expect(first.headers['cache-control']).toMatch(/^public, max-age=\d+$/);
    const again = await get(`/v1/statistics/${STST}`, { 'if-none-match': String(first.headers.etag) });
    expect(again.statusCode).toBe(304);
    expect((await get('/v1/statistics/examplitis.stat.glove-usage')).headers.etag).not.toBe(first.headers.etag);
  });

  it('404s an unknown id and 400s a malformed one or an unknown parameter', async () => {
    const problem = expectProblem(await get('/v1/statistics/calciphylaxis.stat.no-such-figure'), 404);
    expect(problem.detail).toMatch(/no-such-figure/);
    expect(expectProblem(await get('/v1/statistics/Not_An_Id'), 400).errors).toEqual([expect.objectContaining({ path: '/params/id' })]);
    expectProblem(await get(`/v1/statistics/${STST}?foo=1`), 400);
  });

  it('406s an unsupported Accept', async () => {
    expectProblem(await get(`/v1/statistics/${STST}`, { accept: 'text/html' }), 406);
  });
});
