/**
 * Which URLs a write changes: the `affects` of its change-feed entries, so that a mirror that
 * re-fetches them ends byte-identical to a fresh copy (README, "Keeping a local copy in sync").
 *
 * The URLs considered are the mirror set: every URL a mirror keeps, listed in the README and
 * crawled by tests/sync-recipe.test.ts. A representation is a function of the content alone, so
 * for each URL this module builds a *view*: a string holding every piece of content the URL's
 * representations (JSON, Markdown, JSON-LD, FHIR, CSV) are built from. It does not need to look
 * like the response; it only has to change whenever the response can. A write's `affects` are the
 * URLs whose view differs between the corpus before and after it (or that exist on one side only).
 * Views err on the side of changing: a listed URL that did not change costs the mirror one 304.
 *
 * Only the conditions a write can reach are looked at (see `reach`): a condition is untouched by a
 * write unless its content changed or it points at something that did (a source it cites, a
 * treatment its figures are about, a condition it links to...). A list of items across conditions
 * changes exactly when one of its items does, so global lists are compared on those conditions'
 * items only. Filtered lists other than `?condition=` are narrower views of their unfiltered list:
 * they can only change when it does.
 *
 * Entries written by the build (which carry no stored `affects`) get `builtEntityAffects`: the
 * URLs the creation of that entity brought into being, so reading the whole feed from the start
 * also names every URL of the mirror set.
 */
import { createHash } from 'node:crypto';
import { shortCitation, sourceUrl } from '../content/citation.js';
import { canonicalCondition, diffEntities, entitiesOf } from '../repositories/rows.js';
import {
  citationRef,
  citedIds,
  sectionName,
  statementsOf,
  type CitationContent,
  type ConditionContent,
  type SourceContent,
  type StatementContent,
  type StatementSectionKey,
  type StatisticContent,
} from '../content/schema.js';
import { API_PREFIX, links } from '../http/links.js';

/** Section names of `/v1/conditions/{id}/{section}` (the single-section routes; `facts` is a list). */
export const SECTION_NAMES = [
  'symptoms',
  'causes',
  'risk-factors',
  'complications',
  'diagnosis',
  'treatments',
  'prognosis',
  'prevention',
  'when-to-seek-care',
  'differential-diagnosis',
  'statistics',
  'sources',
] as const;

/** The lists of the mirror set, by the condition they are filtered to (unfiltered: global). */
export const GLOBAL_LISTS = ['conditions', 'facts', 'statistics', 'treatments', 'sources'].map((name) => `${API_PREFIX}/${name}`);
export const META_URL = `${API_PREFIX}/meta`;

export const conditionLists = (id: string) => ({
  facts: `${links.condition(id)}/facts`,
  factsFiltered: `${API_PREFIX}/facts?condition=${encodeURIComponent(id)}`,
  statistics: `${API_PREFIX}/statistics?condition=${encodeURIComponent(id)}`,
  treatments: `${API_PREFIX}/treatments?condition=${encodeURIComponent(id)}`,
  sources: `${API_PREFIX}/sources?condition=${encodeURIComponent(id)}`,
});

/** Every URL under a condition (document, sections, its lists): what a mirror drops when the condition is gone. */
export function conditionUrls(id: string): string[] {
  return [links.condition(id), ...SECTION_NAMES.map((s) => links.section(id, s)), ...Object.values(conditionLists(id))];
}

/** A code lookup URL with the code it looks up. */
export interface CodeLookup {
  url: string;
  system: string;
  code: string;
}

/** The code lookups a code brings: itself and, for ICD-10-CM, its parents (E83.59 → E83.5, E83), whose lookup finds what is coded under them. */
export function codeLookups(system: string, code: string): CodeLookup[] {
  const canonical = code.toUpperCase();
  const codes = [canonical];
  if (system === 'icd10cm') {
    const bare = canonical.replace('.', '');
    for (let n = bare.length - 1; n >= 3; n--) codes.push(n === 3 ? bare.slice(0, 3) : `${bare.slice(0, 3)}.${bare.slice(3, n)}`);
  }
  return codes.map((c) => ({ url: links.code(system, c), system, code: c }));
}

/* An index of one state of the corpus */

/**
 * What one condition contributes to an index, computed once per content object: content read
 * for a write is never mutated (writes edit copies), so the next write reuses every condition it
 * did not change. This keeps a write's cost from growing with the corpus.
 */
