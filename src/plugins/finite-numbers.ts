/**
 * Request validation Ajv leaves undone: its string-to-number coercion turns "Infinity" and
 * "1e400" into Infinity and skips minimum and maximum for a number that is not finite, so such a
 * value passes any integer schema (and reached SQLite as LIMIT Infinity: a 500). Refused here once,
 * for every route, as a 400 problem at the parameter's path.
 */
import fp from 'fastify-plugin';
import { HttpProblem } from '../http/problems.js';

export default fp(
  async (app) => {
    app.addHook('preHandler', async (request) => {
      for (const [part, values] of [['querystring', request.query], ['params', request.params]] as const) {
        if (values === null || typeof values !== 'object') continue;
        for (const [name, value] of Object.entries(values)) {
          if (![value].flat().some((v) => typeof v === 'number' && !Number.isFinite(v))) continue;
          const errors = [{ path: `/${part}/${name}`, message: 'must be a finite number' }];
          throw new HttpProblem(400, '/problems/validation-error', 'Bad Request', `The request is not valid: /${part}/${name} must be a finite number.`, errors);
        }
      }
    });
  },
  { name: 'finite-numbers' },
);
