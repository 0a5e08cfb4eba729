import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, collectPages, expectProblem, type TestContext } from './helpers.js';
import { loadContent } from '../src/content/load.js';
import { STATEMENT_SECTIONS, citedIds, type ConditionContent } from '../src/content/schema.js';
import type { Fact } from '../src/schemas/fact.js';

interface FactList {
  data: Fact[];
  page: { nextCursor: string | null; limit: number };
  lastReviewed: string | null;
  disclaimer: string;
}

/** What the content files say each fact is: the test's independent source of truth. */
interface Expected {
  conditionId: string;
  section: string;
  text: string;
  sources: string[];
  confidence: string;
}

const KEBAB: Record<string, string> = { riskFactors: 'risk-factors', whenToSeekCare: 'when-to-seek-care', differentialDiagnosis: 'differential-diagnosis' };

let ctx: TestContext;
let expected: Map<string, Expected>;
beforeAll(async () => {
  ctx = await buildTestApp({ extraFixtures: ['examplitis.yaml'], conditions: ['calciphylaxis'] });
  expected = new Map();
  for (const { content } of loadContent(ctx.config.contentDir)) {
    const c: ConditionContent = content;
    for (const { key } of STATEMENT_SECTIONS) {
      for (const item of c[key]) {
        expected.set(item.id, { conditionId: c.id, section: KEBAB[key] ?? key, text: item.text, sources: citedIds(item.sources), confidence: item.confidence });
      }
    }
    for (const s of c.statistics) expected.set(s.id, { conditionId: c.id, section: 'statistics', text: s.text, sources: citedIds(s.sources), confidence: s.confidence });
  }
});
afterAll(() => ctx.close());

const get = (url: string, headers: Record<string, string> = {}) => ctx.app.inject({ url, headers });
const all = async (url: string) => (await collectPages<Fact>(ctx.app, url)).items;
const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const idsOf = (facts: Fact[]) => facts.map((f) => f.id);
const expectedIds = (keep: (e: Expected) => boolean = () => true) =>
  [...expected].filter(([, e]) => keep(e)).map(([id]) => id).sort(byId);