interface Local {
  sources: SourceContent[];
  statements: Map<string, { section: StatementSectionKey; item: StatementContent }>;
  statistics: Map<string, { position: number; item: StatisticContent }>;
  /** Source id → what in this condition cites it, as GET /v1/sources/{id} lists it in `citedBy`. */
  citedBy: Map<string, string[]>;
  /** The sources it cites (as a citation or a statistic's primary source). */
  cited: Set<string>;
  /** Treatments its figures name (as the treatment or the comparison). */
  named: Set<string>;
  /** Its statistics about a treatment, in position order. */
  about: { treatment: string; position: number; id: string }[];
  /** Conditions it links to in `related`. */
  links: Set<string>;
  /** `system|CODE` → holder (`c|<condition>|<index>` or `t|<treatment>|<index>`), in document order. */
  codes: [string, string][];
}

const locals = new WeakMap<ConditionContent, Local>();

const codeKey = (system: string, code: string) => `${system}|${code.toUpperCase()}`;

function localOf(c: ConditionContent): Local {
  const known = locals.get(c);
  if (known) return known;
  const l: Local = { sources: c.sources, statements: new Map(), statistics: new Map(), citedBy: new Map(), cited: new Set(), named: new Set(), about: [], links: new Set(), codes: [] };
  const cite = (list: readonly CitationContent[], citing: string) => {
    for (const id of citedIds(list)) {
      l.cited.add(id);
      let by = l.citedBy.get(id);
      if (!by) l.citedBy.set(id, (by = []));
      by.push(citing);
    }
  };
  cite(c.summarySources, `summary|${c.id}|${c.id}`);
  for (const r of c.related) {
    cite(r.sources, `related|${r.condition}|${c.id}`);
    l.links.add(r.condition);
  }
  c.codes.forEach((k, i) => l.codes.push([codeKey(k.system, k.code), `c|${c.id}|${i}`]));
  for (const { section, item } of statementsOf(c)) {
    l.statements.set(item.id, { section, item });
    cite(item.sources, `statement|${item.id}|${c.id}|${section}`);
    if ('codes' in item) item.codes.forEach((k, i) => l.codes.push([codeKey(k.system, k.code), `t|${item.id}|${i}`]));
  }
  c.statistics.forEach((s, position) => {
    l.statistics.set(s.id, { position, item: s });
    cite(s.sources, `statistic|${s.id}|${c.id}`);
    l.cited.add(s.primarySource);
    for (const t of [s.treatment, s.comparedWith?.treatment ?? null]) if (t !== null) l.named.add(t);
    if (s.treatment !== null) l.about.push({ treatment: s.treatment, position, id: s.id });
  });
  locals.set(c, l);
  return l;
}

interface Lookup<V> {
  get(key: string): V | undefined;
}

interface Index {
  corpus: ReadonlyMap<string, ConditionContent>;
  sources: Lookup<{ source: SourceContent; definedIn: string }>;
  statements: Lookup<{ conditionId: string; section: StatementSectionKey; item: StatementContent }>;
  statistics: Lookup<{ conditionId: string; position: number; item: StatisticContent }>;
  /** Source id → the conditions citing it (as a citation or a statistic's primary source). */
  citingConditions: Lookup<Set<string>>;
  /** Source id → what cites it, as GET /v1/sources/{id} lists it in `citedBy`. */
  citedBy: Lookup<Set<string>>;
  /** Treatment id → the statistics about it, in the order of GET /v1/treatments/{id} (its own condition first). */
  statisticsAbout: Lookup<string[]>;
  /** Treatment id → the conditions whose figures name it (as the treatment or the comparison). */
  namingConditions: Lookup<Set<string>>;
  /** Condition id → the conditions that link to it in `related`. */
  linkingConditions: Lookup<Set<string>>;
  /** `system|CODE` → what carries the code: `c|<condition>|<index>` or `t|<treatment>|<index>`. */
  codes: Lookup<string[]>;
  /** Every `system|CODE` carried anywhere. */
  codeKeys: () => Set<string>;
  /** Condition id → the sources it cites. */
  citedSources: Lookup<Set<string>>;
  /** Views computed so far in this state, by kind and id: each entity's is needed several times. */
  memo: Map<string, string | undefined>;
}

