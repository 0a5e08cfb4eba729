/**
 * The request lifecycle around every route: request ids, and graceful shutdown.
 *
 * - Request ids: a caller's `X-Request-Id` is kept when it looks like one (for tracing across
 *   services), else a UUID is made; every response echoes it.
 * - Shutdown: requests running when close begins finish; later ones get a 503 problem. Every
 *   response from then on says `Connection: close`, so no client reuses a socket being closed,
 *   and open keep-alive connections are drained rather than reset (see drainConnections).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Server as NetServer } from 'node:net';
import fp from 'fastify-plugin';
import { sendProblem } from './errors.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/** Fastify's `genReqId`: the caller's id when it looks like one, else a fresh UUID. */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/** Longest wait for keep-alive connections to finish on close; close-with-grace allows 10 s in all. */
const DRAIN_MAX_MS = 5_000;
/** A connection idle this long is closed like any keep-alive timeout; busy ones close themselves. */
const DRAIN_QUIET_MS = 250;

/**
 * Stops accepting connections but, unlike http.Server#close (which since Node 19 destroys every
 * idle keep-alive socket at once), leaves open ones alone: a client writing its next request on
 * such a socket at that instant would see ECONNRESET. Each open connection instead gets its next
 * response with `Connection: close` (hooks below) and closes itself. Resolves when none is left,
 * when no request came for DRAIN_QUIET_MS, or after DRAIN_MAX_MS; Fastify then closes the rest and
 * waits for requests still running.
 */
async function drainConnections(server: NetServer, lastActivity: () => number): Promise<void> {
  if (!server.listening) return;
  let drained = false;
  server.once('close', () => (drained = true));
  NetServer.prototype.close.call(server);
  const deadline = Date.now() + DRAIN_MAX_MS;
  while (!drained && Date.now() < deadline && Date.now() - lastActivity() < DRAIN_QUIET_MS) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export default fp(
  async (app) => {
    let closing = false;
    let lastActivity = 0;
    app.addHook('preClose', async () => {
      closing = true;
      lastActivity = Date.now();
      await drainConnections(app.server, () => lastActivity);
    });
    // Hooks on every request take Fastify's callback form: an async hook costs a promise and a
    // microtask turn per request, for work that never waits.
    app.addHook('onRequest', (request, reply, done) => {
      reply.header('x-request-id', request.id);
      if (!closing) return done();
      lastActivity = Date.now();
      reply.header('retry-after', '5');
      // Answered here: the request goes no further, so `done` is not called.
      sendProblem(request, reply, {
        type: '/problems/shutting-down',
        title: 'Service Unavailable',
        status: 503,
        detail: 'The server is shutting down; retry, another instance will answer.',
      });
    });
    app.addHook('onSend', (_request, reply, payload, done) => {
      if (closing) {
        lastActivity = Date.now();
        reply.header('connection', 'close');
      }
      done(null, payload);
    });
  },
  { name: 'lifecycle' },
);
