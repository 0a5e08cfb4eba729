import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, collectPages, expectProblem, type TestContext } from './helpers.js';
import type { Condition, Treatment } from '../src/schemas/condition.js';
import type { Statistic } from '../src/schemas/statistic.js';
import { responseValidator } from './schema-validator.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await buildTestApp({ extraFixtures: ['examplitis.yaml'], conditions: ['calciphylaxis'] });
});
afterAll(() => ctx.close());

interface TreatmentList {
  data: Treatment[];
  page: { nextCursor: string | null; limit: number };
  lastReviewed: string | null;
  disclaimer: string;
}
type TreatmentDocument = Treatment & { evidence: Statistic[]; lastReviewed: string; disclaimer: string };

const get = (url: string, headers: Record<string, string> = {}) => ctx.app.inject({ url, headers });
const list = async (query: string) => {
  const res = await get(`/v1/treatments?limit=100${query ? `&${query}` : ''}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<TreatmentList>();
};
const ids = async (query: string) => (await list(query)).data.map((t) => t.id);

const STS = 'calciphylaxis.treatment.sodium-thiosulfate';
const HBO = 'calciphylaxis.treatment.hyperbaric-oxygen';

let all: string[];
beforeAll(async () => {
  all = await ids('');
});

describe('GET /v1/treatments', () => {
  it('lists the treatments of every condition, ordered by id, with the list envelope', async () => {
    const res = await get('/v1/treatments');
    expect(res.statusCode).toBe(200);
    const body = res.json<TreatmentList>();
    expect(body.page).toEqual({ nextCursor: null, limit: 20 });
    expect(all).toHaveLength(12);
    expect(body.data.map((t) => t.id)).toEqual(all);
    expect(all).toEqual([...all].sort());
    expect(all.at(-1)).toBe('examplitis.treatment.warm-gloves');
    expect(body.lastReviewed).toBe('2026-11-26');
    expect(body.disclaimer).toMatch(/not medical advice/);
    expect(res.headers['cache-control']).toMatch(/^public, max-age=\d+$/);
    const validate = responseValidator('Treatment');
    for (const t of body.data) expect(validate(t), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
  });

  it('shapes each treatment exactly as its condition document does', async () => {
    const listed = (await list('')).data;
    for (const conditionId of ['calciphylaxis', 'examplitis']) {
      const doc = (await get(`/v1/conditions/${conditionId}`)).json<Condition>();
      const fromList = listed.filter((t) => t.conditionId === conditionId).sort((a, b) => a.id.localeCompare(b.id));
      expect(fromList).toEqual([...doc.treatments].sort((a, b) => a.id.localeCompare(b.id)));
    }
  });

  it('carries regulatory notes, ATC codes and the ids of the statistics about each treatment', async () => {
    const sts = (await list('')).data.find((t) => t.id === STS);
    expect(sts).toMatchObject({
      conditionId: 'calciphylaxis',
      type: 'medication',
      route: 'intravenous',
      regulatory: { status: 'off-label' },
      codes: [{ system: 'atc', code: 'V03AB06', display: 'sodium thiosulfate' }],
      statistics: ['calciphylaxis.stat.usage-sodium-thiosulfate', 'calciphylaxis.stat.mortality-risk-ratio-sodium-thiosulfate'],
    });
    expect(sts?.regulatory.note).toMatch(/FDA/);
    expect(sts?.sources.map((s) => s.id)).toEqual(['mnt-calciphylaxis-article', 'udomkarnjananun-2019', 'mayo-clinic-diagnosis-treatment', 'fda-label-sodium-thiosulfate', 'biglione-2024']);
    const care = (await list('')).data.find((t) => t.id === 'calciphylaxis.treatment.multidisciplinary-care');
    expect(care).toMatchObject({ route: null, regulatory: { status: 'not-applicable', note: null }, codes: [], statistics: [] });
  });

  it('filters by condition', async () => {
    expect(await ids('condition=examplitis')).toEqual(['examplitis.treatment.warm-gloves']);
    const calci = await ids('condition=calciphylaxis');
    expect(calci).toEqual(all.filter((id) => id.startsWith('calciphylaxis.')));
    expect(calci).toHaveLength(11);
    expect(await ids('condition=no-such-condition')).toEqual([]);
  });

  it('filters by type across conditions', async () => {
    expect(await ids('type=medication')).toEqual([
      'calciphylaxis.treatment.antibiotics',
      'calciphylaxis.treatment.bisphosphonates',
      'calciphylaxis.treatment.cinacalcet',
      STS,
    ]);
    expect(await ids('type=supportive')).toEqual([
      'calciphylaxis.treatment.pain-management',
      'calciphylaxis.treatment.wound-dressings',
      'examplitis.treatment.warm-gloves',
    ]);
    expect(await ids('type=transplant')).toEqual(['calciphylaxis.treatment.kidney-transplant']);
  });

  it('filters by code, case-insensitively', async () => {
    expect(await ids('code=atc:V03AB06')).toEqual([STS]);
    expect(await ids('code=atc:v03ab06')).toEqual([STS]);
    expect(await ids('code=atc:H05BX01')).toEqual(['calciphylaxis.treatment.cinacalcet']);
    expect(await ids('code=atc:A01AA01')).toEqual([]);
    expect(await ids('code=rxnorm:12345')).toEqual([]);
  });

  it('combines filters with AND', async () => {
    expect(await ids('type=medication&code=atc:V03AB06')).toEqual([STS]);
    expect(await ids('type=supportive&condition=examplitis')).toEqual(['examplitis.treatment.warm-gloves']);
    expect(await ids('type=procedure&code=atc:V03AB06')).toEqual([]);
  });

  it('takes lastReviewed from the conditions on the page, null when the page is empty', async () => {
    expect((await list('condition=examplitis')).lastReviewed).toBe('2026-01-15');
    expect(await list('code=atc:A01AA01')).toMatchObject({ data: [], lastReviewed: null });
  });

  it('pages with limit=2 without losing or repeating an item, with a Link header', async () => {
    const first = await get('/v1/treatments?limit=2');
    expect(first.headers.link).toMatch(/^<\/v1\/treatments\?limit=2&cursor=[^>]+>; rel="next"$/);
    const { items, pages } = await collectPages<Treatment>(ctx.app, '/v1/treatments?limit=2');
    expect(pages).toBe(6);
    expect(items.map((t) => t.id)).toEqual(all);
    expect(new Set(items.map((t) => t.id)).size).toBe(items.length);
    const { items: medications } = await collectPages<Treatment>(ctx.app, '/v1/treatments?type=medication&limit=2');
    expect(medications.map((t) => t.id)).toEqual(await ids('type=medication'));
  });

  it('answers If-None-Match with 304', async () => {
    const first = await get('/v1/treatments');
    const again = await get('/v1/treatments', { 'if-none-match': String(first.headers.etag) });
    expect(again.statusCode).toBe(304);
  });

  it.each([
    ['/v1/treatments?foo=1', '/querystring/foo'],
    ['/v1/treatments?type=pill', '/querystring/type'],
    ['/v1/treatments?code=V03AB06', '/querystring/code'],
    ['/v1/treatments?code=nosuch:V03AB06', '/querystring/code'],
    ['/v1/treatments?condition=Bad_Id', '/querystring/condition'],
    ['/v1/treatments?limit=101', '/querystring/limit'],
    ['/v1/treatments?cursor=garbage', '/querystring/cursor'],
  ])('rejects %s with a 400 problem naming %s', async (url, path) => {
    const problem = expectProblem(await get(url), 400);
    expect(problem.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
  });

  it('406s an unsupported Accept', async () => {
    expectProblem(await get('/v1/treatments', { accept: 'text/html' }), 406);
  });
});

describe('GET /v1/treatments/{id}', () => {
  it('serves one treatment with its evidence in full', async () => {
    const res = await get(`/v1/treatments/${STS}`);
    expect(res.statusCode).toBe(200);
    const { evidence, lastReviewed, disclaimer, ...treatment } = res.json<TreatmentDocument>();
    expect(treatment).toEqual((await list('')).data.find((t) => t.id === STS));
    expect(lastReviewed).toBe('2026-11-26');
    expect(disclaimer).toMatch(/not medical advice/);
    // Its usage and its pooled mortality risk ratio, both from the 2019 meta-analysis.
    expect(evidence).toHaveLength(2);
    expect(evidence[0]).toMatchObject({ id: 'calciphylaxis.stat.usage-sodium-thiosulfate', value: 50.3, unit: '%', studyType: 'meta-analysis', year: 2019 });
    expect(evidence[1]).toMatchObject({ id: 'calciphylaxis.stat.mortality-risk-ratio-sodium-thiosulfate', value: 0.89, unit: 'ratio', interval: { level: 0.95, low: 0.71, high: 1.12 } });
    expect(evidence[0]?.sources[0]?.id).toBe('udomkarnjananun-2019');
    const single = (await get('/v1/statistics/calciphylaxis.stat.usage-sodium-thiosulfate')).json<Statistic & { lastReviewed?: string; disclaimer?: string }>();
    delete single.lastReviewed;
    delete single.disclaimer;
    expect(evidence[0]).toEqual(single);
  });

  it('lists the evidence in the order of its statistic ids (document order)', async () => {
    const body = (await get(`/v1/treatments/${HBO}`)).json<TreatmentDocument>();
    expect(body.statistics).toEqual([
      'calciphylaxis.stat.usage-hyperbaric-oxygen',
      'calciphylaxis.stat.benefit-hyperbaric-oxygen-more-than-half',
      'calciphylaxis.stat.benefit-hyperbaric-oxygen-completed-course',
      'calciphylaxis.stat.mortality-risk-ratio-hyperbaric-oxygen',
    ]);
    expect(body.evidence.map((s) => s.id)).toEqual(body.statistics);
    expect(body.evidence.every((s) => s.treatment?.id === HBO)).toBe(true);
  });

  it('serves a treatment without evidence and one from another condition', async () => {
    expect((await get('/v1/treatments/calciphylaxis.treatment.antibiotics')).json<TreatmentDocument>()).toMatchObject({ statistics: [], evidence: [] });
    const gloves = (await get('/v1/treatments/examplitis.treatment.warm-gloves')).json<TreatmentDocument>();
    expect(gloves).toMatchObject({ conditionId: 'examplitis', type: 'supportive', lastReviewed: '2026-01-15' });
    expect(gloves.evidence.map((s) => [s.id, s.value])).toEqual([['examplitis.stat.glove-usage', 12.5]]);
  });

  it('answers If-None-Match with 304', async () => {
    const first = await get(`/v1/treatments/${STS}`);
    expect(first.headers.etag).toMatch(/^"[^"]+"$/);
    expect((await get(`/v1/treatments/${STS}`, { 'if-none-match': String(first.headers.etag) })).statusCode).toBe(304);
  });

  it('404s an unknown or non-treatment id and 400s a malformed one', async () => {
    expect(expectProblem(await get('/v1/treatments/calciphylaxis.treatment.nothing'), 404).detail).toMatch(/calciphylaxis\.treatment\.nothing/);
    // A statement of another section is not a treatment.
    expectProblem(await get('/v1/treatments/calciphylaxis.symptom.skin-pain'), 404);
    expectProblem(await get('/v1/treatments/Not_An_Id'), 400);
    expectProblem(await get(`/v1/treatments/${STS}?foo=1`), 400);
  });

  it('406s an unsupported Accept', async () => {
    expectProblem(await get(`/v1/treatments/${STS}`, { accept: 'text/html' }), 406);
  });
});
