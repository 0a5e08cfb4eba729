/**
 * The typed example client (examples/client) against a live server listening on a free loopback
 * port, and the guard that keeps its generated types in step with the API: schema.d.ts must equal
 * what openapi-typescript generates from the committed openapi/openapi.json now (which the OpenAPI
 * test in turn keeps equal to the routes).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createKbClient, KbError, type KbClient } from '../examples/client/index.js';
import { generateClientSchema, SCHEMA_FILE } from '../examples/client/generate.js';
import { ground } from '../examples/grounding.js';
import { buildTestApp, type TestContext } from './helpers.js';

let ctx: TestContext;
let kb: KbClient;
let requests: { url: string; status: number }[] = [];

beforeAll(async () => {
  // Load shedding off: on a busy test machine it would refuse requests this test is not about.
  ctx = await buildTestApp({ env: { MAX_EVENT_LOOP_DELAY_MS: '0' } });
  const base = await ctx.app.listen({ port: 0, host: '127.0.0.1' });
  // Record what went over the wire, to check the ETag revalidation really happened.
  kb = createKbClient(base, {
    fetch: async (request) => {
      const res = await fetch(request);
      requests.push({ url: request.url.slice(base.length), status: res.status });
      return res;
    },
  });
});
afterAll(() => ctx.close());

describe('generated client types', () => {
  it('examples/client/schema.d.ts is current (run `npm run client:generate`)', async () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(await generateClientSchema());
  });
});

describe('typed client against a live server', () => {
  it('gets a condition document, then revalidates it with its ETag (304, same object)', async () => {
    requests = [];
    const first = await kb.getCondition('calciphylaxis');
    expect(first.id).toBe('calciphylaxis');
    expect(first.statistics.length).toBeGreaterThan(0);
    const again = await kb.getCondition('calciphylaxis');
    expect(again).toBe(first);
    expect(requests.map((r) => r.status)).toEqual([200, 304]);
  });

  it('gets the condition as Markdown with citations and the disclaimer', async () => {
    const md = await kb.getConditionMarkdown('calciphylaxis');
    expect(md).toMatch(/^# Calciphylaxis/m);
    expect(md).toMatch(/\[\d+\]/);
    expect(md).toMatch(/not medical advice/i);
  });

  it('lists statistics with typed filters and follows cursors to the end', async () => {
    const page = await kb.listStatistics({ condition: 'calciphylaxis', limit: 2 });
    expect(page.data).toHaveLength(2);
    expect(page.page.nextCursor).toBeTruthy();
    const all = await kb.allStatistics({ condition: 'calciphylaxis', limit: 2 });
    expect(all.length).toBeGreaterThan(2);
    expect(new Set(all.map((s) => s.id)).size).toBe(all.length);
    const mortality = await kb.allStatistics({ condition: 'calciphylaxis', measure: 'mortality' });
    expect(mortality.length).toBeGreaterThan(0);
    for (const s of mortality) expect(['mortality', 'survival']).toContain(s.measure);
  });

  it('searches and gets facts by id', async () => {
    const results = await kb.search('thiosulfate', { limit: 5 });
    expect(results.data[0]?.id).toBe('calciphylaxis.treatment.sodium-thiosulfate');
    const fact = await kb.getFact('calciphylaxis.treatment.sodium-thiosulfate');
    expect(fact.sources.length).toBeGreaterThan(0);
  });

  it('looks up conditions by code', async () => {
    const res = await kb.conditionsByCode('orphanet', '280062');
    expect(res.data.map((c) => c.conditionId)).toContain('calciphylaxis');
  });

  it('turns problem responses into a KbError with the problem body', async () => {
    const err = await kb.getCondition('no-such-condition').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KbError);
    expect((err as KbError).status).toBe(404);
    expect((err as KbError).problem?.type).toBe('/problems/not-found');
  });

  it('runs the grounding example: search → facts → markdown', async () => {
    const g = await ground(kb, 'thiosulfate');
    expect(g.hits.length).toBeGreaterThan(0);
    expect(g.facts.map((f) => f.id)).toContain('calciphylaxis.treatment.sodium-thiosulfate');
    expect(g.markdown).toContain('`calciphylaxis.treatment.sodium-thiosulfate`');
    expect(g.markdown).toMatch(/## References/);
    expect(g.markdown).toMatch(/Last reviewed: \d{4}-\d{2}-\d{2}/);
  });
});
