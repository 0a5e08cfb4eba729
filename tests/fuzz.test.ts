/**
 * Schema-driven fuzzing. Every operation in the committed openapi/openapi.json gets requests
 * generated from its own parameter schemas: valid values (enums, patterns, real ids and cursors
 * read from the API, numbers within bounds) mixed with hostile ones in every parameter (SQL and
 * FTS5 syntax, NUL, 10,000-character strings, RTL, emoji, lone surrogates, path traversal,
 * numbers out of range, unknown and repeated parameters, junk Accept headers).
 *
 * Properties: never a 5xx; every 4xx is a complete problem+json; every 2xx is a documented
 * representation, and a JSON body validates against the documented schema with undocumented
 * fields forbidden. Write operations, when the document has any, get hostile bodies without
 * credentials and must refuse them with a 4xx problem.
 *
 * The seed is fixed, so a failure reproduces; fast-check prints the seed, the shrink path and the
 * counterexample. `FUZZ_SEED=n npx vitest run tests/fuzz.test.ts` tries another seed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { Ajv, type ValidateFunction } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, collectPages, type TestContext } from './helpers.js';
import { PROJECT_ROOT } from '../src/paths.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261126);
const GET_RUNS = 300;
const HEAD_RUNS = 50;
const WRITE_RUNS = 80;

interface JsonSchema {
  type?: string;
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  examples?: unknown[];
  default?: unknown;
  [key: string]: unknown;
}
interface Parameter {
  in: 'path' | 'query' | 'header' | 'cookie';
  name: string;
  required?: boolean;
  schema: JsonSchema;
}
interface ResponseObject {
  content?: Record<string, { schema?: JsonSchema }>;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, unknown> };
  responses: Record<string, ResponseObject>;
}
interface OpenApi {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

const doc = JSON.parse(readFileSync(join(PROJECT_ROOT, 'openapi', 'openapi.json'), 'utf8')) as OpenApi;
const HTTP_METHODS = ['get', 'head', 'post', 'put', 'patch', 'delete'];
const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
  Object.entries(item)
    .filter(([method]) => HTTP_METHODS.includes(method))
    .map(([method, op]) => ({ path, method: method.toUpperCase(), op })),
);
const readOps = operations.filter((o) => o.method === 'GET' || o.method === 'HEAD');
const writeOps = operations.filter((o) => o.method !== 'GET' && o.method !== 'HEAD');

// ---------------------------------------------------------------------------------------------
// Response validation: the documented schemas, made strict so an undocumented field fails.

function strict(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(strict);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    out[k] = k === '$ref' && typeof v === 'string' ? v.replace('#/components/schemas/', 'openapi.json#/definitions/') : strict(v);
  }
  if (out.type === 'object' && out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addFormat('date', /^\d{4}-\d{2}-\d{2}$/);
ajv.addSchema({ $id: 'openapi.json', definitions: strict(doc.components?.schemas ?? {}) });
const validators = new Map<JsonSchema, ValidateFunction>();
function validatorFor(schema: JsonSchema): ValidateFunction {
  let v = validators.get(schema);
  if (!v) {
    v = ajv.compile(strict(schema) as object);
    validators.set(schema, v);
  }
  return v;
}
const problemValidator = ajv.compile({ $ref: 'openapi.json#/definitions/Problem' });

const isJsonType = (type: string) => type === 'application/json' || type.endsWith('+json');

// ---------------------------------------------------------------------------------------------
// Values. Each generated value carries its wire form: exactly what goes into the URL.

interface Value {
  /** What the value means (for the report). */
  text: string;
  /** What is written into the URL, percent-encoded or deliberately raw. */
  wire: string;
}

/**
 * Percent-encodes every UTF-16 unit, including lone surrogates, which encodeURIComponent refuses:
 * those become the three bytes a WTF-8 encoder would write (%ED%A0%80), invalid UTF-8 that the
 * server has to reject or tolerate, never crash on.
 */
