/**
 * The README's sync recipe ("Keeping a local copy in sync"), followed literally by a client that
 * knows nothing of the server's internals:
 *
 * 1. read the change feed to its end and keep `page.resumeCursor`, then copy every URL of the
 *    mirror set (every representation the OpenAPI document lists for it; lists page by page);
 * 2. later, read the feed since the cursor, re-fetch every URL in the entries' `affects` with
 *    If-None-Match (a 404 deletes it; a condition whose document is gone takes its URLs along;
 *    a list is re-read from its first page), and keep the new `resumeCursor`.
 *
 * Between polls, a seeded-random sequence of writes goes through the curator API: statements,
 * statistics, treatments, sources (moves included), codes, related links, condition fields, and
 * whole conditions created and deleted. At checkpoints and at the end the mirror must equal, byte
 * for byte and ETag for ETag, a fresh copy of every URL. Two controls show the comparison bites:
 * a client that skips condition documents from `affects` ends stale, and a client that reads the
 * whole feed from the start into an empty mirror (the build's entries included) ends exact.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sectionName } from '../src/content/schema.js';
import { STATEMENT_SECTIONS, statementsOf, type ConditionContent } from '../src/content/schema.js';
import type { App } from '../src/app.js';
import { PROJECT_ROOT } from '../src/paths.js';
import { buildCurationApp, prng, readFeed, statisticBody, type CurationContext } from './writes/helpers.js';

/* What the client reads from the README and the OpenAPI document */

const SECTIONS = ['symptoms', 'causes', 'risk-factors', 'complications', 'diagnosis', 'treatments', 'prognosis', 'prevention', 'when-to-seek-care', 'differential-diagnosis', 'statistics', 'sources'];
/** The lists of the mirror set: read page by page (`Link: rel="next"`), re-read whole. */
const LIST = /^\/v1\/(?:conditions|facts|statistics|treatments|sources)(?:\?condition=[^&]+)?$|^\/v1\/conditions\/[^/?]+\/facts$/;
const PAGE_LIMIT = 100;

