/**
 * The edges of HTTP input, below and beside routing: every refusal is an RFC 9457 problem.
 *
 * - Requests Node's parser refuses (bad method, CR/LF/NUL or obs-fold in a header, bad or doubled
 *   Content-Length, Content-Length with Transfer-Encoding, raw non-ASCII bytes in the target,
 *   headers over 16 KB), a missing Host, and requests that do not arrive in time: sent as raw
 *   bytes over a loopback socket to a listening app, since app.inject() bypasses the parser.
 * - Unknown query parameters on the routes that declare none.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKeysRepository } from '../src/repositories/apiKeys.js';
import { buildTestApp, expectProblem, type TestContext } from './helpers.js';

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Everything received before the server closed the connection. */
  raw: string;
}

/** Sends `bytes` and reads until the server closes the connection. */
function rawRequest(port: number, bytes: string | Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const raw = Buffer.concat(chunks).toString('latin1');
      const [head = '', ...rest] = raw.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n'), raw });
    });
    socket.write(bytes);
  });
}

function expectRawProblem(res: RawResponse, status: number): Record<string, unknown> {
  expect(res.status, res.raw).toBe(status);
  expect(res.headers['content-type']).toBe('application/problem+json');
  expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(res.body, 'latin1'));
  expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  const body = JSON.parse(res.body) as Record<string, unknown>;
  expect(body).toMatchObject({ status, type: expect.stringMatching(/^\/problems\//), title: expect.any(String), detail: expect.any(String) });
  expect(body.requestId).toBe(res.headers['x-request-id']);
  return body;
}

const GET_OK = 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n';

describe('requests refused below routing', () => {
  let ctx: TestContext;
  let port: number;
  beforeAll(async () => {
    // Short timeouts so that the timeout cases end quickly; the rest does not depend on them.
    ctx = await buildTestApp({ env: { REQUEST_TIMEOUT_MS: '1500', HEADERS_TIMEOUT_MS: '600' } });
    await ctx.app.listen({ host: '127.0.0.1', port: 0 });
    const address = ctx.app.server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    port = address.port;
  });
  afterAll(() => ctx.close());

  it('serves a well-formed raw request (the harness itself works)', async () => {
    const res = await rawRequest(port, `GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(res.status).toBe(200);
    expect(res.body).toContain('"ok"');
  });

  it.each([
    ['an unknown method', 'BREW /health HTTP/1.1\r\nHost: x\r\n\r\n', /method/],
    ['a bare LF inside a header value', 'GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n', /character/],
    ['a NUL in a header value', 'GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n', /character/],
    ['an obs-fold continuation line', 'GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\r\n  folded\r\n\r\n', /character|folded/],
    ['a space before the colon', 'GET /health HTTP/1.1\r\nHost : x\r\n\r\n', /character/],
    ['a negative Content-Length', 'POST /v1/facts HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n', /Content-Length/],
    ['two different Content-Lengths', 'POST /v1/facts HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', /Content-Length/],
    ['Content-Length with Transfer-Encoding', 'POST /v1/facts HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', /Transfer-Encoding/],
    ['a bad HTTP version', 'GET /health HTTP/9.Z\r\nHost: x\r\n\r\n', /version|not valid/],
  ])('answers %s with a 400 problem', async (_name, request, detail) => {
    const body = expectRawProblem(await rawRequest(port, request), 400);
    expect(String(body.detail)).toMatch(detail);
  });

  it('answers raw non-ASCII bytes in the target with a 400 problem', async () => {
    const request = Buffer.concat([Buffer.from('GET /v1/conditions/caf'), Buffer.from([0xc3, 0xa9]), Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n')]);
    const body = expectRawProblem(await rawRequest(port, request), 400);
    expect(String(body.detail)).toMatch(/percent-encoded/);
  });

  it('answers headers over 16 KB with a 431 problem', async () => {
    const body = expectRawProblem(await rawRequest(port, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`), 431);
    expect(body.type).toBe('/problems/request-header-fields-too-large');
  });

  it('answers an HTTP/1.1 request without Host with a 400 problem naming the header', async () => {
    const res = await rawRequest(port, 'GET /health HTTP/1.1\r\nConnection: close\r\n\r\n');
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(res.body)).toMatchObject({ status: 400, errors: [{ path: '/headers/host', message: 'is required' }] });
    // HTTP/1.0 has no Host requirement.
    expect((await rawRequest(port, 'GET /health HTTP/1.0\r\n\r\n')).status).toBe(200);
  });

  it('answers headers that never finish with a 408 problem (HEADERS_TIMEOUT_MS), not after Node\'s 60 s default', async () => {
    // The test's own timeout (vitest, 10 s) bounds the wait; the server must close first.
    const body = expectRawProblem(await rawRequest(port, 'GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: '), 408);
    expect(body.type).toBe('/problems/request-timeout');
    expect(String(body.detail)).toContain('0.6 s');
  }, 10_000);

  it('answers a body that never finishes with a 408 problem (REQUEST_TIMEOUT_MS)', async () => {
    // A valid key, so that the route waits for the body (without one, 401 answers at once).
    const key = createApiKeysRepository(ctx.app.db).create('slow curator', ['content:write']).key;
    const res = await rawRequest(port, `POST /v1/facts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":`);
    const body = expectRawProblem(res, 408);
    expect(String(body.detail)).toContain('1.5 s');
  }, 10_000);

  it('keeps serving after all of that', async () => {
    expect((await rawRequest(port, `${GET_OK.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n')}`)).status).toBe(200);
  });
});

describe('unknown query parameters', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await buildTestApp();
  });
  afterAll(() => ctx.close());

  it.each(['/health', '/ready', '/v1/meta', '/openapi.json', '/docs'])('are refused on %s with a 400 naming them', async (url) => {
    const res = await ctx.app.inject({ url: `${url}?verbose=1&x=2` });
    const body = expectProblem(res, 400);
    expect(body.errors).toEqual([
      { path: '/querystring/verbose', message: 'unknown parameter' },
      { path: '/querystring/x', message: 'unknown parameter' },
    ]);
    expect((await ctx.app.inject({ url })).statusCode).not.toBe(400);
  });

  it('are refused where a route declares its parameters too (unchanged)', async () => {
    expectProblem(await ctx.app.inject({ url: '/v1/conditions?nope=1' }), 400);
  });
});