function encode(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    const next = text.charCodeAt(i + 1);
    if (unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      out += encodeURIComponent(text.slice(i, i + 2));
      i++;
    } else if (unit >= 0xd800 && unit <= 0xdfff) {
      out += [0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
    } else {
      out += encodeURIComponent(text[i] ?? '');
    }
  }
  return out;
}

const encoded = (text: string): Value => ({ text, wire: encode(text) });
const raw = (wire: string): Value => ({ text: `raw:${wire}`, wire });

const HOSTILE_TEXT = [
  "' OR 1=1 --",
  '"; DROP TABLE statements; --',
  "1'; SELECT * FROM sqlite_master; --",
  'x UNION SELECT name FROM sqlite_master',
  'NEAR(',
  'NEAR(pain skin, 2)',
  '"',
  'pain"',
  '*',
  'pain*',
  '^',
  '^pain',
  'title:x',
  'body:pain',
  '{title body}:pain',
  'pain OR skin',
  'pain AND NOT skin',
  '(pain',
  '-pain',
  '+',
  '\u0000',
  'a\u0000b',
  '%00',
  '%',
  '\\',
  '${process.env}',
  '<script>alert(1)</script>',
  '../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '%2e%2e%2f',
  '\u202Egnp.exe',
  '\u05E9\u05DC\u05D5\u05DD \u0645\u0631\u062D\u0628\u0627',
  '\u{1F600}\u{1F469}\u200D\u{1F469}\u200D\u{1F467}',
  '\uD800',
  'a\uDFFFb',
  '\uFEFFpain',
  ' ',
  '',
  'null',
  'true',
  '-1',
  '0',
  '1.5',
  '1e309',
  'NaN',
  'Infinity',
  '0x10',
  '99999999999999999999999',
  '-9007199254740993',
  'a'.repeat(10_000),
  '\u00E9'.repeat(5_000),
  'calciphylaxis\u0000',
  'CALCIPHYLAXIS',
  'calciphylaxis ',
  '__proto__',
  'constructor',
  'icd10cm:E83.59\u0000',
];
/** Written into the URL as they are: already-encoded attacks and bytes that are not UTF-8. */
const HOSTILE_RAW = ['%00', '%2e%2e%2f', '..%2f..%2fetc%2fpasswd', '%2E%2E', '%ff', '%', '%zz', '%ED%A0%80', '%C0%AF', '\u0000', 'a b', '%0d%0aSet-Cookie:%20x=1', '..', '.'];

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((u) => String.fromCharCode(u));
const hostileValue: fc.Arbitrary<Value> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_TEXT).map(encoded) },
  { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_RAW).map(raw) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }).map(encoded) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }).map(encoded) },
  { weight: 1, arbitrary: fc.string({ unit: fc.oneof(loneSurrogate, fc.constantFrom('a', '"', '*', ' ')), maxLength: 12 }).map(encoded) },
  { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.double({ noNaN: false })).map((n) => encoded(String(n))) },
);

/** Values harvested from the running API: real ids, codes and cursors, so valid requests hit data. */
interface Pools {
  /** Every short string seen in a response. */
  strings: string[];
  /** The same, by the JSON key they were seen under (`nextCursor`, `conditionId`, ...). */
  byKey: Map<string, string[]>;
  /** Ids of each collection, by its path (`/v1/statistics` → statistic ids). */
  idsByCollection: Map<string, string[]>;
  /** Objects seen in responses, for path templates whose parameters must agree ({system}/{code}). */
  objects: Record<string, unknown>[];
}

