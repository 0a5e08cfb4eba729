/**
 * Process settings, read once from the environment and validated. A bad value stops the start
 * with a message naming the variable. Nothing else reads `process.env`.
 */
import { resolve } from 'node:path';
import { Ajv } from 'ajv';
import { Type, type Static } from 'typebox';
import { PROJECT_ROOT } from './paths.js';

export const EnvSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000, description: 'TCP port to listen on' }),
  HOST: Type.String({ minLength: 1, default: '127.0.0.1', description: 'Interface to bind (the Docker image sets 0.0.0.0)' }),
  PUBLIC_BASE_URL: Type.Optional(
    Type.String({
      pattern: '^https?://[^\\s/?#]+(?:/[^\\s?#]*)?$',
      description: 'Origin (and path prefix, if any) clients reach the API at, for absolute links such as JSON-LD @id and url; default http://localhost:PORT',
    }),
  ),
  DATABASE_PATH: Type.String({ minLength: 1, default: 'data/kb.sqlite', description: 'SQLite file; built from db/content on first start when missing' }),
  LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info', description: 'pino log level' }),
  CACHE_MAX_AGE: Type.Integer({ minimum: 0, maximum: 31536000, default: 300, description: 'Cache-Control max-age (seconds) on content responses' }),
  BUILD_ON_START: Type.Enum(['true', 'false', 'always'], {
    default: 'true',
    description: 'true: build the database from the content files on the first start of a data directory (never over a lost database); always: also when a database was lost; false: never',
  }),
  CONTENT_DIR: Type.String({ minLength: 1, default: 'db/content', description: 'Folder of condition content files used by the first-start build' }),
  CORS_ORIGINS: Type.String({ default: '*', description: 'Comma-separated allowed origins, or * for any (the content is public)' }),
  RATE_LIMIT_MAX: Type.Integer({ minimum: 1, default: 600, description: 'Requests per client per window' }),
  RATE_LIMIT_REVALIDATE_MAX: Type.Optional(
    Type.Integer({ minimum: 1, description: 'Conditional GETs answered 304 per client per window, a budget of their own (default 10 × RATE_LIMIT_MAX)' }),
  ),
  RATE_LIMIT_EXPORT_MAX: Type.Integer({
    minimum: 1,
    default: 10,
    description: 'Bulk exports (GET /v1/export) per client per window, a budget of their own: an export does not count against RATE_LIMIT_MAX',
  }),
  RATE_LIMIT_WINDOW_MS: Type.Integer({ minimum: 1000, default: 60000, description: 'Rate-limit window in milliseconds' }),
  TRUST_PROXY: Type.String({ default: 'false', description: 'false, true, a hop count, or comma-separated proxy addresses/CIDRs' }),
  MAX_EVENT_LOOP_DELAY_MS: Type.Integer({ minimum: 0, default: 1000, description: 'Shed load with 503 above this event-loop delay (0 = off)' }),
  RENDER_CACHE: Type.Enum(['on', 'off'], { default: 'on', description: 'Cache rendered documents in memory (off: assemble every response; for benchmarks and debugging)' }),
  READ_ONLY: Type.Boolean({ default: false, description: 'Refuse every curator write with 503 (replicas, maintenance)' }),
  REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 30000, description: 'A request (headers and body) not received in full within this time gets 408' }),
  HEADERS_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 10000, description: 'Request headers not received in full within this time get 408 (at most REQUEST_TIMEOUT_MS)' }),
});
export type Env = Static<typeof EnvSchema>;

