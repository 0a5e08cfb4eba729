/**
 * Ranked full-text search over `search_index` (FTS5, porter + unicode61): one row per condition,
 * statement and statistic, written to `search_rows` by src/repositories/rows.ts; the index reads
 * titles and bodies from the items' own rows through the view `search_content` (migrations/0009).
 *
 * Ranking, best first:
 * 1. a condition whose name or an alias equals the whole query (someone typing a condition's name
 *    wants the condition, not the sentence that repeats the name most often);
 * 2. bm25 with the title (an item's name) weighted 10× the body (its text), since a term in the
 *    name says what the item is about and a term in the text only that it is mentioned;
 * 3. the id, so that equal scores keep one order and offset pages never repeat or skip an item.
 */
import type { Statement } from 'better-sqlite3';
import type { Sqlite } from '../db/connection.js';
import type { SourceRef } from '../schemas/common.js';
import { SearchQueryError, isFtsQueryError } from '../search/query.js';
import type { SourcesRepository } from './sources.js';

import type { SearchKind } from './rows.js';
import { links } from '../http/links.js';
import type { Retrieval } from '../retrieval/engine.js';
import { SECTION_NAMES } from './facts.js';
import type { FactSection } from '../schemas/fact.js';
import { contentEpoch } from './epoch.js';
import { createMemo } from '../search/memo.js';

/** Pages of results remembered per content epoch (src/search/memo.ts); one is ~10 KB. */
const REMEMBERED_PAGES = 256;

export { SEARCH_KINDS, type SearchKind } from './rows.js';

/**
 * The FTS query language ranks and matches as it always did: names (10×) and text only, not the
 * section names and curated questions that natural-language queries also search.
 */
const BM25 = 'bm25(search_index, 0, 0, 0, 0, 0, 10.0, 1.0, 0)';
const FTS_COLUMNS = '{title body} : ';
/** search_index column numbers for snippet() and highlight() (see migrations/0005). */
const TITLE_COLUMN = 5;
const BODY_COLUMN = 6;
const SNIPPET_TOKENS = 16;
/**
 * Private-use characters mark the matches inside SQLite; the text is HTML-escaped afterwards and
 * only then are the marks turned into <mark> tags, so stored text can never inject markup.
 */
const OPEN = '\uE000';
const CLOSE = '\uE001';

export interface SearchFilter {
  /** Compiled FTS5 MATCH expression (src/search/query.ts), never raw user text. */
  match: string;
  /** Used instead of `match` when `match` finds nothing (same filters). */
  anyMatch: string | null;
  /** The raw query, compared with condition names and aliases. */
  text: string;
  kind?: SearchKind;
  condition?: string;
  offset: number;
  limit: number;
}

/** A question in people's words (the default mode): ranked by the retrieval engine. */
export interface NaturalSearchFilter {
  text: string;
  kind?: SearchKind;
  condition?: string;
  offset: number;
  limit: number;
}

export interface SearchHit {
  kind: SearchKind;
  id: string;
  conditionId: string;
  /** The section the item lives in (kebab-case, as in URLs); `overview` for a condition itself. */
  section: FactSection | 'overview';
  title: string;
  snippet: string;
  score: number;
  url: string;
  sources: SourceRef[];
}

export interface SearchResult {
  hits: (SearchHit & { lastReviewed: string })[];
  /**
   * `natural`: a question in people's words; `all`: the FTS query as written; `any`: no item
   * matched it all, so items matching any term.
   */
  mode: 'natural' | 'all' | 'any';
  expression: string;
  /** Whether anything answers the query (natural mode applies a relevance floor; FTS mode: any hit). */
  answerable: boolean;
}

interface HitRow {
  kind: SearchKind;
  entity_id: string;
  condition_id: string;
  section: string;
  title: string;
  body_snippet: string;
  title_highlight: string;
  rank: number;
  last_reviewed: string;
  source_ids: string;
}

type Shape = { kind: boolean; condition: boolean };
type Params = Record<string, string | number>;

function filters(shape: Shape): string {
  // A condition's rowids from search_rows' index (`+`: a filter on the MATCH; FTS5 would rerun the
  // MATCH per listed rowid), instead of reading each match's stored row for its condition_id.
  return `${shape.kind ? ' AND r.kind = @kind' : ''}${shape.condition ? ' AND +search_index.rowid IN (SELECT id FROM search_rows WHERE condition_id = @condition)' : ''}`;
}

/**
 * One page of an FTS-mode ranking: rowids and scores only, so snippets, names and citations are
 * computed afterwards for the page's rows alone (decorateSql), not for every match before the
 * sort. A condition's name is read from `conditions` for its own row only.
 */