describe('GET /v1/facts', () => {
  it('lists every statement and statistic, with the content files’ ids, in id order', async () => {
    const facts = await all('/v1/facts?limit=100');
    expect(expected.size).toBeGreaterThan(90);
    expect(idsOf(facts)).toEqual(expectedIds());
  });

  it('gives each fact exactly the documented fields, matching the content file', async () => {
    for (const f of await all('/v1/facts?limit=100')) {
      expect(Object.keys(f).sort()).toEqual(['conditionId', 'conditionName', 'confidence', 'id', 'name', 'section', 'sources', 'text', 'url']);
      const e = expected.get(f.id);
      expect(f, f.id).toMatchObject({ conditionId: e?.conditionId, section: e?.section, text: e?.text, confidence: e?.confidence });
      expect(f.sources.map((s) => s.id), f.id).toEqual(e?.sources);
      expect(f.name.length).toBeGreaterThan(0);
      expect(f.conditionName).toBe(f.conditionId === 'calciphylaxis' ? 'Calciphylaxis' : 'Examplitis');
    }
  });

  it('cites at least one source per fact, each a real source with a citation', async () => {
    for (const f of await all('/v1/facts?limit=100')) {
      expect(f.sources.length, f.id).toBeGreaterThan(0);
      for (const s of f.sources) {
        // The sources table through its repository (the /v1/sources route is not this module's).
        expect(ctx.app.repos.sources.get(s.id), `${f.id} cites ${s.id}`).toBeDefined();
        expect(s.citation).not.toBe('Unidentified source');
      }
    }
  });

  it('links each fact to the resource that serves it in full', async () => {
    for (const f of await all('/v1/facts?limit=100')) {
      const base = f.section === 'statistics' ? '/v1/statistics/' : f.section === 'treatments' ? '/v1/treatments/' : '/v1/facts/';
      expect(f.url).toBe(`${base}${f.id}`);
    }
  });

  it('names statistics by measure, outcome and timepoint', async () => {
    const res = await get('/v1/facts/calciphylaxis.stat.mortality-6-months');
    expect(res.json<Fact>().name).toBe('Mortality: Death at 6 months');
  });

  it('carries lastReviewed, the disclaimer, a strong ETag and Cache-Control', async () => {
    const res = await get('/v1/facts');
    expect(res.statusCode).toBe(200);
    const body = res.json<FactList>();
    expect(body.page.limit).toBe(20);
    expect(body.data).toHaveLength(20);
    expect(body.lastReviewed).toBe('2026-11-26');
    expect(body.disclaimer).toMatch(/not medical advice/);
    expect(res.headers['cache-control']).toMatch(/^public, max-age=\d+$/);
    expect(res.headers.etag).toMatch(/^"[^"]+"$/);
  });

  it('pages with limit=7 without losing or repeating a fact, with a Link header', async () => {
    const first = await get('/v1/facts?limit=7&section=risk-factors');
    expect(first.headers.link).toMatch(/^<\/v1\/facts\?limit=7&section=risk-factors&cursor=[^>]+>; rel="next"$/);
    const { items, pages } = await collectPages<Fact>(ctx.app, '/v1/facts?limit=7');
    expect(idsOf(items)).toEqual(expectedIds());
    expect(pages).toBe(Math.ceil(expected.size / 7));
  });

  it('filters by condition', async () => {
    expect(idsOf(await all('/v1/facts?condition=examplitis'))).toEqual(expectedIds((e) => e.conditionId === 'examplitis'));
    expect(idsOf(await all('/v1/facts?condition=calciphylaxis&limit=100'))).toEqual(expectedIds((e) => e.conditionId === 'calciphylaxis'));
    expect((await get('/v1/facts?condition=no-such-condition')).json<FactList>()).toMatchObject({ data: [], lastReviewed: null });
  });

  it.each(['symptoms', 'causes', 'risk-factors', 'complications', 'diagnosis', 'treatments', 'prognosis', 'prevention', 'statistics'])(
    'filters by section=%s',
    async (section) => {
      const facts = await all(`/v1/facts?section=${section}&limit=100`);
      expect(facts.length).toBeGreaterThan(0);
      expect(idsOf(facts)).toEqual(expectedIds((e) => e.section === section));
    },
  );

  it('filters by confidence, combined with other filters', async () => {
    expect(idsOf(await all('/v1/facts?confidence=medium&limit=100'))).toEqual(expectedIds((e) => e.confidence === 'medium'));
    expect(idsOf(await all('/v1/facts?confidence=low&condition=examplitis&section=symptoms'))).toEqual(['examplitis.symptom.blue-thumbs']);
  });

  it('filters by q with the search query language, keeping id order', async () => {
    expect(idsOf(await all('/v1/facts?syntax=fts&q=thio*'))).toEqual([
      'calciphylaxis.stat.mortality-risk-ratio-hyperbaric-oxygen',
      'calciphylaxis.stat.mortality-risk-ratio-sodium-thiosulfate',
      'calciphylaxis.stat.usage-sodium-thiosulfate',
      'calciphylaxis.treatment.sodium-thiosulfate',
    ]);
    expect(idsOf(await all(`/v1/facts?syntax=fts&q=${encodeURIComponent('"skin biopsy"')}`))).toContain('calciphylaxis.diagnosis.skin-biopsy');
    const dialysis = await all('/v1/facts?syntax=fts&q=dialysis&section=statistics');
    expect(idsOf(dialysis)).toEqual(['calciphylaxis.stat.incidence-dialysis', 'calciphylaxis.stat.survival-1-year-weenig']);
    // Facts never include condition summaries, though the condition row matches too.
    expect(idsOf(await all('/v1/facts?syntax=fts&q=calciphylaxis&limit=100')).every((id) => id.includes('.'))).toBe(true);
  });

  it('rejects a malformed q, unknown parameters, bad enums and foreign cursors with 400', async () => {
    for (const q of ['sodium AND', '"unbalanced', 'NOT x', 'title:x']) {
      const body = expectProblem(await get(`/v1/facts?syntax=fts&q=${encodeURIComponent(q)}`), 400);
      expect(body.errors).toEqual([{ path: '/querystring/q', message: expect.any(String) }]);
    }
    expectProblem(await get('/v1/facts?sort=id'), 400);
    expectProblem(await get('/v1/facts?section=riskFactors'), 400);
    expectProblem(await get('/v1/facts?confidence=certain'), 400);
    expectProblem(await get('/v1/facts?limit=0'), 400);
    expectProblem(await get('/v1/facts?cursor=%%%'), 400);
    const offsetCursor = Buffer.from(JSON.stringify({ k: 20 })).toString('base64url');
    expectProblem(await get(`/v1/facts?cursor=${offsetCursor}`), 400);
  });

  it('answers 304 to If-None-Match with the current ETag', async () => {
    const first = await get('/v1/facts?section=prognosis');
    const again = await get('/v1/facts?section=prognosis', { 'if-none-match': String(first.headers.etag) });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    const other = await get('/v1/facts?section=prevention', { 'if-none-match': String(first.headers.etag) });
    expect(other.statusCode).toBe(200);
  });
});

