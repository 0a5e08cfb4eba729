/**
 * `affects` on change-feed entries, pinned on calciphylaxis alone: which URLs each kind of write
 * lists, and which it leaves out (a URL listed that did not change costs a mirror a 304; one left
 * out leaves it stale). tests/sync-recipe.test.ts proves the lists complete over random writes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCurationApp, readFeed, type Change, type CurationContext } from './helpers.js';

let ctx: CurationContext;
beforeAll(async () => {
  ctx = await buildCurationApp();
});
afterAll(() => ctx.close());

const C = '/v1/conditions/calciphylaxis';
const SECTIONS = ['symptoms', 'causes', 'risk-factors', 'complications', 'diagnosis', 'treatments', 'prognosis', 'prevention', 'when-to-seek-care', 'differential-diagnosis', 'statistics', 'sources'];
/** What every write to calciphylaxis changes: its version is in the document, each section and its summary. */
const EVERY_WRITE = ['/v1/meta', '/v1/conditions', C, ...SECTIONS.map((s) => `${C}/${s}`)];

/** Every entry of the feed, from the start. */
async function feed(): Promise<Change[]> {
  return (await readFeed(ctx.app)).entries;
}

/** The entries a write added to the feed. */
async function entriesOf(write: () => Promise<{ statusCode: number; body: string }>): Promise<Change[]> {
  const before = (await feed()).length;
  const res = await write();
  expect(res.statusCode, res.body).toBeLessThan(300);
  return (await feed()).slice(before);
}

async function patch(url: string, payload: object) {
  return ctx.send({ method: 'PATCH', url, payload, headers: { 'if-match': await ctx.etag(url) } });
}

describe('affects', () => {
  it('on the build’s entries: what each creation brought into being, code lookups and their ICD-10-CM parents included', async () => {
    const entries = await feed();
    const condition = entries.find((e) => e.entity === 'condition');
    expect(condition?.affects).toEqual(
      expect.arrayContaining([
        ...EVERY_WRITE,
        `${C}/facts`,
        '/v1/facts?condition=calciphylaxis',
        '/v1/statistics?condition=calciphylaxis',
        '/v1/treatments?condition=calciphylaxis',
        '/v1/sources?condition=calciphylaxis',
        '/v1/codes/icd10cm/E83.59',
        '/v1/codes/icd10cm/E83.5',
        '/v1/codes/icd10cm/E83',
      ]),
    );
    const statistic = entries.find((e) => e.entity === 'statistic');
    expect(statistic?.affects).toEqual(expect.arrayContaining([`/v1/statistics/${statistic?.id}`, `/v1/facts/${statistic?.id}`, `${C}/statistics`, '/v1/statistics']));
    for (const e of entries) expect(e.affects).toContain('/v1/meta');
  });

  it('for a statement edit: the fact, its condition document and sections, and the fact lists, nothing else', async () => {
    const url = '/v1/facts/calciphylaxis.prevention.mineral-control';
    const [entry, ...more] = await entriesOf(() => patch(url, { text: 'Edited to pin what the feed lists.' }));
    expect(more).toEqual([]);
    expect(entry?.affects).toEqual([...EVERY_WRITE, `${C}/facts`, '/v1/facts', url, '/v1/facts?condition=calciphylaxis'].sort());
  });

  it('for a statistic edit: also the statistic lists and the treatment whose evidence it is', async () => {
    const id = 'calciphylaxis.stat.usage-sodium-thiosulfate';
    const treatment = ctx.app.repos.content.get('calciphylaxis')?.statistics.find((s) => s.id === id)?.treatment;
    expect(treatment).toBeTruthy();
    const [entry] = await entriesOf(() => patch(`/v1/statistics/${id}`, { text: 'A figure edited to pin what the feed lists.' }));
    expect(entry?.affects).toEqual(
      expect.arrayContaining([`/v1/statistics/${id}`, `/v1/facts/${id}`, '/v1/statistics', '/v1/statistics?condition=calciphylaxis', `/v1/treatments/${treatment ?? ''}`]),
    );
    expect(entry?.affects).not.toContain('/v1/sources');
  });

  it('for a source edit: every item citing it, wherever it is served, and the source lists', async () => {
    const id = 'nigwekar-2018';
    const citing = (await ctx.app.inject({ url: `/v1/sources/${id}` })).json<{ citedBy: { url: string }[] }>().citedBy.map((c) => c.url);
    const facts = (await ctx.app.inject({ url: '/v1/facts?condition=calciphylaxis&limit=100' })).json<{ data: { id: string; sources: { id: string }[] }[] }>().data;
    // Authors make the short citation every citing item shows (a title alone would not: see below).
    const [entry] = await entriesOf(() => patch(`/v1/sources/${id}`, { authors: ['Tester A'] }));
    expect(entry?.affects).toEqual(expect.arrayContaining([`/v1/sources/${id}`, '/v1/sources', '/v1/sources?condition=calciphylaxis', ...citing.filter((u) => !u.includes('/conditions/'))]));
    // Each fact citing it shows the citation; a fact that does not cite it is not listed.
    for (const f of facts) expect(entry?.affects.includes(`/v1/facts/${f.id}`), f.id).toBe(f.sources.some((s) => s.id === id));

    // The title is not in the citation: the source, its lists and the documents (which show sources whole) change, the facts do not.
    const [title] = await entriesOf(() => patch(`/v1/sources/${id}`, { title: 'A title edited to pin what the feed lists' }));
    expect(title?.affects).toEqual(expect.arrayContaining([`/v1/sources/${id}`, '/v1/sources', C]));
    expect(title?.affects.some((u) => u.startsWith('/v1/facts/'))).toBe(false);
  });

  it('for condition fields: the review date reaches every fact and code lookup; aliases only the document and lists', async () => {
    const [reviewed] = await entriesOf(() => patch(C, { lastReviewed: '2026-11-30' }));
    const facts = (await ctx.app.inject({ url: '/v1/facts?condition=calciphylaxis&limit=100' })).json<{ data: { id: string }[] }>().data;
    for (const f of facts) expect(reviewed?.affects).toContain(`/v1/facts/${f.id}`);
    expect(reviewed?.affects).toEqual(expect.arrayContaining(['/v1/codes/icd10cm/E83.59', '/v1/codes/icd10cm/E83.5', '/v1/statistics', '/v1/treatments', '/v1/sources']));

    const [aliases] = await entriesOf(() => patch(C, { aliases: ['Calcific uremic arteriolopathy', 'A test alias'] }));
    expect(aliases?.affects).toEqual(EVERY_WRITE.sort());
  });

  it('for a code removed: the lookups of the code and its parents', async () => {
    const [removed] = await entriesOf(async () => ctx.send({ method: 'DELETE', url: `${C}/codes/icd10cm/E83.59`, headers: { 'if-match': await ctx.etag(C) } }));
    expect(removed?.affects).toEqual(expect.arrayContaining(['/v1/codes/icd10cm/E83.59', '/v1/codes/icd10cm/E83.5', '/v1/codes/icd10cm/E83', ...EVERY_WRITE]));
    expect((await ctx.app.inject({ url: '/v1/codes/icd10cm/E83.59' })).statusCode).toBe(404);
  });

  it('lists nothing for a write that changes nothing (it adds no entry)', async () => {
    const url = '/v1/facts/calciphylaxis.prevention.mineral-control';
    const text = (await ctx.app.inject({ url })).json<{ text: string }>().text;
    expect(await entriesOf(() => patch(url, { text }))).toEqual([]);
  });
});
