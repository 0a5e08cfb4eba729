/**
 * Ranked retrieval for questions in people's words, shared by /v1/search, /v1/facts?q= and
 * /v1/context: parse the text (natural.ts), rank index rows with bm25 over the section name,
 * title, body and curated questions, and decide whether anything answers the question at all.
 *
 * Rank first, then decorate: the ranking query touches only the index; snippets and citations are
 * computed afterwards for the rows of the page alone.
 */
import type { Sqlite } from '../db/connection.js';
import type { SearchKind } from '../repositories/rows.js';
import { parseNaturalQuery, type NaturalQuery, type QueryContext } from './natural.js';
import { parseVocabulary } from './vocabulary.js';
import { contentEpoch } from '../repositories/epoch.js';
import { createMemo } from '../search/memo.js';

/**
 * bm25 weights per search_index column: kind, entity_id, condition_id, section (unindexed),
 * section_name, title, body, questions. A term in an item's name or in a question curators wrote
 * for it says what the item is about; in its section's name, where it belongs; in its text, only
 * that it is mentioned.
 */
/** Query modes of /v1/search, /v1/facts and /v1/context: people's words (default) or the FTS query language. */
export const SEARCH_SYNTAXES = ['natural', 'fts'] as const;

export const BM25_WEIGHTS = [0, 0, 0, 0, 4, 10, 1, 8] as const;
const BM25 = `bm25(search_index, ${BM25_WEIGHTS.join(', ')})`;

/**
 * The relevance floor: a hit scoring below it does not answer the question. Calibrated on the
 * retrieval benchmark (bench/retrieval/questions.yaml; `npm run bench:retrieval` prints the
 * score distribution of answerable and unanswerable questions).
 */
export const RELEVANCE_FLOOR = 2.0;
/** Below this share of the best hit's score an item is noise next to it. */
export const RELATIVE_FLOOR = 0.25;
/**
 * One of the top five hits must speak to at least this share of the question's parts for the question to be
 * answerable: more than half of them. At exactly half, a two-part question was "answered" by an item covering
 * its easy half alone: "sodium thiosulfate dose" by the items naming the drug that give no dose, "randomized
 * controlled trial of sodium thiosulfate" by items about the drug that report no trial. 0.51 is above every
 * half (1/2, 2/4, …) and below the next share up (3/5, 4/7, …) for any question of fewer than 50 parts.
 */
export const MIN_COVERAGE = 0.51;
/** Score multiplier of an item covering none of the question's parts (one covering all keeps its bm25). */
const COVERAGE_BASE = 0.4;
/** Rows ranked by bm25 before coverage reorders them. */
const CANDIDATES = 50;
/** Rankings remembered per content epoch (src/search/memo.ts); one is a few dozen rows of ids and scores (~5 KB). */
const REMEMBERED_RANKINGS = 512;

export interface RankFilter {
  kinds?: readonly SearchKind[];
  condition?: string;
  /** Statement sections (keys) and `statistics` to keep. */
  sections?: readonly string[];
  /** Rows to rank before the floor is applied. */
  limit: number;
}

export interface RankedRow {
  rowid: number;
  kind: SearchKind;
  entityId: string;
  conditionId: string;
  section: string;
  score: number;
}

export interface Ranking {
  query: NaturalQuery;
  /** Words of the question that nothing in the knowledge base mentions: it asks about something not here. */
  unknown: string[];
  /** Rows above the floors, best first. */
  rows: RankedRow[];
  /** Whether anything clears the relevance floor. */
  answerable: boolean;
  /** The scope used: the `condition` filter, else the first condition the question names. */
  condition: string | undefined;
}

