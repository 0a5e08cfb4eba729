/**
 * Retrieval in people's words (the default query mode) through /v1/search, /v1/facts and
 * /v1/context: the questions a chatbot backend passes straight through, hostile and odd text,
 * where hits live, the honest empty answer, and the context pack.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContentError, formatProblem, loadContent } from '../src/content/load.js';
import { CONTENT_DIR } from '../src/paths.js';
import { buildTestApp, type TestContext } from './helpers.js';

interface Hit {
  id: string;
  kind: string;
  section: string;
  url: string;
  sources: { id: string; doi: string | null; pmid: string | null; url: string | null; locator: string | null }[];
}
interface SearchBody {
  data: Hit[];
  answerable: boolean;
  query: { syntax: string; mode: string };
}
interface ContextBody {
  answerable: boolean;
  facts: { id: string; section: string; text: string; sources: Hit['sources']; conditionId: string; lastReviewed: string }[];
  omitted: number;
  disclaimer: string;
  lastReviewed: string | null;
}

let ctx: TestContext;
beforeAll(async () => {
  ctx = await buildTestApp();
});
afterAll(() => ctx.close());

const get = (url: string, headers: Record<string, string> = {}) => ctx.app.inject({ url, headers });
const search = async (q: string, extra = '') => {
  const res = await get(`/v1/search?q=${encodeURIComponent(q)}${extra}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<SearchBody>();
};
const context = async (q: string, extra = '') => {
  const res = await get(`/v1/context?q=${encodeURIComponent(q)}${extra}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<ContextBody>();
};

describe('the eight questions a chatbot asked', () => {
  const answered: [string, string[]][] = [
    ['how is calciphylaxis treated?', ['calciphylaxis.treatment.sodium-thiosulfate', 'calciphylaxis.treatment.multidisciplinary-care', 'calciphylaxis.treatment.hyperbaric-oxygen', 'calciphylaxis.treatment.wound-dressings', 'calciphylaxis.treatment.pain-management', 'calciphylaxis.prognosis.no-treatment-lowered-mortality']],
    ["what's the survival rate for calciphylaxis?", ['calciphylaxis.prognosis.mortality', 'calciphylaxis.stat.mortality-6-months', 'calciphylaxis.stat.mortality-12-months', 'calciphylaxis.stat.survival-1-year-weenig']],
    ['what does calciphylaxis look like?', ['calciphylaxis.symptom.livedo-patches', 'calciphylaxis.symptom.purpura', 'calciphylaxis.symptom.eschar-ulcers', 'calciphylaxis.symptom.painful-nodules']],
    ['which tests diagnose calciphylaxis?', ['calciphylaxis.diagnosis.skin-biopsy', 'calciphylaxis.diagnosis.blood-calcium', 'calciphylaxis.diagnosis.x-ray', 'calciphylaxis.diagnosis.clinical-assessment']],
    ['how can calciphylaxis be prevented?', ['calciphylaxis.prevention.mineral-control', 'calciphylaxis.prevention.education-screening', 'calciphylaxis.prevention.limited-options']],
  ];
  it.each(answered)('%s: an answering fact first, in search, facts and context alike', async (q, answers) => {
    const hits = await search(q);
    expect(hits.answerable).toBe(true);
    expect(answers).toContain(hits.data[0]?.id);
    const facts = (await get(`/v1/facts?q=${encodeURIComponent(q)}`)).json<{ data: { id: string }[]; answerable: boolean }>();
    expect(facts.answerable).toBe(true);
    expect(answers).toContain(facts.data[0]?.id);
    const pack = await context(q);
    expect(answers).toContain(pack.facts[0]?.id);
  });

  it('does sodium thiosulfate work? retrieves the finding that no treatment lowered mortality', async () => {
    const pack = await context('does sodium thiosulfate work?');
    expect(pack.answerable).toBe(true);
    expect(pack.facts.slice(0, 3).map((f) => f.id)).toContain('calciphylaxis.prognosis.no-treatment-lowered-mortality');
  });

  it.each(['is calciphylaxis contagious?', 'can you get calciphylaxis if your kidneys are normal?'])('%s: nothing answers it, and every endpoint says so', async (q) => {
    const hits = await search(q);
    expect(hits).toMatchObject({ answerable: false, data: [] });
    expect((await get(`/v1/facts?q=${encodeURIComponent(q)}`)).json()).toMatchObject({ answerable: false, data: [] });
    expect(await context(q)).toMatchObject({ answerable: false, facts: [] });
    const md = await get(`/v1/context?q=${encodeURIComponent(q)}`, { accept: 'text/markdown' });
    expect(md.body).toMatch(/no cited answer/);
    expect(md.body).toMatch(/not medical advice/i);
    expect((await get(`/v1/search?q=${encodeURIComponent(q)}`, { accept: 'text/markdown' })).body).toMatch(/no cited answer/);
  });
});

describe('any text is a question (no 400 for its syntax)', () => {
  const odd = [
    '"unbalanced quote',
    'NOT sure what causes it',
    'sodium AND',
    'AND OR NOT',
    '*',
    'thio*',
    '(kidney',
    'title:skin',
    'NEAR(a b)',
    '🙂 skin pain 🙂',
    '!'.repeat(200),
    '.,;:?!"()[]{}<>^~*-+=/\\|&%$#@'.repeat(6).slice(0, 200),
    "what's the   prognosis???",
    'e83.59',
    '\u202Eright to left',
  ];
  it.each(odd)('%j → 200 from search, facts and context', async (q) => {
    for (const path of ['/v1/search', '/v1/facts', '/v1/context']) {
      const res = await get(`${path}?q=${encodeURIComponent(q)}`);
      expect(res.statusCode, `${path} ${res.body}`).toBe(200);
    }
  });

  it('keeps the FTS language behind syntax=fts, where a malformed expression is a 400', async () => {
    expect((await get('/v1/search?syntax=fts&q=sodium%20AND')).statusCode).toBe(400);
    expect((await get('/v1/facts?syntax=fts&q=sodium%20AND')).statusCode).toBe(400);
    expect((await search('sodium AND')).query).toMatchObject({ syntax: 'natural', mode: 'natural' });
  });

  it('corrects a misspelt condition name and answers with the condition', async () => {
    const hits = await search('calcifilaxis');
    expect(hits.data[0]).toMatchObject({ kind: 'condition', id: 'calciphylaxis', section: 'overview' });
  });
});

describe('hits and facts say where they live and how to reach their sources', () => {
  it('every hit carries its section and the URL of its resource; every ref carries doi, pmid and url keys', async () => {
    const hits = await search('hyperbaric oxygen', '&limit=50');
    expect(hits.data.length).toBeGreaterThan(2);
    for (const h of hits.data) {
      expect(h.section).toMatch(/^(symptoms|causes|risk-factors|complications|diagnosis|differential-diagnosis|treatments|prognosis|prevention|when-to-seek-care|statistics|overview)$/);
      expect(h.url).toMatch(/^\/v1\//);
      for (const r of h.sources) expect(Object.keys(r).sort()).toEqual(['citation', 'doi', 'id', 'locator', 'pmid', 'url']);
    }
    const an = hits.data.flatMap((h) => h.sources).find((r) => r.id === 'an-2015');
    expect(an).toMatchObject({ doi: '10.1111/nep.12433', pmid: '25707425', url: 'https://doi.org/10.1111/nep.12433' });
  });

  it('ranks /v1/facts?q= by relevance, not by id', async () => {
    const body = (await get('/v1/facts?q=warfarin%20risk&limit=5')).json<{ data: { id: string }[] }>();
    expect(body.data[0]?.id).toBe('calciphylaxis.risk.warfarin');
    const sorted = [...body.data.map((f) => f.id)].sort();
    expect(body.data.map((f) => f.id)).not.toEqual(sorted.length > 1 ? sorted : ['never']);
  });

  it('finds a section by its name: q=prognosis returns the prognosis items', async () => {
    const hits = await search('prognosis', '&condition=calciphylaxis');
    expect(hits.data.slice(0, 3).every((h) => h.section === 'prognosis' || h.section === 'statistics')).toBe(true);
  });
});

describe('GET /v1/context', () => {
  it('packs whole cited facts within maxChars, with the disclaimer and review date', async () => {
    const q = 'how is calciphylaxis treated?';
    for (const maxChars of [400, 1200, 4000]) {
      const md = await get(`/v1/context?q=${encodeURIComponent(q)}&maxChars=${maxChars}`, { accept: 'text/markdown' });
      expect(md.statusCode).toBe(200);
      expect(md.body.length).toBeLessThanOrEqual(maxChars);
      const pack = await context(q, `&maxChars=${maxChars}`);
      // Every fact sent is whole: its full text appears in the Markdown.
      for (const f of pack.facts) expect(md.body).toContain(f.text);
      expect(pack.disclaimer).toMatch(/not medical advice/i);
      if (pack.facts.length) expect(pack.lastReviewed).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
    const small = await context(q, '&maxChars=400');
    const large = await context(q, '&maxChars=4000');
    expect(large.facts.length).toBeGreaterThan(small.facts.length);
    expect(small.omitted).toBeGreaterThan(0);
    const md = (await get(`/v1/context?q=${encodeURIComponent(q)}`, { accept: 'text/markdown' })).body;
    expect(md).toMatch(/^1\. \*\*Calciphylaxis, /m);
    expect(md).toMatch(/## References\n\n1\. /);
    expect(md).toMatch(/DOI: 10\.|<https:\/\//);
  });

  it('answers identical requests with identical bytes and a strong ETag, and 304 on revalidation', async () => {
    const url = `/v1/context?q=${encodeURIComponent('what does it look like')}&condition=calciphylaxis`;
    const a = await get(url);
    const b = await get(url);
    expect(a.body).toBe(b.body);
    expect(a.headers.etag).toMatch(/^"/);
    expect(a.headers.etag).toBe(b.headers.etag);
    expect((await get(url, { 'if-none-match': String(a.headers.etag) })).statusCode).toBe(304);
  });

  it('answers "what is calciphylaxis?" with the condition overview, cited', async () => {
    const pack = await context('what is calciphylaxis?');
    expect(pack.facts[0]).toMatchObject({ id: 'calciphylaxis', section: 'overview', conditionId: 'calciphylaxis' });
    expect(pack.facts[0]?.sources.length).toBeGreaterThan(0);
  });

  it('refuses an unknown condition and a budget out of range', async () => {
    expect((await get('/v1/context?q=pain&condition=no-such-condition')).statusCode).toBe(404);
    expect((await get('/v1/context?q=pain&maxChars=10')).statusCode).toBe(400);
    expect((await get('/v1/context')).statusCode).toBe(400);
  });
});

describe('the consumer vocabulary', () => {
  it('is checked by kb validate, with file:path: message errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-vocabulary-'));
    try {
      cpSync(CONTENT_DIR, dir, { recursive: true });
      const file = join(dir, '_vocabulary.yaml');
      writeFileSync(file, readFileSync(file, 'utf8').replace('ignore:\n', 'ignore:\n  - Not A Word!\n'));
      let problems: string[] = [];
      try {
        loadContent(dir, dir);
      } catch (err) {
        if (err instanceof ContentError) problems = err.problems.map(formatProblem);
      }
      expect(problems).toEqual([expect.stringMatching(/^_vocabulary\.yaml:\/ignore\/0: .*\(line \d+\)$/)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
