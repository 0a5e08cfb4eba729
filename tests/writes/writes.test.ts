/**
 * What curated writes do: content, versions, caches, search, history and the feed move together;
 * input is strict; preconditions and idempotency keys work; a failed write leaves nothing behind;
 * `kb export` carries curated content back into content files.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { buildFromContent } from '../../src/content/build.js';
import { exportCorpus } from '../../src/content/export.js';
import { openDatabase } from '../../src/db/connection.js';
import { createContentRepository } from '../../src/repositories/content.js';
import { createWritesRepository } from '../../src/repositories/rows.js';
import { expectProblem } from '../helpers.js';
import { buildCurationApp, checksum, statisticBody, type CurationContext } from './helpers.js';

let ctx: CurationContext;
beforeAll(async () => {
  ctx = await buildCurationApp({ extraFixtures: ['examplitis.yaml'] });
});
afterAll(() => ctx.close());

const STAT = '/v1/statistics/calciphylaxis.stat.usage-sodium-thiosulfate';

interface Change {
  seq: number;
  entity: string;
  id: string;
  conditionId: string;
  action: string;
  version: number;
  conditionVersion: number | null;
}
interface Revision {
  seq: number;
  version: number;
  action: string;
  actorKeyId: string | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

async function lastChanges(n: number): Promise<Change[]> {
  const all: Change[] = [];
  let url: string | null = '/v1/changes?limit=100';
  while (url) {
    const body: { data: Change[]; page: { nextCursor: string | null } } = (await ctx.app.inject({ url })).json();
    all.push(...body.data);
    url = body.page.nextCursor ? `/v1/changes?limit=100&since=${body.page.nextCursor}` : null;
  }
  return all.slice(-n);
}

const symptom = (id: string, extra: Record<string, unknown> = {}) => ({
  conditionId: 'calciphylaxis',
  section: 'symptoms',
  id,
  name: 'Zebra-striped skin (test)',
  text: 'A test statement about quokkamarks on the skin, used by the write tests.',
  sources: ['nigwekar-2018'],
  confidence: 'low',
  frequency: 'rare',
  relatedCondition: null,
  ...extra,
});

async function patch(url: string, payload: object, headers: Record<string, string> = {}) {
  return ctx.send({ method: 'PATCH', url, payload, headers: { 'if-match': await ctx.etag(url), ...headers } });
}

describe('creating, updating and deleting a statement', () => {
  const id = 'calciphylaxis.symptom.zebra-stripes';
  const url = `/v1/facts/${id}`;

  it('creates it: 201 with Location, the GET representation and its ETag; the document, search, history and feed follow', async () => {
    const docBefore = (await ctx.app.inject({ url: '/v1/conditions/calciphylaxis' })).json<{ version: number }>();
    const res = await ctx.send({ method: 'POST', url: '/v1/facts', payload: symptom(id) });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.headers.location).toBe(url);
    const get = await ctx.app.inject({ url });
    expect(res.body).toBe(get.body);
    expect(res.headers.etag).toBe(get.headers.etag);
    expect(res.headers['cache-control']).toBe('no-store');

    const doc = (await ctx.app.inject({ url: '/v1/conditions/calciphylaxis' })).json<{ version: number; symptoms: { id: string }[] }>();
    expect(doc.version).toBe(docBefore.version + 1);
    expect(doc.symptoms.at(-1)?.id).toBe(id);
    const hits = (await ctx.app.inject({ url: '/v1/search?q=quokkamarks' })).json<{ data: { id: string }[] }>();
    expect(hits.data.map((h) => h.id)).toEqual([id]);

    const [change] = await lastChanges(1);
    expect(change).toMatchObject({ entity: 'statement', id, conditionId: 'calciphylaxis', action: 'create', version: 1, conditionVersion: doc.version });
    const revisions = (await ctx.app.inject({ url: `${url}/revisions` })).json<{ data: Revision[] }>().data;
    expect(revisions).toHaveLength(1);
    expect(revisions[0]).toMatchObject({ seq: change?.seq, action: 'create', version: 1, before: null, after: symptom(id) });
    expect(revisions[0]?.actorKeyId).toBe(ctx.keys.curator.slice(3, 15));
  });

  it('patches it, with only the fields sent, as application/merge-patch+json too', async () => {
    const res = await patch(url, { confidence: 'medium' }, { 'content-type': 'application/merge-patch+json' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ id, confidence: 'medium', name: 'Zebra-striped skin (test)' });
    const revisions = (await ctx.app.inject({ url: `${url}/revisions` })).json<{ data: Revision[] }>().data;
    expect(revisions.map((r) => r.version)).toEqual([2, 1]); // newest first
    expect(revisions[0]?.before).toMatchObject({ confidence: 'low' });
    expect(revisions[0]?.after).toMatchObject({ confidence: 'medium' });
  });

  it('rejects fields of another section and changes of id, condition or section', async () => {
    const wrongField = await patch(url, { purpose: 'not a symptom field' });
    expect(expectProblem(wrongField, 400).errors).toEqual([{ path: '/body/purpose', message: 'unknown field' }]);
    const moved = await ctx.send({ method: 'PUT', url, payload: { ...symptom(id), conditionId: 'examplitis' }, headers: { 'if-match': await ctx.etag(url) } });
    expect(expectProblem(moved, 400).errors).toEqual([{ path: '/body/conditionId', message: 'must be "calciphylaxis"' }]);
  });

  it('replaces it with PUT', async () => {
    const res = await ctx.send({ method: 'PUT', url, payload: symptom(id, { frequency: 'occasional' }), headers: { 'if-match': await ctx.etag(url) } });
    expect(res.statusCode, res.body).toBe(200);
    expect(ctx.app.repos.content.get('calciphylaxis')?.symptoms.find((s) => s.id === id)).toMatchObject({ frequency: 'occasional', confidence: 'low' });
  });

  it('deletes it: 200 with what was recorded; gone from GET and search; history stays', async () => {
    const res = await ctx.send({ method: 'DELETE', url, headers: { 'if-match': await ctx.etag(url) } });
    expect(res.statusCode, res.body).toBe(200);
    const receipt = res.json<Change & { seq: number }>();
    expect(receipt).toMatchObject({ entity: 'statement', id, action: 'delete', version: 4, conditionId: 'calciphylaxis' });
    expect((await lastChanges(1))[0]?.seq).toBe(receipt.seq);
    expectProblem(await ctx.app.inject({ url }), 404);
    expect((await ctx.app.inject({ url: '/v1/search?q=quokkamarks' })).json<{ data: unknown[] }>().data).toEqual([]);
    const revisions = (await ctx.app.inject({ url: `${url}/revisions` })).json<{ data: Revision[] }>().data;
    expect(revisions.map((r) => r.action)).toEqual(['delete', 'update', 'update', 'create']);
    expect(revisions[0]?.after).toBeNull();
  });

  it('continues the versions of a deleted id when it is created again', async () => {
    expect((await ctx.send({ method: 'POST', url: '/v1/facts', payload: symptom(id) })).statusCode).toBe(201);
    expect((await lastChanges(1))[0]).toMatchObject({ id, action: 'create', version: 5 });
  });

  it('refuses an id that is taken (409), outside its condition (400) or of the wrong kind (400)', async () => {
    expectProblem(await ctx.send({ method: 'POST', url: '/v1/facts', payload: symptom(id) }), 409);
    const foreign = expectProblem(await ctx.send({ method: 'POST', url: '/v1/facts', payload: symptom('examplitis.symptom.zebra') }), 400);
    expect(foreign.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: '/body/id' })]));
    const kind = expectProblem(await ctx.send({ method: 'POST', url: '/v1/facts', payload: symptom('calciphylaxis.cause.zebra') }), 400);
    expect(JSON.stringify(kind.errors)).toMatch(/must have \\"symptom\\" as its middle part/);
  });

  it('refuses a citation of an unknown source with the path in the body', async () => {
    const res = await ctx.send({ method: 'POST', url: '/v1/facts', payload: symptom('calciphylaxis.symptom.other', { sources: ['nigwekar-2018', 'no-such-source'] }) });
    expect(expectProblem(res, 400).errors).toEqual([{ path: '/body/sources/1', message: 'unknown source id "no-such-source"' }]);
  });
});

describe('statistics', () => {
  it('applies a patch and shows it in the statistic, the condition document and its ETag', async () => {
    const before = await ctx.app.inject({ url: '/v1/conditions/calciphylaxis' });
    const res = await patch(STAT, { value: 51.5 });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ value: 51.5 });
    const after = await ctx.app.inject({ url: '/v1/conditions/calciphylaxis' });
    expect(after.headers.etag).not.toBe(before.headers.etag);
    expect(after.json<{ statistics: { id: string; value: number }[] }>().statistics.find((s) => s.id.endsWith('usage-sodium-thiosulfate'))?.value).toBe(51.5);
    expect(ctx.app.repos.statistics.get('calciphylaxis.stat.usage-sodium-thiosulfate')?.content.value).toBe(51.5);
  });

  it.each([
    [{ value: 150 }, '/body/value', /out of range for a percentage/],
    [{ low: 60, high: 40 }, '/body/low', /greater than high/],
    [{ treatment: 'calciphylaxis.treatment.nothing' }, '/body/treatment', /unknown treatment id/],
    [{ sources: [] }, '/body/sources', /must not have fewer than 1 items/],
  ])('runs the kb validate checks on the result: %j', async (body, path, message) => {
    const problem = expectProblem(await patch(STAT, body), 400);
    expect(problem.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path, message: expect.stringMatching(message) })]));
  });

  it('creates and deletes one', async () => {
    const stat = { ...(await ctx.app.inject({ url: STAT })).json<Record<string, unknown>>() };
    const body = statisticBody({
      conditionId: 'calciphylaxis',
      id: 'calciphylaxis.stat.test-figure',
      value: 10,
      population: 'test population',
      primarySource: 'nigwekar-2018',
      treatment: 'calciphylaxis.treatment.sodium-thiosulfate',
      text: 'A test figure.',
    });
    expect(stat.id).toBeDefined();
    const created = await ctx.send({ method: 'POST', url: '/v1/statistics', payload: body });
    expect(created.statusCode, created.body).toBe(201);
    // The treatment now lists the figure among its evidence.
    const treatment = (await ctx.app.inject({ url: '/v1/treatments/calciphylaxis.treatment.sodium-thiosulfate' })).json<{ statistics: string[] }>();
    expect(treatment.statistics).toContain(body.id);
    const url = `/v1/statistics/${body.id}`;
    expect((await ctx.send({ method: 'DELETE', url, headers: { 'if-match': await ctx.etag(url) } })).statusCode).toBe(200);
    expectProblem(await ctx.app.inject({ url }), 404);
  });

  it('refuses to delete a treatment that statistics are about (409)', async () => {
    const url = '/v1/facts/calciphylaxis.treatment.sodium-thiosulfate';
    const problem = expectProblem(await ctx.send({ method: 'DELETE', url, headers: { 'if-match': await ctx.etag(url) } }), 409);
    expect(JSON.stringify(problem.errors)).toMatch(/unknown treatment id/);
  });
});

describe('treatments', () => {
  it('patches treatment fields through /v1/treatments/{id}', async () => {
    const url = '/v1/treatments/calciphylaxis.treatment.cinacalcet';
    const res = await patch(url, { regulatoryNote: 'Test note: approved for other uses only.' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<{ regulatory: { note: string } }>().regulatory.note).toBe('Test note: approved for other uses only.');
    expectProblem(await patch('/v1/treatments/examplitis.treatment.warm-gloves', { frequency: 'common' }), 400);
  });
});

describe('sources', () => {
  it('updates what other conditions show when a source they cite changes', async () => {
    const cite = await patch('/v1/conditions/examplitis', { summarySources: ['test-handbook-2020', 'nigwekar-2018'] });
    expect(cite.statusCode, cite.body).toBe(200);
    const shown = async () =>
      (await ctx.app.inject({ url: '/v1/conditions/examplitis' })).json<{ sources: { id: string; title: string | null }[] }>().sources.find((s) => s.id === 'nigwekar-2018')?.title;
    expect(await shown()).toBe('Calciphylaxis');
    const res = await patch('/v1/sources/nigwekar-2018', { title: 'Calciphylaxis (edited title)' });
    expect(res.statusCode, res.body).toBe(200);
    expect(await shown()).toBe('Calciphylaxis (edited title)');
  });

  it('refuses to delete a cited source (409, listing what cites it) and deletes an uncited one', async () => {
    const url = '/v1/sources/kodumudi-2020';
    const problem = expectProblem(await ctx.send({ method: 'DELETE', url, headers: { 'if-match': await ctx.etag(url) } }), 409);
    expect((problem.errors as { path: string }[]).every((e) => e.path.startsWith('/content/calciphylaxis/'))).toBe(true);
    expect(JSON.stringify(problem.errors)).toContain('unknown source id \\"kodumudi-2020\\"');

    const fresh = { definedIn: 'examplitis', id: 'uncited-2020', kind: 'unknown', year: null, title: null, label: 'Nobody cites this', authors: [], journal: null, volume: null, pages: null, doi: null, pmid: null, pmcid: null, url: null, citedAs: null, attribution: 'unknown', licence: null, note: null };
    expect((await ctx.send({ method: 'POST', url: '/v1/sources', payload: fresh })).statusCode).toBe(201);
    const del = await ctx.send({ method: 'DELETE', url: '/v1/sources/uncited-2020', headers: { 'if-match': await ctx.etag('/v1/sources/uncited-2020') } });
    expect(del.statusCode, del.body).toBe(200);
  });

  it('checks a write against the conditions it did not touch', async () => {
    // Validation looks only at the written condition, with what every other one defines.
    const taken = { definedIn: 'examplitis', id: 'nigwekar-2018', kind: 'unknown', year: null, title: null, label: 'A second definition', authors: [], journal: null, volume: null, pages: null, doi: null, pmid: null, pmcid: null, url: null, citedAs: null, attribution: 'unknown', licence: null, note: null };
    expectProblem(await ctx.send({ method: 'POST', url: '/v1/sources', payload: taken }), 409);

    const figure = (id: string, treatment: string) =>
      statisticBody({ conditionId: 'examplitis', id, value: 10, population: 'test population', primarySource: 'nigwekar-2018', treatment, text: 'A test figure.' });
    // A treatment of another condition is found there; one that exists nowhere is named.
    const unknown = expectProblem(await ctx.send({ method: 'POST', url: '/v1/statistics', payload: figure('examplitis.stat.about-nothing', 'calciphylaxis.treatment.no-such-thing') }), 400);
    expect(JSON.stringify(unknown.errors)).toContain('unknown treatment id \\"calciphylaxis.treatment.no-such-thing\\"');
    const created = await ctx.send({ method: 'POST', url: '/v1/statistics', payload: figure('examplitis.stat.about-thiosulfate', 'calciphylaxis.treatment.sodium-thiosulfate') });
    expect(created.statusCode, created.body).toBe(201);
    // Removing that treatment now breaks a figure of the other condition: the whole corpus is checked.
    const url = '/v1/facts/calciphylaxis.treatment.sodium-thiosulfate';
    const refused = expectProblem(await ctx.send({ method: 'DELETE', url, headers: { 'if-match': await ctx.etag(url) } }), 409);
    expect(JSON.stringify(refused.errors)).toContain('/content/examplitis/statistics/');
    const stat = '/v1/statistics/examplitis.stat.about-thiosulfate';
    expect((await ctx.send({ method: 'DELETE', url: stat, headers: { 'if-match': await ctx.etag(stat) } })).statusCode).toBe(200);
  });

  it('moves a source to another condition file (both conditions change version)', async () => {
    const versions = () => ['calciphylaxis', 'examplitis'].map((id) => ctx.app.repos.conditions.version(id)?.version);
    const [a, b] = versions();
    const res = await patch('/v1/sources/deen-2019', { definedIn: 'examplitis' });
    expect(res.statusCode, res.body).toBe(200);
    expect(versions()).toEqual([(a ?? 0) + 1, (b ?? 0) + 1]);
    expect(ctx.app.repos.content.get('examplitis')?.sources.map((s) => s.id)).toContain('deen-2019');
    expect((await lastChanges(1))[0]).toMatchObject({ entity: 'source', id: 'deen-2019', action: 'update', conditionId: 'examplitis' });
  });
});

describe('conditions and codes', () => {
  const minimal = (id: string) => ({
    id,
    name: 'Testitis',
    aliases: ['Test condition'],
    summary: 'A condition created by the write tests.',
    summarySources: ['nigwekar-2018'],
    lastReviewed: '2026-11-01',
    codes: [],
    sources: [],
    symptoms: [{ id: `${id}.symptom.one`, name: 'One', text: 'The only symptom of a test condition.', sources: ['nigwekar-2018'], confidence: 'low', frequency: 'unknown', relatedCondition: null }],
    causes: [],
    riskFactors: [],
    complications: [],
    diagnosis: [],
    treatments: [],
    prognosis: [],
    prevention: [],
    whenToSeekCare: [],
    differentialDiagnosis: [],
    statistics: [],
    related: [],
  });

  it('creates a condition (one change per entity), refuses a second with the same id, and replaces it', async () => {
    const res = await ctx.send({ method: 'POST', url: '/v1/conditions', payload: minimal('testitis') });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ id: 'testitis', version: 1 });
    expect((await lastChanges(2)).map((c) => `${c.action} ${c.entity} ${c.id}`)).toEqual(['create condition testitis', 'create statement testitis.symptom.one']);
    expectProblem(await ctx.send({ method: 'POST', url: '/v1/conditions', payload: minimal('testitis') }), 409);

    const replaced = { ...minimal('testitis'), symptoms: [], causes: [{ id: 'testitis.cause.two', name: 'Two', text: 'A test cause.', sources: ['nigwekar-2018'], confidence: 'low' }] };
    const put = await ctx.send({ method: 'PUT', url: '/v1/conditions/testitis', payload: replaced, headers: { 'if-match': await ctx.etag('/v1/conditions/testitis') } });
    expect(put.statusCode, put.body).toBe(200);
    expect((await lastChanges(2)).map((c) => `${c.action} ${c.id} v${c.version} c${c.conditionVersion}`)).toEqual(['create testitis.cause.two v1 c2', 'delete testitis.symptom.one v2 c2']);
  });

  it('adds and removes codes, answering with the condition document', async () => {
    const url = '/v1/conditions/testitis';
    const code = { system: 'orphanet', code: '999999', display: null, match: 'related', note: null, confidence: 'low' };
    const add = await ctx.send({ method: 'POST', url: `${url}/codes`, payload: code });
    expect(add.statusCode, add.body).toBe(201);
    expect(add.headers.location).toBe(`${url}/codes/orphanet/999999`);
    expect(add.headers.etag).toBe(await ctx.etag(url));
    expect((await ctx.app.inject({ url: '/v1/codes/orphanet/999999' })).statusCode).toBe(200);
    expectProblem(await ctx.send({ method: 'POST', url: `${url}/codes`, payload: code }), 409);
    const malformed = expectProblem(await ctx.send({ method: 'POST', url: `${url}/codes`, payload: { ...code, system: 'icd10cm', code: 'E8359X' } }), 400);
    expect(malformed.errors).toEqual([{ path: '/body/code', message: '"E8359X" is not a well-formed icd10cm code' }]);

    const del = await ctx.send({ method: 'DELETE', url: `${url}/codes/orphanet/ORPHA:999999`, headers: { 'if-match': await ctx.etag(url) } });
    expect(del.statusCode, del.body).toBe(200);
    expectProblem(await ctx.app.inject({ url: '/v1/codes/orphanet/999999' }), 404);
    expectProblem(await ctx.send({ method: 'DELETE', url: `${url}/codes/orphanet/999999`, headers: { 'if-match': await ctx.etag(url) } }), 404);
  });

  it('refuses to delete a condition whose sources others cite, and deletes one nobody depends on', async () => {
    const url = '/v1/conditions/calciphylaxis';
    expectProblem(await ctx.send({ method: 'DELETE', url, headers: { 'if-match': await ctx.etag(url) } }), 409);
    const del = await ctx.send({ method: 'DELETE', url: '/v1/conditions/testitis', headers: { 'if-match': await ctx.etag('/v1/conditions/testitis') } });
    expect(del.statusCode, del.body).toBe(200);
    expect(del.json()).toMatchObject({ entity: 'condition', id: 'testitis', conditionVersion: null });
    expectProblem(await ctx.app.inject({ url: '/v1/conditions/testitis' }), 404);
    expect((await ctx.app.inject({ url: '/v1/conditions/testitis/revisions' })).json<{ data: Revision[] }>().data[0]?.action).toBe('delete');
  });
});

describe('strict input', () => {
  it.each([
    ['an unknown field', { value: 50, reviewer: 'me' }, '/body/reviewer', 'unknown field'],
    ['a string for a number', { value: '50.3' }, '/body/value', 'must be number or null'],
    ['a string for an integer', { sampleSize: '34' }, '/body/sampleSize', 'must be integer or null'],
    ['a number for a string', { text: 42 }, '/body/text', 'must be string'],
    ['an empty patch', {}, '/body', expect.stringMatching(/properties/)],
    ['a too long string', { text: 'x'.repeat(601) }, '/body/text', expect.stringMatching(/600/)],
    ['a bad enum value', { confidence: 'certain' }, '/body/confidence', 'must be one of: high, medium, low, unknown'],
  ])('rejects %s with 400 at its path, never coercing', async (_name, payload, path, message) => {
    const problem = expectProblem(await patch(STAT, payload), 400);
    expect(problem.errors).toEqual([{ path, message }]);
  });

  it('rejects a body over the limit with 413', async () => {
    const res = await ctx.send({ method: 'PATCH', url: STAT, payload: { text: 'x'.repeat(70 * 1024) }, headers: { 'if-match': await ctx.etag(STAT) } });
    expectProblem(res, 413);
  });

  it.each(['text/plain', 'application/xml', 'application/x-www-form-urlencoded'])('rejects %s with 415', async (type) => {
    const res = await ctx.send({ method: 'PATCH', url: STAT, payload: 'value=1', headers: { 'content-type': type, 'if-match': await ctx.etag(STAT) } });
    expectProblem(res, 415);
  });

  it('rejects malformed JSON and unknown query parameters with 400', async () => {
    expectProblem(await ctx.send({ method: 'PATCH', url: STAT, payload: '{"value": ', headers: { 'content-type': 'application/json', 'if-match': await ctx.etag(STAT) } }), 400);
    expectProblem(await ctx.send({ method: 'PATCH', url: `${STAT}?dryRun=1`, payload: { value: 1 }, headers: { 'if-match': await ctx.etag(STAT) } }), 400);
  });
});

describe('preconditions', () => {
  it('needs If-Match (428), refuses * (428), a weak or stale tag (412 with the current ETag and version)', async () => {
    expectProblem(await ctx.send({ method: 'PATCH', url: STAT, payload: { confidence: 'high' } }), 428);
    expectProblem(await ctx.send({ method: 'PATCH', url: STAT, payload: { confidence: 'high' }, headers: { 'if-match': '*' } }), 428);
    const current = await ctx.etag(STAT);
    expectProblem(await ctx.send({ method: 'PATCH', url: STAT, payload: { confidence: 'high' }, headers: { 'if-match': `W/${current}` } }), 412);
    const stale = expectProblem(await ctx.send({ method: 'PATCH', url: STAT, payload: { confidence: 'high' }, headers: { 'if-match': '"stale"' } }), 412);
    expect(stale.currentEtag).toBe(current);
    expect(stale.currentVersion).toBe(createWritesRepository(ctx.app.db).version('statistic', 'calciphylaxis.stat.usage-sodium-thiosulfate'));
    expect(stale.currentVersion).toBeGreaterThan(1);
    const listed = await ctx.send({ method: 'PATCH', url: STAT, payload: { confidence: 'high' }, headers: { 'if-match': `"stale", ${current}` } });
    expect(listed.statusCode, listed.body).toBe(200);
  });

  it('answers 404 for a resource that does not exist', async () => {
    expectProblem(await ctx.send({ method: 'PATCH', url: '/v1/statistics/calciphylaxis.stat.nothing', payload: { value: 1 }, headers: { 'if-match': '"x"' } }), 404);
    expectProblem(await ctx.send({ method: 'PATCH', url: '/v1/facts/calciphylaxis.stat.usage-sodium-thiosulfate', payload: { confidence: 'low' }, headers: { 'if-match': await ctx.etag('/v1/facts/calciphylaxis.stat.usage-sodium-thiosulfate') } }), 404);
  });
});

describe('Idempotency-Key', () => {
  const body = symptom('calciphylaxis.symptom.idempotent');

  it('replays the first answer for the same key and body, creating once', async () => {
    const headers = { 'idempotency-key': 'create-idempotent-1' };
    const first = await ctx.send({ method: 'POST', url: '/v1/facts', payload: body, headers });
    expect(first.statusCode, first.body).toBe(201);
    const seq = (await lastChanges(1))[0]?.seq;
    // The same body with its keys in another order is the same request.
    const reordered = Object.fromEntries(Object.entries(body).reverse());
    const again = await ctx.send({ method: 'POST', url: '/v1/facts', payload: reordered, headers });
    expect(again.statusCode).toBe(201);
    expect(again.body).toBe(first.body);
    expect(again.headers.location).toBe(first.headers.location);
    expect(again.headers.etag).toBe(first.headers.etag);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect((await lastChanges(1))[0]?.seq).toBe(seq);
  });

  it('answers 422 when the key comes back with another body', async () => {
    const res = await ctx.send({ method: 'POST', url: '/v1/facts', payload: { ...body, confidence: 'high' }, headers: { 'idempotency-key': 'create-idempotent-1' } });
    expectProblem(res, 422);
  });

  it('keeps keys per API key, and does not store failures', async () => {
    const headers = { 'idempotency-key': 'failing-1' };
    const bad = { ...body, id: 'calciphylaxis.symptom.failing', sources: ['missing'] };
    expectProblem(await ctx.send({ method: 'POST', url: '/v1/facts', payload: bad, headers }), 400);
    const fixed = await ctx.send({ method: 'POST', url: '/v1/facts', payload: { ...bad, sources: ['nigwekar-2018'] }, headers });
    expect(fixed.statusCode, fixed.body).toBe(201);
  });
});

describe('atomicity', () => {
  it('leaves the database exactly as it was when a write fails', async () => {
    const before = checksum(ctx.app.db);
    const url = '/v1/sources/kodumudi-2020';
    const failures = [
      await ctx.send({ method: 'DELETE', url, headers: { 'if-match': await ctx.etag(url) } }),
      await ctx.send({ method: 'POST', url: '/v1/facts', payload: symptom('calciphylaxis.symptom.broken', { sources: ['nope'] }) }),
      await ctx.send({ method: 'POST', url: '/v1/facts', payload: symptom('calciphylaxis.symptom.skin-pain') }),
      await patch(STAT, { low: 90, high: 10 }),
      await ctx.send({ method: 'PATCH', url: STAT, payload: { value: 1 }, headers: { 'if-match': '"old"' } }),
      await ctx.send({ method: 'PATCH', url: STAT, payload: { value: 1 }, key: ctx.keys.admin }),
    ];
    expect(failures.map((r) => r.statusCode)).toEqual([409, 400, 409, 400, 412, 403]);
    expect(checksum(ctx.app.db)).toBe(before);
  });

  it('rolls back everything when the transaction itself fails (a dangling reference at commit)', () => {
    const writes = createWritesRepository(ctx.app.db);
    const corpus = writes.corpus();
    const before = checksum(ctx.app.db);
    const current = corpus.get('examplitis');
    if (!current) throw new Error('no examplitis');
    // Skips validation on purpose: the deferred foreign-key check at COMMIT must catch it.
    const after = { ...current, symptoms: [{ ...symptom('examplitis.symptom.dangling'), sources: ['no-such-source'] }].map(({ conditionId: _c, section: _s, ...s }) => s) } as typeof current;
    expect(() => writes.commit([{ id: 'examplitis', before: current, after }], [...corpus.values()], 'test', new Date().toISOString())).toThrow(/FOREIGN KEY/);
    expect(checksum(ctx.app.db)).toBe(before);
    expect(createContentRepository(ctx.app.db).get('examplitis')).toEqual(current);
  });
});

describe('kb export', () => {
  it('writes curated content back to files that build into the same content', async () => {
    const url = '/v1/statistics/examplitis.stat.glove-usage';
    expect((await patch(url, { value: 37.5 })).statusCode).toBe(200);
    const fact = { ...symptom('examplitis.symptom.exported'), conditionId: 'examplitis', sources: ['test-handbook-2020'] };
    expect((await ctx.send({ method: 'POST', url: '/v1/facts', payload: fact })).statusCode).toBe(201);

    const dir = mkdtempSync(join(tmpdir(), 'kb-export-'));
    try {
      exportCorpus(ctx.app.db, join(dir, 'content'));
      const file = parse(readFileSync(join(dir, 'content', 'examplitis.yaml'), 'utf8')) as { version: number; statistics: { value: number }[]; symptoms: { id: string }[] };
      expect(file.statistics[0]?.value).toBe(37.5);
      expect(file.symptoms.map((s) => s.id)).toContain('examplitis.symptom.exported');
      expect(file.version).toBe(ctx.app.repos.conditions.version('examplitis')?.version);

      const built = buildFromContent(join(dir, 'content'), join(dir, 'kb.sqlite'));
      const db = openDatabase(join(dir, 'kb.sqlite'), { readonly: true });
      try {
        const rebuilt = createContentRepository(db);
        for (const id of ['calciphylaxis', 'examplitis']) expect(rebuilt.get(id), id).toEqual(ctx.app.repos.content.get(id));
      } finally {
        db.close();
      }
      // The dataset version is a hash of the content: curated and rebuilt databases agree.
      expect(built.datasetVersion).toBe(ctx.app.repos.meta.get().datasetVersion);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('read-only mode', () => {
  it('answers every write with 503 and keeps reads', async () => {
    const ro = await buildCurationApp({ env: { READ_ONLY: 'true' } });
    try {
      const res = await ro.send({ method: 'PATCH', url: STAT, payload: { value: 1 }, headers: { 'if-match': await ro.etag(STAT) } });
      expect(expectProblem(res, 503).type).toBe('/problems/read-only');
      expectProblem(await ro.send({ method: 'POST', url: '/v1/facts', payload: symptom('calciphylaxis.symptom.ro') }), 503);
      expect((await ro.app.inject({ url: STAT })).statusCode).toBe(200);
    } finally {
      await ro.close();
    }
  });
});

describe('rate limits around a write', () => {
  it('count a write once: its precondition check and answer are no requests of their own; over the limit it is 429 with Retry-After and writes nothing', async () => {
    // Three requests per minute per address.
    const small = await buildCurationApp({ env: { RATE_LIMIT_MAX: '3' } });
    try {
      const get = (remoteAddress: string) => small.app.inject({ url: STAT, remoteAddress });
      const write = (remoteAddress: string, etag: string, value: number) =>
        small.send({ method: 'PATCH', url: STAT, payload: { value }, headers: { 'if-match': etag }, remoteAddress });

      // 1 GET + 1 PATCH fit, and the answer is the new representation with its ETag.
      const a = await get('10.50.0.1');
      const written = await write('10.50.0.1', String(a.headers.etag), 41);
      expect(written.statusCode, written.body).toBe(200);
      expect(written.json<{ value: number }>().value).toBe(41);
      expect(written.headers.etag).toBe((await get('10.50.0.1')).headers.etag);
      expect(small.app.repos.statistics.get('calciphylaxis.stat.usage-sodium-thiosulfate')?.content.value).toBe(41);

      // 3 GETs use the limit up: the write is refused before anything is read or written.
      const b = await get('10.50.0.2');
      await get('10.50.0.2');
      await get('10.50.0.2');
      const before = checksum(small.app.db);
      const refused = await write('10.50.0.2', String(b.headers.etag), 42);
      expectProblem(refused, 429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(checksum(small.app.db)).toBe(before);
    } finally {
      await small.close();
    }
  });
});
