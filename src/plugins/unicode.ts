/**
 * Every request body is stored text in waiting: it is put in Unicode NFC before validation, so a
 * curator's "é" is the same bytes (ETag, search hit) whether their system composed it or not.
 * Characters that content must not hold at all are refused later, where content is validated
 * (content/textHygiene.ts through validate.ts), with the field's path.
 */
import fp from 'fastify-plugin';
import { normalizeText } from '../content/textHygiene.js';

export default fp(
  async (app) => {
    // Callback form: most requests have no body, and need no promise to say so.
    app.addHook('preValidation', (request, _reply, done) => {
      if (request.body !== undefined && request.body !== null) request.body = normalizeText(request.body);
      done();
    });
  },
  { name: 'unicode' },
);
