/**
 * How every curated write runs, whatever the resource:
 *
 * 1. One at a time: a per-process async mutex covers the precondition check, validation, the
 *    transaction and the rendering of the answer, so two writes with the same `If-Match` cannot
 *    both pass the check (one gets 412). One process writes; replicas only read (see README).
 * 2. `Idempotency-Key` (POST): a stored answer for the same key and request is replayed; the same
 *    key with another request is a 422.
 * 3. `If-Match` (every write to an existing resource): compared with the ETag that a GET of the
 *    resource returns now, obtained by rendering that GET internally, so it is the very ETag a
 *    client saw, whatever the representation's serializer. Missing → 428, `*` → 428 (it would
 *    skip the check this API exists for), stale → 412 with the current ETag and version.
 * 4. The operation computes whole conditions after the change; they are validated with the rules
 *    of `kb validate` (content schema, then the referential checks over the whole corpus).
 * 5. One transaction writes rows, citations, FTS rows, versions, revisions and changes.
 * 6. After the commit: cached renderings of every condition whose document shows the change are
 *    dropped, and the source index too when a source changed.
 * 7. The answer is the resource as its GET now returns it (same bytes, same ETag), so a client can
 *    chain the next write's `If-Match` without another request. Internal GETs come from the
 *    caller's address, so they count against the caller's own rate limit; if the answer cannot be
 *    rendered after the commit, the write still succeeds: 201 with Location, or 204.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Compile } from 'typebox/compile';
import { ConditionContentSchema, STATEMENT_SECTIONS, type ConditionContent, type StatementContent, type StatementSectionKey, type StatisticContent, type SourceContent } from '../../content/schema.js';
import { referentialProblems } from '../../content/validate.js';
import type { EntityType } from '../../content/entities.js';
import { HttpProblem, NotFound, type ProblemDetailItem } from '../../http/problems.js';
import { createWritesRepository, type CommitResult, type ConditionWrite } from '../../repositories/writes.js';
import { createIdempotencyRepository } from '../../repositories/idempotency.js';
import { toValidationErrors } from './validator.js';

/** Serializes async critical sections: each waits for the previous one to settle. */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    // The next waiter starts after this one, whether it succeeded or failed.
    this.tail = result.catch(() => undefined);
    return result;
  }
}

export interface Plan {
  writes: ConditionWrite[];
  /**
   * Where the written item sits in its condition after the change (`/statistics/3`; '' for the
   * whole condition), so content problems there are reported at `/body/...`. Absent for deletes:
   * anything a delete breaks is a conflict.
   */
  target?: { conditionId: string; path: string };
}

export interface WriteOperation {
  /** The resource whose current ETag `If-Match` must carry; absent for creates. */
  precondition?: { url: string; entity: EntityType; id: string };
  apply(corpus: Map<string, ConditionContent>): Plan;
  /** The answer: the resource at `url` as its GET returns it, or (deletes) a JSON body. */
  respond(result: CommitResult): { status: 200 | 201; url: string; location?: string } | { status: 200; body: unknown };
}

interface Answer {
  status: number;
  body: string;
  contentType: string;
  etag?: string;
  location?: string;
  contentLocation?: string;
  replayed?: boolean;
}

const checkCondition = Compile(ConditionContentSchema);
/** Carries an internal response's Retry-After to the reply (`extra.retryAfterHeader`, removed before sending). */
const RETRY_AFTER = 'retryAfterHeader';

export function preconditionFailed(currentEtag: string, currentVersion: number | undefined): HttpProblem {
  return new HttpProblem(
    412,
    '/problems/precondition-failed',
    'Precondition Failed',
    'The resource changed since you read it: If-Match does not carry its current ETag. Read it again, reapply your change, and retry with the new ETag.',
    undefined,
    { currentEtag, currentVersion: currentVersion ?? null },
  );
}

/** JSON with object keys sorted, so that the same body in another key order hashes the same. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The entity tags of an If-Match header (`"a", "b"`); weak tags never match a strong comparison. */
function entityTags(header: string): string[] {
  return header
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
}