type OpenApi = { paths: Record<string, { get?: { responses: Record<string, { content?: Record<string, unknown> } | undefined> } }> };
const openapi = JSON.parse(readFileSync(join(PROJECT_ROOT, 'openapi', 'openapi.json'), 'utf8')) as OpenApi;
/** Path templates with the media types of their 200 response, the most specific (fewest parameters) first. */
const ROUTES = Object.entries(openapi.paths)
  .flatMap(([template, ops]) => {
    const types = Object.keys(ops.get?.responses['200']?.content ?? {});
    const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    return types.length ? [{ pattern, params: (template.match(/\{/g) ?? []).length, types }] : [];
  })
  .sort((a, b) => a.params - b.params);

function typesOf(url: string): string[] {
  const path = url.split('?')[0] ?? url;
  const route = ROUTES.find((r) => r.pattern.test(path));
  if (!route) throw new Error(`no GET route for ${url}`);
  return route.types;
}

/** A code's lookups: the code and, for ICD-10-CM, its parents (E83.59 → E83.5, E83), as the README lists them. */
function lookups(system: string, code: string): string[] {
  const codes = [code];
  if (system === 'icd10cm') {
    const bare = code.replace('.', '');
    for (let n = bare.length - 1; n >= 3; n--) codes.push(n === 3 ? bare.slice(0, 3) : `${bare.slice(0, 3)}.${bare.slice(3, n)}`);
  }
  return codes.map((c) => `/v1/codes/${system}/${encodeURIComponent(c)}`);
}

/* The client's mirror */

interface Copy {
  etag: string;
  body: string;
}
type Get = (url: string, headers: Record<string, string>) => Promise<{ statusCode: number; headers: Record<string, unknown>; body: string }>;

class Mirror {
  /** `<media type> <url>` → what the server sent. List pages are kept under their own URLs. */
  readonly copies = new Map<string, Copy>();
  /** `<media type> <list url>` → the URLs of its pages, first to last. */
  private readonly pages = new Map<string, string[]>();
  requests = 0;
  notModified = 0;

  constructor(private readonly get: Get) {}

  /** Fetches a URL of the mirror set in every representation its route offers. */
  async fetch(url: string): Promise<void> {
    for (const type of typesOf(url)) {
      if (LIST.test(url)) await this.fetchList(url, type);
      else await this.fetchOne(url, type);
    }
  }

  /** One representation, revalidated with the ETag kept for it. Returns the response's next-page link. */
  private async fetchOne(url: string, type: string): Promise<string | null | 'gone'> {
    const key = `${type} ${url}`;
    const kept = this.copies.get(key);
    const res = await this.get(url, { accept: type, ...(kept ? { 'if-none-match': kept.etag } : {}) });
    this.requests++;
    if (res.statusCode === 404) {
      this.copies.delete(key);
      return 'gone';
    }
    if (res.statusCode === 304) {
      if (!kept) throw new Error(`304 for ${key} without a copy`);
      this.notModified++;
    } else if (res.statusCode === 200) {
      this.copies.set(key, { etag: String(res.headers.etag), body: res.body });
    } else throw new Error(`GET ${url} (${type}) → ${res.statusCode}: ${res.body}`);
    const link = String(res.headers.link ?? '');
    return /<([^>]+)>;\s*rel="next"/.exec(link)?.[1] ?? null;
  }

  /** A list from its first page, following `Link: rel="next"`; the pages kept before are replaced. */
  private async fetchList(url: string, type: string): Promise<void> {
    const listKey = `${type} ${url}`;
    const previous = this.pages.get(listKey) ?? [];
    const chain: string[] = [];
    let next: string | null = `${url}${url.includes('?') ? '&' : '?'}limit=${PAGE_LIMIT}`;
    while (next) {
      const page: string = next;
      const outcome = await this.fetchOne(page, type);
      if (outcome === 'gone') break;
      chain.push(page);
      next = outcome;
      if (chain.length > 100) throw new Error(`${url}: more than 100 pages`);
    }
    for (const page of previous) if (!chain.includes(page)) this.copies.delete(`${type} ${page}`);
    if (chain.length) this.pages.set(listKey, chain);
    else this.pages.delete(listKey);
  }

  /** Everything kept for a condition whose document is gone: its URLs and the lists filtered to it. */
  dropCondition(id: string): void {
    const base = `/v1/conditions/${encodeURIComponent(id)}`;
    const belongs = (url: string) => url.split('?')[0] === base || url.startsWith(`${base}/`) || new URLSearchParams(url.split('?')[1] ?? '').get('condition') === id;
    for (const key of [...this.copies.keys()]) if (belongs(key.slice(key.indexOf(' ') + 1))) this.copies.delete(key);
    for (const key of [...this.pages.keys()]) if (belongs(key.slice(key.indexOf(' ') + 1))) this.pages.delete(key);
  }

  has(url: string): boolean {
    return this.copies.has(`application/json ${url}`);
  }

  /** The JSON items of a list kept here, every page. */
  items<T>(url: string): T[] {
    return (this.pages.get(`application/json ${url}`) ?? []).flatMap((page) => JSON.parse(this.copies.get(`application/json ${page}`)?.body ?? '{"data":[]}').data as T[]);
  }

  json<T>(url: string): T | undefined {
    const copy = this.copies.get(`application/json ${url}`);
    return copy ? (JSON.parse(copy.body) as T) : undefined;
  }
}

/** The first copy of the recipe: every URL of the mirror set, found by following the lists. */
async function crawl(get: Get): Promise<Mirror> {
  const m = new Mirror(get);
  await m.fetch('/v1/meta');
  for (const list of ['/v1/conditions', '/v1/facts', '/v1/statistics', '/v1/treatments', '/v1/sources']) await m.fetch(list);
  const codes = new Set<string>();
  for (const { id } of m.items<{ id: string }>('/v1/conditions')) {
    const c = encodeURIComponent(id);
    await m.fetch(`/v1/conditions/${c}`);
    for (const s of SECTIONS) await m.fetch(`/v1/conditions/${c}/${s}`);
    for (const list of [`/v1/conditions/${c}/facts`, `/v1/facts?condition=${c}`, `/v1/statistics?condition=${c}`, `/v1/treatments?condition=${c}`, `/v1/sources?condition=${c}`]) await m.fetch(list);
    for (const k of m.json<{ codes: { system: string; code: string }[] }>(`/v1/conditions/${c}`)?.codes ?? []) for (const u of lookups(k.system, k.code)) codes.add(u);
  }
  for (const { id } of m.items<{ id: string }>('/v1/facts')) await m.fetch(`/v1/facts/${encodeURIComponent(id)}`);
  for (const { id } of m.items<{ id: string }>('/v1/statistics')) await m.fetch(`/v1/statistics/${encodeURIComponent(id)}`);
  for (const t of m.items<{ id: string; codes: { system: string; code: string }[] }>('/v1/treatments')) {
    await m.fetch(`/v1/treatments/${encodeURIComponent(t.id)}`);
    for (const k of t.codes) for (const u of lookups(k.system, k.code)) codes.add(u);
  }
  for (const { id } of m.items<{ id: string }>('/v1/sources')) await m.fetch(`/v1/sources/${encodeURIComponent(id)}`);
  for (const u of codes) await m.fetch(u);
  return m;
}

/** The sync step of the recipe; returns the cursor to keep. `skip` leaves URLs out (the broken control). */
async function sync(app: App, mirror: Mirror, cursor: string | undefined, skip: (url: string) => boolean = () => false): Promise<{ cursor: string; urls: number }> {
  const { entries, cursor: since } = await readFeed(app, cursor);
  const urls = new Set(entries.flatMap((entry) => entry.affects));
  const fetched = [...urls].filter((u) => !skip(u));
  for (const url of fetched) await mirror.fetch(url);
  for (const url of fetched) {
    const doc = /^\/v1\/conditions\/([^/?]+)$/.exec(url);
    if (doc?.[1] && !mirror.has(url)) mirror.dropCondition(decodeURIComponent(doc[1]));
  }
  return { cursor: since, urls: urls.size };
}

/** Keys that differ: missing on one side, or another ETag or body. */
function differences(a: Mirror, b: Mirror): string[] {
  const keys = new Set([...a.copies.keys(), ...b.copies.keys()]);
  return [...keys].filter((k) => {
    const x = a.copies.get(k);
    const y = b.copies.get(k);
    return !x || !y || x.etag !== y.etag || x.body !== y.body;
  });
}

/* The writes */

/** A new condition's lists, every one empty. */
const EMPTY_CONDITION = Object.fromEntries([...STATEMENT_SECTIONS.map((s) => s.key), 'statistics', 'sources', 'codes', 'related'].map((k) => [k, []]));

const SOURCE_TEMPLATE = {
  kind: 'review',
  year: 2020,
  label: null,
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
};

describe('the README sync recipe', () => {
  let ctx: CurationContext;
  const get: Get = async (url, headers) => {
    const res = await ctx.app.inject({ url, headers });
    return { statusCode: res.statusCode, headers: res.headers, body: res.body };
  };

  beforeAll(async () => {
    // Every shipped condition: the writes reach across conditions.
    ctx = await buildCurationApp({ conditions: 'all' });
  }, 120_000);
  afterAll(async () => ctx?.close());

  it('keeps a mirror byte-identical to a fresh copy through random writes of every kind', { timeout: 600_000 }, async () => {
    const rand = prng(20261202);
    const pick = <T>(list: readonly T[]): T => {
      if (list.length === 0) throw new Error('nothing to pick from');
      return list[Math.floor(rand() * list.length)] as T;
    };
    const send = (method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: object, ifMatch?: string) =>
      ctx.send({ method, url, payload, headers: ifMatch ? { 'if-match': ifMatch } : {} });
    const { etag } = ctx;
    const corpus = (): ConditionContent[] => ctx.app.repos.content.ids().flatMap((id) => ctx.app.repos.content.get(id) ?? []);
    const statements = () => corpus().flatMap((c) => statementsOf(c).map((s) => ({ conditionId: c.id, section: s.section, item: s.item })));
    const statistics = () => corpus().flatMap((c) => c.statistics.map((s) => ({ conditionId: c.id, item: s })));
    const sources = () => corpus().flatMap((c) => c.sources.map((s) => ({ definedIn: c.id, item: s })));
    const treatments = () => statements().filter((s) => s.section === 'treatments');
    const removedCodes: { conditionId: string; code: ConditionContent['codes'][number] }[] = [];
    const created = { facts: [] as string[], statistics: [] as string[], sources: [] as string[], conditions: [] as string[] };

    // Step 1 of the recipe: the cursor first, then the copy (writes during the copy are replayed).
    let feed = (await readFeed(ctx.app)).cursor;
    const mirror = await crawl(get);
    // The control: a client that skipped condition documents in `affects` would have kept these
    // (it fetches everything else exactly as this one does).
    const isDocument = (k: string) => /^[^ ]+ \/v1\/conditions\/[^/?]+$/.test(k);
    const firstDocuments = new Map([...mirror.copies].filter(([k]) => isDocument(k)));

    type Response = Awaited<ReturnType<typeof send>>;
    const conditionIds = () => corpus().map((c) => c.id);
    /** Sources cited by a condition other than the one defining them: an edit reaches across conditions. */
    const citedElsewhere = () => {
      const all = sources();
      const definer = new Map(all.map((s) => [s.item.id, s.definedIn]));
      const out = new Set<string>();
      for (const c of corpus()) for (const s of statementsOf(c)) for (const cited of s.item.sources) { const id = typeof cited === 'string' ? cited : cited.id; if (definer.get(id) !== c.id) out.add(id); }
      return all.filter((s) => out.has(s.item.id));
    };
    const someSource = () => {
      const elsewhere = citedElsewhere();
      return rand() < 0.6 && elsewhere.length ? pick(elsewhere) : pick(sources());
    };
    /** Treatments that figures of other conditions are about, when there are any. */
    const someTreatment = () => {
      const figures = statistics();
      const elsewhere = treatments().filter((t) => figures.some((s) => s.item.treatment === t.item.id && s.conditionId !== t.conditionId));
      return rand() < 0.6 && elsewhere.length ? pick(elsewhere) : pick(treatments());
    };
    const randomStatistic = (i: number, conditionId: string, id: string) => {
      const primary = pick(sources()).item.id;
      return statisticBody({
        conditionId,
        id,
        value: Math.round(rand() * 900) / 10,
        population: `Test population ${i}`,
        primarySource: primary,
        // About a treatment of any condition, so its evidence elsewhere changes too.
        treatment: rand() < 0.7 ? pick(treatments()).item.id : null,
        text: `A test figure written in write ${i}.`,
      });
    };
    const createCondition = async (i: number): Promise<Response> => {
      const id = `sync-condition-${i}`;
      const res = await send('POST', '/v1/conditions', { ...EMPTY_CONDITION, id, name: `Test condition ${i}`, aliases: [], summary: `A test condition created in write ${i}.`, summarySources: [pick(sources()).item.id], lastReviewed: '2026-12-01' });
      if (res.statusCode === 201) created.conditions.push(id);
      return res;
    };

    const deleteCode = async (): Promise<Response> => {
      const c = pick(corpus().filter((x) => x.codes.length));
      const code = pick(c.codes);
      const url = `/v1/conditions/${c.id}`;
      const res = await send('DELETE', `${url}/codes/${code.system}/${encodeURIComponent(code.code)}`, undefined, await etag(url));
      if (res.statusCode === 200) removedCodes.push({ conditionId: c.id, code });
      return res;
    };

    /** Every kind of write the curator API offers, with a weight for the random part of the run. */
    const OPS: Record<string, { weight: number; run: (i: number) => Promise<Response> }> = {
      'PATCH fact': { weight: 8, run: async (i) => { const url = `/v1/facts/${pick(statements()).item.id}`; return send('PATCH', url, { text: `Statement text edited in write ${i}.` }, await etag(url)); } },
      'PUT fact': {
        weight: 5,
        run: async () => {
          const s = pick(statements());
          const url = `/v1/facts/${s.item.id}`;
          return send('PUT', url, { conditionId: s.conditionId, section: sectionName(s.section), ...s.item, confidence: pick(['high', 'medium', 'low']) }, await etag(url));
        },
      },
      'POST fact': {
        weight: 7,
        run: async (i) => {
          const cid = pick(conditionIds());
          const [section, kind] = pick([['causes', 'cause'], ['complications', 'complication'], ['prognosis', 'prognosis'], ['prevention', 'prevention']] as const);
          const id = `${cid}.${kind}.sync-${i}`;
          // Any source of the knowledge base: citations across conditions are allowed.
          const res = await send('POST', '/v1/facts', { conditionId: cid, section, id, name: `Test statement ${i}`, text: `A test statement written in write ${i}.`, sources: [pick(sources()).item.id], confidence: 'low' });
          if (res.statusCode === 201) created.facts.push(id);
          return res;
        },
      },
      'DELETE fact': {
        weight: 5,
        run: async () => {
          const id = created.facts.length && rand() < 0.6 ? pick(created.facts) : pick(statements().filter((s) => s.section === 'causes' || s.section === 'prevention')).item.id;
          const url = `/v1/facts/${id}`;
          const res = await send('DELETE', url, undefined, await etag(url));
          if (res.statusCode === 200) created.facts = created.facts.filter((f) => f !== id);
          return res;
        },
      },
      'PATCH statistic': {
        weight: 6,
        run: async (i) => {
          const s = pick(statistics());
          const url = `/v1/statistics/${s.item.id}`;
          return send('PATCH', url, rand() < 0.5 ? { text: `Figure text edited in write ${i}.` } : { confidence: pick(['high', 'medium', 'low']), population: `${s.item.population.replace(/ \(write \d+\)$/, '')} (write ${i})`.slice(0, 200) }, await etag(url));
        },
      },
      'PUT statistic': {
        weight: 4,
        run: async (i) => {
          const s = pick(statistics());
          const url = `/v1/statistics/${s.item.id}`;
          return send('PUT', url, { conditionId: s.conditionId, ...s.item, text: `Figure replaced in write ${i}.` }, await etag(url));
        },
      },
      'POST statistic': {
        weight: 6,
        run: async (i) => {
          const cid = pick(conditionIds());
          const id = `${cid}.stat.sync-${i}`;
          const res = await send('POST', '/v1/statistics', randomStatistic(i, cid, id));
          if (res.statusCode === 201) created.statistics.push(id);
          return res;
        },
      },
      'DELETE statistic': {
        weight: 4,
        run: async () => {
          const id = created.statistics.length && rand() < 0.7 ? pick(created.statistics) : pick(statistics()).item.id;
          const url = `/v1/statistics/${id}`;
          const res = await send('DELETE', url, undefined, await etag(url));
          if (res.statusCode === 200) created.statistics = created.statistics.filter((s) => s !== id);
          return res;
        },
      },
      'PATCH treatment (name)': {
        weight: 5,
        run: async (i) => {
          const t = someTreatment();
          const url = `/v1/treatments/${t.item.id}`;
          return send('PATCH', url, { name: `${t.item.name.replace(/ \(renamed \d+\)$/, '')} (renamed ${i})` }, await etag(url));
        },
      },
      'PATCH source (title)': { weight: 3, run: async (i) => { const url = `/v1/sources/${someSource().item.id}`; return send('PATCH', url, { title: `Test title edited in write ${i}` }, await etag(url)); } },
      'PATCH source (authors)': { weight: 3, run: async (i) => { const url = `/v1/sources/${someSource().item.id}`; return send('PATCH', url, { authors: rand() < 0.5 ? [] : [`Tester${i} A`] }, await etag(url)); } },
      'PATCH source (doi)': {
        weight: 2,
        run: async (i) => {
          const s = someSource();
          const url = `/v1/sources/${s.item.id}`;
          return send('PATCH', url, { doi: s.item.doi === null ? `10.5555/sync.${i}` : null }, await etag(url));
        },
      },
      'PATCH source (move)': {
        weight: 3,
        run: async () => {
          const s = someSource();
          const url = `/v1/sources/${s.item.id}`;
          return send('PATCH', url, { definedIn: pick(conditionIds().filter((c) => c !== s.definedIn)) }, await etag(url));
        },
      },
      'PUT source': {
        weight: 3,
        run: async (i) => {
          const s = someSource();
          const url = `/v1/sources/${s.item.id}`;
          return send('PUT', url, { definedIn: s.definedIn, ...s.item, note: `Note written in write ${i}.` }, await etag(url));
        },
      },
      'POST source': {
        weight: 3,
        run: async (i) => {
          const id = `sync-source-${i}`;
          const res = await send('POST', '/v1/sources', { definedIn: pick(conditionIds()), id, ...SOURCE_TEMPLATE, title: `Test source ${i}`, authors: [`Tester${i} B`] });
          if (res.statusCode === 201) created.sources.push(id);
          return res;
        },
      },
      'DELETE source': {
        weight: 3,
        run: async () => {
          const id = created.sources.length ? pick(created.sources) : pick(sources()).item.id;
          const url = `/v1/sources/${id}`;
          const res = await send('DELETE', url, undefined, await etag(url));
          if (res.statusCode === 200) created.sources = created.sources.filter((s) => s !== id);
          return res;
        },
      },
      'DELETE code': { weight: 3, run: deleteCode },
      'POST code': {
        weight: 3,
        run: async () => {
          // Codes are put back where they were taken from: no mapping is made up.
          const removed = removedCodes.splice(Math.floor(rand() * removedCodes.length), 1)[0];
          return removed ? send('POST', `/v1/conditions/${removed.conditionId}/codes`, removed.code) : deleteCode();
        },
      },
      'PATCH condition': {
        weight: 6,
        run: async (i) => {
          const c = pick(corpus());
          const url = `/v1/conditions/${c.id}`;
          const field = pick(['name', 'lastReviewed', 'summary', 'aliases'] as const);
          const patch =
            field === 'name'
              ? { name: `${c.name.replace(/ \(edited \d+\)$/, '')} (edited ${i})` }
              : field === 'lastReviewed'
                ? { lastReviewed: `2026-10-${String(1 + (i % 28)).padStart(2, '0')}` }
                : field === 'summary'
                  ? { summary: `${c.summary.replace(/ Edited in write \d+\.$/, '')} Edited in write ${i}.`.slice(0, 1000) }
                  : { aliases: [...c.aliases.slice(0, 3), `Test alias ${i}`] };
          return send('PATCH', url, patch, await etag(url));
        },
      },
      'PUT condition (related)': {
        weight: 5,
        run: async (i) => {
          // Related links are written with the whole condition.
          const c = pick(corpus());
          const others = corpus().filter((o) => o.id !== c.id && !c.related.some((x) => x.condition === o.id));
          const { version: _version, ...body } = c;
          const action = c.related.length && rand() < 0.35 ? 'drop' : others.length && rand() < 0.6 ? 'add' : c.related.length ? 'edit' : 'add';
          if (action === 'drop') body.related = c.related.slice(1);
          else if (action === 'edit') body.related = c.related.map((x, j) => (j === 0 ? { ...x, text: `Link text edited in write ${i}.` } : x));
          else {
            // Test conditions come and go, so links to them turn on and off.
            const target = others.length ? pick(others) : pick(corpus());
            body.related = [...c.related, { condition: target.id, name: target.name, relation: 'associated', text: `A test link written in write ${i}.`, sources: [pick(sources()).item.id] }];
          }
          const url = `/v1/conditions/${c.id}`;
          return send('PUT', url, body, await etag(url));
        },
      },
      'POST condition': { weight: 2, run: createCondition },
      'DELETE condition': {
        weight: 2,
        run: async (i) => {
          const id = created.conditions.length ? pick(created.conditions) : undefined;
          if (!id) return createCondition(i);
          const url = `/v1/conditions/${id}`;
          const res = await send('DELETE', url, undefined, await etag(url));
          if (res.statusCode === 200) created.conditions = created.conditions.filter((c) => c !== id);
          return res;
        },
      },
    };
    // First the links across conditions that only some writes exercise, each on its own: a condition
    // that only cites another's source, which is then edited; a figure there about another
    // condition's treatment, which is then renamed; a link to that condition, which then goes.
    const lone = { condition: 'sync-condition-lone', source: '' };
    const SCENARIO: Record<string, { weight: number; run: (i: number) => Promise<Response> }> = {
      'scenario: POST condition citing another condition’s source': {
        weight: 0,
        run: async (i) => {
          lone.source = pick(sources()).item.id;
          return send('POST', '/v1/conditions', { ...EMPTY_CONDITION, id: lone.condition, name: 'Lone test condition', aliases: [], summary: `A test condition created in write ${i}.`, summarySources: [lone.source], lastReviewed: '2026-12-01' });
        },
      },
      'scenario: PATCH the source it cites': {
        weight: 0,
        run: async (i) => {
          const url = `/v1/sources/${lone.source}`;
          return send('PATCH', url, { title: `Test title edited in write ${i}` }, await etag(url));
        },
      },
      'scenario: POST a figure about another condition’s treatment': {
        weight: 0,
        run: async (i) => {
          const t = pick(treatments());
          const cid = lone.condition;
          return send('POST', '/v1/statistics', { ...randomStatistic(i, cid, `${cid}.stat.sync-${i}`), treatment: t.item.id, primarySource: lone.source, sources: [lone.source] });
        },
      },
      'scenario: rename that treatment': {
        weight: 0,
        run: async (i) => {
          const figure = statistics().find((s) => s.conditionId === lone.condition);
          const url = `/v1/treatments/${figure?.item.treatment ?? ''}`;
          return send('PATCH', url, { name: `Test treatment renamed in write ${i}` }, await etag(url));
        },
      },
      'scenario: PUT a condition linking to it': {
        weight: 0,
        run: async (i) => {
          const c = pick(corpus().filter((x) => x.id !== lone.condition));
          const { version: _version, ...body } = c;
          body.related = [...c.related, { condition: lone.condition, name: 'Lone test condition', relation: 'associated', text: `A test link written in write ${i}.`, sources: [pick(sources()).item.id] }];
          const url = `/v1/conditions/${c.id}`;
          return send('PUT', url, body, await etag(url));
        },
      },
      'scenario: DELETE the linked condition': {
        weight: 0,
        run: async () => {
          const url = `/v1/conditions/${lone.condition}`;
          return send('DELETE', url, undefined, await etag(url));
        },
      },
    };
    Object.assign(OPS, SCENARIO);
    // Then every kind once (in a random order), then weighted random picks.
    const kinds = Object.keys(OPS).filter((k) => !(k in SCENARIO));
    const schedule = [...Object.keys(SCENARIO), ...[...kinds].sort(() => rand() - 0.5)];
    const total = Object.values(OPS).reduce((n, o) => n + o.weight, 0);
    const WRITES = 66;
    while (schedule.length < WRITES) {
      let x = rand() * total;
      const kind = kinds.find((k) => (x -= OPS[k]?.weight ?? 0) < 0) ?? 'PATCH fact';
      schedule.push(kind);
    }
    const checkpoints = [2, 4, 6, 36];
    const outcomes: Record<string, Record<number, number>> = {};
    let listed = 0;
    let polls = 0;
    for (let i = 1; i <= WRITES; i++) {
      const op = schedule[i - 1] ?? 'PATCH fact';
      const run = OPS[op]?.run;
      if (!run) throw new Error(`no operation ${op}`);
      const res = await run(i);
      const byStatus = (outcomes[op] ??= {});
      byStatus[res.statusCode] = (byStatus[res.statusCode] ?? 0) + 1;
      // Refusals are allowed (a cited source cannot go, a referenced treatment's statement neither), never a 5xx.
      expect(res.statusCode, `${op} in write ${i}: ${res.body}`).toBeLessThan(500);
      expect([200, 201, 204, 409].includes(res.statusCode), `${op} in write ${i}: ${res.statusCode} ${res.body}`).toBe(true);

      // Poll now and then, as a client would: several writes may be waiting in the feed.
      // The scenario is polled after each of its writes, so no later write hides what one missed.
      if (rand() < 0.35 || checkpoints.includes(i) || i <= Object.keys(SCENARIO).length) {
        const step = await sync(ctx.app, mirror, feed);
        feed = step.cursor;
        listed += step.urls;
        polls++;
      }
      if (checkpoints.includes(i)) {
        const fresh = await crawl(get);
        expect(differences(mirror, fresh), `after write ${i}`).toEqual([]);
      }
    }
    console.log(
      `sync recipe: ${WRITES} writes ${JSON.stringify(outcomes)}; ${polls} polls listed ${listed} URLs in affects; ` +
        `mirror ${mirror.copies.size} copies after ${mirror.requests} requests (${mirror.notModified} of them 304)`,
    );
    // Enough of the writes succeeded for the run to mean something.
    const succeeded = Object.values(outcomes).reduce((n, o) => n + (o[200] ?? 0) + (o[201] ?? 0), 0);
    expect(succeeded).toBeGreaterThan(WRITES * 0.8);

    // The last poll, after the last write.
    feed = (await sync(ctx.app, mirror, feed)).cursor;
    const fresh = await crawl(get);
    expect(differences(mirror, fresh)).toEqual([]);
    expect(fresh.copies.size).toBeGreaterThan(1000);

    // The control: without condition documents from `affects`, the copy goes stale.
    const blind = new Mirror(get);
    for (const [k, copy] of mirror.copies) if (!isDocument(k)) blind.copies.set(k, copy);
    for (const [k, copy] of firstDocuments) blind.copies.set(k, copy);
    const stale = differences(blind, fresh);
    expect(stale.filter(isDocument).length).toBeGreaterThan(0);

    // The whole feed from the start (the build's entries, then every write) into an empty mirror.
    const replayed = new Mirror(get);
    await sync(ctx.app, replayed, undefined);
    expect(differences(replayed, fresh)).toEqual([]);
  });
});
