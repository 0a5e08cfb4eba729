/**
 * The raw ceiling: plain node:http replaying responses recorded from the real server, byte for
 * byte: the same status, the same headers (values of the same length where they vary, such as
 * the request id) and the same body, chosen by method, URL and If-None-Match. Nothing a server
 * could skip is skipped and nothing else is done: it is the least CPU per request this machine
 * needs to send those bytes, the denominator of every ratio in `npm run bench`.
 *
 * Run as a child of bench/run.ts: RAW_RECORDING (a file written by `writeRecording`), PORT.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';

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

function readRecording(file: string): Map<string, { status: number; headers: string[]; body: Buffer }> {
  const data = readFileSync(file);
  const newline = data.indexOf(10);
  const index = JSON.parse(data.subarray(0, newline).toString()) as (Omit<Recorded, 'body'> & { length: number })[];
  const out = new Map<string, { status: number; headers: string[]; body: Buffer }>();
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

function main(): void {
  const responses = readRecording(process.env.RAW_RECORDING ?? '');
  const notFound = Buffer.from('not recorded\n');
  const inm = (req: IncomingMessage) => {
    const h = req.headers['if-none-match'];
    return typeof h === 'string' ? h : null;
  };
  const server = createServer((req, res) => {
    // A request body (the write scenario) is read, as the real server reads it.
    req.resume();
    const r = responses.get(recordKey(req.method ?? 'GET', req.url ?? '/', inm(req))) ?? responses.get(recordKey(req.method ?? 'GET', req.url ?? '/', null));
    if (!r) {
      res.writeHead(404, { 'content-length': String(notFound.length) });
      res.end(notFound);
      return;
    }
    res.writeHead(r.status, r.headers);
    res.end(r.body);
  });
  server.keepAliveTimeout = 72_000;
  server.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      server.close(() => process.exit(0));
      server.closeAllConnections();
    });
  }
}

if (process.env.RAW_RECORDING) main();