export function createWriteService(app: FastifyInstance) {
  const writes = createWritesRepository(app.db);
  const idempotency = createIdempotencyRepository(app.db);
  const mutex = new Mutex();

  /**
   * The GET representation of `url` as a client would get it now. The internal request comes
   * from the caller's address, so it counts against the caller's own rate limit, not a shared one.
   */
  async function render(request: FastifyRequest, url: string): Promise<{ body: string; etag: string; contentType: string }> {
    const res = await app.inject({ method: 'GET', url, headers: { accept: 'application/json' }, remoteAddress: request.ip });
    if (res.statusCode === 200) {
      return { body: res.body, etag: String(res.headers.etag), contentType: String(res.headers['content-type'] ?? 'application/json; charset=utf-8') };
    }
    const problem = (() => {
      try {
        return res.json<{ type?: string; title?: string; detail?: string }>();
      } catch {
        return {};
      }
    })();
    if (res.statusCode === 404) throw new NotFound(problem.detail ?? `Nothing at ${url}.`);
    // E.g. the caller's rate limit (429) or load shedding (503): the caller gets it as it came.
    const retryAfter = res.headers['retry-after'];
    throw new HttpProblem(res.statusCode, problem.type ?? '/problems/internal-error', problem.title ?? 'Error', problem.detail ?? 'The resource could not be read.', undefined, {
      ...(retryAfter === undefined ? {} : { [RETRY_AFTER]: String(retryAfter) }),
    });
  }

  async function checkPrecondition(request: FastifyRequest, p: NonNullable<WriteOperation['precondition']>): Promise<void> {
    const current = await render(request, p.url);
    const header = request.headers['if-match'];
    if (header === undefined || header.trim() === '') {
      throw new HttpProblem(428, '/problems/precondition-required', 'Precondition Required', `Send If-Match with the ETag of GET ${p.url}, so that a concurrent change is not overwritten.`);
    }
    const tags = entityTags(header);
    if (tags.includes('*')) {
      throw new HttpProblem(428, '/problems/precondition-required', 'Precondition Required', `If-Match: * is not accepted; send the ETag of GET ${p.url}.`);
    }
    if (!tags.includes(current.etag)) throw preconditionFailed(current.etag, writes.version(p.entity, p.id));
  }

  /** Content problems → 400 when they are in what the request sent, 409 when it conflicts with other content. */
  function validate(plan: Plan, after: Map<string, ConditionContent>): void {
    const problems: { conditionId: string; path: string; message: string }[] = [];
    for (const w of plan.writes) {
      if (!w.after) continue;
      const c = { ...w.after, version: w.before?.version ?? 1 };
      if (!checkCondition.Check(c)) for (const e of toValidationErrors(checkCondition.Errors(c))) problems.push({ conditionId: w.id, path: e.instancePath, message: e.message ?? 'is invalid' });
    }
    if (problems.length === 0) {
      const corpus = [...after.values()].map((content) => ({ file: `${content.id}.yaml`, content }));
      for (const p of referentialProblems(corpus)) problems.push({ conditionId: p.file.replace(/\.yaml$/, ''), path: p.path, message: p.message });
    }
    if (problems.length === 0) return;
    const inBody: ProblemDetailItem[] = [];
    const conflicts: ProblemDetailItem[] = [];
    const t = plan.target;
    for (const p of problems) {
      const within = t !== undefined && p.conditionId === t.conditionId && (t.path === '' || p.path === t.path || p.path.startsWith(`${t.path}/`));
      if (within && !p.message.startsWith('duplicate ')) inBody.push({ path: `/body${p.path.slice(t.path.length)}`, message: p.message });
      else conflicts.push({ path: `/content/${p.conditionId}${p.path}`, message: p.message });
    }
    const list = (items: ProblemDetailItem[]) => items.map((e) => `${e.path} ${e.message}`).join('; ');
    if (inBody.length) {
      const errors = [...inBody, ...conflicts];
      throw new HttpProblem(400, '/problems/validation-error', 'Bad Request', `The content is not valid: ${list(errors)}.`, errors);
    }
    throw new HttpProblem(409, '/problems/conflict', 'Conflict', `The change conflicts with other content: ${list(conflicts)}.`, conflicts);
  }

  function invalidate(result: CommitResult): void {
    const of = (type: EntityType) => result.changes.filter((c) => c.entityType === type);
    const sources = of('source').map((c) => c.entityId);
    const treatments = of('statement').filter((c) => c.entityId.split('.')[1] === 'treatment').map((c) => c.entityId);
    const conditions = of('condition').filter((c) => c.action !== 'update').map((c) => c.entityId);
    const affected = new Set([...result.conditionVersions.keys(), ...writes.dependents({ sources, treatments, conditions })]);
    // `@` ends the id in every key, so invalidating "a" never drops "a-b".
    for (const id of affected) app.renderCache.invalidate(`condition:${id}@`);
    if (sources.length) app.repos.sources.invalidate();
  }

  function requestHash(request: FastifyRequest): string {
    return createHash('sha256').update(`${request.method} ${request.url}\n${stableStringify(request.body ?? null)}`).digest('base64url');
  }

  async function perform(request: FastifyRequest, op: WriteOperation): Promise<Answer> {
    const key = request.apiKey;
    if (!key) throw new Error('write route without an authenticated key'); // the auth plugin runs first
    const header = request.method === 'POST' ? request.headers['idempotency-key'] : undefined;
    const idempotencyKey = typeof header === 'string' ? header : undefined;
    const hash = idempotencyKey === undefined ? '' : requestHash(request);
    if (idempotencyKey !== undefined) {
      const stored = idempotency.get(key.id, idempotencyKey);
      if (stored && stored.requestHash !== hash) {
        throw new HttpProblem(422, '/problems/idempotency-key-reused', 'Unprocessable Content', 'This Idempotency-Key was already used for a different request; use a new key for a new request.');
      }
      if (stored) {
        const contentType = stored.body === '' ? '' : 'application/json; charset=utf-8';
        return { status: stored.status, body: stored.body, contentType, location: stored.location ?? undefined, replayed: true };
      }
    }
    if (op.precondition) await checkPrecondition(request, op.precondition);

    const corpus = writes.corpus();
    const plan = op.apply(corpus);
    const after = new Map(corpus);
    for (const w of plan.writes) {
      if (w.after) after.set(w.id, w.after);
      else after.delete(w.id);
    }
    validate(plan, after);
    const result = writes.commit(plan.writes, [...after.values()], key.id, new Date().toISOString());
    invalidate(result);

    const response = op.respond(result);
    let answer: Answer;
    if ('url' in response) {
      try {
        const rendered = await render(request, response.url);
        answer = { status: response.status, body: rendered.body, contentType: rendered.contentType, etag: rendered.etag, location: response.location, contentLocation: response.url };
      } catch (error) {
        // The change is committed: never answer it with an error. Without a representation the
        // answer is 201 with Location, or 204; the client reads the resource when it needs it.
        request.log.warn({ err: error, url: response.url }, 'written, but the answer could not be rendered');
        answer = { status: response.status === 201 ? 201 : 204, body: '', contentType: '', location: response.location };
      }
    } else {
      answer = { status: response.status, body: JSON.stringify(response.body), contentType: 'application/json; charset=utf-8' };
    }
    if (idempotencyKey !== undefined) idempotency.save(key.id, idempotencyKey, { requestHash: hash, status: answer.status, body: answer.body, location: answer.location ?? null });
    return answer;
  }

  return {
    writes,
    /** Runs one write (see the module comment) and sends its answer. */
    async execute(request: FastifyRequest, reply: FastifyReply, op: WriteOperation): Promise<FastifyReply> {
      const answer = await mutex.run(() => perform(request, op)).catch((error: unknown) => {
        if (error instanceof HttpProblem && typeof error.extra.retryAfterHeader === 'string') {
          reply.header('retry-after', error.extra.retryAfterHeader);
          delete error.extra.retryAfterHeader;
        }
        throw error;
      });
      reply.code(answer.status).header('cache-control', 'no-store');
      if (answer.contentType) reply.type(answer.contentType);
      if (answer.etag) reply.header('etag', answer.etag);
      if (answer.location) reply.header('location', answer.location);
      if (answer.contentLocation) reply.header('content-location', answer.contentLocation);
      if (answer.replayed) reply.header('idempotent-replayed', 'true');
      return reply.send(answer.body);
    },
  };
}

