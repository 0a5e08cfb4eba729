import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { pendingMigrations } from '../db/connection.js';
import { ref, ProblemSchema } from '../schemas/common.js';
import { HttpProblem } from '../http/problems.js';

const notReady = (detail: string) => new HttpProblem(503, '/problems/not-ready', 'Service Unavailable', detail);

const routes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/health',
    {
      config: { cache: 'no-store' },
      schema: {
        operationId: 'getHealth',
        tags: ['meta'],
        summary: 'Liveness',
        description: 'Answers 200 while the process runs. Does not touch the database.',
        response: { 200: Type.Object({ status: Type.Literal('ok') }), 406: ref(ProblemSchema) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/ready',
    {
      config: { cache: 'no-store' },
      schema: {
        operationId: 'getReady',
        tags: ['meta'],
        summary: 'Readiness',
        description:
          'Answers 200 when the database is open, still the file at its configured path and whole, every migration is applied, and (on a server that takes writes) the file, its directory and disk can take a write; else 503 with a problem saying which.',
        response: {
          200: Type.Object({ status: Type.Literal('ready'), datasetVersion: Type.String() }),
          406: ref(ProblemSchema),
          // Not ready (/problems/not-ready, or the storage problem), load shedding or shutdown.
          503: ref(ProblemSchema),
        },
      },
    },
    async (request) => {
      const fault = app.storage.readiness();
      if (fault) throw notReady(fault.detail);
      let pending: number;
      try {
        pending = pendingMigrations(app.db);
      } catch (error) {
        // Another process migrated the file to a newer release while this one was serving.
        throw notReady(error instanceof Error ? error.message : 'the migrations table cannot be read');
      }
      if (pending > 0) throw notReady(`${pending} migration(s) not applied`);
      try {
        return { status: 'ready' as const, datasetVersion: app.repos.meta.get().datasetVersion };
      } catch (error) {
        request.log.error({ err: error }, 'readiness: the database cannot be read');
        throw notReady(app.storage.problemFor(error)?.message ?? 'The database cannot be read.');
      }
    },
  );
};

export default routes;