function validValue(param: Parameter, path: string, pools: Pools): fc.Arbitrary<Value> {
  const s = param.schema;
  const options: fc.WeightedArbitrary<Value>[] = [];
  if (Array.isArray(s.enum)) options.push({ weight: 4, arbitrary: fc.constantFrom(...s.enum.map(String)).map(encoded) });
  if (s.type === 'integer' || s.type === 'number') {
    const min = s.minimum ?? -1_000_000;
    const max = s.maximum ?? 1_000_000;
    options.push({ weight: 4, arbitrary: fc.integer({ min, max }).map((n) => encoded(String(n))) });
  }
  if (s.type === 'string') {
    const check = ajv.compile(s);
    const fits = (v: string) => check(v);
    // A path parameter right after a collection's path takes that collection's ids.
    const collection = path.slice(0, path.indexOf(`/{${param.name}}`));
    const ids = param.in === 'path' ? (pools.idsByCollection.get(collection) ?? []).filter(fits) : [];
    if (ids.length) options.push({ weight: 6, arbitrary: fc.constantFrom(...ids).map(encoded) });
    // Values seen under a matching key (cursor ← nextCursor, condition ← conditionId) are the
    // meaningful ones; any other string seen is valid by the schema but mostly finds nothing.
    const name = param.name.toLowerCase();
    const related = [...pools.byKey].filter(([k]) => [name, `${name}id`].some((n) => k.toLowerCase() === n || k.toLowerCase() === `next${n}`));
    const keyed = ids.length ? [] : [...new Set(related.flatMap(([, v]) => v))].filter(fits);
    const known = pools.strings.filter(fits);
    if (keyed.length) options.push({ weight: 6, arbitrary: fc.constantFrom(...keyed).map(encoded) });
    else if (known.length) options.push({ weight: 4, arbitrary: fc.constantFrom(...known).map(encoded) });
    const examples = [...(s.examples ?? []), ...(s.default === undefined ? [] : [s.default])].map(String).filter(fits);
    if (examples.length) options.push({ weight: 1, arbitrary: fc.constantFrom(...examples).map(encoded) });
    if (s.pattern) {
      options.push({ weight: 2, arbitrary: fc.stringMatching(new RegExp(s.pattern), { size: 'small' }).filter(fits).map(encoded) });
    } else if (!s.enum && !keyed.length) {
      options.push({ weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: s.minLength ?? 0, maxLength: Math.min(s.maxLength ?? 40, 40) }).filter(fits).map(encoded) });
    }
  }
  if (options.length === 0) options.push({ weight: 1, arbitrary: fc.constant(encoded(String(s.default ?? 'x'))) });
  return fc.oneof(...options);
}

function hostileFor(param: Parameter): fc.Arbitrary<Value> {
  const s = param.schema;
  const around: string[] = [];
  // Numbers that coerce to no finite value: Ajv once let them through every integer schema.
  if (s.type === 'integer' || s.type === 'number') around.push('Infinity', '-Infinity', '1e400', '0.5', '1e2', '0x1F', ' 7 ');
  if (typeof s.minimum === 'number') around.push(String(s.minimum - 1), String(-s.minimum));
  if (typeof s.maximum === 'number') around.push(String(s.maximum + 1), String(s.maximum * 1000));
  if (typeof s.maxLength === 'number') around.push('a'.repeat(s.maxLength + 1));
  if (typeof s.minLength === 'number' && s.minLength > 0) around.push('');
  return around.length ? fc.oneof({ weight: 4, arbitrary: hostileValue }, { weight: 1, arbitrary: fc.constantFrom(...around).map(encoded) }) : hostileValue;
}

/** A valid and a hostile value for one parameter, and a roll that picks one in a mixed request. */
function paramChoice(param: Parameter, path: string, pools: Pools): fc.Arbitrary<{ valid: Value; hostile: Value; roll: number }> {
  return fc.record({ valid: validValue(param, path, pools), hostile: hostileFor(param), roll: fc.nat(99) });
}

const ACCEPT_JUNK = [
  'text/html',
  '*/*',
  'application/*',
  '*/*;q=abc',
  ';;;',
  ',,,',
  'application/json;q=0',
  'application/json;q=0, */*;q=0',
  'text/markdown;q=0.5, application/json;q=0.9',
  'application/ld+json',
  'application/fhir+json',
  'application/problem+json',
  '\u00E9/\u00E9',
  'x'.repeat(10_000),
  'text/*;level=1;q=1.0;q=2',
  'application/json; charset=utf-8',
];

interface Request {
  method: string;
  url: string;
  headers: Record<string, string>;
  note: string;
}

/**
 * Half the requests are valid throughout (so handlers run and bodies get validated); the other
 * half make each parameter hostile with probability 0.4 and may add unknown or repeated parameters
 * and a junk Accept header.
 */
