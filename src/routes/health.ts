import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { pendingMigrations } from '../db/connection.js';
import { ref, ProblemSchema } from '../schemas/common.js';
import { MIGRATION_COUNT } from '../db/migrations.js';

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
        description: 'Answers 200 when the database is open and every migration is applied, else 503.',
        response: {
          200: Type.Object({ status: Type.Literal('ready'), datasetVersion: Type.String() }),
          406: ref(ProblemSchema),
          // Not ready, or the problem that load shedding and shutdown send on any route.
          503: Type.Union([Type.Object({ status: Type.Literal('not-ready'), reason: Type.String() }), ref(ProblemSchema)]),
        },
      },
    },
    async (_request, reply) => {
      try {
        const pending = pendingMigrations(app.db, MIGRATION_COUNT);
        if (pending > 0) return reply.code(503).send({ status: 'not-ready' as const, reason: `${pending} migration(s) not applied` });
        return { status: 'ready' as const, datasetVersion: app.repos.meta.get().datasetVersion };
      } catch {
        return reply.code(503).send({ status: 'not-ready' as const, reason: 'database unavailable' });
      }
    },
  );
};

export default routes;