/** A lookup answered on first use of each key by `find`, then remembered. */
function lookup<V>(find: (key: string) => V | undefined): Lookup<V> {
  const found = new Map<string, V | undefined>();
  return {
    get(key) {
      if (!found.has(key)) found.set(key, find(key));
      return found.get(key);
    },
  };
}

/** A value computed on first use. */
function once<T>(compute: () => T): () => T {
  let value: { v: T } | undefined;
  return () => (value ??= { v: compute() }).v;
}

/**
 * Reverse lookups (what refers to a source, a treatment, a condition, a code) over one corpus,
 * kept in step with the corpus of each write by `sync`: only conditions whose content object
 * changed are taken out and put back, so after the first write a write's cost does not grow
 * with the corpus.
 */
class ReverseIndex {
  private readonly objects = new Map<string, ConditionContent>();
  /** Source id → the conditions citing it (as a citation or a statistic's primary source). */
  readonly cited = new Map<string, Set<string>>();
  /** Treatment id → the conditions whose figures name it. */
  readonly named = new Map<string, Set<string>>();
  /** Condition id → the conditions linking to it. */
  readonly links = new Map<string, Set<string>>();
  /** `system|CODE` → the conditions carrying it (on the condition or one of its treatments). */
  readonly codes = new Map<string, Set<string>>();
  /** Source id → the condition defining it. */
  readonly sources = new Map<string, string>();

  sync(corpus: ReadonlyMap<string, ConditionContent>): void {
    for (const [id, c] of this.objects) if (corpus.get(id) !== c) this.update(id, c, -1);
    for (const [id, c] of corpus) if (this.objects.get(id) !== c) this.update(id, c, 1);
  }

  private update(id: string, c: ConditionContent, sign: 1 | -1): void {
    const l = localOf(c);
    const edit = (map: Map<string, Set<string>>, keys: Iterable<string>) => {
      for (const key of keys) {
        let set = map.get(key);
        if (sign === 1) {
          if (!set) map.set(key, (set = new Set()));
          set.add(id);
        } else if (set) {
          set.delete(id);
          if (set.size === 0) map.delete(key);
        }
      }
    };
    edit(this.cited, l.cited);
    edit(this.named, l.named);
    edit(this.links, l.links);
    edit(this.codes, l.codes.map(([key]) => key));
    for (const s of l.sources) {
      if (sign === 1) this.sources.set(s.id, id);
      else if (this.sources.get(s.id) === id) this.sources.delete(s.id);
    }
    if (sign === 1) this.objects.set(id, c);
    else this.objects.delete(id);
  }
}

/** The one reverse index, synced to the corpus before each write (any corpus: it catches up). */
const reverse = new ReverseIndex();