function requestFor(op: (typeof operations)[number], method: string, pools: Pools): fc.Arbitrary<Request> {
  const params = (op.op.parameters ?? []).filter((p) => p.in === 'path' || p.in === 'query');
  const pathParams = params.filter((p) => p.in === 'path');
  const queryParams = params.filter((p) => p.in === 'query');
  const producible = Object.keys(op.op.responses['200']?.content ?? {});
  type Choice = { valid: Value; hostile: Value; roll: number };

  // Path parameters that must agree and have no collection to draw from (/v1/codes/{system}/{code})
  // also come as a pair seen together in one response object.
  const names = pathParams.map((p) => p.name);
  const fromCollection = pathParams.some((p) => pools.idsByCollection.has(op.path.slice(0, op.path.indexOf(`/{${p.name}}`))));
  const together = names.length > 1 && !fromCollection ? pools.objects.filter((o) => names.every((n) => typeof o[n] === 'string')) : [];
  const independent = fc.record(Object.fromEntries(pathParams.map((p) => [p.name, paramChoice(p, op.path, pools)]))) as fc.Arbitrary<Record<string, Choice>>;
  const pathChoices: fc.Arbitrary<Record<string, Choice>> = together.length
    ? fc.oneof(
        independent,
        fc.tuple(independent, fc.constantFrom(...together)).map(([ind, o]) =>
          Object.fromEntries(names.map((n) => [n, { ...(ind[n] as Choice), valid: encoded(String(o[n])) }])),
        ),
      )
    : independent;

  const query = fc.record(Object.fromEntries(queryParams.map((p) => [p.name, paramChoice(p, op.path, pools)])), { requiredKeys: [] }) as fc.Arbitrary<Partial<Record<string, Choice>>>;
  const extraName = fc.oneof(fc.constantFrom('format', 'nope', '__proto__', 'constructor', 'limit[]', 'q[0]', 'a'.repeat(300), ''), fc.string({ maxLength: 8 }));
  const extras = fc.oneof({ weight: 3, arbitrary: fc.constant<[string, Value][]>([]) }, { weight: 1, arbitrary: fc.array(fc.tuple(extraName, hostileValue), { minLength: 1, maxLength: 3 }) });
  const repeat = queryParams.length ? fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom(...queryParams.map((p) => p.name)) }) : fc.constant(null);
  const documentedAccept = fc.oneof(fc.constant(null), fc.constantFrom(...(producible.length ? producible : ['application/json'])));
  const junkAccept = fc.oneof(fc.constantFrom(...ACCEPT_JUNK), fc.string({ unit: 'grapheme-ascii', maxLength: 30 }));
  const accept = fc.oneof({ weight: 3, arbitrary: documentedAccept }, { weight: 1, arbitrary: junkAccept });

  return fc.record({ mixed: fc.boolean(), pathChoices, query, extras, repeat, accept }).map(({ mixed, pathChoices: pc, query: q, extras: ex, repeat: rep, accept: acc }) => {
    const pick = (c: Choice) => (mixed && c.roll < 40 ? c.hostile : c.valid);
    const pathValues = Object.fromEntries(Object.entries(pc).map(([k, c]) => [k, pick(c)]));
    const queryValues = Object.fromEntries(Object.entries(q).flatMap(([k, c]) => (c ? [[k, pick(c)]] : []))) as Record<string, Value>;
    const path = op.path.replace(/\{(\w+)\}/g, (_, name: string) => pathValues[name]?.wire ?? '');
    const pairs: [string, string][] = Object.entries(queryValues).map(([k, v]) => [encode(k), v.wire]);
    const extraPairs = mixed ? ex : [];
    for (const [k, v] of extraPairs) pairs.push([encode(k), v.wire]);
    const repeated = mixed ? rep : null;
    if (repeated) {
      const first = pairs.find(([k]) => k === repeated);
      pairs.push([repeated, first ? first[1] : '1']);
    }
    const qs = pairs.map(([k, v]) => `${k}=${v}`).join('&');
    const chosenAccept = mixed ? acc : null;
    const headers: Record<string, string> = chosenAccept === null ? {} : { accept: chosenAccept };
    const show = (values: Record<string, Value>) => Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.text.slice(0, 60)]));
    const note = JSON.stringify({ mixed, path: show(pathValues), query: show(queryValues), extras: extraPairs.map(([k, v]) => [k.slice(0, 30), v.text.slice(0, 30)]), repeat: repeated }).slice(0, 600);
    return { method, url: qs ? `${path}?${qs}` : path, headers, note };
  });
}