export function createRetrieval(db: Sqlite) {
  const epoch = contentEpoch(db);
  const namesStatement = db.prepare<[], { id: string; name: string }>(
    'SELECT id, lower(name) AS name FROM conditions UNION ALL SELECT condition_id, lower(alias) FROM condition_aliases',
  );
  const vocabularyStatement = db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'vocabulary'");
  let cached: { epoch: string; ctx: QueryContext } | undefined;

  /** What parsing needs, rebuilt only when the content changed (here or in another process). */
  function context(): QueryContext {
    const now = epoch.current();
    if (cached?.epoch === now) return cached.ctx;
    db.exec('CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_terms USING fts5vocab(main, search_index, row)');
    const lexicon = db.prepare<[], { term: string; rows: number }>("SELECT term, doc AS rows FROM temp.search_terms WHERE term GLOB '[a-z]*'").all();
    const sorted = lexicon.map((l) => l.term).sort();
    const conditionNames = new Map<string, string>();
    for (const r of namesStatement.all()) {
      // Names as the tokenizer splits them: "end-stage kidney disease" → "end stage kidney disease".
      const key = (r.name.match(/[\p{L}\p{N}]+/gu) ?? []).join(' ');
      if (key.length >= 3) conditionNames.set(key, r.id);
    }
    const ctx: QueryContext = {
      vocabulary: parseVocabulary(vocabularyStatement.get()?.value),
      conditionNames,
      lexicon,
      hasPrefix(prefix) {
        let lo = 0;
        let hi = sorted.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if ((sorted[mid] ?? '') < prefix) lo = mid + 1;
          else hi = mid;
        }
        return (sorted[lo] ?? '').startsWith(prefix);
      },
    };
    cached = { epoch: now, ctx };
    return ctx;
  }

  const rankStatements = new Map<string, ReturnType<typeof db.prepare<[Record<string, string | number>], RankedRow>>>();
  function rankStatement(filter: { kinds: boolean; condition: boolean; sections: boolean }) {
    const key = JSON.stringify(filter);
    let statement = rankStatements.get(key);
    if (!statement) {
      // The condition's rowids come from search_rows' index (one list per statement, `+`: a filter
      // on the MATCH, not handed to FTS5, which would rerun the MATCH per rowid), so bm25 and the
      // row's fields are computed for the condition's matches only; kind and section are read from
      // search_rows by rowid (CROSS JOIN: the MATCH drives), not through FTS5's content lookup.
      const where = [
        'search_index MATCH @match',
        filter.condition ? '+search_index.rowid IN (SELECT id FROM search_rows WHERE condition_id = @condition)' : null,
        filter.kinds ? 'r.kind IN (SELECT value FROM json_each(@kinds))' : null,
        filter.sections ? 'r.section IN (SELECT value FROM json_each(@sections))' : null,
      ].filter(Boolean);
      statement = db.prepare<[Record<string, string | number>], RankedRow>(
        `SELECT r.id AS rowid, r.kind, r.entity_id AS entityId, r.condition_id AS conditionId, r.section, -${BM25} AS score
         FROM search_index CROSS JOIN search_rows r ON r.id = search_index.rowid
         WHERE ${where.join(' AND ')} ORDER BY score DESC, entityId LIMIT @limit`,
      );
      rankStatements.set(key, statement);
    }
    return statement;
  }
  // Unfiltered ranking in two steps. Sorting on (score, entity_id) makes FTS5 read every matching
  // row's stored content for its entity_id (the body with it): at 1,000 conditions that was most
  // of a search. Ranked on bm25 alone, only the rows that can make the cut are read afterwards and
  // ordered as the statement orders them. A tie at the cut is resolved by entity_id as SQLite would,
  // once the whole tied group is in hand; when it may run past the rows fetched, the full statement
  // decides. Either way the rows and their order are those of the full statement.
  const rankByScore = db.prepare<[{ match: string; limit: number }], { rowid: number; score: number }>(
    `SELECT rowid, -${BM25} AS score FROM search_index WHERE search_index MATCH @match ORDER BY score DESC LIMIT @limit`,
  );
  const rowsById = db.prepare<[string], Omit<RankedRow, 'score'>>(
    'SELECT id AS rowid, kind, entity_id AS entityId, condition_id AS conditionId, section FROM search_rows WHERE id IN (SELECT value FROM json_each(?))',
  );
  function rankUnfiltered(match: string, limit: number): RankedRow[] {
    const scored = rankByScore.all({ match, limit: 2 * limit + 1 });
    let end = Math.min(limit, scored.length);
    const cut = scored[end - 1]?.score;
    while (end < scored.length && scored[end]?.score === cut) end++;
    if (end === scored.length && scored.length === 2 * limit + 1) return rankStatement({ kinds: false, condition: false, sections: false }).all({ match, limit });
    const top = scored.slice(0, end);
    const byId = new Map(rowsById.all(JSON.stringify(top.map((r) => r.rowid))).map((r) => [r.rowid, r]));
    return top
      .flatMap((r) => {
        const row = byId.get(r.rowid);
        return row ? [{ ...row, score: r.score }] : [];
      })
      .sort((a, b) => b.score - a.score || (a.entityId < b.entityId ? -1 : a.entityId > b.entityId ? 1 : 0))
      .slice(0, limit);
  }
  const anywhere = db.prepare<[string], { found: number }>('SELECT 1 AS found FROM search_index WHERE search_index MATCH ? LIMIT 1');
  const inCondition = db.prepare<[string, string], { found: number }>(
    'SELECT 1 AS found FROM search_index WHERE search_index MATCH ? AND +rowid IN (SELECT id FROM search_rows WHERE condition_id = ?) LIMIT 1',
  );
  // `+rowid` keeps the rowid list out of FTS5's plan: given `rowid IN (…)`, FTS5 runs the whole
  // MATCH again for every listed rowid (prefix expansion included), 50 times per group; as a
  // filter on one MATCH it is 15× cheaper at 1,000 conditions (22 → 1.5 ms for "skin"*).
  const within = db.prepare<[string, string], { rowid: number }>('SELECT rowid FROM search_index WHERE search_index MATCH ? AND +rowid IN (SELECT value FROM json_each(?))');
  const overview = db.prepare<[{ id: string }], RankedRow>(
    "SELECT id AS rowid, kind, entity_id AS entityId, condition_id AS conditionId, section, 0 AS score FROM search_rows WHERE condition_id = @id AND kind = 'condition' AND entity_id = @id",
  );

  const remembered = createMemo<Ranking>(epoch, REMEMBERED_RANKINGS);

  function rank(text: string, f: RankFilter): Ranking {
    const query = parseNaturalQuery(text, context());
    const condition = f.condition ?? query.conditions[0];
    if (query.expression === null) {
      // Nothing but a condition's name ("what is sepsis?"): its overview answers it, then the
      // items of any condition that mention it (calciphylaxis's sepsis complication).
      const row = condition !== undefined && (f.kinds === undefined || f.kinds.includes('condition')) ? overview.get({ id: condition }) : undefined;
      const names = query.conditions.length && f.condition === undefined ? [...context().conditionNames].filter(([, id]) => id === condition).map(([name]) => name) : [];
      const words = names.slice(0, 8);
      const params: Record<string, string | number> = { match: words.map((w) => `"${w}"`).join(' OR '), limit: f.limit };
      if (f.kinds) params.kinds = JSON.stringify(f.kinds);
      if (f.sections) params.sections = JSON.stringify(f.sections);
      const mentions = words.length ? rankStatement({ kinds: f.kinds !== undefined, condition: false, sections: f.sections !== undefined }).all(params) : [];
      const top = row ? [{ ...row, score: Math.max(RELEVANCE_FLOOR, (mentions[0]?.score ?? 0) + 1) }] : [];
      const rows = [...top, ...mentions.filter((m) => m.rowid !== row?.rowid && m.score >= RELEVANCE_FLOOR)].slice(0, f.limit);
      return { query, unknown: [], rows, answerable: rows.length > 0, condition };
    }
    const groups = query.groups
      .map((g) => ({ source: g.source, origin: g.origin, expression: g.terms.map((t) => `"${t}"*`).join(' OR ') }))
      .filter((g) => g.expression.length > 0);
    const params: Record<string, string | number> = { match: query.expression, limit: Math.max(f.limit, CANDIDATES) };
    if (f.kinds) params.kinds = JSON.stringify(f.kinds);
    if (condition !== undefined) params.condition = condition;
    if (f.sections) params.sections = JSON.stringify(f.sections);
    const filtered = f.kinds !== undefined || condition !== undefined || f.sections !== undefined;
    const candidates = filtered
      ? rankStatement({ kinds: f.kinds !== undefined, condition: condition !== undefined, sections: f.sections !== undefined }).all(params)
      : rankUnfiltered(query.expression, Math.max(f.limit, CANDIDATES));
    // Coverage: the share of the question's parts an item speaks to. An item matching one word
    // of "wound looks infected" many times ranks below one that matches both parts. Which
    // candidates each part matches is asked first: a part that matches one of them is mentioned in
    // the question's scope (every candidate is in it), so the scope is searched for it only when
    // none does. Each MATCH with prefix terms merges their whole doclists, which grow with the
    // corpus: this asks one per part where it asked two.
    const rowids = JSON.stringify(candidates.map((c) => c.rowid));
    const hits = new Map<(typeof groups)[number], number[]>();
    for (const g of groups) if (g.origin !== 'phrase') hits.set(g, within.all(g.expression, rowids).map((r) => r.rowid));
    // Within the question's scope: a word another condition uses says nothing about this one.
    const inScope = (expression: string) => (condition === undefined ? anywhere.get(expression) : inCondition.get(expression, condition)) !== undefined;
    const needed = new Set([...hits.keys()].map((g) => g.source));
    const absent = new Set(
      groups
        // A lay phrase's own parts only count where a plain word of the question shares their source.
        .filter((g) => (g.origin !== 'phrase' || needed.has(g.source)) && !(hits.get(g)?.length || inScope(g.expression)))
        .map((g) => g.source),
    );
    // A word inside a lay phrase is not required: the phrase's own terms say what it asks.
    const unknown = groups.filter((g) => absent.has(g.source) && g.origin !== 'phrase').map((g) => g.source);
    const known = groups.filter((g) => !absent.has(g.source) && g.origin !== 'phrase');
    const covered = new Map<number, number>();
    for (const g of known) for (const rowid of hits.get(g) ?? []) covered.set(rowid, (covered.get(rowid) ?? 0) + 1);
    const coverage = (r: RankedRow) => (known.length === 0 ? 0 : (covered.get(r.rowid) ?? 0) / known.length);
    const rows = candidates
      .map((r) => ({ ...r, score: r.score * (COVERAGE_BASE + (1 - COVERAGE_BASE) * coverage(r)) }))
      .sort((a, b) => b.score - a.score || (a.entityId < b.entityId ? -1 : 1))
      .slice(0, f.limit);
    const best = rows[0];
    const kept = rows.filter((r) => r.score >= RELEVANCE_FLOOR && r.score >= (best?.score ?? 0) * RELATIVE_FLOOR);
    // Honest about gaps: a question about something the knowledge base never mentions ("cost",
    // "vaccine", "apixaban") has no cited answer here, whatever else in it matched.
    const answerable = unknown.length === 0 && kept.slice(0, 5).some((r) => coverage(r) >= MIN_COVERAGE);
    return { query, unknown, rows: answerable ? kept : [], answerable, condition };
  }

  return {
    parse(text: string): NaturalQuery {
      return parseNaturalQuery(text, context());
    },

    /** The ranking of a question (callers read it, never change it: it may be handed out again). */
    rank(text: string, f: RankFilter): Ranking {
      return remembered.get(JSON.stringify([text, f.kinds ?? null, f.condition ?? null, f.sections ?? null, f.limit]), () => rank(text, f));
    },
  };
}

export type Retrieval = ReturnType<typeof createRetrieval>;
