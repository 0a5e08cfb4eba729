/**
 * The server's Ajv does not check schemas against the draft-07 meta-schema when it compiles them
 * (src/app.ts, `validateSchema: false`: compiling the meta-schema was ~10% of start-up). This
 * file does that check instead, for every schema the server hands Ajv: each route's params,
 * querystring, body and headers, as Fastify passes them to the validator compiler, and every
 * named schema.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Ajv } from 'ajv';
import type * as LazyValidators from '../src/http/lazyValidators.js';
import { ALL_NAMED_SCHEMAS } from '../src/schemas/index.js';
import { buildTestApp, type TestContext } from './helpers.js';

interface SeenRoute {
  method: string;
  url: string;
  httpPart?: string;
  schema: unknown;
}
const seen = vi.hoisted((): SeenRoute[] => []);

// The server's own compiler, recording each route part it is asked to compile.
vi.mock('../src/http/lazyValidators.js', async (importOriginal) => {
  const actual = await importOriginal<typeof LazyValidators>();
  return {
    ...actual,
    lazyAjvCompiler: (...args: Parameters<typeof actual.lazyAjvCompiler>): ReturnType<typeof actual.lazyAjvCompiler> => {
      const compile = actual.lazyAjvCompiler(...args);
      return (route) => {
        seen.push({ method: route.method, url: route.url, httpPart: route.httpPart, schema: route.schema });
        return compile(route);
      };
    },
  };
});

let ctx: TestContext;
beforeAll(async () => {
  ctx = await buildTestApp();
});
afterAll(() => ctx.close());

/** Meta-schema problems of one schema, as text ('' when valid). */
function metaProblems(schema: unknown): string {
  const ajv = new Ajv({ strict: false, allErrors: true });
  if (typeof schema !== 'object' || schema === null) return 'not an object';
  return ajv.validateSchema(schema) ? '' : ajv.errorsText(ajv.errors);
}

describe('schemas the server compiles without a meta-schema check', () => {
  it('every route part Fastify compiles is valid draft-07', () => {
    // Params and querystrings of the read routes at least (a test that saw nothing cannot fail).
    expect(seen.filter((r) => r.httpPart === 'querystring').length).toBeGreaterThan(10);
    expect(seen.filter((r) => r.httpPart === 'params').length).toBeGreaterThan(10);
    const invalid = seen.map((r) => [`${r.method} ${r.url} ${r.httpPart ?? ''}`, metaProblems(r.schema)]).filter(([, problems]) => problems !== '');
    expect(invalid).toEqual([]);
  });

  it('every named schema is valid draft-07', () => {
    const invalid = ALL_NAMED_SCHEMAS.map((s) => ['$id' in s ? String(s.$id) : '?', metaProblems(s)]).filter(([, problems]) => problems !== '');
    expect(invalid).toEqual([]);
  });

  it('and an invalid schema would be reported', () => {
    expect(metaProblems({ type: 'object', properties: { n: { type: 'integer', minimum: '5' } } })).toMatch(/minimum/);
  });
});
