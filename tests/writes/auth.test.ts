/**
 * Who may write: every write route against anonymous, revoked, wrong-scope and curator keys. The
 * matrix is checked against the app's own route list, so a write route added without a row here
 * fails this test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../src/app.js';
import { keysCommand, UsageError } from '../../src/cli/keys.js';
import { buildFromContent } from '../../src/content/build.js';
import { applyMigrations, openDatabase } from '../../src/db/connection.js';
import { createApiKeysRepository } from '../../src/repositories/apiKeys.js';
import { expectProblem } from '../helpers.js';
import { buildCurationApp, TEST_ENV, type CurationContext } from './helpers.js';

let ctx: CurationContext;
beforeAll(async () => {
  ctx = await buildCurationApp({ extraFixtures: ['examplitis.yaml'] });
});
afterAll(() => ctx.close());

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

interface Case {
  /** What the curator's request needs: the URL, a body, and the resource whose ETag goes in If-Match. */
  prepare: () => Promise<{ url: string; body?: unknown; ifMatch?: string }>;
  status: number;
}

const symptom = (id: string) => ({
  conditionId: 'examplitis',
  section: 'symptoms',
  id,
  name: 'Cold ears',
  text: 'In this fictional condition the ears feel cold.',
  sources: ['test-handbook-2020'],
  confidence: 'low',
  frequency: 'rare',
  relatedCondition: null,
});
const statistic = (id: string) => ({
  conditionId: 'examplitis',
  id,
  measure: 'prevalence',
  value: 3,
  low: null,
  high: null,
  unit: '%',
  comparator: 'about',
  population: 'fictional people',
  outcome: null,
  timepoint: null,
  timepointMonths: null,
  estimateType: 'proportion',
  interval: null,
  events: null,
  sampleSize: null,
  comparedWith: null,
  studyDesign: 'unknown',
  primarySource: 'test-handbook-2020',
  certainty: 'not-assessed',
  certaintyBasis: null,
  treatment: null,
  text: 'About 3% of fictional people have examplitis.',
  sources: ['test-handbook-2020'],
  confidence: 'low',
});
const source = (id: string) => ({
  definedIn: 'examplitis',
  id,
  kind: 'article',
  year: 2021,
  title: 'A fictional article',
  label: null,
  authors: ['Writer C'],
  journal: null,
  volume: null,
  pages: null,
  doi: null,
  pmid: null,
  pmcid: null,
  url: null,
  citedAs: null,
  attribution: 'unknown',
  licence: null,
  note: null,
});
const condition = (id: string) => ({
  id,
  name: 'Matrixitis',
  aliases: [],
  summary: 'A made-up condition created by the authorization test.',
  summarySources: [`${id}-source`],
  lastReviewed: '2026-11-20',
  codes: [],
  sources: [{ ...source(`${id}-source`), definedIn: undefined }].map(({ definedIn: _d, ...s }) => s),
  symptoms: [],
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
const withoutVersion = (c: Record<string, unknown>) => Object.fromEntries(Object.entries(c).filter(([k]) => k !== 'version'));

/** Creates something with the curator key, for the routes that update or delete it. */
async function created(url: string, body: unknown): Promise<void> {
  const res = await ctx.send({ method: 'POST', url, payload: body as object });
  if (res.statusCode !== 201) throw new Error(`setup POST ${url} → ${res.statusCode}: ${res.body}`);
}

const MATRIX: Record<string, Case> = {
  'POST /v1/conditions': { status: 201, prepare: async () => ({ url: '/v1/conditions', body: condition('matrixitis') }) },
  'PUT /v1/conditions/:id': {
    status: 200,
    prepare: async () => ({ url: '/v1/conditions/examplitis', body: withoutVersion(ctx.app.repos.content.get('examplitis') ?? {}), ifMatch: '/v1/conditions/examplitis' }),
  },
  'PATCH /v1/conditions/:id': { status: 200, prepare: async () => ({ url: '/v1/conditions/examplitis', body: { lastReviewed: '2026-11-27' }, ifMatch: '/v1/conditions/examplitis' }) },
  'DELETE /v1/conditions/:id': {
    status: 200,
    prepare: async () => {
      await created('/v1/conditions', condition('doomed'));
      return { url: '/v1/conditions/doomed', ifMatch: '/v1/conditions/doomed' };
    },
  },
  'POST /v1/conditions/:id/codes': {
    status: 201,
    prepare: async () => ({ url: '/v1/conditions/examplitis/codes', body: { system: 'umls', code: 'C0000001', display: null, match: 'related', note: null, confidence: 'low' } }),
  },
  'DELETE /v1/conditions/:id/codes/:system/:code': {
    status: 200,
    prepare: async () => ({ url: '/v1/conditions/examplitis/codes/icd10cm/E83.59', ifMatch: '/v1/conditions/examplitis' }),
  },
  'POST /v1/facts': { status: 201, prepare: async () => ({ url: '/v1/facts', body: symptom('examplitis.symptom.cold-ears') }) },
  'PUT /v1/facts/:id': {
    status: 200,
    prepare: async () => ({
      url: '/v1/facts/examplitis.symptom.blue-thumbs',
      body: { ...symptom('examplitis.symptom.blue-thumbs'), name: 'Blue thumbs', frequency: 'common' },
      ifMatch: '/v1/facts/examplitis.symptom.blue-thumbs',
    }),
  },
  'PATCH /v1/facts/:id': { status: 200, prepare: async () => ({ url: '/v1/facts/examplitis.symptom.blue-thumbs', body: { confidence: 'medium' }, ifMatch: '/v1/facts/examplitis.symptom.blue-thumbs' }) },
  'DELETE /v1/facts/:id': {
    status: 200,
    prepare: async () => {
      await created('/v1/facts', symptom('examplitis.symptom.doomed'));
      return { url: '/v1/facts/examplitis.symptom.doomed', ifMatch: '/v1/facts/examplitis.symptom.doomed' };
    },
  },
  'PATCH /v1/treatments/:id': {
    status: 200,
    prepare: async () => ({ url: '/v1/treatments/examplitis.treatment.warm-gloves', body: { route: 'topical' }, ifMatch: '/v1/treatments/examplitis.treatment.warm-gloves' }),
  },
  'POST /v1/statistics': { status: 201, prepare: async () => ({ url: '/v1/statistics', body: statistic('examplitis.stat.prevalence') }) },
  'PUT /v1/statistics/:id': {
    status: 200,
    prepare: async () => {
      await created('/v1/statistics', statistic('examplitis.stat.replaced'));
      return { url: '/v1/statistics/examplitis.stat.replaced', body: { ...statistic('examplitis.stat.replaced'), value: 4 }, ifMatch: '/v1/statistics/examplitis.stat.replaced' };
    },
  },
  'PATCH /v1/statistics/:id': { status: 200, prepare: async () => ({ url: '/v1/statistics/examplitis.stat.glove-usage', body: { value: 25 }, ifMatch: '/v1/statistics/examplitis.stat.glove-usage' }) },
  'DELETE /v1/statistics/:id': {
    status: 200,
    prepare: async () => {
      await created('/v1/statistics', statistic('examplitis.stat.doomed'));
      return { url: '/v1/statistics/examplitis.stat.doomed', ifMatch: '/v1/statistics/examplitis.stat.doomed' };
    },
  },
  'POST /v1/sources': { status: 201, prepare: async () => ({ url: '/v1/sources', body: source('fictional-2021') }) },
  'PUT /v1/sources/:id': {
    status: 200,
    prepare: async () => ({ url: '/v1/sources/test-handbook-2020', body: { ...source('test-handbook-2020'), kind: 'review' }, ifMatch: '/v1/sources/test-handbook-2020' }),
  },
  'PATCH /v1/sources/:id': { status: 200, prepare: async () => ({ url: '/v1/sources/test-handbook-2020', body: { year: 2019 }, ifMatch: '/v1/sources/test-handbook-2020' }) },
  'DELETE /v1/sources/:id': {
    status: 200,
    prepare: async () => {
      await created('/v1/sources', source('doomed-2021'));
      return { url: '/v1/sources/doomed-2021', ifMatch: '/v1/sources/doomed-2021' };
    },
  },
};

/** A URL for the unauthenticated cases: any id will do, authentication comes first. */
function sampleUrl(pattern: string): string {
  return pattern.replace(':system', 'icd10cm').replace(':code', 'E83.59').replace(':id', 'examplitis');
}

describe('write route authorization matrix', () => {
  it('covers exactly the write routes the app has (route table and OpenAPI document)', async () => {
    const fromRoutes = ctx.app.routeScopes.filter((r) => !SAFE.has(r.method)).map((r) => `${r.method} ${r.url}`);
    const doc = (await ctx.app.inject({ url: '/openapi.json' })).json<{ paths: Record<string, Record<string, unknown>> }>();
    const fromDoc = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops)
        .map((m) => m.toUpperCase())
        .filter((m) => !SAFE.has(m))
        .map((m) => `${m} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
    );
    const routes = [...new Set([...fromRoutes, ...fromDoc])].sort();
    expect(routes.length).toBeGreaterThanOrEqual(19);
    expect(routes.filter((r) => !(r in MATRIX)), 'write routes missing from the matrix').toEqual([]);
    expect(Object.keys(MATRIX).filter((r) => !routes.includes(r)), 'matrix rows without a route').toEqual([]);
    // Every write route requires the content:write scope.
    for (const r of ctx.app.routeScopes.filter((x) => !SAFE.has(x.method))) expect(r.scope, `${r.method} ${r.url}`).toBe('content:write');
  });

  const rows = Object.entries(MATRIX);
  it.each(rows)('%s: anonymous → 401 with a Bearer challenge', async (route) => {
    const [method, pattern] = route.split(' ') as [string, string];
    const res = await ctx.app.inject({ method: method as 'POST', url: sampleUrl(pattern), payload: {} });
    expectProblem(res, 401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="condition-kb"');
  });

  it.each(rows.map(([route], i) => [route, i] as const))('%s: revoked key → 401 invalid_token', async (route, i) => {
    const [method, pattern] = route.split(' ') as [string, string];
    // One address per route: the failed-key limiter would otherwise (rightly) step in after ten.
    const res = await ctx.send({ method: method as 'POST', url: sampleUrl(pattern), payload: {}, key: ctx.keys.revoked, remoteAddress: `10.20.0.${i + 1}` });
    expectProblem(res, 401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="condition-kb", error="invalid_token"/);
  });

  it.each(rows)('%s: key without content:write → 403 insufficient_scope', async (route) => {
    const [method, pattern] = route.split(' ') as [string, string];
    const res = await ctx.send({ method: method as 'POST', url: sampleUrl(pattern), payload: {}, key: ctx.keys.admin });
    expectProblem(res, 403);
    expect(res.headers['www-authenticate']).toMatch(/error="insufficient_scope", scope="content:write"/);
  });

  it.each(rows)('%s: curator key → 2xx', async (route, c) => {
    const [method] = route.split(' ') as [string, string];
    const { url, body, ifMatch } = await c.prepare();
    const headers: Record<string, string> = ifMatch ? { 'if-match': await ctx.etag(ifMatch) } : {};
    const res = await ctx.send({ method: method as 'POST', url, headers, ...(body === undefined ? {} : { payload: body as object }) });
    expect(res.statusCode, res.body).toBe(c.status);
  });

  it('keeps reads public', async () => {
    for (const url of ['/v1/conditions/examplitis', '/v1/changes', '/v1/facts/examplitis.symptom.blue-thumbs/revisions']) {
      expect((await ctx.app.inject({ url })).statusCode, url).toBe(200);
    }
  });
});

describe('authentication details', () => {
  const url = '/v1/conditions/examplitis';
  it.each([
    ['a malformed key', 'Bearer not-a-key'],
    ['an unknown key', 'Bearer kb_0123456789ab_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['another scheme', 'Basic dXNlcjpwYXNz'],
  ])('answers %s with 401 invalid_token', async (_name, authorization) => {
    const res = await ctx.app.inject({ method: 'PATCH', url, headers: { authorization }, payload: {}, remoteAddress: '10.30.0.1' });
    expectProblem(res, 401);
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
  });

  it('answers a right id with a wrong secret like an unknown key', async () => {
    const wrong = `${ctx.keys.curator.slice(0, 16)}${'A'.repeat(43)}`;
    const res = await ctx.app.inject({ method: 'PATCH', url, headers: { authorization: `Bearer ${wrong}` }, payload: {}, remoteAddress: '10.30.0.2' });
    expectProblem(res, 401);
  });

  const attempt = (remoteAddress: string, key = 'kb_000000000000_x') =>
    ctx.app.inject({ method: 'PATCH', url, headers: { authorization: `Bearer ${key}` }, payload: {}, remoteAddress });
  /** A well-formed key with the id of `key` and a wrong secret. */
  const wrongSecret = (key: string) => `${key.slice(0, 16)}${'B'.repeat(43)}`;

  it('limits failed keys per address: the 11th failure within a minute is a 429 with Retry-After, other addresses unaffected', async () => {
    for (let i = 0; i < 10; i++) expect((await attempt('10.40.0.1')).statusCode).toBe(401);
    const blocked = await attempt('10.40.0.1');
    expectProblem(blocked, 429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(String(blocked.json<{ detail: string }>().detail)).toContain('from this address');
    expect((await attempt('10.40.0.2')).statusCode).toBe(401);
  });

  it('never refuses a valid key because of other keys\' failures from its address (one client behind a proxy cannot lock curators out)', async () => {
    for (let i = 0; i < 12; i++) expect([401, 429]).toContain((await attempt('10.41.0.1')).statusCode);
    expect((await attempt('10.41.0.1')).statusCode).toBe(429);
    // The curator's valid key from the same address gets past authentication (400: the empty body).
    expectProblem(await attempt('10.41.0.1', ctx.keys.curator), 400);
    // And the next bad key from that address is still refused.
    expect((await attempt('10.41.0.1')).statusCode).toBe(429);
  });

  it('limits failures per presented key id across addresses, and still accepts that id\'s valid key', async () => {
    // A key of its own: other tests here already guessed at the shared curator key's id.
    const curator = createApiKeysRepository(ctx.app.db).create('guessed-at curator', ['content:write']).key;
    const wrong = wrongSecret(curator);
    // Ten addresses, one wrong guess each at the curator's (public) key id.
    for (let i = 0; i < 10; i++) expect((await attempt(`10.42.0.${i + 1}`, wrong)).statusCode).toBe(401);
    const blocked = await attempt('10.42.1.1', wrong);
    expectProblem(blocked, 429);
    expect(String(blocked.json<{ detail: string }>().detail)).toContain('for this key id');
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    // The holder of the key, from any address, is not locked out by someone guessing at its id.
    expectProblem(await attempt('10.42.1.1', curator), 400);
    expectProblem(await attempt('10.42.0.1', curator), 400);
    // Another id from a fresh address is unaffected.
    expect((await attempt('10.42.1.2', 'kb_0123456789ab_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).statusCode).toBe(401);
  });
});

describe('API keys in logs', () => {
  it('never appear, across successful and failed writes', async () => {
    const lines: string[] = [];
    const app = await buildApp({ ...ctx.config }, { logger: { level: 'trace', stream: { write: (l) => lines.push(l) } } });
    // The worst case: something logs every request's headers. Redaction must still hold.
    app.addHook('onRequest', async (request) => request.log.info({ headers: request.headers }, 'headers seen'));
    await app.ready();
    try {
      const keys = createApiKeysRepository(app.db);
      const key = keys.create('logged curator', ['content:write']).key;
      const revoked = keys.create('revoked', ['content:write']);
      keys.revoke(revoked.id);
      const auth = (k: string) => ({ authorization: `Bearer ${k}` });
      const factUrl = '/v1/facts/examplitis.symptom.blue-thumbs';
      const etag = String((await app.inject({ url: factUrl })).headers.etag);
      const results = [
        await app.inject({ method: 'PATCH', url: factUrl, headers: { ...auth(key), 'if-match': etag }, payload: { confidence: 'high' } }),
        await app.inject({ method: 'PATCH', url: factUrl, headers: { ...auth(key), 'if-match': etag }, payload: { confidence: 'low' } }),
        await app.inject({ method: 'PATCH', url: factUrl, headers: auth(key), payload: { nope: 1 } }),
        await app.inject({ method: 'POST', url: '/v1/facts', headers: auth(key), payload: { ...symptom('examplitis.symptom.logged'), sources: ['missing-source'] } }),
        await app.inject({ method: 'PATCH', url: factUrl, headers: auth(revoked.key), payload: { confidence: 'low' } }),
        await app.inject({ method: 'PATCH', url: factUrl, headers: auth(`${key}x`), payload: { confidence: 'low' } }),
      ];
      expect(results.map((r) => r.statusCode)).toEqual([200, 412, 400, 400, 401, 401]);
    } finally {
      await app.close();
    }
    const log = lines.join('');
    expect(log).toContain('incoming request');
    expect(log).toContain('[redacted]');
    for (const line of lines) {
      const secret = /kb_[0-9a-f]{12}_[A-Za-z0-9_-]{43}/.exec(line);
      expect(secret, line).toBeNull();
    }
  });
});

describe('kb keys (CLI functions)', () => {
  it('creates a key printed once, lists it without its secret, and revokes it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-keys-'));
    try {
      const path = join(dir, 'kb.sqlite');
      buildFromContent(ctx.config.contentDir, path);
      const db = openDatabase(path);
      applyMigrations(db);
      const out: string[] = [];
      const print = (line: string) => out.push(line);
      expect(keysCommand(db, { action: 'create', name: 'alice', scopes: ['content:write', 'admin'] }, print)).toBe(0);
      const key = out.find((l) => l.startsWith('kb_')) ?? '';
      expect(key).toMatch(/^kb_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
      const id = key.slice(3, 15);
      // Only a salt and a hash are stored: the secret is nowhere in the database.
      const row = db.prepare<[string], Record<string, string>>('SELECT * FROM api_keys WHERE id = ?').get(id) ?? {};
      expect(JSON.stringify(row)).not.toContain(key.slice(16));
      expect(createApiKeysRepository(db).authenticate(key)?.scopes).toEqual(['content:write', 'admin']);

      out.length = 0;
      expect(keysCommand(db, { action: 'list' }, print)).toBe(0);
      expect(out).toHaveLength(1);
      expect(out[0]).toMatch(new RegExp(`^${id}  alice  scopes=content:write,admin  created=\\S+  active$`));
      expect(out.join('\n')).not.toContain(key.slice(16));

      out.length = 0;
      expect(keysCommand(db, { action: 'revoke', id }, print)).toBe(0);
      expect(createApiKeysRepository(db).authenticate(key)).toBeUndefined();
      keysCommand(db, { action: 'list' }, print);
      expect(out.at(-1)).toMatch(/revoked=\S+$/);
      expect(keysCommand(db, { action: 'revoke', id: 'ffffffffffff' }, print)).toBe(1);

      expect(() => keysCommand(db, { action: 'create', name: 'x', scopes: [] }, print)).toThrow(UsageError);
      expect(() => keysCommand(db, { action: 'create', name: 'x', scopes: ['content:read'] }, print)).toThrow(/unknown scope/);
      expect(() => keysCommand(db, { action: 'create', scopes: ['admin'] }, print)).toThrow(/--name/);
      expect(() => keysCommand(db, { action: 'rotate' }, print)).toThrow(UsageError);
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('uses keys from the CLI with the API', async () => {
    const out: string[] = [];
    keysCommand(ctx.app.db, { action: 'create', name: 'cli curator', scopes: ['content:write'] }, (l) => out.push(l));
    const key = out.find((l) => l.startsWith('kb_')) ?? '';
    const url = '/v1/conditions/examplitis';
    const res = await ctx.send({ method: 'PATCH', url, key, headers: { 'if-match': await ctx.etag(url) }, payload: { aliases: ['Synthetic test condition', 'CLI alias'] } });
    expect(res.statusCode, res.body).toBe(200);
  });
});

it('uses the test environment (no throttling of test traffic)', () => {
  expect(TEST_ENV.RATE_LIMIT_MAX).toBe('1000000');
});
