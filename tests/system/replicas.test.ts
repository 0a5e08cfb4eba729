/**
 * Replicas that agree: two real server processes, each on its own copy of one built database,
 * must answer every GET in the OpenAPI document with the same status, byte-identical body and
 * the same ETag, in every representation the route offers. That is what makes N stateless
 * replicas behind a load balancer or CDN correct: a validator from one replica revalidates (304)
 * at any other, and a cached body never depends on which process produced it.
 *
 * The operations, parameters and media types come from the live `/openapi.json`, so a new route
 * is covered without editing this file; path parameters use each parameter's documented example,
 * which the OpenAPI test requires to exist.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFromContent } from '../../src/content/build.js';
import { CONTENT_DIR } from '../../src/paths.js';
import { startServer, type ServerProcess } from '../server-process.js';

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  example?: unknown;
  examples?: Record<string, { value?: unknown }>;
  schema?: { examples?: unknown[]; default?: unknown };
}
interface Operation {
  operationId?: string;
  parameters?: Parameter[];
  responses: Record<string, { content?: Record<string, unknown> }>;
}
interface OpenApi {
  paths: Record<string, Record<string, Operation>>;
}

interface Answer {
  status: number;
  body: Buffer;
  headers: Record<string, string | null>;
}

/** Headers that must agree; rate-limit counters and dates legitimately differ per process. */
const COMPARED_HEADERS = ['etag', 'content-type', 'cache-control', 'vary', 'link', 'last-modified', 'content-language'];
/** Representations to try on every route besides those the document lists; 406 means "not here". */
const CANDIDATE_TYPES = ['application/json', 'text/markdown', 'application/ld+json', 'application/fhir+json'];

let dir: string;
let a: ServerProcess;
let b: ServerProcess;
let doc: OpenApi;
let requestCounter = 0;
const compared: string[] = [];

/** The documented example of a parameter, in the order OpenAPI gives them precedence. */
function exampleOf(p: Parameter): unknown {
  if (p.example !== undefined) return p.example;
  const named = p.examples ? Object.values(p.examples)[0]?.value : undefined;
  if (named !== undefined) return named;
  return p.schema?.examples?.[0] ?? p.schema?.default;
}

function urlFor(path: string, op: Operation, queryMode: 'required' | 'all-examples'): string {
  const params = op.parameters ?? [];
  let url = path;
  for (const p of params.filter((x) => x.in === 'path')) {
    const value = exampleOf(p);
    if (value === undefined) throw new Error(`${path}: path parameter ${p.name} has no example`);
    url = url.replace(`{${p.name}}`, encodeURIComponent(String(value)));
  }
  const query = new URLSearchParams();
  for (const p of params.filter((x) => x.in === 'query')) {
    // Representation is chosen with Accept below; cursors are opaque and have no example.
    if (p.name === 'format' || p.name === 'cursor') continue;
    if (!p.required && queryMode === 'required') continue;
    const value = exampleOf(p);
    if (value !== undefined) query.set(p.name, String(value));
    else if (p.required) throw new Error(`${path}: required query parameter ${p.name} has no example`);
  }
  const qs = query.toString();
  return qs ? `${url}?${qs}` : url;
}

async function ask(server: ServerProcess, url: string, headers: Record<string, string>): Promise<Answer> {
  const res = await fetch(`${server.base}${url}`, { headers });
  const out: Answer = { status: res.status, body: Buffer.from(await res.arrayBuffer()), headers: {} };
  for (const h of COMPARED_HEADERS) out.headers[h] = res.headers.get(h);
  return out;
}

/** Asks both replicas the same question and asserts they agree; returns replica A's answer. */
async function askBoth(url: string, accept?: string): Promise<Answer> {
  // The same request id at both, so even problem bodies (which echo it) can be compared byte for byte.
  const headers: Record<string, string> = { 'x-request-id': `replicas-${++requestCounter}` };
  if (accept) headers.accept = accept;
  const [ra, rb] = await Promise.all([ask(a, url, headers), ask(b, url, headers)]);
  const where = `GET ${url}${accept ? ` (Accept: ${accept})` : ''}`;
  expect(rb.status, where).toBe(ra.status);
  expect(rb.headers, where).toEqual(ra.headers);
  expect(rb.body.equals(ra.body), `${where}: bodies differ`).toBe(true);
  if (ra.status === 200) {
    expect(ra.headers.etag, `${where}: no ETag`).toMatch(/^"[^"]+"$/);
    // A validator from one replica is good at the other: the CDN / load-balancer case.
    const revalidated = await fetch(`${b.base}${url}`, { headers: { ...headers, 'if-none-match': ra.headers.etag ?? '' } });
    expect(revalidated.status, `${where}: ETag from A revalidated at B`).toBe(304);
    await revalidated.arrayBuffer();
  }
  compared.push(`${ra.status} ${where}`);
  return ra;
}