// ---------------------------------------------------------------------------------------------

let ctx: TestContext;
let pools: Pools;
const tally = new Map<string, Map<number, number>>();
let total = 0;
let writeRequests = 0;

function record(key: string, status: number): void {
  total++;
  const byStatus = tally.get(key) ?? new Map<number, number>();
  byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
  tally.set(key, byStatus);
}

function describeFailure(req: Request, status: number, contentType: string, body: string, why: string): string {
  return `${why}\n  ${req.method} ${req.url.slice(0, 300)}${req.url.length > 300 ? '…' : ''}\n  headers ${JSON.stringify(req.headers).slice(0, 200)}\n  generated ${req.note}\n  → ${status} ${contentType}\n  ${body.slice(0, 400)}`;
}

/** The properties every response must have; throws with the request and response on a violation. */
function check(op: (typeof operations)[number], req: Request, res: { statusCode: number; headers: Record<string, unknown>; body: string }): void {
  const status = res.statusCode;
  const contentType = String(res.headers['content-type'] ?? '');
  const fail = (why: string) => {
    throw new Error(describeFailure(req, status, contentType, res.body, why));
  };
  if (status >= 500) fail('5xx');
  if (status >= 400) {
    if (!contentType.startsWith('application/problem+json')) fail('an error that is not application/problem+json');
    if (req.method === 'HEAD') return;
    let body: unknown;
    try {
      body = JSON.parse(res.body);
    } catch {
      return fail('a problem body that is not JSON');
    }
    const p = body as Record<string, unknown>;
    for (const key of ['type', 'title', 'detail']) if (typeof p[key] !== 'string' || p[key] === '') fail(`problem.${key} missing`);
    if (p.status !== status) fail(`problem.status ${String(p.status)} differs from the HTTP status`);
    if (!problemValidator(body)) fail(`problem body does not match the Problem schema: ${ajv.errorsText(problemValidator.errors)}`);
    return;
  }
  if (status >= 300) {
    if (status === 304 && req.headers['if-none-match']) return;
    fail('an unexpected 3xx');
  }
  const documented = op.op.responses[String(status)] ?? op.op.responses['2XX'] ?? op.op.responses.default;
  if (!documented) fail(`status ${status} is not documented for ${op.method} ${op.path}`);
  const mediaType = contentType.split(';')[0]?.trim() ?? '';
  const representation = documented?.content?.[mediaType];
  if (!representation) fail(`media type "${mediaType}" is not documented for ${status}`);
  if (req.method === 'HEAD') {
    if (res.body !== '') fail('a HEAD response with a body');
    return;
  }
  if (!isJsonType(mediaType)) {
    if (res.body.length === 0) fail(`an empty ${mediaType} body`);
    return;
  }
  let body: unknown;
  try {
    body = JSON.parse(res.body);
  } catch {
    return fail('a JSON representation that does not parse');
  }
  if (representation?.schema) {
    const validate = validatorFor(representation.schema);
    if (!validate(body)) fail(`body does not match the documented schema: ${ajv.errorsText(validate.errors)}`);
  }
}

function walk(value: unknown, pools: Pools, key = ''): void {
  if (Array.isArray(value)) return value.forEach((v) => walk(v, pools, key));
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'string' && value.length > 0 && value.length <= 120) {
      pools.strings.push(value);
      pools.byKey.set(key, [...(pools.byKey.get(key) ?? []), value]);
    }
    return;
  }
  const o = value as Record<string, unknown>;
  pools.objects.push(o);
  if (typeof o.system === 'string' && typeof o.code === 'string') walk(`${o.system}:${o.code}`, pools, 'code');
  for (const [k, v] of Object.entries(o)) walk(v, pools, k);
}

