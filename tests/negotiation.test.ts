/**
 * Content negotiation done once for every route: Accept and ?format= pick a representation,
 * unsupported ones are a 406 listing what is offered, negotiated responses vary on Accept, and
 * each representation has its own ETag.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, expectProblem, type TestContext } from './helpers.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await buildTestApp();
});
afterAll(() => ctx.close());

const get = (url: string, accept?: string) => ctx.app.inject({ url, headers: accept ? { accept } : {} });

describe('condition document representations', () => {
  const url = '/v1/conditions/calciphylaxis';

  it.each([
    ['application/json', /^application\/json/],
    ['application/ld+json', /^application\/ld\+json/],
    ['text/markdown', /^text\/markdown/],
  ])('serves %s with Vary: Accept and its own ETag', async (accept, type) => {
    const res = await get(url, accept);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(type);
    expect(res.headers.vary).toMatch(/Accept/);
    const again = await ctx.app.inject({ url, headers: { accept, 'if-none-match': String(res.headers.etag) } });
    expect(again.statusCode).toBe(304);
  });

  it('gives each representation a distinct ETag', async () => {
    const etags = await Promise.all(['application/json', 'application/ld+json', 'text/markdown'].map(async (a) => (await get(url, a)).headers.etag));
    expect(new Set(etags).size).toBe(3);
  });

  it('accepts ?format=markdown for clients that cannot set headers', async () => {
    const viaQuery = await get(`${url}?format=markdown`);
    const viaHeader = await get(url, 'text/markdown');
    expect(viaQuery.headers['content-type']).toMatch(/^text\/markdown/);
    expect(viaQuery.body).toBe(viaHeader.body);
  });

  it('prefers by quality value', async () => {
    const res = await get(url, 'application/json;q=0.5, text/markdown');
    expect(res.headers['content-type']).toMatch(/^text\/markdown/);
  });

  it('406s an unsupported type, listing the supported ones', async () => {
    const problem = expectProblem(await get(url, 'application/xml'), 406);
    expect(problem.supported).toEqual(['application/json', 'application/ld+json', 'text/markdown']);
    expectProblem(await get(`${url}?format=fhir`), 406);
  });

  it('renders Markdown with every seed figure next to a citation marker that resolves', async () => {
    const md = (await get(url, 'text/markdown')).body;
    const references = new Map<string, string>();
    for (const m of md.matchAll(/^(\d+)\. (.+)$/gm)) if (m[1] && m[2]) references.set(m[1], m[2]);
    const cited = (figure: string, author: RegExp) => {
      const line = md.split('\n').find((l) => l.includes(figure) && /\[\d+(?:, [^\]]+)?\]/.test(l) && !/^\d+\. /.test(l));
      expect(line, figure).toBeDefined();
      // A marker may carry a locator, as in [3, abstract].
      const markers = [...(line ?? '').matchAll(/\[(\d+)(?:, [^\]]+)?\]/g)].map((m) => references.get(m[1] ?? ''));
      expect(markers.some((r) => r !== undefined && author.test(r)), `${figure}: ${line}`).toBe(true);
    };
    cited('50.3%', /Udomkarnjananun et al\., 2019/);
    cited('0.04', /Kodumudi et al\., 2020/);
    cited('30%', /Medical News Today|Unidentified/);
    cited('45.8%', /Weenig et al\., 2007/);
    cited('58%', /An et al\., 2015/);
    cited('83.4%', /Deen and Schaider, 2019/);
    cited('82.8%', /Deen and Schaider, 2019/);
    cited('3 patients', /Nordheim et al\., 2016/);
    expect(md).toContain('2026-11-26');
    expect(md).toMatch(/not medical advice/);
  });

  it('renders JSON-LD as a schema.org MedicalCondition with offline-safe context', async () => {
    const ld = (await get(url, 'application/ld+json')).json<Record<string, unknown>>();
    expect(ld['@context']).toBe('https://schema.org');
    expect(ld['@type']).toBe('MedicalCondition');
    expect(ld.name).toBe('Calciphylaxis');
    expect(ld.code).toEqual(expect.arrayContaining([expect.objectContaining({ '@type': 'MedicalCode', codeValue: 'E83.59', codingSystem: 'ICD-10-CM' })]));
  });
});

describe('other negotiated routes', () => {
  it('serves a section as Markdown', async () => {
    const res = await get('/v1/conditions/calciphylaxis/treatments?format=markdown');
    expect(res.headers['content-type']).toMatch(/^text\/markdown/);
    expect(res.body).toMatch(/Sodium thiosulfate/);
  });

  it('serves facts and search results as Markdown with citations', async () => {
    const facts = await get('/v1/facts?condition=calciphylaxis&section=treatments', 'text/markdown');
    expect(facts.body).toMatch(/\[1\]/);
    expect(facts.body).toMatch(/Udomkarnjananun et al\., 2019/);
    const search = await get('/v1/search?q=thiosulfate&format=markdown');
    expect(search.headers['content-type']).toMatch(/^text\/markdown/);
    expect(search.body).toMatch(/\*\*thiosulfate\*\*/i);
  });

  it('serves a statistic as a FHIR R5 Bundle of Evidence and Citation', async () => {
    const res = await get('/v1/statistics/calciphylaxis.stat.usage-sodium-thiosulfate', 'application/fhir+json');
    expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
    const bundle = res.json<{ resourceType: string; type: string; entry: { resource: Record<string, unknown> }[] }>();
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'collection' });
    const evidence = bundle.entry.find((e) => e.resource.resourceType === 'Evidence')?.resource as { statistic: { quantity: { value: number; unit: string } }[] };
    expect(evidence.statistic[0]?.quantity).toMatchObject({ value: 50.3, unit: '%' });
    const citation = bundle.entry.find((e) => e.resource.resourceType === 'Citation')?.resource;
    expect(JSON.stringify(citation)).toMatch(/Treatment of Calciphylaxis in CKD: A Systematic Review and Meta-analysis/);
    expect(JSON.stringify(citation)).toMatch(/systematic/i);
  });

  it('keeps JSON-only routes at 406 for other types', async () => {
    const problem = expectProblem(await get('/v1/sources', 'text/markdown'), 406);
    expect(problem.supported).toEqual(['application/json']);
    const bad = expectProblem(await get('/v1/sources?format=markdown'), 400);
    expect(bad.errors).toEqual([expect.objectContaining({ path: '/querystring/format' })]);
  });
});
