/**
 * Completes the OpenAPI document generated from the route schemas with what every route has in
 * common but no route schema says: the statuses and headers that plugins add on the wire. Route
 * files only declare their own success bodies and the problems their handlers raise; from a little
 * metadata per route (what it produces, whether it is cached, rate-limited or needs a key) this
 * adds, operation by operation:
 * - `application/problem+json` for every 4xx/5xx body (the errors plugin's media type);
 * - 304 and 412 on every GET (http-caching: If-None-Match and If-Match, RFC 9110), 400 (request
 *   validation and malformed URLs), 406 (negotiation), 429 (rate limits; not /health, /ready),
 *   414 (an over-long path parameter), 500, and 503 (load shedding, shutdown, READ_ONLY);
 * - response headers: ETag, Cache-Control, Vary, Link, X-RateLimit-*, Retry-After,
 *   WWW-Authenticate, Location, X-Request-Id;
 * - If-None-Match and If-Match parameters on GETs, and If-Match marked required on writes that
 *   answer 428 without it (the route schema keeps it optional so that the answer is that 428, not
 *   a validation 400);
 * - `format` values narrowed to the representations the route offers, with an example it accepts;
 * - `security: []` on public operations, so a linter can tell public from forgotten.
 * It mutates the document in place (called from @fastify/swagger's transformObject), and works on
 * plain JSON shapes, checked as it goes.
 */
import { FORMATS, JSON_TYPE } from './media.js';

export interface RouteContract {
  method: string;
  /** The OpenAPI path: /v1/conditions/{id}. */
  path: string;
  produces: readonly string[];
  rateLimited: boolean;
}

/** Fastify's `/v1/conditions/:id` → OpenAPI's `/v1/conditions/{id}`. */
export const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

type Json = Record<string, unknown>;
const isJson = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);
const child = (parent: Json, key: string): Json => {
  const existing = parent[key];
  if (isJson(existing)) return existing;
  const created: Json = {};
  parent[key] = created;
  return created;
};

const PROBLEM = 'application/problem+json';
const ref = (kind: string, name: string) => ({ $ref: `#/components/${kind}/${name}` });

const STATUS_TEXT: Record<string, string> = {
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  304: 'Not Modified: the representation you hold (If-None-Match) is current. No body; ETag, Cache-Control and Vary as the 200 would send them',
  400: 'Bad Request: a parameter, header or body is not valid (each problem in `errors`), or the URL is malformed',
  401: 'Unauthorized: no API key, or one that is malformed, unknown or revoked (see WWW-Authenticate)',
  403: 'Forbidden: the API key lacks the scope this operation needs',
  404: 'Not Found',
  406: 'Not Acceptable: none of the media types in Accept (or ?format=) is offered here; `supported` lists them',
  409: 'Conflict: the change conflicts with other content',
  410: 'Gone',
  412: 'Precondition Failed: If-Match does not carry the current ETag (or If-None-Match matches it, on a write)',
  413: 'Content Too Large',
  414: 'URI Too Long: a path parameter is longer than 200 characters',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  428: 'Precondition Required: send If-Match with the current ETag',
  429: 'Too Many Requests: a rate limit is spent; retry after Retry-After seconds',
  500: 'Internal Server Error: the request id identifies it in the logs',
  503: 'Service Unavailable: overloaded, shutting down, or read-only; Retry-After when a retry will help',
};