function rankSql(shape: Shape): string {
  return `SELECT r.id AS rowid, ${BM25} AS rank
    FROM search_index CROSS JOIN search_rows r ON r.id = search_index.rowid
    WHERE search_index MATCH '${FTS_COLUMNS}(' || @match || ')'${filters(shape)}
    ORDER BY
      (r.kind = 'condition' AND (EXISTS (SELECT 1 FROM conditions c WHERE c.id = r.entity_id AND lower(c.name) = @text) OR EXISTS (
         SELECT 1 FROM condition_aliases a WHERE a.condition_id = r.entity_id AND lower(a.alias) = @text))) DESC,
      rank, r.entity_id
    LIMIT @limit OFFSET @offset`;
}

function existsSql(shape: Shape): string {
  return `SELECT 1 AS found FROM search_index CROSS JOIN search_rows r ON r.id = search_index.rowid WHERE search_index MATCH '${FTS_COLUMNS}(' || @match || ')'${filters(shape)} LIMIT 1`;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function markup(marked: string): string {
  return escapeHtml(marked).replaceAll(OPEN, '<mark>').replaceAll(CLOSE, '</mark>');
}

/** Four significant digits: bm25 is tiny for terms found in most rows, so fixed decimals would show 0. */
function roundScore(rank: number): number {
  return Number((-rank).toPrecision(4));
}

/** The section of an index row as the API names it. */
export function hitSection(section: string): SearchHit['section'] {
  if (section === 'condition') return 'overview';
  return SECTION_NAMES[section as keyof typeof SECTION_NAMES] ?? 'overview';
}

/**
 * Snippets and citations for ranked rows: computed for one page only, after ranking. The page's
 * rowids filter one MATCH (`+rowid`: not handed to FTS5, which would rerun the MATCH per rowid).
 */
function decorateSql(match = '@match'): string {
  return `SELECT search_index.rowid AS rowid, search_index.kind, search_index.entity_id, search_index.condition_id, search_index.section, search_index.title,
      snippet(search_index, ${BODY_COLUMN}, '${OPEN}', '${CLOSE}', '…', ${SNIPPET_TOKENS}) AS body_snippet,
      highlight(search_index, ${TITLE_COLUMN}, '${OPEN}', '${CLOSE}') AS title_highlight,
      0 AS rank,
      (SELECT last_reviewed FROM conditions WHERE id = search_index.condition_id) AS last_reviewed,
      (SELECT json_group_array(json_array(source_id, locator)) FROM (
         SELECT source_id, locator FROM citations
         WHERE entity_type = CASE search_index.kind WHEN 'condition' THEN 'summary' WHEN 'statistic' THEN 'statistic' ELSE 'statement' END
           AND entity_id = search_index.entity_id
         ORDER BY position)) AS source_ids
    FROM search_index
    WHERE search_index MATCH ${match} AND +search_index.rowid IN (SELECT value FROM json_each(@rowids))`;
}

/** A condition's own row, when a question names only the condition: no match to highlight. */
const OVERVIEW_SQL = `SELECT r.id AS rowid, r.kind, r.entity_id, r.condition_id, r.section, r.title, r.body AS body_snippet, r.title AS title_highlight, 0 AS rank,
    (SELECT last_reviewed FROM conditions WHERE id = r.condition_id) AS last_reviewed,
    (SELECT json_group_array(json_array(source_id, locator)) FROM (
       SELECT source_id, locator FROM citations WHERE entity_type = 'summary' AND entity_id = r.entity_id ORDER BY position)) AS source_ids
  FROM search_content r WHERE r.id = ?`;

function urlOf(kind: SearchKind, id: string): string {
  if (kind === 'condition' || kind === 'treatment' || kind === 'statistic') return links.item(kind, id);
  return links.item('statement', id);
}

export function createSearchRepository(db: Sqlite, sources: SourcesRepository, retrieval: Retrieval) {
  // Prepared once per filter combination (four at most), on first use.
  const ranks = new Map<string, Statement<[Params], { rowid: number; rank: number }>>();
  const probes = new Map<string, Statement<[Params], { found: number }>>();
  function statementFor<R>(cache: Map<string, Statement<[Params], R>>, shape: Shape, sql: (s: Shape) => string): Statement<[Params], R> {
    const key = `${shape.kind ? 'k' : ''}${shape.condition ? 'c' : ''}`;
    let statement = cache.get(key);
    if (!statement) {
      statement = db.prepare<[Params], R>(sql(shape));
      cache.set(key, statement);
    }
    return statement;
  }

  const decorate = db.prepare<[Params], HitRow & { rowid: number }>(decorateSql());
  const decorateFts = db.prepare<[Params], HitRow & { rowid: number }>(decorateSql(`'${FTS_COLUMNS}(' || @match || ')'`));
  const overviewRow = db.prepare<[number], HitRow & { rowid: number }>(OVERVIEW_SQL);

  function present(r: HitRow, score = roundScore(r.rank)): SearchHit & { lastReviewed: string } {
    // A match only in the name leaves the body snippet without marks: show the marked name instead.
    const snippet = r.body_snippet.includes(OPEN) || r.kind === 'condition' ? r.body_snippet : r.title_highlight;
    const cited = (JSON.parse(r.source_ids) as (string | [string, string | null])[]).map((c) => (typeof c === 'string' ? c : c[1] === null ? c[0] : { id: c[0], locator: c[1] }));
    return {
      kind: r.kind,
      id: r.entity_id,
      conditionId: r.condition_id,
      section: hitSection(r.section),
      title: r.title,
      snippet: markup(snippet.length > 400 ? `${snippet.slice(0, 400)}…` : snippet),
      score,
      url: urlOf(r.kind, r.entity_id),
      sources: sources.refs(cited),
      lastReviewed: r.last_reviewed,
    };
  }

  function natural(f: NaturalSearchFilter): SearchResult {
    const ranking = retrieval.rank(f.text, { kinds: f.kind ? [f.kind] : undefined, condition: f.condition, limit: f.offset + f.limit });
    const page = ranking.rows.slice(f.offset, f.offset + f.limit);
    const expression = ranking.query.expression ?? '';
    const decorated = new Map<number, HitRow>();
    if (ranking.query.expression !== null && page.length) {
      for (const r of decorate.all({ match: ranking.query.expression, rowids: JSON.stringify(page.map((p) => p.rowid)) })) decorated.set(r.rowid, r);
    }
    const hits = page.flatMap((p) => {
      const row = decorated.get(p.rowid) ?? overviewRow.get(p.rowid);
      return row ? [present(row, Number(p.score.toPrecision(4)))] : [];
    });
    return { hits, mode: 'natural', expression, answerable: ranking.answerable };
  }

  function run(f: SearchFilter): SearchResult {
    const shape: Shape = { kind: f.kind !== undefined, condition: f.condition !== undefined };
    const scope: Params = {};
    if (f.kind !== undefined) scope.kind = f.kind;
    if (f.condition !== undefined) scope.condition = f.condition;
    let expression = f.match;
    let mode: SearchResult['mode'] = 'all';
    // Decided on existence, not on the page's rows, so every page of one query uses the same mode.
    if (f.anyMatch !== null && statementFor(probes, shape, existsSql).get({ ...scope, match: f.match }) === undefined) {
      expression = f.anyMatch;
      mode = 'any';
    }
    // Quotes only group words; `"calciphylaxis"` still names the condition.
    const text = f.text.replace(/["\u201C\u201D]/g, '').trim().replace(/\s+/g, ' ').toLowerCase();
    const ranked = statementFor(ranks, shape, rankSql).all({ ...scope, match: expression, text, limit: f.limit, offset: f.offset });
    const decorated = new Map<number, HitRow>();
    if (ranked.length) for (const r of decorateFts.all({ match: expression, rowids: JSON.stringify(ranked.map((p) => p.rowid)) })) decorated.set(r.rowid, r);
    const hits = ranked.flatMap((p) => {
      const row = decorated.get(p.rowid);
      return row ? [present(row, roundScore(p.rank))] : [];
    });
    return { hits, mode, expression, answerable: hits.length > 0 };
  }

  // A page is its hits with their snippets and citations: the same filter in the same epoch gives
  // the same page. Callers read results, never change them.
  const pagesMemo = createMemo<SearchResult>(contentEpoch(db), REMEMBERED_PAGES);
  const keyOf = (mode: string, f: object) => `${mode}:${JSON.stringify(f)}`;

  return {
    natural: (f: NaturalSearchFilter): SearchResult => pagesMemo.get(keyOf('natural', f), () => natural(f)),
    search(f: SearchFilter): SearchResult {
      try {
        return pagesMemo.get(keyOf('fts', f), () => run(f));
      } catch (error) {
        if (isFtsQueryError(error)) throw new SearchQueryError('the query cannot be searched; check quotes, parentheses and operators');
        throw error;
      }
    },
  };
}

export type SearchRepository = ReturnType<typeof createSearchRepository>;
