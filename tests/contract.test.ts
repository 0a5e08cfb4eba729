/**
 * Contract run: every operation of the committed openapi/openapi.json, sent through Stoplight Prism
 * as a validating proxy (`prism proxy`) in front of the real server listening on loopback. Prism
 * reports what the server sends that the document does not describe (status, body schema, media
 * type, documented headers) in an `sl-violations` header on each answer; every one of those counts.
 *
 * Prism is lenient in two places, so this run adds its own checks from the same document:
 * - media types: Prism lets `application/problem+json` pass for a documented `application/json`
 *   (it ignores the `+json` suffix); here the exact type must be documented for that status;
 * - a documented status: Prism only warns about an undocumented 4xx; here it is a violation;
 * - bodies of `+json` types: Prism validates an `application/fhir+json` or `application/ld+json`
 *   body against the first `application/json` entry (the same suffix blindness), so those bodies
 *   are validated here with Ajv against the schema documented for their exact media type, and
 *   Prism's body findings for them are set aside.
 * and checks that documented required response headers are present and that a 304 has no
 * Content-Type or Content-Length (RFC 9110 §8.6, §15.4.5).
 *
 * The scenarios: for every operation its documented examples (each must succeed), and the
 * statuses the plugins add: 304 and 412 on reads, 400, 404, 406, 410, 414, and 401, 412, 415, 428
 * and 429 on writes. Request-side violations count only for requests meant to be valid.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { encodeCursor } from '../src/http/pagination.js';
import { PROJECT_ROOT } from '../src/paths.js';
import { FIXTURES_DIR } from './helpers.js';
import { buildCurationApp, type CurationContext } from './writes/helpers.js';

type Json = Record<string, unknown>;
const isJson = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  example?: unknown;
  schema?: Json;
}
interface Operation {
  operationId: string;
  parameters?: (Parameter | { $ref: string })[];
  requestBody?: { content: Record<string, { schema: Json; example?: unknown }> };
  responses: Record<string, { content?: Record<string, unknown>; headers?: Record<string, { $ref?: string; required?: boolean }> }>;
}
interface Doc {
  paths: Record<string, Record<string, Operation>>;
  components: { parameters: Record<string, Parameter>; headers: Record<string, unknown>; schemas: Record<string, unknown> };
}

const DOC_FILE = join(PROJECT_ROOT, 'openapi', 'openapi.json');
const doc = JSON.parse(readFileSync(DOC_FILE, 'utf8')) as Doc;

/** `#/components/schemas/X` → a schema Ajv can resolve. */
function rebase(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(rebase);
  if (!isJson(schema)) return schema;
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' ? v.replace('#/components/schemas/', 'openapi.json#/definitions/') : rebase(v)]));
}
const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addFormat('date', /^\d{4}-\d{2}-\d{2}$/);
ajv.addSchema({ $id: 'openapi.json', definitions: rebase(doc.components.schemas) });

interface Op {
  id: string;
  method: string;
  path: string;
  op: Operation;
  params: Parameter[];
}
const OPS: Op[] = Object.entries(doc.paths).flatMap(([path, methods]) =>
  Object.entries(methods).map(([method, op]) => ({
    id: op.operationId,
    method: method.toUpperCase(),
    path,
    op,
    params: (op.parameters ?? []).map((p) => ('$ref' in p ? doc.components.parameters[p.$ref.split('/').pop() ?? ''] : p)).filter((p): p is Parameter => p !== undefined),
  })),
);
const byId = (id: string): Op => {
  const found = OPS.find((o) => o.id === id);
  if (!found) throw new Error(`no operation ${id}`);
  return found;
};

interface Result {
  op: string;
  scenario: string;
  status: number;
  violations: string[];
}
const results: Result[] = [];

let cur: CurationContext;
let prism: ChildProcess;
let prismBase = '';
let prismLog = '';