const str = (examples: unknown[]) => ({ type: 'string', examples });
const int = (examples: unknown[]) => ({ type: 'integer', minimum: 0, examples });
/** Header components; `required` lives here (OpenAPI allows no sibling of a $ref), so a header that is sent only sometimes has a variant. */
const HEADERS: Json = {
  ETag: { required: true, description: 'Strong entity tag of this representation: a hash of its bytes, equal on every replica', schema: str(['"q3d6bOo1xqkbPp0yv0S3Mw4F5m2Yx1tA"']) },
  ETagOfBody: { description: 'Strong entity tag of the representation in the body, when there is one', schema: str(['"q3d6bOo1xqkbPp0yv0S3Mw4F5m2Yx1tA"']) },
  CacheControl: { required: true, description: '`public, max-age=N` on content, `no-store` on operational responses, writes and problems', schema: str(['public, max-age=300']) },
  Vary: { required: true, description: 'Request headers that select the representation: `Accept` where several are offered (and `Origin` with a CORS allow-list)', schema: str(['Accept']) },
  Link: { description: 'RFC 8288 link to the next page, `<url>; rel="next"`, when there is one', schema: str(['</v1/statistics?limit=20&cursor=eyJrIjoiYSJ9>; rel="next"']) },
  RetryAfter: { required: true, description: 'Seconds to wait before retrying', schema: int([30]) },
  RetryAfterIfKnown: { description: 'Seconds to wait before retrying, when a retry will help (not on a read-only server)', schema: int([5]) },
  XRequestId: { required: true, description: 'This request’s id (yours when you sent a well-formed X-Request-Id); problems repeat it as requestId', schema: str(['5b2f8e0c-3d1a-4c9e-9f7b-2a6d0e4c8b11']) },
  XRateLimitLimit: { description: 'Full responses allowed to this client per window', schema: int([600]) },
  XRateLimitRemaining: { description: 'Full responses left in the current window', schema: int([599]) },
  XRateLimitReset: { description: 'Seconds until the current window ends', schema: int([60]) },
  WWWAuthenticate: { required: true, description: 'The Bearer challenge (RFC 6750), with `error` when a key was sent', schema: str(['Bearer realm="condition-kb"']) },
  Location: { required: true, description: 'URL of the created resource', schema: str(['/v1/facts/calciphylaxis.symptom.example-itch']) },
  ContentLocation: { description: 'URL of the representation in the body', schema: str(['/v1/facts/calciphylaxis.symptom.example-itch']) },
  'Access-Control-Allow-Origin': { description: 'CORS: the allowed origin (or *), sent when the request came with an Origin that CORS_ORIGINS allows', schema: str(['*']) },
  IdempotentReplayed: { description: '`true` when this answer replays an earlier request with the same Idempotency-Key', schema: { type: 'string', enum: ['true'] } },
};

/** An entity-tag list or `*` (RFC 9110 §13.1.1, §13.1.2). */
const ENTITY_TAGS = '^\\s*(\\*|(W/)?"[^"]*"(\\s*,\\s*(W/)?"[^"]*")*)\\s*$';

// No `example` on these optional GET headers: Swagger UI's "Try it out" sends a parameter's example
// as its value, so an example ETag in If-Match turned every GET run from /docs into a 412.
const PARAMETERS: Json = {
  IfNoneMatch: {
    name: 'If-None-Match',
    in: 'header',
    required: false,
    description:
      'ETags you hold (a list, weak or strong) or `*`. When one matches the current representation (weak comparison), or `*` and the ' +
      'resource exists, the answer is 304 with no body (RFC 9110 §13.1.2). Counts against the revalidation rate limit, not the full one, when it ends in 304.',
    schema: { type: 'string', maxLength: 2000, pattern: ENTITY_TAGS },
  },
  IfMatch: {
    name: 'If-Match',
    in: 'header',
    required: false,
    description: 'Proceed only if the representation still has one of these ETags (strong comparison) or, with `*`, exists; else 412 (RFC 9110 §13.1.1).',
    schema: { type: 'string', maxLength: 2000, pattern: ENTITY_TAGS },
  },
};

const header = (name: string): Json => ref('headers', name);

/** The `$ref` target name of a schema object, if it is a plain reference. */
function refName(schema: unknown): string | undefined {
  return isJson(schema) && typeof schema.$ref === 'string' ? schema.$ref.split('/').pop() : undefined;
}

function problemContent(): Json {
  return { [PROBLEM]: { schema: ref('schemas', 'Problem') } };
}

