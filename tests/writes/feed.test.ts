/**
 * The change feed is complete: after 200 random writes (some of them invalid), replaying the
 * feed from the start (each change's revision `after`) rebuilds exactly the final content; and a
 * client paging through the feed while the writes happen sees every change once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entitiesOf } from '../../src/repositories/rows.js';
import { collectPages, expectProblem } from '../helpers.js';
import type { ChangeFeed } from '../../src/routes/changes.js';
import { buildCurationApp, checksum, prng, statisticBody, type Change, type CurationContext } from './helpers.js';

let ctx: CurationContext;
beforeAll(async () => {
  ctx = await buildCurationApp({ extraFixtures: ['examplitis.yaml'] });
});
afterAll(() => ctx.close());

interface Revision {
  seq: number;
  action: string;
  version: number;
  before: unknown;
  after: unknown;
}

const SOURCES: Record<string, string> = { calciphylaxis: 'nigwekar-2018', examplitis: 'test-handbook-2020' };
const SECTIONS = [
  ['causes', 'cause'],
  ['complications', 'complication'],
  ['prognosis', 'prognosis'],
  ['prevention', 'prevention'],
] as const;

describe('change feed', () => {
  it('starts with the build: one create per entity, in a fixed envelope with a resume cursor', async () => {
    const first = (await ctx.app.inject({ url: '/v1/changes?limit=3' })).json<ChangeFeed>();
    expect(first.data.map((c) => c.seq)).toEqual([1, 2, 3]);
    expect(first.data[0]).toMatchObject({ entity: 'condition', id: 'calciphylaxis', action: 'create', version: 1, url: '/v1/conditions/calciphylaxis' });
    expect(first.page.nextCursor).toBe(first.page.resumeCursor);
    const all = await collectPages<Change>(ctx.app, '/v1/changes?limit=100');
    const entities = ['calciphylaxis', 'examplitis'].flatMap((id) => entitiesOf(ctx.app.repos.content.get(id) ?? ({} as never)));
    expect(all.items).toHaveLength(entities.length);
  });

  it('answers an empty page at the end with nextCursor null and the cursor to resume from', async () => {
    const { items } = await collectPages<Change>(ctx.app, '/v1/changes?limit=100');
    const last = (await ctx.app.inject({ url: `/v1/changes?limit=100&since=${await cursorAfter(items.length)}` })).json<ChangeFeed>();
    expect(last.data).toEqual([]);
    expect(last.page.nextCursor).toBeNull();
    expect(last.page.resumeCursor).toBe(await cursorAfter(items.length));
    expect((await ctx.app.inject({ url: '/v1/changes' })).headers['cache-control']).toBe('no-store');
  });

  it('refuses a malformed cursor (400) and a cursor from another build of the database (410)', async () => {
    expectProblem(await ctx.app.inject({ url: '/v1/changes?since=garbage' }), 400);
    const foreign = Buffer.from(JSON.stringify({ k: 'aaaaaaaa.5' })).toString('base64url');
    expectProblem(await ctx.app.inject({ url: `/v1/changes?since=${foreign}` }), 410);
  });

  it('after 200 random writes, replays from the start to the final state, and a concurrent reader sees every change once', async () => {
    const rand = prng(20261126);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;
    const content = (id: string) => ctx.app.repos.content.get(id);
    const statementIds = () =>
      ['calciphylaxis', 'examplitis'].flatMap((id) => {
        const c = content(id);
        return c ? [...c.causes, ...c.complications, ...c.prognosis, ...c.prevention, ...c.symptoms].map((s) => s.id) : [];
      });
    const statisticIds = () => ['calciphylaxis', 'examplitis'].flatMap((id) => content(id)?.statistics.map((s) => s.id) ?? []);

    // A reader polling the feed with a small page while the writes happen.
    let writing = true;
    const seen: number[] = [];
    const reader = (async () => {
      let since: string | undefined;
      for (;;) {
        const page = (await ctx.app.inject({ url: `/v1/changes?limit=3${since ? `&since=${since}` : ''}` })).json<ChangeFeed>();

        seen.push(...page.data.map((c) => c.seq));
        since = page.page.resumeCursor;
        if (page.data.length === 0) {
          if (!writing) return;
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    })();

    const outcomes: Record<string, number> = {};
    for (let i = 0; i < 200; i++) {
      const conditionId = pick(['calciphylaxis', 'examplitis']);
      const source = SOURCES[conditionId] ?? '';
      const r = rand();
      let op: string;
      let res;
      let expected: number;
      if (r < 0.2) {
        const [section, kind] = pick(SECTIONS);
        op = 'create statement';
        expected = 201;
        res = await ctx.send({
          method: 'POST',
          url: '/v1/facts',
          payload: { conditionId, section, id: `${conditionId}.${kind}.random-${i}`, name: `Random ${i}`, text: `Random statement number ${i}.`, sources: [source], confidence: pick(['low', 'medium']) },
        });
      } else if (r < 0.35) {
        const url = `/v1/facts/${pick(statementIds())}`;
        op = 'update statement';
        expected = 200;
        res = await ctx.send({ method: 'PATCH', url, payload: { text: `Edited in write ${i}.`, confidence: pick(['high', 'medium', 'low', 'unknown']) }, headers: { 'if-match': await ctx.etag(url) } });
      } else if (r < 0.45) {
        const url = `/v1/facts/${pick(statementIds())}`;
        op = 'delete statement';
        expected = 200;
        res = await ctx.send({ method: 'DELETE', url, headers: { 'if-match': await ctx.etag(url) } });
      } else if (r < 0.6) {
        op = 'create statistic';
        expected = 201;
        res = await ctx.send({
          method: 'POST',
          url: '/v1/statistics',
          payload: statisticBody({
            conditionId,
            id: `${conditionId}.stat.random-${i}`,
            measure: pick(['incidence', 'mortality', 'usage']),
            value: Math.round(rand() * 1000) / 10,
            population: `Random population ${i}`,
            primarySource: source,
            treatment: null,
            text: `Random figure number ${i}.`,
          }),
        });
      } else if (r < 0.8) {
        const url = `/v1/statistics/${pick(statisticIds())}`;
        op = 'update statistic';
        expected = 200;
        res = await ctx.send({ method: 'PATCH', url, payload: { text: `Figure edited in write ${i}.`, confidence: pick(['high', 'low']) }, headers: { 'if-match': await ctx.etag(url) } });
      } else if (r < 0.9) {
        const url = `/v1/statistics/${pick(statisticIds())}`;
        op = 'delete statistic';
        expected = 200;
        res = await ctx.send({ method: 'DELETE', url, headers: { 'if-match': await ctx.etag(url) } });
      } else {
        // Invalid writes: each must fail with its status and leave the database as it was.
        const before = checksum(ctx.app.db);
        const statUrl = `/v1/statistics/${pick(statisticIds())}`;
        const kind = pick(['unknown source', 'string for number', 'taken id', 'stale etag', 'referenced treatment'] as const);
        op = `invalid: ${kind}`;
        if (kind === 'unknown source') {
          expected = 400;
          res = await ctx.send({ method: 'PATCH', url: statUrl, payload: { sources: ['no-such-source'] }, headers: { 'if-match': await ctx.etag(statUrl) } });
        } else if (kind === 'string for number') {
          expected = 400;
          res = await ctx.send({ method: 'PATCH', url: statUrl, payload: { value: '50.3' }, headers: { 'if-match': await ctx.etag(statUrl) } });
        } else if (kind === 'taken id') {
          expected = 409;
          res = await ctx.send({ method: 'POST', url: '/v1/facts', payload: { conditionId: 'calciphylaxis', section: 'causes', id: pick(statementIds()).replace(/^examplitis/, 'calciphylaxis'), name: 'Taken', text: 'Taken id.', sources: ['nigwekar-2018'], confidence: 'low' } });
          if (res.statusCode === 400) expected = 400; // a section mismatch of the taken id is found first
        } else if (kind === 'stale etag') {
          expected = 412;
          res = await ctx.send({ method: 'PATCH', url: statUrl, payload: { confidence: 'low' }, headers: { 'if-match': '"stale"' } });
        } else {
          expected = 409;
          const url = '/v1/facts/examplitis.treatment.warm-gloves';
          const hasFigures = statisticIds().includes('examplitis.stat.glove-usage');
          res = await ctx.send({ method: 'DELETE', url, headers: { 'if-match': await ctx.etag(url) } });
          if (!hasFigures) {
            // Its only figure was deleted earlier: then the delete is valid, and so is this outcome.
            expected = 200;
          }
        }
        if (res.statusCode >= 400) expect(checksum(ctx.app.db), op).toBe(before);
      }
      expect(res.statusCode, `${i} ${op}: ${res.body}`).toBe(expected);
      outcomes[op] = (outcomes[op] ?? 0) + 1;
    }
    writing = false;
    await reader;
    expect(Object.keys(outcomes).length).toBeGreaterThanOrEqual(8);

    // The whole feed, in small pages.
    const feed: Change[] = [];
    let since: string | undefined;
    for (;;) {
      const page = (await ctx.app.inject({ url: `/v1/changes?limit=7${since ? `&since=${since}` : ''}` })).json<ChangeFeed>();
      feed.push(...page.data);
      if (!page.page.nextCursor) break;
      since = page.page.nextCursor;
    }
    const seqs = feed.map((c) => c.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1)); // 1..n: nothing lost, nothing repeated
    expect(seen).toEqual(seqs);

    // Replay: apply each change's revision `after` (or the delete) in feed order.
    const revisions = new Map<number, Revision>();
    for (const url of new Set(feed.map((c) => c.revisions))) {
      for (const r of (await collectPages<Revision>(ctx.app, `${url}?limit=100`)).items) revisions.set(r.seq, r);
    }
    const state = new Map<string, unknown>();
    const versions = new Map<string, number>();
    for (const c of feed) {
      const revision = revisions.get(c.seq);
      expect(revision, `revision ${c.seq}`).toMatchObject({ action: c.action, version: c.version });
      // Continuity: what a change started from is what the previous change of that entity left.
      if (c.action !== 'create') expect((revision as { before?: unknown } | undefined)?.before, `before of ${c.seq}`).toEqual(state.get(`${c.entity}:${c.id}`));
      if (c.action === 'delete') state.delete(`${c.entity}:${c.id}`);
      else state.set(`${c.entity}:${c.id}`, revision?.after);
      if (c.conditionVersion === null) versions.delete(c.conditionId);
      else versions.set(c.conditionId, c.conditionVersion);
    }
    const expected = new Map<string, unknown>();
    for (const id of ctx.app.repos.content.ids()) {
      const c = ctx.app.repos.content.get(id);
      if (!c) continue;
      for (const e of entitiesOf(c)) expected.set(`${e.type}:${e.id}`, e.content);
      expect(versions.get(id), `version of ${id}`).toBe(c.version);
    }
    expect(Object.fromEntries(state)).toEqual(Object.fromEntries(expected));
    // And the API serves the replayed content: spot-check every statistic against its GET.
    for (const [key, value] of state) {
      if (!key.startsWith('statistic:')) continue;
      const get = (await ctx.app.inject({ url: `/v1/statistics/${key.slice('statistic:'.length)}` })).json<{ text: string; value: number | null }>();
      expect(get).toMatchObject({ text: (value as { text: string }).text, value: (value as { value: number | null }).value });
    }
  });
});

/** The cursor a client holds after reading `n` changes of this build. */
async function cursorAfter(n: number): Promise<string> {
  const page = (await ctx.app.inject({ url: `/v1/changes?limit=${Math.min(n, 100)}` })).json<ChangeFeed>();
  if (n <= 100) return page.page.resumeCursor;
  let since = page.page.resumeCursor;
  let read = page.data.length;
  while (read < n) {
    const next = (await ctx.app.inject({ url: `/v1/changes?limit=${Math.min(n - read, 100)}&since=${since}` })).json<ChangeFeed>();
    read += next.data.length;
    since = next.page.resumeCursor;
  }
  return since;
}

