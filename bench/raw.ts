/**
 * The raw ceiling: plain node:http replaying responses recorded from the real server, byte for
 * byte: the same status, the same headers (values of the same length where they vary, such as
 * the request id) and the same body, chosen by method, URL and If-None-Match. Nothing a server
 * could skip is skipped and nothing else is done: it is the least CPU per request this machine
 * needs to send those bytes, the denominator of every ratio in `npm run bench`.
 *
 * Run as a child of bench/run.ts: RAW_RECORDING (a file written by `writeRecording`), PORT.
 * RAW_SERVER=fastify replays the same responses through a bare Fastify app instead (no plugin,
 * no hook, no logger, one catch-all route): Fastify's own floor, which says how much of the gap
 * between the service and node:http is the framework and how much is the service's plugins.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import Fastify from 'fastify';

export interface Recorded {
  method: string;
  url: string;
  ifNoneMatch: string | null;
  status: number;
  /** Response headers as name/value pairs, as the real server sent them (hop-by-hop ones left out). */
  headers: [string, string][];
  body: Buffer;
}

/** Headers Node writes itself on every response (or that describe the framing), never replayed. */
const OWN_HEADERS = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding', 'content-length']);

export const recordKey = (method: string, url: string, ifNoneMatch: string | null | undefined) => `${method} ${url} ${ifNoneMatch ?? ''}`;

/** The recording as one file: a JSON index line, then the bodies one after another. */
export function writeRecording(file: string, recorded: Recorded[]): void {
  const index = recorded.map(({ body, ...r }) => ({ ...r, headers: r.headers.filter(([name]) => !OWN_HEADERS.has(name.toLowerCase())), length: body.length }));
  writeFileSync(file, Buffer.concat([Buffer.from(`${JSON.stringify(index)}\n`), ...recorded.map((r) => r.body)]));
}

function readRecording(file: string): Map<string, Replay> {
  const data = readFileSync(file);
  const newline = data.indexOf(10);
  const index = JSON.parse(data.subarray(0, newline).toString()) as (Omit<Recorded, 'body'> & { length: number })[];
  const out = new Map<string, Replay>();
  let at = newline + 1;
  for (const r of index) {
    const body = data.subarray(at, at + r.length);
    at += r.length;
    // A flat [name, value, …] list: writeHead's cheapest form, and it keeps the real order.
    const headers = [...r.headers.flat(), 'content-length', String(body.length)];
    out.set(recordKey(r.method, r.url, r.ifNoneMatch), { status: r.status, headers, body: r.status === 304 ? Buffer.alloc(0) : body });
  }
  return out;
}

type Replay = { status: number; headers: string[]; body: Buffer };

function lookup(responses: Map<string, Replay>, method: string | undefined, url: string | undefined, ifNoneMatch: string | string[] | undefined): Replay | undefined {
  const inm = typeof ifNoneMatch === 'string' ? ifNoneMatch : null;
  return responses.get(recordKey(method ?? 'GET', url ?? '/', inm)) ?? responses.get(recordKey(method ?? 'GET', url ?? '/', null));
}

const NOT_FOUND = Buffer.from('not recorded\n');

function nodeServer(responses: Map<string, Replay>, port: number): { close: () => void } {
  const server = createServer((req, res) => {
    // A request body (the write scenario) is read, as the real server reads it.
    req.resume();
    const r = lookup(responses, req.method, req.url, req.headers['if-none-match']);
    if (!r) {
      res.writeHead(404, { 'content-length': String(NOT_FOUND.length) });
      res.end(NOT_FOUND);
      return;
    }
    res.writeHead(r.status, r.headers);
    res.end(r.body);
  });
  server.keepAliveTimeout = 72_000;
  server.listen(port, '127.0.0.1');
  return {
    close: () => {
      server.close(() => process.exit(0));
      server.closeAllConnections();
    },
  };
}

function fastifyServer(responses: Map<string, Replay>, port: number): { close: () => void } {
  const app = Fastify({ logger: false, keepAliveTimeout: 72_000 });
  // Bodies of any type arrive unparsed, as node:http's server leaves them.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => {
    payload.resume();
    payload.on('end', () => done(null));
  });
  app.all('*', (request, reply) => {
    const r = lookup(responses, request.raw.method, request.raw.url, request.headers['if-none-match']);
    if (!r) return reply.code(404).send(NOT_FOUND);
    reply.code(r.status);
    for (let i = 0; i + 1 < r.headers.length; i += 2) reply.header(r.headers[i] ?? '', r.headers[i + 1] ?? '');
    return reply.send(r.status === 304 ? undefined : r.body);
  });
  void app.listen({ port, host: '127.0.0.1' });
  return { close: () => void app.close().then(() => process.exit(0)) };
}

function main(): void {
  const responses = readRecording(process.env.RAW_RECORDING ?? '');
  const port = Number(process.env.PORT ?? 0);
  const server = process.env.RAW_SERVER === 'fastify' ? fastifyServer(responses, port) : nodeServer(responses, port);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, server.close);
}

if (process.env.RAW_RECORDING) main();