beforeAll(async () => {
  ctx = await buildTestApp({ env: { RATE_LIMIT_MAX: '1000000', RATE_LIMIT_EXPORT_MAX: '1000000', MAX_EVENT_LOOP_DELAY_MS: '0' } });
  pools = { strings: [], byKey: new Map(), idsByCollection: new Map(), objects: [] };
  // Every parameterless GET collection, read in full (ids) and with a small page (cursors).
  for (const { path, op } of readOps) {
    // Lookups that need parameters besides search's q (GET /v1/codes?system=&code=) are no collections.
    const needs = (op.parameters ?? []).some((p) => p.in === 'query' && p.required === true && p.name !== 'q');
    if (path.includes('{') || needs || !(op.parameters ?? []).some((p) => p.name === 'limit')) continue;
    const { items } = await collectPages<Record<string, unknown>>(ctx.app, `${path}?limit=100${path.endsWith('/search') ? '&q=calciphylaxis' : ''}`);
    pools.idsByCollection.set(path, items.map((i) => i.id).filter((id): id is string => typeof id === 'string'));
    walk(items, pools);
    const small = await ctx.app.inject({ url: `${path}?limit=1${path.endsWith('/search') ? '&q=calciphylaxis' : ''}` });
    walk(small.json(), pools);
  }
  for (const id of pools.idsByCollection.get('/v1/conditions') ?? []) walk((await ctx.app.inject({ url: `/v1/conditions/${id}` })).json(), pools);
  pools.strings = [...new Set(pools.strings)].sort();
  for (const [k, v] of pools.byKey) pools.byKey.set(k, [...new Set(v)].sort());
  pools.objects = pools.objects.slice(0, 2000);
});

afterAll(async () => {
  const lines = [...tally].map(([key, byStatus]) => `  ${key}: ${[...byStatus].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ')}`);
  console.log(`fuzz: ${total} requests, seed ${SEED}\n${lines.join('\n')}`);
  await ctx?.close();
});