describe('revision history', () => {
  it('pages newest first, is not cached publicly, and 404s ids that never existed', async () => {
    const id = 'examplitis.stat.history';
    const url = `/v1/statistics/${id}`;
    const body = {
      conditionId: 'examplitis', id, measure: 'usage', value: 5, low: null, high: null, unit: '%', comparator: null, population: 'fictional',
      outcome: null, timepoint: null, timepointMonths: null, estimateType: 'proportion', interval: null, events: null, sampleSize: null, comparedWith: null, studyDesign: 'unknown', primarySource: 'test-handbook-2020', certainty: 'not-assessed', certaintyBasis: null, treatment: null, text: 'A figure with a history.', sources: ['test-handbook-2020'], confidence: 'low',
    };
    expect((await ctx.send({ method: 'POST', url: '/v1/statistics', payload: body })).statusCode).toBe(201);
    for (const confidence of ['medium', 'high', 'low']) {
      expect((await ctx.send({ method: 'PATCH', url, payload: { confidence }, headers: { 'if-match': await ctx.etag(url) } })).statusCode).toBe(200);
    }
    const first = await ctx.app.inject({ url: `${url}/revisions?limit=2` });
    expect(first.statusCode).toBe(200);
    expect(first.headers['cache-control']).toBe('no-store');
    const { items } = await collectPages<Revision>(ctx.app, `${url}/revisions?limit=2`);
    const seqs = items.map((r) => r.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    expect(items.at(-1)).toMatchObject({ action: 'create', version: 1 });
    // The same history through /v1/facts, which serves statistics too.
    expect(seqs).toHaveLength(4);
    expect((await collectPages<Revision>(ctx.app, `/v1/facts/${id}/revisions?limit=100`)).items.map((r) => r.seq)).toEqual(seqs);

    expectProblem(await ctx.app.inject({ url: '/v1/statistics/examplitis.stat.never/revisions' }), 404);
    expectProblem(await ctx.app.inject({ url: '/v1/treatments/examplitis.symptom.blue-thumbs/revisions' }), 404);
    expect((await ctx.app.inject({ url: '/v1/treatments/examplitis.treatment.warm-gloves/revisions' })).statusCode).toBe(200);
    expect((await ctx.app.inject({ url: '/v1/sources/test-handbook-2020/revisions' })).json<{ data: Revision[] }>().data[0]).toMatchObject({ action: 'create' });
    expectProblem(await ctx.app.inject({ url: `${url}/revisions?cursor=garbage` }), 400);
  });
});