const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The index of one state of the corpus: `reverse` as synced, except for the conditions in
 * `differ`, whose content here is not what `reverse` holds (a write's after-state). Lookups by
 * id go to the condition the id starts with (validation makes every statement and statistic id
 * start with its condition's).
 */
function indexOf(corpus: ReadonlyMap<string, ConditionContent>, differ: ReadonlySet<string> = new Set()): Index {
  const local = (id: string) => {
    const c = corpus.get(id);
    return c && localOf(c);
  };
  /** The conditions `map` lists for `key`, with those in `differ` answered by `has` on their content here. */
  const referring = (map: Map<string, Set<string>>, key: string, has: (l: Local) => boolean): Set<string> | undefined => {
    const out = new Set<string>();
    for (const id of map.get(key) ?? []) if (!differ.has(id)) out.add(id);
    for (const id of differ) {
      const l = local(id);
      if (l && has(l)) out.add(id);
    }
    return out.size ? out : undefined;
  };
  // Validation makes every statement and statistic id start with its condition's id (kb validate,
  // and every curated write), so the owner is the only place to look. Looking through the whole
  // corpus instead, for each statistic asked of `statements` (which has none), made a write's cost
  // grow with the corpus: ~30 ms per write at 1,000 conditions.
  const owned = <V>(id: string, pick: (l: Local) => V | undefined): { conditionId: string; v: V } | undefined => {
    const owner = corpus.get(id.slice(0, id.indexOf('.')));
    const v = owner ? pick(localOf(owner)) : undefined;
    return owner && v !== undefined ? { conditionId: owner.id, v } : undefined;
  };
  const statements = lookup((id) => {
    const o = owned(id, (l) => l.statements.get(id));
    return o && { conditionId: o.conditionId, ...o.v };
  });
  const codeKeys = once(() => {
    const keys = new Set(reverse.codes.keys());
    for (const id of differ) for (const [key] of local(id)?.codes ?? []) keys.add(key);
    return keys;
  });
  return {
    corpus,
    sources: lookup((sid) => {
      for (const id of differ) {
        const source = corpus.get(id)?.sources.find((s) => s.id === sid);
        if (source) return { source, definedIn: id };
      }
      const owner = reverse.sources.get(sid);
      const source = owner === undefined || differ.has(owner) ? undefined : corpus.get(owner)?.sources.find((s) => s.id === sid);
      return owner !== undefined && source ? { source, definedIn: owner } : undefined;
    }),
    statements,
    statistics: lookup((id) => {
      const o = owned(id, (l) => l.statistics.get(id));
      return o && { conditionId: o.conditionId, ...o.v };
    }),
    citingConditions: lookup((sid) => referring(reverse.cited, sid, (l) => l.cited.has(sid))),
    citedBy: lookup((sid) => {
      const all = [...(referring(reverse.cited, sid, (l) => l.cited.has(sid)) ?? [])].flatMap((id) => local(id)?.citedBy.get(sid) ?? []);
      return all.length ? new Set(all) : undefined;
    }),
    // As SQL orders them: the treatment's own condition first, then by condition id and position.
    statisticsAbout: lookup((t) => {
      const own = statements.get(t)?.conditionId;
      const ids = [...(referring(reverse.named, t, (l) => l.named.has(t)) ?? [])].sort(byId);
      const about = ids.flatMap((id) => (local(id)?.about ?? []).filter((a) => a.treatment === t).map((a) => ({ id: a.id, conditionId: id })));
      if (about.length === 0) return undefined;
      return [...about.filter((a) => a.conditionId === own), ...about.filter((a) => a.conditionId !== own)].map((a) => a.id);
    }),
    namingConditions: lookup((t) => referring(reverse.named, t, (l) => l.named.has(t))),
    linkingConditions: lookup((id) => referring(reverse.links, id, (l) => l.links.has(id))),
    codes: lookup((key) => {
      const holders = [...(referring(reverse.codes, key, (l) => l.codes.some(([k]) => k === key)) ?? [])]
        .sort(byId)
        .flatMap((id) => (local(id)?.codes ?? []).filter(([k]) => k === key).map(([, holder]) => holder));
      return holders.length ? holders : undefined;
    }),
    codeKeys,
    citedSources: lookup((id) => local(id)?.cited),
    memo: new Map(),
  };
}

/* Views: everything a URL's representations are built from */

/** A view is kept as a hash of its JSON: lists are built from their items' views, which stay short. */
const json = (v: unknown) => createHash('sha256').update(JSON.stringify(v)).digest('base64url');

/** A citation as every citing item shows it: id, locator and the cited work's short citation and links. */
function refs(idx: Index, list: readonly CitationContent[]): unknown[] {
  return list.map((c) => {
    const { id, locator } = citationRef(c);
    const s = idx.sources.get(id)?.source;
    return [id, locator, s ? [shortCitation(s), s.doi, s.pmid, sourceUrl(s)] : null];
  });
}

const treatmentName = (idx: Index, id: string | null | undefined) => (id ? (idx.statements.get(id)?.item.name ?? null) : null);

function factView(idx: Index, id: string): string | undefined {
  return memo(idx, 'factView', id, () => factViewOf(idx, id));
}

function factViewOf(idx: Index, id: string): string | undefined {
  const st = idx.statements.get(id);
  const x = st ? undefined : idx.statistics.get(id);
  const holder = st ?? x;
  const c = holder && idx.corpus.get(holder.conditionId);
  if (!holder || !c) return undefined;
  return json([c.id, c.name, c.lastReviewed, st?.section ?? 'statistics', holder.item, refs(idx, holder.item.sources)]);
}

function statisticView(idx: Index, id: string): string | undefined {
  return memo(idx, 'statisticView', id, () => statisticViewOf(idx, id));
}

function statisticViewOf(idx: Index, id: string): string | undefined {
  const x = idx.statistics.get(id);
  const c = x && idx.corpus.get(x.conditionId);
  if (!x || !c) return undefined;
  const s = x.item;
  // The FHIR rendering and the CSV carry the primary source whole and the condition's name.
  return json([c.id, c.name, c.lastReviewed, s, refs(idx, s.sources), treatmentName(idx, s.treatment), treatmentName(idx, s.comparedWith?.treatment), idx.sources.get(s.primarySource)?.source ?? null]);
}

function treatmentItemView(idx: Index, id: string): string | undefined {
  return memo(idx, 'treatmentItemView', id, () => treatmentItemViewOf(idx, id));
}

function treatmentItemViewOf(idx: Index, id: string): string | undefined {
  const st = idx.statements.get(id);
  const c = st && idx.corpus.get(st.conditionId);
  if (!st || st.section !== 'treatments' || !c) return undefined;
  return json([c.id, c.lastReviewed, st.item, refs(idx, st.item.sources), idx.statisticsAbout.get(id) ?? []]);
}

function treatmentView(idx: Index, id: string): string | undefined {
  const item = treatmentItemView(idx, id);
  if (item === undefined) return undefined;
  return json([item, (idx.statisticsAbout.get(id) ?? []).map((s) => statisticView(idx, s))]);
}

function sourceItemView(idx: Index, id: string): string | undefined {
  return memo(idx, 'sourceItemView', id, () => sourceItemViewOf(idx, id));
}

function sourceItemViewOf(idx: Index, id: string): string | undefined {
  const s = idx.sources.get(id);
  if (!s) return undefined;
  return json([s.source, s.definedIn, idx.corpus.get(s.definedIn)?.lastReviewed ?? null]);
}

function sourceView(idx: Index, id: string): string | undefined {
  const item = sourceItemView(idx, id);
  if (item === undefined) return undefined;
  return json([item, [...(idx.citedBy.get(id) ?? [])].sort()]);
}

/**
 * The document and (conservatively) each of its sections, of a condition the write did not touch:
 * its own content is the same on both sides, so only what it shows of others can differ: the
 * sources it cites (whole, in its reference list), the names of other conditions' treatments its
 * figures are about, and whether the conditions it links to exist. A touched condition's document
 * always changes (its version does), so it needs no view.
 */
function documentView(idx: Index, id: string): string | undefined {
  const c = idx.corpus.get(id);
  if (!c) return undefined;
  const named = c.statistics.flatMap((s) => [s.treatment, s.comparedWith?.treatment ?? null]).filter((t): t is string => t !== null);
  return json([
    citedSourcesOf(idx, c).map((s) => idx.sources.get(s) ?? null),
    named.map((t) => [t, treatmentName(idx, t)]),
    c.related.map((r) => idx.corpus.has(r.condition)),
  ]);
}

const factIdsOf = (c: ConditionContent) => [...statementsOf(c).map((s) => s.item.id), ...c.statistics.map((s) => s.id)].sort();
const treatmentIdsOf = (c: ConditionContent) => c.treatments.map((t) => t.id).sort();
const statisticIdsOf = (c: ConditionContent) => c.statistics.map((s) => s.id).sort();

function citedSourcesOf(idx: Index, c: ConditionContent): string[] {
  return [...(idx.citedSources.get(c.id) ?? [])].sort();
}

/** A view computed once per state of the corpus. */
function memo(idx: Index, kind: string, id: string, view: () => string | undefined): string | undefined {
  const key = `${kind}:${id}`;
  if (idx.memo.has(key)) return idx.memo.get(key);
  const v = view();
  idx.memo.set(key, v);
  return v;
}

function lookupView(idx: Index, system: string, code: string): string | undefined {
  const row = (holder: string) => {
    const [kind, id = '', i = '0'] = holder.split('|');
    if (kind === 'c') {
      const c = idx.corpus.get(id);
      return c ? [id, c.name, c.lastReviewed, c.codes[Number(i)]] : null;
    }
    const t = idx.statements.get(id);
    const c = t && idx.corpus.get(t.conditionId);
    return t && c && 'codes' in t.item ? [id, c.id, t.item.name, c.lastReviewed, t.item.codes[Number(i)]] : null;
  };
  const exact = idx.codes.get(codeKey(system, code));
  if (exact) return json(exact.map(row));
  if (system !== 'icd10cm') return undefined;
  // No exact mapping: the lookup goes down the ICD-10-CM hierarchy (repositories/codes.ts).
  const bare = code.toUpperCase().replace('.', '');
  const below = [...idx.codeKeys()]
    .filter((key) => {
      const [s, c = ''] = key.split('|');
      const b = c.replace('.', '');
      return s === 'icd10cm' && b.length > bare.length && b.startsWith(bare);
    })
    .sort(byId)
    .flatMap((key) => {
      const holders = idx.codes.get(key);
      return holders ? [[key, holders.map(row)]] : [];
    });
  return below.length ? json(below) : undefined;
}

/** The URLs (with their views) of the mirror set that depend on the reached conditions, in one state of the corpus; code lookups are gathered in `lookups`. */
function views(idx: Index, reached: ReadonlySet<string>, touched: ReadonlySet<string>, side: string, lookups: Map<string, CodeLookup>): Map<string, string> {
  const out = new Map<string, string>();
  const put = (url: string, view: string | undefined) => {
    if (view !== undefined) out.set(url, view);
  };
  const conditions: string[] = [];
  const facts: string[] = [];
  const statistics: string[] = [];
  const treatments: string[] = [];
  const sources: string[] = [];
  for (const id of [...reached].sort()) {
    const c = idx.corpus.get(id);
    if (!c) continue;
    const doc = touched.has(id) ? side : documentView(idx, id);
    put(links.condition(id), doc);
    for (const s of SECTION_NAMES) put(links.section(id, s), doc);
    const lists = conditionLists(id);
    const factViews = factIdsOf(c).map((f) => [f, factView(idx, f)] as const);
    put(lists.facts, json([c.name, c.lastReviewed, factViews]));
    put(lists.factsFiltered, json(factViews));
    put(lists.statistics, json(statisticIdsOf(c).map((s) => statisticView(idx, s))));
    put(lists.treatments, json(treatmentIdsOf(c).map((t) => treatmentItemView(idx, t))));
    put(lists.sources, json(citedSourcesOf(idx, c).map((s) => sourceItemView(idx, s))));
    for (const [f, view] of factViews) put(links.fact(f), view);
    for (const s of statisticIdsOf(c)) put(links.statistic(s), statisticView(idx, s));
    for (const t of treatmentIdsOf(c)) put(links.treatment(t), treatmentView(idx, t));
    for (const s of c.sources) put(links.source(s.id), sourceView(idx, s.id));
    for (const k of [...c.codes, ...c.treatments.flatMap((t) => t.codes)]) for (const l of codeLookups(k.system, k.code)) lookups.set(l.url, l);
    // A list across conditions changes exactly when one of its items does: these are all that can.
    conditions.push(json([c.id, c.name, c.aliases, c.summary, c.codes, c.version, c.lastReviewed]));
    facts.push(...factViews.map(([f, view]) => `${f} ${view ?? ''}`));
    statistics.push(...statisticIdsOf(c).map((s) => `${s} ${statisticView(idx, s) ?? ''}`));
    treatments.push(...treatmentIdsOf(c).map((t) => `${t} ${treatmentItemView(idx, t) ?? ''}`));
    sources.push(...c.sources.map((s) => `${s.id} ${sourceItemView(idx, s.id) ?? ''}`));
  }
  const global = { conditions, facts, statistics, treatments, sources };
  for (const [name, items] of Object.entries(global)) out.set(`${API_PREFIX}/${name}`, json(items.sort()));
  return out;
}

/** The conditions whose URLs a change of `touched` can alter, in one state of the corpus (see the module comment). */
function reach(idx: Index, touched: ReadonlySet<string>, into: Set<string>): void {
  for (const id of touched) {
    into.add(id);
    const c = idx.corpus.get(id);
    for (const other of idx.linkingConditions.get(id) ?? []) into.add(other);
    if (!c) continue;
    // Citing its sources (refs, documents) and defining the sources it cites (their citedBy).
    for (const s of c.sources) for (const other of idx.citingConditions.get(s.id) ?? []) into.add(other);
    for (const source of idx.citedSources.get(id) ?? []) into.add(idx.sources.get(source)?.definedIn ?? id);
    // Figures about its treatments (names), and the treatments its figures are about (evidence).
    for (const t of c.treatments) for (const other of idx.namingConditions.get(t.id) ?? []) into.add(other);
    for (const s of c.statistics) for (const t of [s.treatment, s.comparedWith?.treatment ?? null]) if (t !== null) into.add(idx.statements.get(t)?.conditionId ?? id);
  }
}

/**
 * The URLs a write changes, sorted. `before` is the corpus the write read; `after` the corpus it
 * commits (conditions in `written` replaced or removed); [] when no entity changed.
 */
export function affectedUrls(before: ReadonlyMap<string, ConditionContent>, after: ReadonlyMap<string, ConditionContent>, written: readonly string[]): string[] {
  // Compared in canonical key order (as stored), so a body's key order is no change.
  const canonicalAfter = new Map(after);
  const touched = new Set<string>();
  for (const id of written) {
    const was = before.get(id);
    const now = after.get(id);
    if (now) canonicalAfter.set(id, canonicalCondition(now));
    const diff = diffEntities(was ? entitiesOf(was) : [], now ? entitiesOf(canonicalCondition(now)) : []);
    if (diff.length) touched.add(id);
  }
  if (touched.size === 0) return [];
  // The version a commit gives each touched condition (the document's `version`).
  for (const id of touched) {
    const now = canonicalAfter.get(id);
    if (now) canonicalAfter.set(id, { ...now, version: (before.get(id)?.version ?? 0) + 1 });
  }
  reverse.sync(before);
  const was = indexOf(before);
  const now = indexOf(canonicalAfter, new Set(written));
  const reached = new Set<string>();
  reach(was, touched, reached);
  reach(now, touched, reached);
  const lookups = new Map<string, CodeLookup>();
  const a = views(was, reached, touched, 'before', lookups);
  const b = views(now, reached, touched, 'after', lookups);
  // Lookups aggregate every condition carrying the code: compared in both states whichever side named them.
  for (const l of lookups.values()) {
    const va = lookupView(was, l.system, l.code);
    const vb = lookupView(now, l.system, l.code);
    if (va !== undefined) a.set(l.url, va);
    if (vb !== undefined) b.set(l.url, vb);
  }
  const changed = new Set<string>([META_URL]);
  for (const [url, view] of a) if (b.get(url) !== view) changed.add(url);
  for (const url of b.keys()) if (!a.has(url)) changed.add(url);
  return [...changed].sort();
}

/* Entries of the build */

/**
 * The URLs an entity's creation by the build brought into being: its own, its condition's
 * document, section and the lists it is in, and the code lookups it carries. `after` is the
 * entity's content as its revision holds it (a write body).
 */
export function builtEntityAffects(type: 'condition' | 'statement' | 'statistic' | 'source', id: string, conditionId: string, after: unknown): string[] {
  const content = (after ?? {}) as Record<string, unknown>;
  const lists = conditionLists(conditionId);
  const urls = new Set<string>([META_URL, links.condition(conditionId)]);
  const codes = (value: unknown) => {
    if (!Array.isArray(value)) return;
    for (const k of value as { system?: unknown; code?: unknown }[]) if (typeof k.system === 'string' && typeof k.code === 'string') for (const l of codeLookups(k.system, k.code)) urls.add(l.url);
  };
  if (type === 'condition') {
    for (const u of [...conditionUrls(conditionId), `${API_PREFIX}/conditions`]) urls.add(u);
    codes(content.codes);
  } else if (type === 'source') {
    for (const u of [links.source(id), `${API_PREFIX}/sources`, links.section(conditionId, 'sources')]) urls.add(u);
  } else {
    const section = type === 'statistic' ? 'statistics' : String(content.section ?? '');
    for (const u of [links.fact(id), `${API_PREFIX}/facts`, lists.facts, lists.factsFiltered, links.section(conditionId, section)]) urls.add(u);
    if (type === 'statistic') {
      for (const u of [links.statistic(id), `${API_PREFIX}/statistics`, lists.statistics]) urls.add(u);
      if (typeof content.treatment === 'string') urls.add(links.treatment(content.treatment));
    } else if (section === sectionName('treatments')) {
      for (const u of [links.treatment(id), `${API_PREFIX}/treatments`, lists.treatments]) urls.add(u);
      codes(content.codes);
    }
  }
  return [...urls].sort();
}