export type WriteService = ReturnType<typeof createWriteService>;

/* Finding things in a corpus: ids are unique across conditions (kb validate enforces it). */

export interface Located<T> {
  condition: ConditionContent;
  index: number;
  item: T;
}

export function findStatement(corpus: Map<string, ConditionContent>, id: string): (Located<StatementContent> & { section: StatementSectionKey }) | undefined {
  for (const condition of corpus.values()) {
    for (const { key } of STATEMENT_SECTIONS) {
      const index = (condition[key] as StatementContent[]).findIndex((s) => s.id === id);
      if (index >= 0) return { condition, section: key, index, item: (condition[key] as StatementContent[])[index] as StatementContent };
    }
  }
  return undefined;
}

export function findStatistic(corpus: Map<string, ConditionContent>, id: string): Located<StatisticContent> | undefined {
  for (const condition of corpus.values()) {
    const index = condition.statistics.findIndex((s) => s.id === id);
    if (index >= 0) return { condition, index, item: condition.statistics[index] as StatisticContent };
  }
  return undefined;
}

export function findSource(corpus: Map<string, ConditionContent>, id: string): Located<SourceContent> | undefined {
  for (const condition of corpus.values()) {
    const index = condition.sources.findIndex((s) => s.id === id);
    if (index >= 0) return { condition, index, item: condition.sources[index] as SourceContent };
  }
  return undefined;
}