async function startPrism(upstream: string): Promise<string> {
  const bin = join(PROJECT_ROOT, 'node_modules', '@stoplight', 'prism-cli', 'dist', 'index.js');
  prism = spawn(process.execPath, [bin, 'proxy', DOC_FILE, upstream, '--host', '127.0.0.1', '--port', '0', '--errors', 'false'], {
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Prism did not start:\n${prismLog}`)), 90_000);
    const onData = (chunk: Buffer) => {
      prismLog += chunk.toString();
      const m = /Prism is listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(prismLog);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    prism.stdout?.on('data', onData);
    prism.stderr?.on('data', onData);
    prism.once('exit', (code) => reject(new Error(`Prism exited (${code}):\n${prismLog}`)));
  });
}

beforeAll(async () => {
  cur = await buildCurationApp();
  const upstream = await cur.app.listen({ port: 0, host: '127.0.0.1' });
  prismBase = await startPrism(upstream);
}, 90_000);

afterAll(async () => {
  prism?.kill('SIGTERM');
  await cur?.close();
});

/** Expands `{name}` from values, else from the parameter's example. */
function pathOf(o: Op, values: Record<string, string> = {}): string {
  return o.path.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    const v = values[name] ?? o.params.find((p) => p.in === 'path' && p.name === name)?.example;
    if (v === undefined) throw new Error(`${o.id}: no example for path parameter ${name}`);
    return encodeURIComponent(String(v));
  });
}

function requiredQuery(o: Op): Record<string, string> {
  return Object.fromEntries(o.params.filter((p) => p.in === 'query' && p.required).map((p) => [p.name, String(p.example)]));
}

function resolveHeader(h: { $ref?: string; required?: boolean }): { required: boolean } {
  return { required: h.required === true };
}

interface Send {
  method?: string;
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: unknown;
  rawBody?: string;
  /** The request is meant to be valid: request-side violations count too. */
  valid?: boolean;
}

async function send(o: Op, scenario: string, s: Send): Promise<{ status: number; headers: Headers; text: string }> {
  const qs = new URLSearchParams(s.query ?? {}).toString();
  const headers: Record<string, string> = { accept: '*/*', ...s.headers };
  let body: string | undefined = s.rawBody;
  if (s.body !== undefined) {
    body = JSON.stringify(s.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(`${prismBase}${s.path}${qs ? `?${qs}` : ''}`, { method: s.method ?? o.method, headers, body });
  const text = await res.text();
  const violations: string[] = [];
  const documented = o.op.responses[String(res.status)];
  const type = res.headers.get('content-type')?.split(';')[0]?.trim();
  const types = Object.keys(documented?.content ?? {});
  // A +json type that is not the first documented one: Prism checked it against the wrong schema.
  const suffixed = type !== undefined && type !== types[0] && type.endsWith('+json') && types.includes(type);
  const reported = res.headers.get('sl-violations');
  if (reported?.startsWith('Too many violations!')) {
    // Prism cut the list short; what is left still shows whether any finding is about the response.
    if (reported.includes('"location":["response"') || s.valid !== false) violations.push(`prism: ${reported.slice(0, 300)}`);
  }
  else if (reported) {
    for (const v of JSON.parse(reported) as { location: string[]; message: string; severity: string }[]) {
      if (suffixed && v.location[0] === 'response' && v.location[1] === 'body') continue;
      if (v.location[0] === 'response' || s.valid !== false) violations.push(`prism ${v.severity}: ${v.location.join('.')} ${v.message}`);
    }
  }
  if (suffixed && type) {
    const content = documented?.content?.[type];
    const schema = isJson(content) ? content.schema : undefined;
    const rebased = rebase(schema);
    const validate = ajv.compile(isJson(rebased) ? rebased : {});
    if (!validate(JSON.parse(text))) violations.push(`${type} body: ${ajv.errorsText(validate.errors)}`);
  }
  if (!documented) violations.push(`status ${res.status} is not documented`);
  else {
    if (res.status === 304 || res.status === 204) {
      if (type) violations.push(`${res.status} with Content-Type ${type}`);
      if (res.headers.get('content-length') !== null) violations.push(`${res.status} with Content-Length`);
    } else if (text.length > 0 && (!type || !types.includes(type))) {
      violations.push(`media type ${type ?? '(none)'} not documented for ${res.status} (documented: ${types.join(', ') || 'no body'})`);
    }
    for (const [name, h] of Object.entries(documented.headers ?? {})) {
      if (resolveHeader(h).required && res.headers.get(name) === null) violations.push(`required header ${name} missing on ${res.status}`);
    }
  }
  results.push({ op: o.id, scenario, status: res.status, violations });
  return { status: res.status, headers: res.headers, text };
}

const READS = OPS.filter((o) => o.method === 'GET');

describe('contract run through Prism', () => {
  it('serves every read operation as documented: examples, 304, 412, 406, 400, 404', async () => {
    for (const o of READS) {
      const path = pathOf(o);
      const query = requiredQuery(o);
      const happy = await send(o, 'required parameters from examples', { path, query, valid: true });
      // Each optional query parameter's example, one at a time, must succeed too.
      for (const p of o.params.filter((p) => p.in === 'query' && !p.required && p.example !== undefined)) {
        await send(o, `example of ${p.name}`, { path, query: { ...query, [p.name]: String(p.example) }, valid: true });
      }
      const etag = happy.headers.get('etag');
      if (etag) {
        await send(o, 'If-None-Match', { path, query, headers: { 'if-none-match': etag }, valid: true });
        await send(o, 'If-None-Match: *', { path, query, headers: { 'if-none-match': '*' }, valid: true });
        await send(o, 'stale If-Match', { path, query, headers: { 'if-match': '"stale"' }, valid: true });
      }
      await send(o, 'Accept nothing offered', { path, query, headers: { accept: 'application/xml' }, valid: true });
      if (o.path.startsWith('/v1/')) await send(o, 'unknown parameter', { path, query: { ...query, unknownParameter: '1' }, valid: false });
      const last = [...o.path.matchAll(/\{([^}]+)\}/g)].pop()?.[1];
      if (last) {
        const example = String(o.params.find((p) => p.in === 'path' && p.name === last)?.example);
        await send(o, 'nothing there', { path: pathOf(o, { [last]: `${example}zz` }), query, valid: false });
        await send(o, 'over-long path parameter', { path: pathOf(o, { [last]: 'a'.repeat(201) }), query, valid: false });
      }
    }
    // The feed: a cursor from another history is a 410.
    const feed = byId('listChanges');
    await send(feed, 'cursor from before a rebuild', { path: feed.path, query: { since: encodeCursor('deadbeef.1') }, valid: true });
  }, 120_000);

  it('serves every write operation as documented', async () => {
    const auth = { authorization: `Bearer ${cur.keys.curator}` };
    const etag = async (path: string) => String((await fetch(`${prismBase}${path}`)).headers.get('etag'));
    const example = (o: Op): unknown => o.op.requestBody?.content['application/json']?.example;
    const writes = OPS.filter((o) => o.method !== 'GET');
    for (const o of writes) {
      await send(o, 'no API key', { path: pathOf(o), body: example(o) ?? {}, valid: false });
    }

    // Facts, statistics, sources: create from the example, replace with it, patch, delete.
    for (const [what, idOf] of [
      ['Fact', (b: Json) => String(b.id)],
      ['Statistic', (b: Json) => String(b.id)],
      ['Source', (b: Json) => String(b.id)],
    ] as const) {
      const create = byId(`create${what}`);
      const body = example(create);
      if (!isJson(body)) throw new Error(`create${what} has no example body`);
      await send(create, 'example body', { path: create.path, body, headers: { ...auth, 'idempotency-key': `contract-${what}` }, valid: true });
      await send(create, 'same key replayed', { path: create.path, body, headers: { ...auth, 'idempotency-key': `contract-${what}` }, valid: true });
      await send(create, 'text/plain body', { path: create.path, rawBody: 'x', headers: { ...auth, 'content-type': 'text/plain' }, valid: false });
      const id = idOf(body);
      const replace = byId(`replace${what}`);
      const url = pathOf(replace, { id });
      await send(replace, 'without If-Match', { path: url, body, headers: auth, valid: false });
      await send(replace, 'stale If-Match', { path: url, body, headers: { ...auth, 'if-match': '"stale"' }, valid: true });
      await send(replace, 'example body', { path: url, body, headers: { ...auth, 'if-match': await etag(url) }, valid: true });
      // The documented patch, on the documented resource: path and body examples together.
      const update = byId(`update${what}`);
      const documentedUrl = pathOf(update);
      await send(update, 'example patch', { path: documentedUrl, body: example(update), headers: { ...auth, 'if-match': await etag(documentedUrl) }, valid: true });
      const remove = byId(`delete${what}`);
      await send(remove, 'delete', { path: url, headers: { ...auth, 'if-match': await etag(url) }, valid: true });
      await send(remove, 'delete again', { path: url, headers: { ...auth, 'if-match': '"gone"' }, valid: true });
    }

    // Treatments: the example patch.
    const treatment = byId('updateTreatment');
    const tUrl = pathOf(treatment);
    await send(treatment, 'example patch', { path: tUrl, body: example(treatment), headers: { ...auth, 'if-match': await etag(tUrl) }, valid: true });

    // Conditions: create a whole one from a content file, replace, patch, add and remove a code, delete.
    const content = parse(readFileSync(join(FIXTURES_DIR, 'examplitis.yaml'), 'utf8')) as Json;
    delete content.version;
    const createCondition = byId('createCondition');
    await send(createCondition, 'a content file', { path: createCondition.path, body: content, headers: auth, valid: true });
    const cUrl = '/v1/conditions/examplitis';
    await send(byId('replaceCondition'), 'the same content', { path: cUrl, body: content, headers: { ...auth, 'if-match': await etag(cUrl) }, valid: true });
    const updateCondition = byId('updateCondition');
    await send(updateCondition, 'example patch', { path: cUrl, body: example(updateCondition), headers: { ...auth, 'if-match': await etag(cUrl) }, valid: true });
    const addCode = byId('addConditionCode');
    await send(addCode, 'example code', { path: pathOf(addCode, { id: 'examplitis' }), body: example(addCode), headers: auth, valid: true });
    const removeCode = byId('removeConditionCode');
    await send(removeCode, 'the added code', { path: pathOf(removeCode, { id: 'examplitis', system: 'umls', code: 'C0000000' }), headers: { ...auth, 'if-match': await etag(cUrl) }, valid: true });
    await send(byId('deleteCondition'), 'delete', { path: cUrl, headers: { ...auth, 'if-match': await etag(cUrl) }, valid: true });

    // Last: guessing keys from one address is limited (429 with Retry-After), on any write.
    const patch = byId('updateFact');
    for (let i = 0; i < 11; i++) await send(patch, 'wrong API key', { path: pathOf(patch), body: {}, headers: { authorization: 'Bearer kb_wrong_key' }, valid: false });
  }, 120_000);

  it('finds no violation, and every operation answered with a success at least once', () => {
    const violations = results.filter((r) => r.violations.length > 0).map((r) => `${r.op} [${r.scenario}] ${r.status}: ${r.violations.join('; ')}`);
    const statuses = [...new Set(results.map((r) => r.status))].sort((a, b) => a - b);
    console.log(`contract: ${results.length} requests through Prism over ${new Set(results.map((r) => r.op)).size} operations (statuses ${statuses.join(', ')}); ${violations.length} with violations`);
    expect(violations, violations.join('\n')).toEqual([]);
    const succeeded = new Set(results.filter((r) => r.status >= 200 && r.status < 300).map((r) => r.op));
    expect(OPS.map((o) => o.id).filter((id) => !succeeded.has(id))).toEqual([]);
    // The statuses the plugins add were all exercised.
    const seen = new Set(results.map((r) => r.status));
    for (const status of [200, 201, 304, 400, 401, 404, 406, 410, 412, 414, 415, 428, 429]) expect(seen, String(status)).toContain(status);
  });
});
