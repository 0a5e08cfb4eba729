/**
 * Request validation Ajv leaves undone: its string-to-number coercion turns "Infinity" and
 * "1e400" into Infinity and skips minimum and maximum for a number that is not finite, so such a
 * value passes any integer schema (and reached SQLite as LIMIT Infinity: a 500). Refused here once,
 * for every route, as a 400 problem at the parameter's path.
 */
import fp from 'fastify-plugin';
import { HttpProblem } from '../http/problems.js';

const nonFinite = (v: unknown) => typeof v === 'number' && !Number.isFinite(v);

function refuseNonFinite(part: 'querystring' | 'params', values: unknown): void {
  if (values === null || typeof values !== 'object') return;
  for (const name in values) {
    if (!Object.hasOwn(values, name)) continue;
    const value: unknown = (values as Record<string, unknown>)[name];
    if (!(Array.isArray(value) ? value.some(nonFinite) : nonFinite(value))) continue;
    const errors = [{ path: `/${part}/${name}`, message: 'must be a finite number' }];
    throw new HttpProblem(400, '/problems/validation-error', 'Bad Request', `The request is not valid: /${part}/${name} must be a finite number.`, errors);
  }
}

export default fp(
  async (app) => {
    // Callback form, no arrays made per request: this runs before every handler.
    app.addHook('preHandler', (request, _reply, done) => {
      refuseNonFinite('querystring', request.query);
      refuseNonFinite('params', request.params);
      done();
    });
  },
  { name: 'finite-numbers' },
);