/** A 409 when a statement or statistic id is taken anywhere: ids are global and stable forever. */
export function assertFactIdFree(corpus: Map<string, ConditionContent>, id: string): void {
  if (findStatement(corpus, id) || findStatistic(corpus, id)) {
    throw new HttpProblem(409, '/problems/conflict', 'Conflict', `The id "${id}" is already in use; ids are unique across the knowledge base.`, [{ path: '/body/id', message: 'already in use' }]);
  }
}

export function requireCondition(corpus: Map<string, ConditionContent>, id: string, path: string): ConditionContent {
  const c = corpus.get(id);
  if (!c) throw new HttpProblem(400, '/problems/validation-error', 'Bad Request', `There is no condition "${id}".`, [{ path, message: `no condition with id "${id}"` }]);
  return c;
}

/** A deep copy to edit: the corpus read for this write must stay as it was (it is the "before"). */
export function copy(c: ConditionContent): ConditionContent {
  return structuredClone(c);
}

/**
 * The plan of a write that changes one condition: `edit` works on a copy (the corpus read for this
 * write stays the "before"); `path` is where the written item sits, omitted for deletes.
 */
export function editCondition(condition: ConditionContent, edit: (draft: ConditionContent) => void, path?: string): Plan {
  const after = copy(condition);
  edit(after);
  return { writes: [{ id: condition.id, before: condition, after }], ...(path === undefined ? {} : { target: { conditionId: condition.id, path } }) };
}

/** A body's fields with undefined (absent) ones left out: PATCH applies only what was sent. */
export function presentFields<T extends object>(body: T): Partial<T> {
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The answer of a delete: what was recorded, with its position in the change feed. */
export function deletionReceipt(result: CommitResult, entity: EntityType, id: string): { status: 200; body: unknown } {
  const change = result.changes.find((c) => c.entityType === entity && c.entityId === id && c.action === 'delete');
  if (!change) throw new Error(`deleting ${entity} ${id} recorded no change`);
  const { seq, conditionId, version, conditionVersion } = change;
  return { status: 200, body: { entity, id, conditionId, action: 'delete', version, conditionVersion, seq } };
}
