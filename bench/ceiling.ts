/**
 * The raw ceiling: plain node:http serving one fixed response (the exact bytes, content type and
 * ETag the real server sent for the condition document) to every request. Nothing a real server
 * could skip is skipped, and nothing else is done, so it is the most this machine serves.
 *
 * Run as a child of bench/run.ts: CEILING_BODY (a file), CEILING_TYPE, CEILING_ETAG, PORT.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const body = readFileSync(process.env.CEILING_BODY ?? '');
const headers = {
  'content-type': process.env.CEILING_TYPE ?? 'application/json; charset=utf-8',
  etag: process.env.CEILING_ETAG ?? '"ceiling"',
  'content-length': String(body.length),
};

const server = createServer((_req, res) => {
  res.writeHead(200, headers);
  res.end(body);
});
server.keepAliveTimeout = 72_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1');

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
