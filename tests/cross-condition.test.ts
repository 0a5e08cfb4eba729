/**
 * Features that only mean something with more than one real condition: links between condition
 * documents, code lookups and searches that must pick the right condition, and cross-condition
 * statistics. Built on the shipped content, so every condition file added joins in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, collectPages, type TestContext } from './helpers.js';

interface Related {
  conditionId: string;
  relation: string;
  url: string | null;
  inKnowledgeBase: boolean;
  sources: { id: string }[];
}

let ctx: TestContext;
beforeAll(async () => {
  ctx = await buildTestApp();
});
afterAll(() => ctx.close());

const json = async <T>(url: string): Promise<T> => {
  const res = await ctx.app.inject({ url });
  expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
  return res.json<T>();
};

describe('condition links', () => {
  it('lists every shipped condition', async () => {
    const { items } = await collectPages<{ id: string }>(ctx.app, '/v1/conditions?limit=100');
    expect(items.map((c) => c.id)).toEqual(expect.arrayContaining(['calciphylaxis', 'sepsis']));
  });

  it('links calciphylaxis and sepsis both ways, to documents that answer 200', async () => {
    const calciphylaxis = await json<{ related: Related[] }>('/v1/conditions/calciphylaxis');
    const toSepsis = calciphylaxis.related.find((r) => r.conditionId === 'sepsis');
    expect(toSepsis).toMatchObject({ relation: 'complication', url: '/v1/conditions/sepsis', inKnowledgeBase: true });
    const sepsis = await json<{ related: Related[] }>('/v1/conditions/sepsis');
    const back = sepsis.related.find((r) => r.conditionId === 'calciphylaxis');
    expect(back).toMatchObject({ relation: 'risk-factor', url: '/v1/conditions/calciphylaxis', inKnowledgeBase: true });
    expect(back?.sources.map((s) => s.id)).toEqual(['new-2011-cua', 'budisavljevic-1996', 'mathur-2001']);
    for (const link of [toSepsis, back]) expect((await ctx.app.inject({ url: link?.url ?? '' })).statusCode).toBe(200);
  });

  it('links calciphylaxis to its three related conditions, each answering 200 and linking back', async () => {
    const calciphylaxis = await json<{ related: (Related & { text: string })[] }>('/v1/conditions/calciphylaxis');
    // The audit replaced the dangling `hyperparathyroidism` target with the condition that has a file.
    expect(calciphylaxis.related.map((r) => [r.conditionId, r.relation])).toEqual([
      ['end-stage-kidney-disease', 'underlying-cause'],
      ['secondary-hyperparathyroidism', 'risk-factor'],
      ['sepsis', 'complication'],
    ]);
    for (const link of calciphylaxis.related) {
      expect(link, link.conditionId).toMatchObject({ url: `/v1/conditions/${link.conditionId}`, inKnowledgeBase: true });
      // A cited sentence saying what the link is.
      expect(link.text, link.conditionId).toMatch(/\w+ \w+/);
      expect(link.sources.length, link.conditionId).toBeGreaterThan(0);
      const target = await ctx.app.inject({ url: link.url ?? '' });
      expect(target.statusCode, link.url ?? '').toBe(200);
      // The reverse link, from the target's own document back to calciphylaxis.
      const back = target.json<{ id: string; related: Related[] }>().related.find((r) => r.conditionId === 'calciphylaxis');
      expect(back, `${link.conditionId} → calciphylaxis`).toMatchObject({ url: '/v1/conditions/calciphylaxis', inKnowledgeBase: true });
      expect(back?.sources.length, `${link.conditionId} → calciphylaxis`).toBeGreaterThan(0);
    }
    const reverse = { 'end-stage-kidney-disease': 'complication', 'secondary-hyperparathyroidism': 'complication', sepsis: 'risk-factor' };
    for (const [id, relation] of Object.entries(reverse)) {
      const doc = await json<{ related: Related[] }>(`/v1/conditions/${id}`);
      expect(doc.related.find((r) => r.conditionId === 'calciphylaxis')?.relation, id).toBe(relation);
    }
  });

  it('links end-stage kidney disease and sepsis both ways', async () => {
    const eskd = await json<{ related: Related[] }>('/v1/conditions/end-stage-kidney-disease');
    expect(eskd.related.find((r) => r.conditionId === 'sepsis')).toMatchObject({ relation: 'complication', url: '/v1/conditions/sepsis', inKnowledgeBase: true });
    const sepsis = await json<{ related: Related[] }>('/v1/conditions/sepsis');
    const toEskd = sepsis.related.find((r) => r.conditionId === 'end-stage-kidney-disease');
    expect(toEskd).toMatchObject({ relation: 'risk-factor', url: '/v1/conditions/end-stage-kidney-disease', inKnowledgeBase: true });
    // Both files cite the one shared entry for Sarnak and Jaber (2000), not two copies of it.
    expect(toEskd?.sources.map((s) => s.id)).toContain('sarnak-2000');
  });

  it('renders a link to a condition with no document as url null, never as a dead link', async () => {
    const { items } = await collectPages<{ id: string }>(ctx.app, '/v1/conditions?limit=100');
    const held = new Set(items.map((c) => c.id));
    for (const id of held) {
      const doc = await json<{ related: Related[] }>(`/v1/conditions/${id}`);
      for (const r of doc.related) {
        if (held.has(r.conditionId)) {
          expect(r, `${id} → ${r.conditionId}`).toMatchObject({ url: `/v1/conditions/${r.conditionId}`, inKnowledgeBase: true });
          expect((await ctx.app.inject({ url: r.url ?? '' })).statusCode).toBe(200);
        } else {
          expect(r, `${id} → ${r.conditionId}`).toMatchObject({ url: null, inKnowledgeBase: false });
        }
      }
    }
  });
});

describe('code lookups', () => {
  it.each([
    ['A41.9', 'Sepsis, unspecified organism'],
    ['R65.20', 'Severe sepsis without septic shock'],
    ['R65.21', 'Severe sepsis with septic shock'],
  ])('finds sepsis for ICD-10-CM %s with its honest relation', async (code, display) => {
    const body = await json<{ data: { id: string; match: string; display: string }[] }>(`/v1/codes/icd10cm/${code}`);
    expect(body.data).toEqual([expect.objectContaining({ id: 'sepsis', match: 'narrower', display })]);
  });

  it('keeps calciphylaxis on its own code', async () => {
    const body = await json<{ data: { id: string }[] }>('/v1/codes/icd10cm/E83.59');
    expect(body.data.map((d) => d.id)).toEqual(['calciphylaxis']);
  });
});

describe('search across conditions', () => {
  it('ranks the sepsis condition first for "sepsis"', async () => {
    const body = await json<{ data: { kind: string; id: string; conditionId: string }[] }>('/v1/search?q=sepsis');
    expect(body.data[0]).toMatchObject({ kind: 'condition', id: 'sepsis', conditionId: 'sepsis' });
    // Calciphylaxis items that mention sepsis still come up, under their own condition.
    expect(body.data.some((h) => h.conditionId === 'calciphylaxis')).toBe(true);
  });

  it('ranks the calciphylaxis condition first for "calciphylaxis"', async () => {
    const body = await json<{ data: { kind: string; id: string }[] }>('/v1/search?q=calciphylaxis');
    expect(body.data[0]).toMatchObject({ kind: 'condition', id: 'calciphylaxis' });
  });
});

describe('sources across conditions', () => {
  // Source ids are one space for all condition files (a file may cite another file's entry), so the
  // same work is one source: the FDA Sensipar label was once two ids, one per file.
  it('defines each work once: no two sources share a DOI, PMID, PMCID or URL', async () => {
    const { items } = await collectPages<{ id: string; doi: string | null; pmid: string | null; pmcid: string | null; url: string | null }>(ctx.app, '/v1/sources?limit=100');
    expect(items.length).toBeGreaterThan(100);
    for (const key of ['doi', 'pmid', 'pmcid', 'url'] as const) {
      const seen = new Map<string, string>();
      for (const s of items) {
        const v = s[key]?.toLowerCase();
        if (!v) continue;
        expect(seen.get(v), `${s.id} and ${seen.get(v) ?? ''} share ${key} ${v}`).toBeUndefined();
        seen.set(v, s.id);
      }
    }
  });

  it('cites the one Sensipar label entry from both calciphylaxis and secondary hyperparathyroidism', async () => {
    expect((await ctx.app.inject({ url: '/v1/sources/fda-label-cinacalcet' })).statusCode).toBe(404);
    const cinacalcet = await json<{ sources: { id: string }[] }>('/v1/treatments/calciphylaxis.treatment.cinacalcet');
    expect(cinacalcet.sources.map((s) => s.id)).toContain('fda-sensipar-label');
    const shpt = await json<{ sources: { id: string }[] }>('/v1/treatments/secondary-hyperparathyroidism.treatment.cinacalcet');
    expect(shpt.sources.map((s) => s.id)).toContain('fda-sensipar-label');
  });
});

describe('statistics across conditions', () => {
  it('returns mortality figures from at least three conditions, each with its condition id', async () => {
    const { items } = await collectPages<{ id: string; conditionId: string; measure: string }>(ctx.app, '/v1/statistics?measure=mortality&limit=100');
    const conditions = new Set(items.map((s) => s.conditionId));
    expect(conditions.size).toBeGreaterThanOrEqual(3);
    expect([...conditions]).toEqual(expect.arrayContaining(['calciphylaxis', 'sepsis', 'end-stage-kidney-disease']));
    // The mortality family includes survival, the same outcome seen from the other side.
    for (const s of items) {
      expect(['mortality', 'survival'], s.id).toContain(s.measure);
      expect(s.id.startsWith(`${s.conditionId}.`), s.id).toBe(true);
    }
  });

  it('filters one condition out of the others', async () => {
    const { items } = await collectPages<{ conditionId: string }>(ctx.app, '/v1/statistics?condition=sepsis&limit=100');
    expect(items.length).toBe(13);
    expect(new Set(items.map((s) => s.conditionId))).toEqual(new Set(['sepsis']));
  });
});