describe('GET /v1/facts/{id}', () => {
  it('serves a statement with the content notes', async () => {
    const res = await get('/v1/facts/calciphylaxis.symptom.livedo-patches');
    expect(res.statusCode).toBe(200);
    const body = res.json<Fact & { lastReviewed: string; disclaimer: string }>();
    expect(body).toMatchObject({
      id: 'calciphylaxis.symptom.livedo-patches',
      conditionId: 'calciphylaxis',
      section: 'symptoms',
      name: 'Purple net-like (livedo-like) patches',
      confidence: 'high',
      url: '/v1/facts/calciphylaxis.symptom.livedo-patches',
      lastReviewed: '2026-11-26',
    });
    expect(body.sources.map((s) => s.id)).toEqual(['mayo-clinic', 'orphanet-280062', 'sprague-2013']);
    expect(body.disclaimer).toMatch(/not medical advice/);
  });

  it('serves every fact of the list under its id', async () => {
    for (const f of await all('/v1/facts?condition=examplitis')) {
      const res = await get(`/v1/facts/${f.id}`);
      expect(res.statusCode).toBe(200);
      expect(res.json<Fact>()).toMatchObject(f);
    }
  });

  it('serves a statistic as a fact', async () => {
    const body = (await get('/v1/facts/calciphylaxis.stat.incidence-dialysis')).json<Fact>();
    expect(body).toMatchObject({ section: 'statistics', text: 'Calciphylaxis develops in roughly 0.04% to 4% of people on dialysis.', confidence: 'high' });
  });

  it('answers 404 for an unknown id and 400 for a malformed one', async () => {
    expectProblem(await get('/v1/facts/calciphylaxis.symptom.no-such-thing'), 404);
    expectProblem(await get('/v1/facts/not-an-id'), 400);
    expectProblem(await get('/v1/facts/calciphylaxis.symptom.livedo-patches?x=1'), 400);
  });

  it('answers 304 to If-None-Match', async () => {
    const first = await get('/v1/facts/calciphylaxis.risk.dialysis');
    expect((await get('/v1/facts/calciphylaxis.risk.dialysis', { 'if-none-match': String(first.headers.etag) })).statusCode).toBe(304);
  });
});

describe('GET /v1/conditions/{id}/facts', () => {
  it('lists the facts of one condition', async () => {
    const res = await get('/v1/conditions/examplitis/facts');
    expect(res.statusCode).toBe(200);
    const body = res.json<FactList & { conditionId: string; conditionName: string }>();
    expect(body).toMatchObject({ conditionId: 'examplitis', conditionName: 'Examplitis', lastReviewed: '2026-01-15' });
    expect(idsOf(body.data)).toEqual(expectedIds((e) => e.conditionId === 'examplitis'));
    expect(body.disclaimer).toMatch(/not medical advice/);
  });

  it('pages through a condition’s facts and takes the same filters', async () => {
    expect(idsOf(await all('/v1/conditions/calciphylaxis/facts?limit=9'))).toEqual(expectedIds((e) => e.conditionId === 'calciphylaxis'));
    expect(idsOf(await all('/v1/conditions/calciphylaxis/facts?section=prognosis'))).toEqual(
      expectedIds((e) => e.conditionId === 'calciphylaxis' && e.section === 'prognosis'),
    );
    expect(idsOf(await all('/v1/conditions/examplitis/facts?syntax=fts&q=thio*'))).toEqual([]);
  });

  it('answers 404 for an unknown condition, 400 for an unknown parameter', async () => {
    expectProblem(await get('/v1/conditions/no-such-condition/facts'), 404);
    expectProblem(await get('/v1/conditions/calciphylaxis/facts?condition=examplitis'), 400);
  });

  it('answers 304 to If-None-Match', async () => {
    const first = await get('/v1/conditions/calciphylaxis/facts?limit=5');
    expect((await get('/v1/conditions/calciphylaxis/facts?limit=5', { 'if-none-match': String(first.headers.etag) })).statusCode).toBe(304);
  });
});

describe('facts as Markdown', () => {
  it('renders a page with each fact’s citations and id', async () => {
    const res = await get('/v1/conditions/calciphylaxis/facts?section=prognosis', { accept: 'text/markdown' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/markdown/);
    expect(res.headers.vary).toMatch(/accept/i);
    expect(res.headers.etag).toMatch(/^"[^"]+"$/);
    expect(res.body).toMatch(/^# Facts: Calciphylaxis\n/);
    expect(res.body).toMatch(/Last reviewed: 2026-11-26\. .*not medical advice/);
    for (const id of expectedIds((e) => e.conditionId === 'calciphylaxis' && e.section === 'prognosis')) expect(res.body).toContain(`\`${id}\``);
    // Numbered markers resolve to the reference list: the systematic-review fact cites [n] = Udomkarnjananun.
    const line = res.body.split('\n').find((l) => l.includes('calciphylaxis.prognosis.no-treatment-lowered-mortality')) ?? '';
    const marker = /\[(\d+)(?:, [^\]]*)?\]/.exec(line)?.[1];
    expect(res.body).toMatch(new RegExp(`^${marker}\\. Udomkarnjananun et al\\., 2019, meta-analysis \\(id: udomkarnjananun-2019\\)$`, 'm'));
  });

  it('says where the next page is and renders single facts', async () => {
    expect((await get('/v1/facts?limit=2', { accept: 'text/markdown' })).body).toMatch(/cursor=[A-Za-z0-9_-]+/);
    const one = await get('/v1/facts/calciphylaxis.symptom.purpura', { accept: 'text/markdown' });
    expect(one.body).toContain('Purple areas resembling bruises (purpura) can be among the first skin changes of calciphylaxis.');
    expect(one.body).toContain('Orphanet');
  });

  it('still defaults to JSON and refuses other types with 406', async () => {
    expect((await get('/v1/facts?limit=1', { accept: '*/*' })).headers['content-type']).toMatch(/^application\/json/);
    expectProblem(await get('/v1/facts?limit=1', { accept: 'image/png' }), 406);
  });
});
