/**
 * Unmatched requests: 405 with `Allow` when the path exists for other methods, else 404.
 * Fastify's router answers 404 for both, so route patterns are recorded as they are added and
 * the concrete path is matched against them here (only on the not-found path, never per hit).
 */
import fp from 'fastify-plugin';
import { sendProblem } from './errors.js';

function patternToRegExp(url: string): RegExp {
  const escaped = url
    .split('/')
    .map((part) => (part.startsWith(':') ? '[^/]+' : part === '*' ? '.*' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${escaped}/?$`);
}

export default fp(
  async (app) => {
    const routes: { pattern: RegExp; methods: Set<string> }[] = [];
    app.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      routes.push({ pattern: patternToRegExp(route.url), methods: new Set(methods) });
    });

    app.setNotFoundHandler((request, reply) => {
      const path = request.url.split('?')[0] ?? '/';
      const allowed = new Set<string>();
      for (const r of routes) if (r.pattern.test(path)) for (const m of r.methods) allowed.add(m);
      if (allowed.size === 0) {
        return sendProblem(request, reply, {
          type: '/problems/not-found',
          title: 'Not Found',
          status: 404,
          detail: `Nothing is served at ${path}. See /openapi.json for the routes.`,
        });
      }
      const allow = [...allowed].sort().join(', ');
      reply.header('allow', allow);
      return sendProblem(request, reply, {
        type: '/problems/method-not-allowed',
        title: 'Method Not Allowed',
        status: 405,
        detail: `${request.method} is not supported on ${path}. Allowed: ${allow}.`,
      });
    });
  },
  { name: 'not-found', dependencies: ['errors'] },
);
