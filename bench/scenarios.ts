/**
 * What `npm run bench` measures, as data: each scenario is a list of requests (cycled through by
 * every connection), the status each must answer, the server that answers it (render cache on or
 * off) and its target. tests/bench.test.ts sends every one of them through `app.inject()`, so a
 * scenario that stops answering fails `npm test` instead of silently measuring errors.
 */
import type { BenchRequest } from './wrk.js';
import { MODEL_CONDITION } from './corpus.js';

export const DOC_PATH = `/v1/conditions/${MODEL_CONDITION}`;

/** Questions in people's words (the default natural mode), and one in the query language. */
export const SEARCH_QUERIES = [
  'sodium thiosulfate',
  'skin biopsy',
  'dialysis mortality',
  'warfarin',
  'painful skin ulcers',
  'kidney failure',
  'how is it treated',
  'wound infection',
];
export const FTS_QUERY = 'thio* OR (sepsis NOT wound)';
export const CONTEXT_QUESTIONS = ['how is calciphylaxis treated', 'what is the risk of dying on dialysis', 'sodium thiosulfate side effects'];

/** The write scenario: this statement's confidence is toggled, each PATCH with the last ETag. */
export const WRITE_FACT = `${MODEL_CONDITION}.symptom.livedo-patches`;
export const WRITE_VALUES = ['high', 'medium'] as const;

export interface Scenario {
  key: string;
  label: string;
  requests: BenchRequest[];
  expect: 200 | 304;
  /** the server with RENDER_CACHE=off */
  uncached?: boolean;
  /** minimum ratio of raw node:http's server CPU per request to the service's */
  target?: number;
  /** at 1,000 conditions: most CPU per request allowed, as a multiple of the one-condition figure */
  growthTarget?: number;
  /** connections for this scenario (default: the run's) */
  connections?: number;
  /** report bytes per second (throughput scenarios) */
  throughput?: boolean;
  /** seconds per run (default: the run's) */
  seconds?: number;
  /** also replayed by a bare Fastify app (bench/raw.ts, RAW_SERVER=fastify): the framework's own floor */
  floor?: boolean;
}

const get = (path: string, headers?: Record<string, string>): BenchRequest => ({ method: 'GET', path, ...(headers ? { headers } : {}) });

/** The read scenarios; `etag` is the current ETag of the model document; `exportPath` when the route exists. */
export function scenarios(etag: string, exportPath: string | null): Scenario[] {
  const list: Scenario[] = [
    { key: 'document', label: 'condition document (cached)', requests: [get(DOC_PATH)], expect: 200, target: 0.9, floor: true },
    { key: 'notModified', label: 'conditional GET → 304', requests: [get(DOC_PATH, { 'if-none-match': etag })], expect: 304, target: 0.9, floor: true },
    { key: 'uncached', label: 'condition document, render cache off', requests: [get(DOC_PATH)], expect: 200, uncached: true, target: 0.1, growthTarget: 1.5 },
    { key: 'section', label: 'one section (treatments)', requests: [get(`${DOC_PATH}/treatments`)], expect: 200 },
    {
      key: 'statistics',
      label: 'statistics list with filters',
      requests: [get('/v1/statistics?measure=mortality&minConfidence=medium&limit=20'), get(`/v1/statistics?condition=${MODEL_CONDITION}&measure=usage`)],
      expect: 200,
      target: 0.2,
      growthTarget: 1.5,
    },
    {
      key: 'facts',
      label: 'facts list',
      requests: [get(`/v1/facts?condition=${MODEL_CONDITION}&section=symptoms&limit=20`), get('/v1/facts?section=treatments&limit=20')],
      expect: 200,
      target: 0.2,
      growthTarget: 1.5,
    },
    {
      key: 'search',
      label: `search (${SEARCH_QUERIES.length + 1} queries, rotating)`,
      requests: [...SEARCH_QUERIES.map((q) => get(`/v1/search?q=${encodeURIComponent(q)}`)), get(`/v1/search?syntax=fts&q=${encodeURIComponent(FTS_QUERY)}`)],
      expect: 200,
      target: 0.15,
      growthTarget: 1.5,
    },
    { key: 'context', label: `/v1/context (${CONTEXT_QUESTIONS.length} questions)`, requests: CONTEXT_QUESTIONS.map((q) => get(`/v1/context?q=${encodeURIComponent(q)}`)), expect: 200 },
  ];
  if (exportPath) list.push({ key: 'export', label: 'export (throughput)', requests: [get(exportPath)], expect: 200, connections: 1, throughput: true, seconds: 8 });
  return list;
}
