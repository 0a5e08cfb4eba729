/**
 * A small typed client for the Condition Knowledge API. Paths, parameters and response bodies
 * are typed from `schema.d.ts`, which openapi-typescript generates from openapi/openapi.json
 * (`npm run client:generate`); openapi-fetch does the requests. A renamed field or a removed
 * parameter in the API is a type error here, and a test fails when schema.d.ts is stale.
 *
 *   const kb = createKbClient('http://127.0.0.1:3000');
 *   const doc = await kb.getCondition('calciphylaxis');
 */
import createClient from 'openapi-fetch';
import type { components, operations, paths } from './schema.js';

export type Condition = components['schemas']['Condition'];
export type Statistic = components['schemas']['Statistic'];
export type Problem = components['schemas']['Problem'];
export type StatisticFilters = Omit<NonNullable<operations['listStatistics']['parameters']['query']>, 'cursor'>;
export type FactFilters = Omit<NonNullable<operations['listFacts']['parameters']['query']>, 'cursor' | 'format' | 'limit'> & { limit?: number };
export type SearchOptions = Omit<operations['searchContent']['parameters']['query'], 'q' | 'cursor' | 'format' | 'limit'> & { limit?: number };
export type SearchResults = operations['searchContent']['responses'][200]['content']['application/json'];
export type FactDocument = operations['getFact']['responses'][200]['content']['application/json'];
export type CodeSystem = operations['getConditionsByCode']['parameters']['path']['system'];

const DEFAULT_LIMIT = 20;

/** Any non-2xx answer, carrying the API's RFC 9457 problem body when there is one. */
export class KbError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Partial<Problem> | undefined,
  ) {
    super(`${status} ${problem?.title ?? 'error'}${problem?.detail ? `: ${problem.detail}` : ''}`);
    this.name = 'KbError';
  }
}

/** openapi-fetch returns `{ data, error, response }`; callers of this client get data or a KbError. */
function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.data !== undefined && result.response.ok) return result.data;
  const problem = typeof result.error === 'object' && result.error !== null ? (result.error as Partial<Problem>) : undefined;
  throw new KbError(result.response.status, problem);
}

export function createKbClient(baseUrl: string, options: { fetch?: (request: Request) => Promise<Response> } = {}) {
  // JSON is the typed default; the Markdown helpers ask for text explicitly (parseAs: 'text').
  const api = createClient<paths, 'application/json'>({ baseUrl, ...(options.fetch ? { fetch: options.fetch } : {}) });
  // Condition documents are large and change rarely: keep the last copy and its ETag, and let the
  // server answer 304 instead of resending the same bytes.
  const conditionCache = new Map<string, { etag: string; body: Condition }>();

  return {
    /** The underlying openapi-fetch client, for any operation this wrapper does not cover. */
    api,

    /** The whole condition document; revalidated with If-None-Match after the first fetch. */
    async getCondition(id: string): Promise<Condition> {
      const cached = conditionCache.get(id);
      const result = await api.GET('/v1/conditions/{id}', {
        params: { path: { id } },
        ...(cached ? { headers: { 'if-none-match': cached.etag } } : {}),
      });
      if (result.response.status === 304 && cached) return cached.body;
      const body = unwrap(result);
      const etag = result.response.headers.get('etag');
      if (etag) conditionCache.set(id, { etag, body });
      return body;
    },

    /** The condition as Markdown with numbered citations, the review date and the disclaimer. */
    async getConditionMarkdown(id: string): Promise<string> {
      return unwrap(await api.GET('/v1/conditions/{id}', { params: { path: { id }, query: { format: 'markdown' } }, parseAs: 'text' }));
    },

    /** One page of statistics; pass `cursor` from the previous page's `page.nextCursor`. */
    async listStatistics(filters: StatisticFilters = {}, cursor?: string) {
      return unwrap(await api.GET('/v1/statistics', { params: { query: { ...filters, ...(cursor ? { cursor } : {}) } } }));
    },

    /** Every statistic matching the filters, following cursors to the last page. */
    async allStatistics(filters: StatisticFilters = {}): Promise<Statistic[]> {
      const all: Statistic[] = [];
      let cursor: string | undefined;
      do {
        const page = await this.listStatistics(filters, cursor);
        all.push(...page.data);
        cursor = page.page.nextCursor ?? undefined;
      } while (cursor);
      return all;
    },

    /** Ranked full-text hits with highlighted snippets and their sources. */
    async search(q: string, options: SearchOptions = {}): Promise<SearchResults> {
      return unwrap(await api.GET('/v1/search', { params: { query: { ...options, q, limit: options.limit ?? DEFAULT_LIMIT } } }));
    },

    /** One atomic, citable fact (a statement or a statistic) by its stable id. */
    async getFact(id: string): Promise<FactDocument> {
      return unwrap(await api.GET('/v1/facts/{id}', { params: { path: { id } } }));
    },

    /** Facts matching the filters as Markdown: a list with citations, a reference list and the disclaimer. */
    async factsMarkdown(filters: FactFilters = {}): Promise<string> {
      const query = { ...filters, limit: filters.limit ?? DEFAULT_LIMIT, format: 'markdown' as const };
      return unwrap(await api.GET('/v1/facts', { params: { query }, parseAs: 'text' }));
    },

    /** Conditions a medical code covers, with how well it matches (exact, broader, narrower). */
    async conditionsByCode(system: CodeSystem, code: string) {
      return unwrap(await api.GET('/v1/codes/{system}/{code}', { params: { path: { system, code } } }));
    },
  };
}

export type KbClient = ReturnType<typeof createKbClient>;
