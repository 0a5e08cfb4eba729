import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openApiDocument } from '../src/cli/openapi.js';
import { PROJECT_ROOT } from '../src/paths.js';
import { buildTestApp, type TestContext } from './helpers.js';

interface Operation {
  operationId?: string;
  tags?: string[];
  summary?: string;
  description?: string;
  parameters?: { name: string; in: string; $ref?: string; schema?: { examples?: unknown[] }; example?: unknown; examples?: unknown }[];
  responses: Record<string, unknown>;
}
type Doc = { openapi: string; paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } };

let ctx: TestContext;
let doc: Doc;
beforeAll(async () => {
  ctx = await buildTestApp();
  doc = (await ctx.app.inject({ url: '/openapi.json' })).json<Doc>();
});
afterAll(() => ctx.close());

describe('OpenAPI document', () => {
  it('is OpenAPI 3.1 with named component schemas', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['Problem', 'Page', 'Condition', 'ConditionSummary', 'Statistic', 'Source', 'SourceRef']));
    expect(JSON.stringify(doc)).not.toMatch(/def-\d+/);
  });

  it('gives every operation an id, tags, a summary, a description and examples for its parameters', () => {
    const ids = new Set<string>();
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const where = `${method.toUpperCase()} ${path}`;
        expect(op.operationId, where).toBeTruthy();
        expect(ids.has(op.operationId ?? ''), `duplicate ${op.operationId}`).toBe(false);
        ids.add(op.operationId ?? '');
        expect(op.tags?.length, where).toBeGreaterThan(0);
        expect(op.summary, where).toBeTruthy();
        expect(op.description, where).toBeTruthy();
        expect(Object.keys(op.responses).some((status) => /^2\d\d$/.test(status)), `${where} documents a success`).toBe(true);
        expect(Object.keys(op.responses).some((status) => /^4\d\d$/.test(status)), `${where} documents a problem`).toBe(true);
        for (const p of op.parameters ?? []) {
          if (p.name === 'cursor' || p.name === 'since' || p.$ref !== undefined) continue; // opaque cursors: an example would mislead (a fixed one is a 410); shared parameters have theirs
          expect(p.example ?? p.examples ?? p.schema?.examples, `${where} ${p.in} ${p.name} example`).toBeDefined();
        }
      }
    }
    expect(ids.size).toBeGreaterThanOrEqual(5);
  });

  it('documents a problem response for 4xx statuses', () => {
    const op = doc.paths['/v1/conditions/{id}']?.get;
    expect(op?.responses).toHaveProperty('404');
    expect(JSON.stringify(op?.responses['404'])).toContain('#/components/schemas/Problem');
  });

  it('is exported to openapi/openapi.json and the committed file is current (run `npm run openapi`)', async () => {
    const committed = readFileSync(join(PROJECT_ROOT, 'openapi', 'openapi.json'), 'utf8');
    expect(committed).toBe(await openApiDocument());
  });

  it('serves an interactive reference at /docs', async () => {
    const res = await ctx.app.inject({ url: '/docs/' });
    expect([200, 302]).toContain(res.statusCode);
    const page = res.statusCode === 302 ? await ctx.app.inject({ url: String(res.headers.location) }) : res;
    expect(page.body).toMatch(/swagger-ui/i);
  });
});
