/**
 * The HTTP side of a curated write: what the request says (key, If-Match, Idempotency-Key) in,
 * the curation service's answer out. Routes are one call each: `write(request, reply, (ctx) => ...)`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DatabaseBusy, requestHash, type Answer, type WriteContext } from '../../curation/service.js';

function contextOf(request: FastifyRequest): WriteContext {
  const key = request.apiKey;
  if (!key) throw new Error('write route without an authenticated key'); // the auth plugin runs first
  const header = request.method === 'POST' ? request.headers['idempotency-key'] : undefined;
  return {
    actorKeyId: key.id,
    ifMatch: request.headers['if-match'],
    ...(typeof header === 'string' ? { idempotency: { key: header, requestHash: requestHash(request.method, request.url, request.body) } } : {}),
  };
}

/** Runs a write with the request's context and sends its answer (never cached: `no-store`). */
export function write(request: FastifyRequest, reply: FastifyReply, run: (ctx: WriteContext) => Answer): FastifyReply {
  let answer: Answer;
  try {
    answer = run(contextOf(request));
  } catch (error) {
    if (error instanceof DatabaseBusy) reply.header('retry-after', String(error.retryAfter));
    throw error;
  }
  reply.code(answer.status).header('cache-control', 'no-store');
  if (answer.contentType) reply.type(answer.contentType);
  if (answer.etag) reply.header('etag', answer.etag);
  if (answer.location) reply.header('location', answer.location);
  if (answer.contentLocation) reply.header('content-location', answer.contentLocation);
  if (answer.replayed) reply.header('idempotent-replayed', 'true');
  return reply.send(answer.body);
}