function nextCursorOf(answer: Answer): string | null {
  // JSON bodies only (application/json, +json): NDJSON (the export) has no page.
  if (answer.status !== 200 || !/^application\/(?:[\w.-]+\+)?json\b/.test(String(answer.headers['content-type']))) return null;
  const body = JSON.parse(answer.body.toString('utf8')) as { page?: { nextCursor?: string | null } };
  return body.page?.nextCursor ?? null;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kb-replicas-'));
  const built = buildFromContent(CONTENT_DIR, join(dir, 'built.sqlite'));
  copyFileSync(built.path, join(dir, 'a.sqlite'));
  copyFileSync(built.path, join(dir, 'b.sqlite'));
  // BUILD_ON_START=false: each replica must serve its copy, never build its own. Load shedding
  // off: on a busy machine one replica could refuse a request that the other answers.
  const env = (file: string) => ({ DATABASE_PATH: join(dir, file), BUILD_ON_START: 'false', MAX_EVENT_LOOP_DELAY_MS: '0' });
  [a, b] = await Promise.all([startServer({ env: env('a.sqlite') }), startServer({ env: env('b.sqlite') })]);
  const [docA, docB] = await Promise.all([fetch(`${a.base}/openapi.json`).then((r) => r.text()), fetch(`${b.base}/openapi.json`).then((r) => r.text())]);
  expect(docB).toBe(docA);
  doc = JSON.parse(docA) as OpenApi;
}, 60_000);

afterAll(async () => {
  const codes = await Promise.all([a?.stop(5_000), b?.stop(5_000)]);
  rmSync(dir, { recursive: true, force: true });
  const byStatus = new Map<string, number>();
  for (const line of compared) byStatus.set(line.slice(0, 3), (byStatus.get(line.slice(0, 3)) ?? 0) + 1);
  const summary = [...byStatus].map(([status, n]) => `${n}×${status}`).join(', ');
  console.log(`replicas: ${compared.length} requests compared (${summary}); exit codes ${JSON.stringify(codes)}`);
});

describe('two replicas on copies of one database', () => {
  it('serve the same OpenAPI document with GET operations to compare', () => {
    const gets = Object.values(doc.paths).filter((ops) => ops.get).length;
    expect(gets).toBeGreaterThanOrEqual(10);
  });

  it('agree on status, bytes and ETag for every GET operation, every representation, and the next page', async () => {
    const covered = new Set<string>();
    for (const [path, ops] of Object.entries(doc.paths)) {
      const op = ops.get;
      if (!op) continue;
      const documented = Object.keys(op.responses['200']?.content ?? {});
      const types = [...new Set([...documented, ...CANDIDATE_TYPES])];
      const urls = [...new Set([urlFor(path, op, 'required'), urlFor(path, op, 'all-examples')])];
      for (const url of urls) {
        const plain = await askBoth(url);
        expect(plain.status, `GET ${url}`).toBeLessThan(500);
        if (url === urls[0]) expect(plain.status, `GET ${url} with its documented examples`).toBe(200);

        for (const type of types) {
          const answer = await askBoth(url, type);
          // 406: the route does not offer this type; both replicas said so, nothing more to compare.
          if (answer.status === 406) {
            expect(documented, `${path} documents ${type} but answers 406`).not.toContain(type);
            continue;
          }
          expect(answer.status, `GET ${url} as ${type}`).toBe(plain.status);
          if (answer.status === 200) expect(String(answer.headers['content-type']), `GET ${url} as ${type}`).toContain(type);
        }

        // Cursors must come from content too, or page 2 would differ between replicas.
        const cursor = nextCursorOf(plain);
        if (cursor) {
          const sep = url.includes('?') ? '&' : '?';
          const next = await askBoth(`${url}${sep}cursor=${encodeURIComponent(cursor)}`);
          expect(next.status).toBe(200);
        }
      }
      covered.add(op.operationId ?? path);
    }
    const operations = Object.values(doc.paths).filter((ops) => ops.get).length;
    expect(covered.size).toBe(operations);
  }, 60_000);

  it('agree on 404 problems for unknown ids (same request id, same bytes)', async () => {
    const res = await askBoth('/v1/conditions/no-such-condition');
    expect(res.status).toBe(404);
    expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
  });
});
