/**
 * Helpers for the curation tests: an app with curator, admin-only and revoked keys (created
 * through the repository the CLI uses), authenticated requests, ETags, the change feed read to its
 * end, and a checksum of every table to prove that a failed write leaves the database exactly as
 * it was.
 */
import { createHash } from 'node:crypto';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import type { App } from '../../src/app.js';
import type { Sqlite } from '../../src/db/connection.js';
import type { ChangeFeed } from '../../src/routes/changes.js';
import { createApiKeysRepository } from '../../src/repositories/apiKeys.js';
import { buildTestApp, type TestContext } from '../helpers.js';

export interface Keys {
  curator: string;
  admin: string;
  revoked: string;
}

export interface CurationContext extends TestContext {
  keys: Keys;
  /** A request with `Authorization: Bearer <key>` (the curator's unless another is given). */
  send: (options: InjectOptions & { key?: string }) => Promise<LightMyRequestResponse>;
  etag: (url: string) => Promise<string>;
}

/** Limits that would throttle a test's hundreds of requests from one address are lifted. */
export const TEST_ENV = { RATE_LIMIT_MAX: '1000000', MAX_EVENT_LOOP_DELAY_MS: '0' };

/**
 * Curation tests count and pin calciphylaxis's entities, so they build on that condition alone
 * unless they ask for every shipped condition (`conditions: 'all'`, for writes across conditions).
 */
export async function buildCurationApp(options: { extraFixtures?: string[]; env?: NodeJS.ProcessEnv; conditions?: string[] | 'all' } = {}): Promise<CurationContext> {
  const conditions = options.conditions === 'all' ? undefined : (options.conditions ?? ['calciphylaxis']);
  const ctx = await buildTestApp({ extraFixtures: options.extraFixtures, conditions, env: { ...TEST_ENV, ...options.env } });
  const repo = createApiKeysRepository(ctx.app.db);
  const revoked = repo.create('revoked curator', ['content:write']);
  repo.revoke(revoked.id);
  const keys = { curator: repo.create('curator', ['content:write']).key, admin: repo.create('admin only', ['admin']).key, revoked: revoked.key };
  const send = ({ key, headers, ...rest }: InjectOptions & { key?: string }) =>
    ctx.app.inject({ ...rest, headers: { authorization: `Bearer ${key ?? keys.curator}`, ...headers } });
  const etag = async (url: string) => {
    const res = await ctx.app.inject({ url });
    if (res.statusCode !== 200) throw new Error(`GET ${url} → ${res.statusCode}: ${res.body}`);
    return String(res.headers.etag);
  };
  return { ...ctx, keys, send, etag };
}

export type Change = ChangeFeed['data'][number];

/**
 * The feed after `since` (from the start without it) to its end, 100 entries a page, and the
 * `resumeCursor` to poll from next: what a client does at each poll.
 */
export async function readFeed(app: App, since?: string): Promise<{ entries: Change[]; cursor: string }> {
  const entries: Change[] = [];
  let cursor = since;
  for (;;) {
    const res = await app.inject({ url: `/v1/changes?limit=100${cursor ? `&since=${cursor}` : ''}` });
    if (res.statusCode !== 200) throw new Error(`feed → ${res.statusCode}: ${res.body}`);
    const page = res.json<ChangeFeed>();
    entries.push(...page.data);
    cursor = page.page.resumeCursor;
    if (page.page.nextCursor === null) return { entries, cursor };
  }
}

/** sha256 over every row of every table (FTS content included), in a fixed order. */
export function checksum(db: Sqlite): string {
  const hash = createHash('sha256');
  const tables = db
    .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'search_index_%' ORDER BY name")
    .all();
  for (const { name } of tables) {
    hash.update(`#${name}\n`);
    // A WITHOUT ROWID table (citations) has no rowid: its primary key orders it.
    const withoutRowid = db.prepare<[string], { wr: number }>('SELECT wr FROM pragma_table_list WHERE name = ?').get(name)?.wr === 1;
    const order = withoutRowid
      ? db
          .prepare<[string], { name: string }>('SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk')
          .all(name)
          .map((c) => `"${c.name}"`)
          .join(', ')
      : 'rowid';
    for (const row of db.prepare(`SELECT * FROM "${name}" ORDER BY ${order}`).raw().all()) hash.update(`${JSON.stringify(row)}\n`);
  }
  return hash.digest('hex');
}

/** Deterministic PRNG (mulberry32): the same seed gives the same sequence of writes. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The POST /v1/statistics body of a plain figure: a percentage with no interval, counts,
 * comparison or rated certainty, citing only its primary source. Tests name what varies.
 */
export function statisticBody(f: { conditionId: string; id: string; measure?: string; value: number; population: string; primarySource: string; treatment: string | null; text: string }) {
  return {
    conditionId: f.conditionId,
    id: f.id,
    measure: f.measure ?? 'usage',
    value: f.value,
    low: null,
    high: null,
    unit: '%',
    comparator: null,
    population: f.population,
    outcome: null,
    timepoint: null,
    timepointMonths: null,
    estimateType: 'proportion',
    interval: null,
    events: null,
    sampleSize: null,
    comparedWith: null,
    studyDesign: 'unknown',
    primarySource: f.primarySource,
    certainty: 'not-assessed',
    certaintyBasis: null,
    treatment: f.treatment,
    text: f.text,
    sources: [f.primarySource],
    confidence: 'low',
  };
}
