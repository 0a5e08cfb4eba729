/**
 * Bearer API keys for routes that declare `config: { scope }`; every other route stays public.
 *
 * - No key → 401 with `WWW-Authenticate: Bearer realm="condition-kb"`; a malformed, unknown or
 *   revoked key → 401 with `error="invalid_token"` (one message for all three, so a caller learns
 *   nothing about which ids exist); a valid key without the scope → 403 `insufficient_scope`.
 * - Authentication failures are limited per client address and per presented key id, separately:
 *   after 10 failed keys within a minute from one address, or naming one key id, a further failed
 *   key gets 429 with Retry-After instead of 401, until the window frees up. A valid key is checked
 *   first and always accepted, whatever other keys (or other holders of this id) got wrong: a
 *   lockout that refused valid keys let one anonymous client (behind a proxy, everyone shares its
 *   address) or anyone who read a key id in the change feed keep curators out. That costs no
 *   safety: a secret is 256 random bits (auth/keys.ts), so the lockout does not protect it from
 *   guessing; it makes a misconfigured or scanning client back off. The global
 *   @fastify/rate-limit counts every request when it arrives and cannot count only failures, so
 *   this is a small sliding window of its own.
 * - The key is read from the header and never logged or echoed (app.ts also redacts the header).
 * - Every route is recorded with its scope (`app.routeScopes`), so tests can prove that each
 *   write route is protected.
 */
import fp from 'fastify-plugin';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpProblem } from '../http/problems.js';
import type { ApiKey } from '../repositories/apiKeys.js';
import type { Scope } from '../auth/keys.js';

export const REALM = 'condition-kb';
const MAX_FAILURES = 10;
const WINDOW_MS = 60_000;
/** Bound on remembered addresses (or key ids): past it, stale entries are swept, and if none are stale the oldest go. */
const MAX_TRACKED = 10_000;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope an API key needs for this route; routes without one are public. */
    scope?: Scope;
  }
  interface FastifyRequest {
    /** The authenticated key of a scoped route; null on public routes. */
    apiKey: ApiKey | null;
  }
  interface FastifyInstance {
    routeScopes: readonly { method: string; url: string; scope: Scope | undefined }[];
  }
}

/** Failed authentications per client address (or per key id) in a sliding window (timestamps, oldest first). */
export class FailureWindow {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly max = MAX_FAILURES,
    private readonly windowMs = WINDOW_MS,
  ) {}

  private recent(ip: string, now: number): number[] {
    const list = (this.failures.get(ip) ?? []).filter((t) => t > now - this.windowMs);
    if (list.length) this.failures.set(ip, list);
    else this.failures.delete(ip);
    return list;
  }

  /** Seconds until this IP may try again, or 0 when it may try now. */
  retryAfter(ip: string, now = Date.now()): number {
    const list = this.recent(ip, now);
    if (list.length < this.max) return 0;
    const oldest = list[list.length - this.max] ?? now;
    return Math.max(1, Math.ceil((oldest + this.windowMs - now) / 1000));
  }

  record(ip: string, now = Date.now()): void {
    const list = this.recent(ip, now);
    list.push(now);
    this.failures.set(ip, list.slice(-this.max));
    if (this.failures.size > MAX_TRACKED) this.sweep(now);
  }

  private sweep(now: number): void {
    for (const ip of [...this.failures.keys()]) this.recent(ip, now);
    for (const ip of this.failures.keys()) {
      if (this.failures.size <= MAX_TRACKED) break;
      this.failures.delete(ip);
    }
  }
}

function challenge(reply: FastifyReply, params: Record<string, string> = {}): void {
  const extra = Object.entries(params).map(([k, v]) => `, ${k}="${v}"`).join('');
  reply.header('www-authenticate', `Bearer realm="${REALM}"${extra}`);
}

/** The token of an `Authorization: Bearer <token>` header; null when there is no header, '' when it is not Bearer. */
function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (header === undefined) return null;
  const match = /^Bearer[ ]+([^ ]+)[ ]*$/i.exec(header);
  return match?.[1] ?? '';
}

export default fp(
  async (app) => {
    const keys = app.repos.apiKeys;
    const byAddress = new FailureWindow();
    const byKeyId = new FailureWindow();
    const routes: { method: string; url: string; scope: Scope | undefined }[] = [];
    app.decorate('routeScopes', routes);
    app.decorateRequest('apiKey', null);

    app.addHook('onRoute', (route) => {
      const scope = (route.config as { scope?: Scope } | undefined)?.scope;
      for (const method of Array.isArray(route.method) ? route.method : [route.method]) routes.push({ method, url: route.url, scope });
    });

    // Callback form: reads (no scope) pass without a promise; every refusal below is a throw,
    // which Fastify answers as it answers a rejected hook.
    app.addHook('onRequest', (request, reply, done) => {
      const scope = request.routeOptions.config.scope;
      if (scope === undefined) return done();
      const token = bearerToken(request);
      if (token === null) {
        challenge(reply);
        throw new HttpProblem(401, '/problems/unauthorized', 'Unauthorized', 'This operation needs an API key: send `Authorization: Bearer <key>`.');
      }
      const verified = keys.verify(token);
      if (!('key' in verified)) {
        // Guesses at one id count together, whatever the address; a revoked key's own secret is no guess.
        const keyId = verified.refused === 'guess' ? verified.id : undefined;
        const waitAddress = byAddress.retryAfter(request.ip);
        const waitKey = keyId === undefined ? 0 : byKeyId.retryAfter(keyId);
        const wait = Math.max(waitAddress, waitKey);
        if (wait > 0) {
          reply.header('retry-after', String(wait));
          const what = waitAddress >= waitKey ? 'from this address' : 'for this key id';
          throw new HttpProblem(429, '/problems/too-many-authentication-failures', 'Too Many Requests', `Too many failed API keys ${what}; retry after ${wait} seconds.`);
        }
        byAddress.record(request.ip);
        if (keyId !== undefined) byKeyId.record(keyId);
        challenge(reply, { error: 'invalid_token', error_description: 'The API key is malformed, unknown or revoked' });
        throw new HttpProblem(401, '/problems/invalid-api-key', 'Unauthorized', 'The API key is malformed, unknown or revoked.');
      }
      const key = verified.key;
      if (!key.scopes.includes(scope)) {
        challenge(reply, { error: 'insufficient_scope', scope });
        throw new HttpProblem(403, '/problems/insufficient-scope', 'Forbidden', `This API key lacks the "${scope}" scope that this operation needs.`);
      }
      request.apiKey = key;
      done();
    });
  },
  { name: 'auth', dependencies: ['db', 'errors'] },
);