function completeResponses(method: string, op: Json, route: RouteContract | undefined): void {
  const responses = child(op, 'responses');
  const isRead = method === 'get';
  const path = route?.path ?? '';
  const standard = [
    '400',
    '406',
    '500',
    '503',
    ...(route?.rateLimited !== false ? ['429'] : []),
    ...(isRead ? ['304', '412'] : []),
    // The router refuses a path parameter longer than 200 characters (app.ts, maxParamLength).
    ...(path.includes('{') ? ['414'] : []),
  ];
  for (const status of standard) if (!(status in responses)) responses[status] = {};

  for (const [status, value] of Object.entries(responses)) {
    if (!isJson(value)) continue;
    const code = Number(status);
    if (typeof value.description !== 'string' || value.description === 'Default Response') value.description = STATUS_TEXT[status] ?? 'Response';
    const headers = child(value, 'headers');
    headers['X-Request-Id'] = header('XRequestId');
    headers['Access-Control-Allow-Origin'] = header('Access-Control-Allow-Origin');

    if (code >= 400) {
      // The errors plugin sends every problem as application/problem+json. A route-specific
      // problem schema (412's current ETag) is kept; a body that is not a problem (the 503 of
      // /ready while migrations are pending) stays application/json beside it.
      const content = isJson(value.content) ? value.content : {};
      const json = isJson(content[JSON_TYPE]) ? content[JSON_TYPE] : undefined;
      const schema = json?.schema;
      const isProblem = refName(schema) === 'Problem' || (isJson(schema) && typeof schema.title === 'string' && schema.title.endsWith('Problem'));
      value.content = isProblem && json ? { [PROBLEM]: json } : { ...(json ? { [JSON_TYPE]: json } : {}), ...problemContent() };
      headers['Cache-Control'] = header('CacheControl');
      if (code === 429) headers['Retry-After'] = header('RetryAfter');
      if (code === 503) headers['Retry-After'] = header('RetryAfterIfKnown');
      if (code === 401) headers['WWW-Authenticate'] = header('WWWAuthenticate');
      if (code === 403) headers['WWW-Authenticate'] = header('WWWAuthenticate');
      continue;
    }
    if (route?.rateLimited !== false) {
      headers['X-RateLimit-Limit'] = header('XRateLimitLimit');
      headers['X-RateLimit-Remaining'] = header('XRateLimitRemaining');
      headers['X-RateLimit-Reset'] = header('XRateLimitReset');
    }
    if (code === 304) {
      delete value.content;
      headers.ETag = header('ETag');
      headers['Cache-Control'] = header('CacheControl');
      if ((route?.produces.length ?? 1) > 1) headers.Vary = header('Vary');
      continue;
    }
    if (isRead) {
      headers.ETag = header('ETag');
      headers['Cache-Control'] = header('CacheControl');
      if ((route?.produces.length ?? 1) > 1) headers.Vary = header('Vary');
      // Only pages link to a next page; an export with `since` is one response.
      if ((hasParameter(op, 'cursor') || hasParameter(op, 'since')) && hasParameter(op, 'limit')) headers.Link = header('Link');
      continue;
    }
    // Writes: the new representation's ETag when there is a body; Location on a create.
    headers['Cache-Control'] = header('CacheControl');
    if (code !== 204) {
      headers.ETag = header('ETagOfBody');
      headers['Content-Location'] = header('ContentLocation');
    }
    if (code === 201) headers.Location = header('Location');
    if (method === 'post') headers['Idempotent-Replayed'] = header('IdempotentReplayed');
  }
}

function parameters(op: Json): Json[] {
  const list = Array.isArray(op.parameters) ? op.parameters.filter(isJson) : [];
  op.parameters = list;
  return list;
}
function hasParameter(op: Json, name: string): boolean {
  return parameters(op).some((p) => p.name === name);
}

function completeParameters(method: string, op: Json, route: RouteContract | undefined): void {
  const list = parameters(op);
  if (method === 'get') list.push(ref('parameters', 'IfNoneMatch'), ref('parameters', 'IfMatch'));
  const responses = isJson(op.responses) ? op.responses : {};
  for (const p of list) {
    // Required where the operation answers 428 without it.
    if (p.in === 'header' && p.name === 'if-match' && '428' in responses) p.required = true;
    if (p.in === 'query' && p.name === 'format' && route) {
      const offered = Object.entries(FORMATS).filter(([, type]) => route.produces.includes(type)).map(([name]) => name);
      p.schema = { type: 'string', enum: offered };
      p.example = offered.find((name) => name !== 'json') ?? 'json';
      p.description = `Representation, instead of an Accept header: ${offered.join(' or ')}`;
      delete p.examples;
    }
  }
}

export function completeDocument(doc: object, routes: readonly RouteContract[]): void {
  if (!isJson(doc)) return;
  const components = child(doc, 'components');
  Object.assign(child(components, 'headers'), HEADERS);
  Object.assign(child(components, 'parameters'), PARAMETERS);
  const byKey = new Map(routes.map((r) => [`${r.method.toLowerCase()} ${r.path}`, r]));
  for (const [path, item] of Object.entries(child(doc, 'paths'))) {
    if (!isJson(item)) continue;
    for (const [method, op] of Object.entries(item)) {
      if (!isJson(op) || !['get', 'put', 'post', 'patch', 'delete'].includes(method)) continue;
      const route = byKey.get(`${method} ${path}`);
      completeParameters(method, op, route);
      completeResponses(method, op, route);
      if (!Array.isArray(op.security)) op.security = [];
    }
  }
}
