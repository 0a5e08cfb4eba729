/**
 * A curated write stores a condition exactly as the build does: the row writer of curated writes
 * (src/repositories/conditionRows.ts) must not drift from the build's (src/content/build.ts).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Sqlite } from '../../src/db/connection.js';
import { buildCurationApp, type CurationContext } from './helpers.js';

let ctx: CurationContext;
beforeAll(async () => {
  ctx = await buildCurationApp({ extraFixtures: ['examplitis.yaml'] });
});
afterAll(() => ctx.close());

const CONTENT_TABLES = ['conditions', 'condition_aliases', 'condition_codes', 'sources', 'statements', 'treatment_codes', 'statistics', 'related_conditions', 'citations', 'search_index'];

/** Every content row as sorted text; versions left out (writes bump them, that is the point). */
function contentRows(db: Sqlite): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const table of CONTENT_TABLES) {
    out[table] = db
      .prepare(`SELECT * FROM ${table}`)
      .all()
      .map((row) => JSON.stringify(Object.entries(row as Record<string, unknown>).filter(([k]) => k !== 'version')))
      .sort();
  }
  return out;
}

/** Changes a field and changes it back: the rows must end as they started. */
async function roundTrip(url: string, field: string, value: unknown, original: unknown, method: 'PATCH' | 'PUT' = 'PATCH', body?: (v: unknown) => object): Promise<void> {
  for (const v of [value, original]) {
    const payload = body ? body(v) : { [field]: v };
    const res = await ctx.send({ method, url, payload, headers: { 'if-match': await ctx.etag(url) } });
    expect(res.statusCode, res.body).toBe(200);
  }
}

it('writes rows exactly as the build wrote them, in place and whole', async () => {
  const built = contentRows(ctx.app.db);
  expect(built.statements?.length).toBeGreaterThan(50);
  const c = ctx.app.repos.content.get('calciphylaxis');
  if (!c) throw new Error('no content');
  const withoutVersion = ({ version: _v, ...rest }: typeof c) => rest;
  // In place: one entity (or the condition's own fields) at a time.
  await roundTrip('/v1/conditions/calciphylaxis', 'name', 'Renamed', c.name);
  await roundTrip('/v1/conditions/examplitis', 'aliases', ['Other alias'], ['Synthetic test condition']);
  await roundTrip('/v1/facts/calciphylaxis.symptom.livedo-patches', 'text', 'Changed text of a test.', c.symptoms.find((x) => x.id.endsWith('livedo-patches'))?.text);
  await roundTrip('/v1/treatments/calciphylaxis.treatment.sodium-thiosulfate', 'codes', [], c.treatments.find((x) => x.id.endsWith('sodium-thiosulfate'))?.codes);
  await roundTrip('/v1/statistics/calciphylaxis.stat.usage-sodium-thiosulfate', 'outcome', 'Changed outcome', c.statistics.find((x) => x.id.endsWith('usage-sodium-thiosulfate'))?.outcome);
  await roundTrip('/v1/sources/nigwekar-2018', 'authors', ['Someone A'], c.sources.find((x) => x.id === 'nigwekar-2018')?.authors);
  // Whole: a PUT that reorders the symptoms (and back).
  const reversed = { ...withoutVersion(c), symptoms: [...c.symptoms].reverse() };
  await roundTrip('/v1/conditions/calciphylaxis', '', reversed, withoutVersion(c), 'PUT', (v) => v as object);
  expect(contentRows(ctx.app.db)).toEqual(built);
  // And the FTS index answers as before.
  const hits = (await ctx.app.inject({ url: '/v1/search?q=thiosulfate' })).json<{ data: unknown[] }>().data;
  expect(hits.length).toBeGreaterThan(0);
});
