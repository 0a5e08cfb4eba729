/**
 * Concurrent writes: optimistic concurrency lets exactly one of two writes based on the same
 * version through, and nothing of the other is written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem } from '../helpers.js';
import { buildCurationApp, type CurationContext } from './helpers.js';

let ctx: CurationContext;
beforeAll(async () => {
  ctx = await buildCurationApp();
});
afterAll(() => ctx.close());

const count = (table: string) => ctx.app.db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM ${table}`).get()?.n ?? 0;

describe('two writes with the same If-Match', () => {
  it.each([
    ['/v1/statistics/calciphylaxis.stat.usage-sodium-thiosulfate', [{ value: 11 }, { value: 22 }]],
    ['/v1/facts/calciphylaxis.symptom.livedo-patches', [{ confidence: 'unknown' }, { confidence: 'low' }]],
    ['/v1/conditions/calciphylaxis', [{ name: 'Calciphylaxis A' }, { name: 'Calciphylaxis B' }]],
    ['/v1/sources/nigwekar-2018', [{ year: 2017 }, { year: 2019 }]],
  ] as const)('%s: exactly one 200, the other 412 with the winner’s ETag; nothing half-written', async (url, bodies) => {
    const etag = await ctx.etag(url);
    const revisions = count('revisions');
    const changes = count('changes');
    const results = await Promise.all(bodies.map((payload) => ctx.send({ method: 'PATCH', url, payload, headers: { 'if-match': etag } })));
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 412]);
    const winner = results.findIndex((r) => r.statusCode === 200);
    const loser = results[1 - winner];
    if (!loser) throw new Error('no loser');
    expect(expectProblem(loser, 412).currentEtag).toBe(results[winner]?.headers.etag);
    // The stored state is the winner's, and exactly one revision and one change were added.
    const current = await ctx.app.inject({ url });
    expect(current.headers.etag).toBe(results[winner]?.headers.etag);
    expect(current.json()).toMatchObject(bodies[winner] ?? {});
    expect(count('revisions')).toBe(revisions + 1);
    expect(count('changes')).toBe(changes + 1);
  });

  it('lets many writes to different resources through, in a gapless order', async () => {
    const ids = ctx.app.repos.content.get('calciphylaxis')?.statistics.map((s) => s.id) ?? [];
    const before = count('changes');
    const results = await Promise.all(
      ids.map(async (id) => {
        const url = `/v1/statistics/${id}`;
        return ctx.send({ method: 'PATCH', url, payload: { confidence: 'unknown' }, headers: { 'if-match': await ctx.etag(url) } });
      }),
    );
    expect(results.map((r) => r.statusCode)).toEqual(ids.map(() => 200));
    const seqs = ctx.app.db.prepare<[number], { seq: number }>('SELECT seq FROM changes ORDER BY seq DESC LIMIT ?').all(ids.length).map((r) => r.seq).reverse();
    expect(count('changes')).toBe(before + ids.length);
    expect(seqs.every((s, i) => i === 0 || s === (seqs[i - 1] ?? 0) + 1)).toBe(true);
  });
});

describe('concurrent creates', () => {
  const fact = {
    conditionId: 'calciphylaxis',
    section: 'prevention',
    id: 'calciphylaxis.prevention.race',
    name: 'A raced statement',
    text: 'Two clients created this at the same moment in a test.',
    sources: ['nigwekar-2018'],
    confidence: 'low',
  };

  it('of the same id: one 201, one 409', async () => {
    const results = await Promise.all([1, 2].map(() => ctx.send({ method: 'POST', url: '/v1/facts', payload: fact })));
    expect(results.map((r) => r.statusCode).sort()).toEqual([201, 409]);
  });

  it('with the same Idempotency-Key: both answered 201 with the same body, created once', async () => {
    const body = { ...fact, id: 'calciphylaxis.prevention.race-idempotent' };
    const before = count('changes');
    const results = await Promise.all([1, 2].map(() => ctx.send({ method: 'POST', url: '/v1/facts', payload: body, headers: { 'idempotency-key': 'race-key' } })));
    expect(results.map((r) => r.statusCode)).toEqual([201, 201]);
    expect(results[0]?.body).toBe(results[1]?.body);
    expect(count('changes')).toBe(before + 1);
  });
});
