/**
 * Storage health for every request (db/storageGuard.ts): `app.storage` is the guard that the
 * write path commits through and /ready asks. While the open database is lost, writes answer 503
 * at once, and so does every read when the file is damaged (truncated, not a database, malformed):
 * pages still in memory would otherwise be served as if nothing had happened. Liveness, the
 * OpenAPI document and the docs do not depend on the database and keep answering.
 */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import type { HttpProblem } from '../http/problems.js';
import { createStorageGuard, type StorageGuard } from '../db/storageGuard.js';
import { migrationStatus } from '../db/migrations.js';

declare module 'fastify' {
  interface FastifyInstance {
    storage: StorageGuard;
  }
}

/** Requests other than writes and /ready look at the file at most this often. */
const CHECK_EVERY_MS = 1000;
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const INDEPENDENT = /^\/(health|ready|openapi\.json|docs)(\/|$)/;

/** The storage problem (503/507) an error from a query stands for, if it is one. */
export function storageProblemFor(app: FastifyInstance, error: unknown): HttpProblem | undefined {
  return app.hasDecorator('storage') ? app.storage.problemFor(error) : undefined;
}

export default fp<{ config: Config }>(
  async (app, { config }) => {
    const guard = createStorageGuard(config.databasePath, {
      writer: !config.readOnly,
      log: app.log,
      schemaRefusal: () => migrationStatus(app.db).refusal,
    });
    app.decorate('storage', guard);
    // Callback form (no promise per request); a throw is answered like a rejection.
    app.addHook('onRequest', (request, _reply, done) => {
      if (INDEPENDENT.test(request.routeOptions.url ?? '')) return done();
      const write = WRITE_METHODS.has(request.method);
      const lost = write ? guard.check() : guard.check(CHECK_EVERY_MS);
      if (lost && (write || !lost.readable)) throw guard.problem(lost);
      done();
    });
  },
  { name: 'storage', dependencies: ['db', 'errors'] },
);
