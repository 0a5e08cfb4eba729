/**
 * Parser-level errors (400, 408, 413, 431) answered as problems (http/clientErrors.ts). Fastify
 * listens to the server's `clientError` event with a handler of its own that sends JSON that is
 * not a problem; this one takes its place.
 */
import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import { createClientErrorHandler } from '../http/clientErrors.js';

export default fp<{ config: Config }>(
  async (app, { config }) => {
    const handler = createClientErrorHandler(config, app.log);
    app.server.removeAllListeners('clientError');
    app.server.on('clientError', handler);
  },
  { name: 'client-errors' },
);