export interface Config {
  port: number;
  host: string;
  /** Absolute base of the links that must be absolute (JSON-LD `@id`/`url`), without a trailing slash. */
  publicBaseUrl: string;
  databasePath: string;
  logLevel: Env['LOG_LEVEL'];
  cacheMaxAge: number;
  /** first-start: only when the directory never held a database (db/dbFile.ts); always; never. */
  buildOnStart: 'first-start' | 'always' | 'never';
  contentDir: string;
  corsOrigins: string[];
  rateLimitMax: number;
  /** Budget for revalidations (conditional GETs that end in 304), apart from rateLimitMax. */
  rateLimitRevalidateMax: number;
  rateLimitExportMax: number;
  rateLimitWindowMs: number;
  trustProxy: boolean | string[] | ((address: string, hop: number) => boolean);
  maxEventLoopDelayMs: number;
  /** false: every document is assembled and serialized per request (the benchmark's uncached case). */
  renderCache: boolean;
  /** true: every curator write answers 503 (a read replica, or maintenance). */
  readOnly: boolean;
  requestTimeoutMs: number;
  headersTimeoutMs: number;
}

function parseTrustProxy(value: string): Config['trustProxy'] {
  if (value === 'true') return true;
  if (value === 'false' || value === '') return false;
  if (/^\d+$/.test(value)) {
    // A hop count: trust that many proxies in front of this one.
    const hops = Number(value);
    return (_address, hop) => hop < hops;
  }
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

/**
 * process.env with `env` over it, checked against EnvSchema, coerced from strings and with the
 * defaults filled in; unknown variables are dropped and every problem is named ("env/PORT must be
 * integer, …"). This is what env-schema did, with its Ajv options, called directly: importing
 * env-schema compiled Ajv's draft-07 meta-schema (to check a keyword of its own) and then checked
 * EnvSchema against it, ~10% of start-up CPU. EnvSchema is a constant of this file that every
 * start uses, so it is not checked against the meta-schema each time (`validateSchema: false`).
 */
function validateEnv(env: NodeJS.ProcessEnv): Env {
  // `optimize: false`: Ajv's pass over its generated code, which only trims it, cost more than the
  // one run this validator gets (config load 30 → 20 ms CPU).
  const ajv = new Ajv({ allErrors: true, removeAdditional: true, useDefaults: true, coerceTypes: true, allowUnionTypes: true, addUsedSchema: false, validateSchema: false, code: { optimize: false } });
  const validate = ajv.compile<Env>({ ...EnvSchema, additionalProperties: false });
  const data: unknown = { ...process.env, ...env };
  if (!validate(data)) throw new Error(ajv.errorsText(validate.errors, { dataVar: 'env' }));
  return data;
}

/** Relative paths are taken from the project root, so `npm start` works from any folder. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const e = validateEnv(env);
  return {
    port: e.PORT,
    host: e.HOST,
    // The default suits a server reached on this machine; behind a proxy or on a public host, set it.
    publicBaseUrl: (e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    databasePath: e.DATABASE_PATH === ':memory:' ? e.DATABASE_PATH : resolve(PROJECT_ROOT, e.DATABASE_PATH),
    logLevel: e.LOG_LEVEL,
    cacheMaxAge: e.CACHE_MAX_AGE,
    buildOnStart: e.BUILD_ON_START === 'always' ? 'always' : e.BUILD_ON_START === 'false' ? 'never' : 'first-start',
    contentDir: resolve(PROJECT_ROOT, e.CONTENT_DIR),
    corsOrigins: e.CORS_ORIGINS.split(',').map((s) => s.trim()).filter(Boolean),
    rateLimitMax: e.RATE_LIMIT_MAX,
    rateLimitRevalidateMax: e.RATE_LIMIT_REVALIDATE_MAX ?? 10 * e.RATE_LIMIT_MAX,
    rateLimitExportMax: e.RATE_LIMIT_EXPORT_MAX,
    rateLimitWindowMs: e.RATE_LIMIT_WINDOW_MS,
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    maxEventLoopDelayMs: e.MAX_EVENT_LOOP_DELAY_MS,
    renderCache: e.RENDER_CACHE === 'on',
    readOnly: e.READ_ONLY,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    // Node refuses a headers timeout longer than the request timeout.
    headersTimeoutMs: Math.min(e.HEADERS_TIMEOUT_MS, e.REQUEST_TIMEOUT_MS),
  };
}
