import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, collectPages, expectProblem, type TestContext } from './helpers.js';
import { SearchQueryError } from '../src/search/query.js';

interface Hit {
  kind: 'condition' | 'symptom' | 'treatment' | 'fact' | 'statistic';
  id: string;
  conditionId: string;
  title: string;
  snippet: string;
  score: number;
  url: string;
  sources: { id: string; citation: string }[];
}
interface SearchBody {
  data: Hit[];
  page: { nextCursor: string | null; limit: number };
  query: { q: string; expression: string; mode: 'all' | 'any' };
  lastReviewed: string | null;
  disclaimer: string;
}

let ctx: TestContext;
beforeAll(async () => {
  // The synthetic second condition makes the condition filter meaningful.
  ctx = await buildTestApp({ extraFixtures: ['examplitis.yaml'], conditions: ['calciphylaxis'] });
});
afterAll(() => ctx.close());

const get = (url: string, headers: Record<string, string> = {}) => ctx.app.inject({ url, headers });
const search = async (q: string, extra = ''): Promise<SearchBody> => {
  const res = await get(`/v1/search?syntax=fts&q=${encodeURIComponent(q)}${extra}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<SearchBody>();
};
const ids = (body: SearchBody) => body.data.map((h) => h.id);

describe('GET /v1/search: ranking', () => {
  it('thiosulfate: the sodium thiosulfate treatment first (name match outranks the usage figure that repeats the word)', async () => {
    const body = await search('thiosulfate');
    // Then the figures that name it: its usage, and the two mortality risk ratios whose text mentions it.
    expect(ids(body)).toEqual([
      'calciphylaxis.treatment.sodium-thiosulfate',
      'calciphylaxis.stat.usage-sodium-thiosulfate',
      'calciphylaxis.stat.mortality-risk-ratio-sodium-thiosulfate',
      'calciphylaxis.stat.mortality-risk-ratio-hyperbaric-oxygen',
    ]);
    expect(body.data[0]).toMatchObject({ kind: 'treatment', url: '/v1/treatments/calciphylaxis.treatment.sodium-thiosulfate', conditionId: 'calciphylaxis' });
    expect(body.data[1]).toMatchObject({ kind: 'statistic', url: '/v1/statistics/calciphylaxis.stat.usage-sodium-thiosulfate' });
    expect(body.query).toEqual({ q: 'thiosulfate', syntax: 'fts', expression: '"thiosulfate"', mode: 'all' });
  });

  it('net-like: the livedo patches symptom first, the match shown in its name', async () => {
    const body = await search('net-like');
    expect(body.data[0]?.id).toBe('calciphylaxis.symptom.livedo-patches');
    expect(body.data[0]).toMatchObject({ kind: 'symptom', url: '/v1/facts/calciphylaxis.symptom.livedo-patches' });
    expect(body.data[0]?.snippet).toBe('Purple <mark>net-like</mark> (livedo-like) patches');
    expect(body.query.expression).toBe('"net like"');
  });

  it('transplant mortality: no item has both words, so any-term ranking puts the transplant items first', async () => {
    const body = await search('transplant mortality');
    expect(body.query.mode).toBe('any');
    expect(body.query.expression).toBe('"transplant" OR "mortality"');
    // "transplant" is the rarer word, and in these items' names: they come first.
    expect(ids(body).slice(0, 3).sort()).toEqual([
      'calciphylaxis.risk.kidney-transplant',
      'calciphylaxis.stat.recovery-kidney-transplant',
      'calciphylaxis.treatment.kidney-transplant',
    ]);
    expect(ids(body)).toEqual(expect.arrayContaining(['calciphylaxis.prognosis.mortality', 'calciphylaxis.stat.mortality-6-months']));
  });

  it('keeps all-term matching when some item has every word', async () => {
    const body = await search('dialysis incidence');
    expect(body.query.mode).toBe('all');
    expect(body.data[0]?.id).toBe('calciphylaxis.stat.incidence-dialysis');
  });

  it('takes explicit operators literally (no any-term retry)', async () => {
    const body = await search('transplant AND mortality');
    expect(body.query.mode).toBe('all');
    expect(body.data).toEqual([]);
    expect(body.lastReviewed).toBeNull();
  });

  it('"skin biopsy" matches the phrase', async () => {
    const body = await search('"skin biopsy"');
    expect(body.data[0]?.id).toBe('calciphylaxis.diagnosis.skin-biopsy');
    expect(body.data[0]?.snippet).toContain('<mark>');
    expect(ids(await search('"biopsy skin"'))).not.toContain('calciphylaxis.diagnosis.skin-biopsy');
  });

  it('thio* matches by prefix', async () => {
    const body = await search('thio*');
    expect(ids(body)).toEqual(ids(await search('thiosulfate')));
    expect(ids(body)[0]).toBe('calciphylaxis.treatment.sodium-thiosulfate');
    expect(body.data[0]?.snippet).toContain('<mark>thiosulfate</mark>');
  });

  it('stems, so a plural finds the singular', async () => {
    expect(ids(await search('biopsies'))).toContain('calciphylaxis.diagnosis.skin-biopsy');
  });

  it('puts a condition first when the query is its name or an alias', async () => {
    for (const q of ['calciphylaxis', 'Calciphylaxis', '"calciphylaxis"', 'CUA', 'calcific uremic arteriolopathy']) {
      const body = await search(q);
      expect(body.data[0], q).toMatchObject({ kind: 'condition', id: 'calciphylaxis', url: '/v1/conditions/calciphylaxis' });
    }
  });

  it('orders hits by score, best first', async () => {
    for (const q of ['kidney', 'transplant mortality', 'skin OR ulcer']) {
      const scores = (await search(q, '&limit=100')).data.map((h) => h.score);
      expect(scores.length, q).toBeGreaterThan(1);
      expect(scores, q).toEqual([...scores].sort((a, b) => b - a));
    }
  });
});

describe('GET /v1/search: hits', () => {
  it('every hit has the fixed fields, a marked snippet, ≥1 known source and the URL of its resource', async () => {
    const known = new Set((ctx.app.db.prepare('SELECT id FROM sources').all() as { id: string }[]).map((r) => r.id));
    const urlPrefix = { condition: '/v1/conditions/', symptom: '/v1/facts/', fact: '/v1/facts/', treatment: '/v1/treatments/', statistic: '/v1/statistics/' };
    const seenKinds = new Set<string>();
    for (const q of ['calciphylaxis', 'dialysis mortality', 'net-like', 'skin OR pain OR thio* OR examplitis']) {
      const { data } = await search(q, '&limit=100');
      for (const hit of data) {
        seenKinds.add(hit.kind);
        expect(Object.keys(hit).sort()).toEqual(['conditionId', 'id', 'kind', 'score', 'section', 'snippet', 'sources', 'title', 'url']);
        expect(hit.snippet, `${q}: ${hit.id}`).toMatch(/<mark>[^<]+<\/mark>/);
        expect(hit.snippet.replace(/<\/?mark>/g, ''), 'only <mark> tags').not.toMatch(/[<>]/);
        expect(hit.sources.length, hit.id).toBeGreaterThan(0);
        for (const s of hit.sources) expect(known.has(s.id), s.id).toBe(true);
        expect(hit.url).toBe(`${urlPrefix[hit.kind]}${hit.id}`);
        expect(typeof hit.score).toBe('number');
      }
    }
    expect([...seenKinds].sort()).toEqual(['condition', 'fact', 'statistic', 'symptom', 'treatment']);
  });

  it('cuts long text with … and keeps the content notes', async () => {
    const body = await search('dialysis');
    expect(body.data.some((h) => h.snippet.includes('…'))).toBe(true);
    expect(body.lastReviewed).toBe('2026-11-26');
    expect(body.disclaimer).toMatch(/not medical advice/);
  });

  it('filters by kind', async () => {
    for (const kind of ['condition', 'symptom', 'treatment', 'fact', 'statistic'] as const) {
      const { data } = await search('calciphylaxis OR examplitis', `&kind=${kind}&limit=100`);
      expect(data.length, kind).toBeGreaterThan(0);
      expect(data.every((h) => h.kind === kind), kind).toBe(true);
    }
    expect(ids(await search('thiosulfate', '&kind=statistic'))).toEqual([
      'calciphylaxis.stat.usage-sodium-thiosulfate',
      'calciphylaxis.stat.mortality-risk-ratio-sodium-thiosulfate',
      'calciphylaxis.stat.mortality-risk-ratio-hyperbaric-oxygen',
    ]);
  });

  it('filters by condition', async () => {
    const both = await search('treated', '&limit=100');
    expect(new Set(both.data.map((h) => h.conditionId))).toEqual(new Set(['calciphylaxis', 'examplitis']));
    const one = await search('treated', '&condition=examplitis&limit=100');
    expect(one.data.length).toBeGreaterThan(0);
    expect(one.data.every((h) => h.conditionId === 'examplitis')).toBe(true);
    expect(one.lastReviewed).toBe('2026-01-15');
    expect((await search('treated', '&condition=no-such-condition')).data).toEqual([]);
  });

  it('applies filters before deciding on the any-term retry', async () => {
    // The sodium thiosulfate treatment has both words, but no statistic does.
    const unfiltered = await search('sodium dialysis');
    expect(unfiltered.query.mode).toBe('all');
    expect(ids(unfiltered)).toContain('calciphylaxis.treatment.sodium-thiosulfate');
    const statistics = await search('sodium dialysis', '&kind=statistic');
    expect(statistics.query.mode).toBe('any');
    expect(ids(statistics).sort()).toEqual([
      'calciphylaxis.stat.incidence-dialysis',
      'calciphylaxis.stat.mortality-risk-ratio-hyperbaric-oxygen',
      'calciphylaxis.stat.mortality-risk-ratio-sodium-thiosulfate',
      'calciphylaxis.stat.survival-1-year-weenig',
      'calciphylaxis.stat.usage-sodium-thiosulfate',
    ]);
  });
});

describe('GET /v1/search: pagination', () => {
  // Each query has more than 4 and at most 100 hits, so one limit=100 page holds them all.
  it.each(['ulcer', 'transplant mortality', 'skin OR kidney'])('%s: limit=2 pages equal the limit=100 page, in order', async (q) => {
    const all = await search(q, '&limit=100');
    expect(all.page.nextCursor).toBeNull();
    expect(all.data.length).toBeGreaterThan(4);
    const { items, pages } = await collectPages<Hit>(ctx.app, `/v1/search?syntax=fts&q=${encodeURIComponent(q)}&limit=2`);
    expect(items.map((h) => h.id)).toEqual(ids(all));
    expect(new Set(items.map((h) => h.id)).size).toBe(items.length);
    expect(pages).toBe(Math.ceil(all.data.length / 2));
  });

  it('sends a Link header to the next page', async () => {
    const res = await get('/v1/search?syntax=fts&q=kidney&limit=2');
    expect(res.headers.link).toMatch(/^<\/v1\/search\?syntax=fts&q=kidney&limit=2&cursor=[^>]+>; rel="next"$/);
  });

  it('rejects a cursor that is not an offset issued here', async () => {
    const body = expectProblem(await get('/v1/search?syntax=fts&q=kidney&cursor=garbage'), 400);
    expect(body.errors).toEqual([{ path: '/querystring/cursor', message: expect.any(String) }]);
    const keyset = Buffer.from(JSON.stringify({ k: 'calciphylaxis.cause.x' })).toString('base64url');
    expectProblem(await get(`/v1/search?syntax=fts&q=kidney&cursor=${keyset}`), 400);
    const negative = Buffer.from(JSON.stringify({ k: -2 })).toString('base64url');
    expectProblem(await get(`/v1/search?syntax=fts&q=kidney&cursor=${negative}`), 400);
  });
});

describe('GET /v1/search: caching', () => {
  it('sends a strong ETag and Cache-Control, and 304 for If-None-Match', async () => {
    const first = await get('/v1/search?syntax=fts&q=thiosulfate');
    expect(first.headers['cache-control']).toMatch(/^public, max-age=\d+$/);
    const etag = String(first.headers.etag);
    expect(etag).toMatch(/^"[^"]+"$/);
    const again = await get('/v1/search?syntax=fts&q=thiosulfate', { 'if-none-match': etag });
    expect(again.statusCode).toBe(304);
  });
});

describe('GET /v1/search: errors', () => {
  const problemFor = async (query: string) => expectProblem(await get(`/v1/search${query}`), 400);

  it.each([
    ['missing q', ''],
    ['empty q', '?q='],
    ['201-character q', `?q=${'a'.repeat(201)}`],
    ['unknown parameter', '?q=kidney&sort=score'],
    ['unknown kind', '?q=kidney&kind=drug'],
    ['limit over 100', '?q=kidney&limit=101'],
  ])('%s → 400 validation problem', async (_name, query) => {
    const body = await problemFor(query);
    expect(body.errors).toBeInstanceOf(Array);
  });

  it('accepts a 200-character q', async () => {
    expect((await get(`/v1/search?syntax=fts&q=${'a'.repeat(200)}`)).statusCode).toBe(200);
  });

  it.each([
    ['sodium AND', /AND needs a term after it/],
    ['"unbalanced', /unbalanced quote/],
    ['NOT x', /NOT needs a term before it/],
    ['title:x', /column filters/],
    ['(kidney', /never closed/],
    ['   ', /no words/],
  ])('%j → 400 problem at /querystring/q', async (q, message) => {
    const body = await problemFor(`?syntax=fts&q=${encodeURIComponent(q)}`);
    expect(body.type).toBe('/problems/bad-request');
    expect(body.errors).toEqual([{ path: '/querystring/q', message: expect.stringMatching(message) }]);
    expect(String(body.detail)).toMatch(/^The search query is not valid: /);
  });

  it.each([
    "'; DROP TABLE statements; --",
    '%00',
    '*',
    '"',
    '()',
    'NEAR(a b)',
    'NEAR(sodium thiosulfate, 2)',
    '{title}: x',
    '^kidney',
    'kidney*)',
    '"a" "b',
    'AND OR NOT',
    '\u202Eevil\u202C',
    'ü ñ 中文 🙂',
    '\\',
    '%',
    '\u0000kidney',
  ])('hostile %j → 200 or 400, never 5xx', async (q) => {
    const res = await get(`/v1/search?syntax=fts&q=${q === '%00' ? q : encodeURIComponent(q)}`);
    expect([200, 400], res.body).toContain(res.statusCode);
    if (res.statusCode === 400) expectProblem(res, 400);
    expect(res.body).not.toMatch(/sqlite|fts5|SELECT/i);
  });

  it('still has the statements table after the injection attempt', async () => {
    expect((await get('/v1/facts?limit=1')).statusCode).toBe(200);
  });

  it('turns an FTS syntax error raised by SQLite into a query error (the net under the compiler)', () => {
    for (const match of ['sodium AND', '"unbalanced', 'NOT x', '*']) {
      expect(() => ctx.app.repos.search.search({ match, anyMatch: null, text: match, offset: 0, limit: 5 }), match).toThrow(SearchQueryError);
    }
  });
});

describe('GET /v1/search: snippet markup', () => {
  it('escapes stored text so that only the <mark> tags are markup', async () => {
    // A statement and its search row (the index reads the title and body from the statement).
    const id = 'calciphylaxis.prognosis.markup-probe';
    const db = ctx.app.db;
    db.prepare("INSERT INTO statements (id, condition_id, section, position, name, text, confidence) VALUES (?, 'calciphylaxis', 'prognosis', 999, 'Probe', ?, 'low')").run(
      id,
      'Zqxv <script>alert(1)</script> & "zqxv" done',
    );
    db.prepare("INSERT INTO search_rows (kind, entity_id, condition_id, section, section_name) VALUES ('fact', ?, 'calciphylaxis', 'prognosis', 'prognosis')").run(id);
    try {
      const [hit] = (await search('zqxv')).data;
      expect(hit?.snippet).toBe('<mark>Zqxv</mark> &lt;script&gt;alert(1)&lt;/script&gt; &amp; "<mark>zqxv</mark>" done');
    } finally {
      // The search row first: its trigger unindexes the text it reads from the statement.
      db.prepare('DELETE FROM search_rows WHERE entity_id = ?').run(id);
      db.prepare('DELETE FROM statements WHERE id = ?').run(id);
    }
  });
});
