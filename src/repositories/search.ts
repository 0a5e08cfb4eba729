/**
 * Ranked full-text search over `search_index` (FTS5, porter + unicode61; rows written by
 * src/repositories/rows.ts: one per condition, statement and statistic).
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

export { SEARCH_KINDS, type SearchKind } from './rows.js';

/** bm25 weights per column of search_index: kind, entity_id, condition_id (unindexed), title, body. */
const BM25 = 'bm25(search_index, 0.0, 0.0, 0.0, 10.0, 1.0)';
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

export interface SearchHit {
  kind: SearchKind;
  id: string;
  conditionId: string;
  title: string;
  snippet: string;
  score: number;
  url: string;
  sources: SourceRef[];
}

export interface SearchResult {
  hits: (SearchHit & { lastReviewed: string })[];
  /** `all`: the query as written; `any`: no item matched it all, so items matching any term. */
  mode: 'all' | 'any';
  expression: string;
}

interface HitRow {
  kind: SearchKind;
  entity_id: string;
  condition_id: string;
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
  return `${shape.kind ? ' AND search_index.kind = @kind' : ''}${shape.condition ? ' AND search_index.condition_id = @condition' : ''}`;
}

function pageSql(shape: Shape): string {
  // Snippets and citations are computed in the same statement: FTS5 auxiliary functions only
  // work in the query that does the MATCH. The corpus is small, so computing them for every
  // match before the sort is cheaper than a second round trip.
  return `SELECT search_index.kind, search_index.entity_id, search_index.condition_id, search_index.title,
      snippet(search_index, 4, '${OPEN}', '${CLOSE}', '…', ${SNIPPET_TOKENS}) AS body_snippet,
      highlight(search_index, 3, '${OPEN}', '${CLOSE}') AS title_highlight,
      ${BM25} AS rank,
      (SELECT last_reviewed FROM conditions WHERE id = search_index.condition_id) AS last_reviewed,
      (SELECT json_group_array(source_id) FROM (
         SELECT source_id FROM citations
         WHERE entity_type = CASE search_index.kind WHEN 'condition' THEN 'summary' WHEN 'statistic' THEN 'statistic' ELSE 'statement' END
           AND entity_id = search_index.entity_id
         ORDER BY position)) AS source_ids
    FROM search_index
    WHERE search_index MATCH @match${filters(shape)}
    ORDER BY
      (search_index.kind = 'condition' AND (lower(search_index.title) = @text OR EXISTS (
         SELECT 1 FROM condition_aliases a WHERE a.condition_id = search_index.entity_id AND lower(a.alias) = @text))) DESC,
      rank, search_index.entity_id
    LIMIT @limit OFFSET @offset`;
}

function existsSql(shape: Shape): string {
  return `SELECT 1 AS found FROM search_index WHERE search_index MATCH @match${filters(shape)} LIMIT 1`;
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

function urlOf(kind: SearchKind, id: string): string {
  if (kind === 'condition' || kind === 'treatment' || kind === 'statistic') return links.item(kind, id);
  return links.item('statement', id);
}

export function createSearchRepository(db: Sqlite, sources: SourcesRepository) {
  // Prepared once per filter combination (four at most), on first use.
  const pages = new Map<string, Statement<[Params], HitRow>>();
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

  function present(r: HitRow): SearchHit & { lastReviewed: string } {
    // A match only in the name leaves the body snippet without marks: show the marked name instead.
    const snippet = r.body_snippet.includes(OPEN) ? r.body_snippet : r.title_highlight;
    return {
      kind: r.kind,
      id: r.entity_id,
      conditionId: r.condition_id,
      title: r.title,
      snippet: markup(snippet),
      score: roundScore(r.rank),
      url: urlOf(r.kind, r.entity_id),
      sources: sources.refs(JSON.parse(r.source_ids) as string[]),
      lastReviewed: r.last_reviewed,
    };
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
    const rows = statementFor(pages, shape, pageSql).all({ ...scope, match: expression, text, limit: f.limit, offset: f.offset });
    return { hits: rows.map(present), mode, expression };
  }

  return {
    search(f: SearchFilter): SearchResult {
      try {
        return run(f);
      } catch (error) {
        if (isFtsQueryError(error)) throw new SearchQueryError('the query cannot be searched; check quotes, parentheses and operators');
        throw error;
      }
    },
  };
}

export type SearchRepository = ReturnType<typeof createSearchRepository>;