describe('schema-driven fuzzing of openapi/openapi.json', () => {
  it('has read operations to fuzz and real values to fuzz them with', () => {
    expect(readOps.length).toBeGreaterThan(10);
    expect(pools.strings.length).toBeGreaterThan(100);
    expect(pools.idsByCollection.get('/v1/conditions')?.length).toBeGreaterThan(0);
  });

  readOps.forEach((op, index) => {
    it(`${op.method} ${op.path}: no 5xx, problems for errors, documented bodies`, async () => {
      const runs = [{ method: op.method, runs: GET_RUNS }, ...(op.method === 'GET' ? [{ method: 'HEAD', runs: HEAD_RUNS }] : [])];
      for (const { method, runs: numRuns } of runs) {
        await fc.assert(
          fc.asyncProperty(requestFor(op, method, pools), async (req) => {
            const res = await ctx.app.inject({ method: req.method as 'GET' | 'HEAD', url: req.url, headers: req.headers });
            record(`${req.method} ${op.path}`, res.statusCode);
            check(op, req, res);
          }),
          { seed: SEED + index, numRuns, endOnFailure: false },
        );
      }
      // Valid generation must reach the handlers: at least some requests succeed.
      const ok = [...(tally.get(`${op.method} ${op.path}`) ?? new Map<number, number>())].filter(([s]) => s < 300).reduce((n, [, c]) => n + c, 0);
      expect(ok, `no 2xx for ${op.method} ${op.path}: the generators never produced a valid request`).toBeGreaterThan(0);
    });
  });

  it('answers unknown paths and methods on known paths with problems, never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'),
        fc.oneof(
          fc.constantFrom(...readOps.map((o) => o.path)).map((p) => p.replace(/\{\w+\}/g, 'calciphylaxis')),
          fc.array(hostileValue, { minLength: 1, maxLength: 4 }).map((parts) => `/${parts.map((p) => p.wire).join('/')}`),
          fc.constantFrom('/v1/../../etc/passwd', '/v1/%2e%2e/%2e%2e/etc/passwd', '//v1//conditions', '/v1/conditions/', '/V1/CONDITIONS', '/v1/conditions%00', `/${'a'.repeat(10_000)}`),
        ),
        async (method, url) => {
          const res = await ctx.app.inject({ method: method as 'GET', url });
          record('other paths and methods', res.statusCode);
          expect(res.statusCode, `${method} ${url.slice(0, 200)} → ${res.statusCode} ${res.body.slice(0, 200)}`).toBeLessThan(500);
          if (res.statusCode >= 400 && method !== 'HEAD') expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
        },
      ),
      { seed: SEED - 1, numRuns: 300 },
    );
  });

  const writeNote = writeOps.length ? `${writeOps.length} write operation(s)` : 'no write operations in the document yet';
  it(`refuses hostile write bodies without credentials with a 4xx problem (${writeNote})`, async () => {
    const body = fc.oneof(
      fc.jsonValue().map((v) => ({ payload: JSON.stringify(v), type: 'application/json' })),
      fc.constantFrom('{', '{"a":', '[1,2', 'null', '{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"x":1}}}', '\u0000', '{"id":"\' OR 1=1 --"}').map((payload) => ({ payload, type: 'application/json' })),
      fc.string({ unit: 'binary', maxLength: 200 }).map((payload) => ({ payload, type: 'application/json' })),
      fc.constant({ payload: JSON.stringify({ text: 'a'.repeat(200_000) }), type: 'application/json' }),
      fc.constant({ payload: 'x'.repeat(2 * 1024 * 1024), type: 'application/json' }),
      fc.string({ maxLength: 100 }).map((payload) => ({ payload, type: 'text/plain' })),
      fc.string({ maxLength: 100 }).map((payload) => ({ payload, type: 'application/x-www-form-urlencoded' })),
    );
    const auth = fc.constantFrom(null, '', 'Bearer', 'Bearer ', 'Bearer x', `Bearer ${'a'.repeat(5000)}`, "Bearer ' OR 1=1 --", 'Basic YWRtaW46YWRtaW4=', 'Bearer \u00e9');
    for (const [index, op] of writeOps.entries()) {
      const pathParams = (op.op.parameters ?? []).filter((p) => p.in === 'path');
      await fc.assert(
        fc.asyncProperty(fc.record(Object.fromEntries(pathParams.map((p) => [p.name, paramChoice(p, op.path, pools).map((c) => (c.roll < 40 ? c.hostile : c.valid))]))) as fc.Arbitrary<Record<string, Value>>, body, auth, async (pv, b, authorization) => {
          const url = op.path.replace(/\{(\w+)\}/g, (_, name: string) => pv[name]?.wire ?? '');
          const headers: Record<string, string> = { 'content-type': b.type, ...(authorization === null ? {} : { authorization }) };
          // Half from one address (its failed-auth limit soon answers 429), half each from a new
          // loopback address, so that most reach authentication and body parsing.
          const client = ++writeRequests;
          const remoteAddress = client % 2 ? '127.0.0.2' : `127.${(client >> 16) & 255}.${(client >> 8) & 255}.${client & 255}`;
          const res = await ctx.app.inject({ method: op.method as 'POST', url, headers, payload: b.payload, remoteAddress });
          record(`${op.method} ${op.path} (no valid credentials)`, res.statusCode);
          const req: Request = { method: op.method, url, headers, note: b.payload.slice(0, 200) };
          const contentType = String(res.headers['content-type'] ?? '');
          if (res.statusCode < 400 || res.statusCode >= 500) throw new Error(describeFailure(req, res.statusCode, contentType, res.body, 'a write without valid credentials was not refused with a 4xx'));
          if (!contentType.startsWith('application/problem+json')) throw new Error(describeFailure(req, res.statusCode, contentType, res.body, 'a refusal that is not problem+json'));
        }),
        { seed: SEED + 1000 + index, numRuns: WRITE_RUNS },
      );
    }
  });

  it('sent a few thousand requests in all', () => {
    expect(total).toBeGreaterThan(3000);
  });
});
