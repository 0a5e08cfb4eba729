import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

// Placeholder: filled in by the read-API work on /v1/sources.
const routes: FastifyPluginAsyncTypebox = async () => {};

export default routes;
