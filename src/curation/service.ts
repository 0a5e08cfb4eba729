/**
 * Curation without HTTP: entity-level writes (create / replace / patch / delete of conditions,
 * codes, statements, statistics and sources) that routes call with parsed input and whose answer
 * they send as it is. Nothing here knows Fastify. Every write runs the same steps:
 *
 * 1. One `BEGIN IMMEDIATE` transaction holds everything from the precondition check to the
 *    commit: SQLite serializes writers, in this process and in any other on the same file, so two
 *    writes with the same `If-Match` cannot both pass the check (the later one gets 412). A writer
 *    that cannot get the lock within the busy timeout gets 503 with Retry-After.
 * 2. `Idempotency-Key` (POST): a stored answer for the same key and request is replayed; the same
 *    key with another request is a 422.
 * 3. `If-Match` (every write to an existing resource) is compared with the ETag of the resource's
 *    representation now (src/http/representations.ts, the bytes its GET sends). Missing → 428,
 *    `*` → 428 (it would skip the check this API exists for), stale → 412 with the current ETag
 *    and version.
 * 4. The operation computes whole conditions after the change; they are validated with the rules
 *    of `kb validate` (content schema, then the referential checks over the whole corpus).
 * 5. The writes repository stores rows, versions, revisions and the change feed; each feed entry
 *    lists in `affects` every URL whose representation the write changed (curation/affects.ts).
 * 6. The answer is the resource's representation after the commit (so a client can chain the
 *    next write's `If-Match` without another request). Caches need no telling: they are keyed by
 *    the content epoch, which the commit moved on.
 */
import { createHash } from 'node:crypto';
import { Compile } from 'typebox/compile';
import { ConditionContentSchema, STATEMENT_SECTIONS, sectionKey, sectionName, type EntityType, type ConditionContent, type SourceContent, type StatementContent, type StatementSectionKey, type StatisticContent } from '../content/schema.js';
import { referentialProblems } from '../content/validate.js';
import { schemaErrors } from '../content/schemaErrors.js';
import { BadRequest, HttpProblem, NotFound, type ProblemDetailItem } from '../http/problems.js';
import type { Rendered, Representations } from '../http/representations.js';
import type { Repositories } from '../repositories/index.js';
import type { CommitResult, ConditionWrite } from '../repositories/rows.js';
import type { CodeBody, ConditionBody, ConditionPatch, FactBody, FactPatch, SourceBody, SourcePatch, StatisticBody, StatisticPatch, TreatmentPatch } from './bodies.js';
import { links } from '../http/links.js';
import { affectedUrls } from './affects.js';
import { ifMatchPasses, ifNoneMatchPasses, parseEntityTags } from '../http/conditional.js';
import { etagOf } from '../http/renderCache.js';

/** Who writes, and the conditions the request set. */
export interface WriteContext {
  /** Public id of the API key making the write (recorded in every revision). */
  actorKeyId: string;
  /** The If-Match header as sent; undefined when absent. */
  ifMatch?: string;
  /** The If-None-Match header as sent; undefined when absent. */
  ifNoneMatch?: string;
  /** POST only: the Idempotency-Key and a hash of the request it came with. */
  idempotency?: { key: string; requestHash: string };
}

/** What a write answers, ready to send. */
export interface Answer {
  status: number;
  body: Buffer | string;
  contentType: string;
  etag?: string;
  location?: string;
  contentLocation?: string;
  replayed?: boolean;
}

/** 503 when another writer holds the database past the busy timeout; `retryAfter` is in seconds. */
export class DatabaseBusy extends HttpProblem {
  readonly retryAfter = 1;
  constructor() {
    super(503, '/problems/busy', 'Service Unavailable', 'Another write is holding the database; retry in a moment.');
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

interface Operation {
  /** The resource whose current ETag `If-Match` must carry; absent for creates. */
  precondition?: { url: string; entity: EntityType; id: string; current: () => Rendered | undefined; missing: string };
  apply(corpus: Map<string, ConditionContent>): Plan;
  /** The answer: the resource's representation after the write, or (deletes) a JSON receipt. */
  respond(result: CommitResult): { status: 200 | 201; url: string; representation: () => Rendered | undefined; location?: string } | { status: 200; body: unknown };
}

/** Compiled on first use (~40 ms): a server started on a built database may never check a condition. */
const compileCondition = () => Compile(ConditionContentSchema);
let compiledCondition: ReturnType<typeof compileCondition> | undefined;
const checkCondition = () => (compiledCondition ??= compileCondition());

const STALE_IF_MATCH =
  'The resource changed since you read it: If-Match does not carry its current ETag. Read it again, reapply your change, and retry with the new ETag.';

export function preconditionFailed(currentEtag: string, currentVersion: number | undefined, detail = STALE_IF_MATCH): HttpProblem {
  return new HttpProblem(
    412,
    '/problems/precondition-failed',
    'Precondition Failed',
    detail,
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

/** What identifies a request for Idempotency-Key: method, URL and body (in any key order). */
export function requestHash(method: string, url: string, body: unknown): string {
  return createHash('sha256').update(`${method} ${url}\n${stableStringify(body ?? null)}`).digest('base64url');
}

function isBusy(error: unknown): boolean {
  return error instanceof Error && 'code' in error && (error.code === 'SQLITE_BUSY' || error.code === 'SQLITE_BUSY_SNAPSHOT');
}

/* Finding things in a corpus: ids are unique across conditions (kb validate enforces it). */

export interface Located<T> {
  condition: ConditionContent;
  index: number;
  item: T;
}

export function findStatement(corpus: Map<string, ConditionContent>, id: string): (Located<StatementContent> & { section: StatementSectionKey }) | undefined {
  for (const condition of corpus.values()) {
    for (const { key } of STATEMENT_SECTIONS) {
      const list: StatementContent[] = condition[key];
      const index = list.findIndex((s) => s.id === id);
      const item = list[index];
      if (item) return { condition, section: key, index, item };
    }
  }
  return undefined;
}

export function findStatistic(corpus: Map<string, ConditionContent>, id: string): Located<StatisticContent> | undefined {
  for (const condition of corpus.values()) {
    const index = condition.statistics.findIndex((s) => s.id === id);
    const item = condition.statistics[index];
    if (item) return { condition, index, item };
  }
  return undefined;
}

export function findSource(corpus: Map<string, ConditionContent>, id: string): Located<SourceContent> | undefined {
  for (const condition of corpus.values()) {
    const index = condition.sources.findIndex((s) => s.id === id);
    const item = condition.sources[index];
    if (item) return { condition, index, item };
  }
  return undefined;
}

/** A 409 when a statement or statistic id is taken anywhere: ids are global and stable forever. */
function assertFactIdFree(corpus: Map<string, ConditionContent>, id: string): void {
  if (findStatement(corpus, id) || findStatistic(corpus, id)) {
    throw new HttpProblem(409, '/problems/conflict', 'Conflict', `The id "${id}" is already in use; ids are unique across the knowledge base.`, [{ path: '/body/id', message: 'already in use' }]);
  }
}

function requireCondition(corpus: Map<string, ConditionContent>, id: string, path: string): ConditionContent {
  const c = corpus.get(id);
  if (!c) throw new HttpProblem(400, '/problems/validation-error', 'Bad Request', `There is no condition "${id}".`, [{ path, message: `no condition with id "${id}"` }]);
  return c;
}

/** A deep copy to edit: the corpus read for this write must stay as it was (it is the "before"). */
function copy(c: ConditionContent): ConditionContent {
  return structuredClone(c);
}

/**
 * The plan of a write that changes one condition: `edit` works on a copy (the corpus read for this
 * write stays the "before"); `path` is where the written item sits, omitted for deletes.
 */
function editCondition(condition: ConditionContent, edit: (draft: ConditionContent) => void, path?: string): Plan {
  const after = copy(condition);
  edit(after);
  return { writes: [{ id: condition.id, before: condition, after }], ...(path === undefined ? {} : { target: { conditionId: condition.id, path } }) };
}

/** A body's fields with undefined (absent) ones left out: PATCH applies only what was sent. */
function presentFields<T extends object>(body: T): Partial<T> {
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The answer of a delete: what was recorded, with its position in the change feed. */
function deletionReceipt(result: CommitResult, entity: EntityType, id: string): { status: 200; body: unknown } {
  const change = result.changes.find((c) => c.entityType === entity && c.entityId === id && c.action === 'delete');
  if (!change) throw new Error(`deleting ${entity} ${id} recorded no change`);
  const { seq, conditionId, version, conditionVersion } = change;
  return { status: 200, body: { entity, id, conditionId, action: 'delete', version, conditionVersion, seq } };
}

/** The ids of the sources and treatments a condition defines: what other conditions can refer to. */
function referable(c: ConditionContent | undefined): string[] {
  return c ? [...c.sources.map((x) => x.id), ...c.treatments.map((x) => x.id)] : [];
}

/**
 * The conditions a write's validation must look at: those it wrote, since the rest was valid and
 * did not change, unless it removed a source or treatment that any condition may refer to (then
 * all: undefined).
 */
function checkedBy(plan: Plan): ReadonlySet<string> | undefined {
  const kept = new Set(plan.writes.flatMap((w) => referable(w.after)));
  if (plan.writes.some((w) => referable(w.before).some((id) => !kept.has(id)))) return undefined;
  return new Set(plan.writes.map((w) => w.id));
}

/** Content problems → 400 when they are in what the request sent, 409 when it conflicts with other content. */
function validate(plan: Plan, after: Map<string, ConditionContent>): void {
  const problems: { conditionId: string; path: string; message: string }[] = [];
  for (const w of plan.writes) {
    if (!w.after) continue;
    const c = { ...w.after, version: w.before?.version ?? 1 };
    if (!checkCondition().Check(c)) for (const e of schemaErrors(checkCondition().Errors(c))) problems.push({ conditionId: w.id, path: e.instancePath, message: e.message });
  }
  if (problems.length === 0) {
    const corpus = [...after.values()].map((content) => ({ file: `${content.id}.yaml`, content }));
    for (const p of referentialProblems(corpus, checkedBy(plan))) problems.push({ conditionId: p.file.replace(/\.yaml$/, ''), path: p.path, message: p.message });
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

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

export interface CurationOptions {
  /**
   * Runs each write transaction so that it is acknowledged only when durable: the storage guard
   * (db/storageGuard.ts) refuses it when the file is lost or read-only, turns SQLite's storage
   * errors into 503/507 problems, and checks the file again after the commit.
   */
  durably?: <T>(commit: () => T) => T;
}

export function createCurationService(repos: Pick<Repositories, 'writes' | 'idempotency'>, representations: Representations, options: CurationOptions = {}) {
  const { writes, idempotency } = repos;
  const durably = options.durably ?? (<T>(commit: () => T): T => commit());

  function checkPrecondition(ctx: WriteContext, p: NonNullable<Operation['precondition']>): void {
    const current = p.current();
    if (!current) throw new NotFound(p.missing);
    const header = ctx.ifMatch;
    if (header === undefined || header.trim() === '') {
      throw new HttpProblem(428, '/problems/precondition-required', 'Precondition Required', `Send If-Match with the ETag of GET ${p.url}, so that a concurrent change is not overwritten.`);
    }
    if (parseEntityTags(header) === '*') {
      throw new HttpProblem(428, '/problems/precondition-required', 'Precondition Required', `If-Match: * is not accepted; send the ETag of GET ${p.url}.`);
    }
    // Strong comparison (RFC 9110 §13.1.1): a weak tag never matches.
    if (!ifMatchPasses(header, current.etag)) throw preconditionFailed(current.etag, writes.version(p.entity, p.id));
    // RFC 9110 §13.2.2 step 3, after If-Match held: a write whose If-None-Match matches the current
    // representation (or is `*`: it exists) must not be performed; for a method other than GET or
    // HEAD that is a 412 (§13.1.2).
    if (ctx.ifNoneMatch !== undefined && !ifNoneMatchPasses(ctx.ifNoneMatch, current.etag)) {
      throw preconditionFailed(current.etag, writes.version(p.entity, p.id), 'If-None-Match matches the current representation (or is *, and the resource exists), so the write was not performed.');
    }
  }

  /** Steps 2–5 inside the write transaction; returns the commit's result, or a stored answer to replay. */
  function perform(ctx: WriteContext, op: Operation): { replay: Answer } | { result: CommitResult } {
    if (ctx.idempotency) {
      const stored = idempotency.get(ctx.actorKeyId, ctx.idempotency.key);
      if (stored && stored.requestHash !== ctx.idempotency.requestHash) {
        throw new HttpProblem(422, '/problems/idempotency-key-reused', 'Unprocessable Content', 'This Idempotency-Key was already used for a different request; use a new key for a new request.');
      }
      if (stored) {
        const contentType = stored.body === '' ? '' : JSON_CONTENT_TYPE;
        // The stored body is the representation sent the first time, so its hash is that ETag.
        const etag = stored.body === '' ? undefined : etagOf(stored.body);
        return { replay: { status: stored.status, body: stored.body, contentType, etag, location: stored.location ?? undefined, replayed: true } };
      }
    }
    if (op.precondition) checkPrecondition(ctx, op.precondition);
    const corpus = writes.corpus();
    const plan = op.apply(corpus);
    const after = new Map(corpus);
    for (const w of plan.writes) {
      if (w.after) after.set(w.id, w.after);
      else after.delete(w.id);
    }
    validate(plan, after);
    // Computed from the content before and after, inside the transaction: the feed entry and the
    // change it describes commit together.
    const affects = affectedUrls(corpus, after, plan.writes.map((w) => w.id));
    return { result: writes.commit(plan.writes, [...after.values()], ctx.actorKeyId, new Date().toISOString(), affects) };
  }

  function answerOf(op: Operation, result: CommitResult): Answer {
    const response = op.respond(result);
    if (!('url' in response)) return { status: response.status, body: JSON.stringify(response.body), contentType: JSON_CONTENT_TYPE };
    let rendered: Rendered | undefined;
    try {
      rendered = response.representation();
    } catch {
      rendered = undefined;
    }
    // The change is committed: never answer it with an error. Without a representation the answer
    // is 201 with Location, or 204; the client reads the resource when it needs it.
    if (!rendered) return { status: response.status === 201 ? 201 : 204, body: '', contentType: '', location: response.location };
    return { status: response.status, body: rendered.body, contentType: rendered.contentType, etag: rendered.etag, location: response.location, contentLocation: response.url };
  }

  /** Runs one write (see the module comment). */
  function run(ctx: WriteContext, op: Operation): Answer {
    let outcome: ReturnType<typeof perform>;
    try {
      outcome = durably(() => writes.transaction(() => perform(ctx, op)));
    } catch (error) {
      if (isBusy(error)) throw new DatabaseBusy();
      throw error;
    }
    if ('replay' in outcome) return outcome.replay;
    const answer = answerOf(op, outcome.result);
    if (ctx.idempotency) {
      const body = typeof answer.body === 'string' ? answer.body : answer.body.toString('utf8');
      idempotency.save(ctx.actorKeyId, ctx.idempotency.key, { requestHash: ctx.idempotency.requestHash, status: answer.status, body, location: answer.location ?? null });
    }
    return answer;
  }

  /* The resources and their preconditions */

  const conditionResource = (id: string) => ({
    url: links.condition(id),
    entity: 'condition' as const,
    id,
    current: () => representations.condition(id, 'application/json'),
    missing: `No condition with id "${id}".`,
  });
  const conditionAnswer = (id: string, status: 200 | 201, location?: string) => ({ status, url: links.condition(id), location, representation: () => representations.condition(id, 'application/json') });

  const factResource = (id: string) => ({ url: links.fact(id), entity: 'statement' as const, id, current: () => representations.fact(id), missing: `No fact with id "${id}".` });
  const factAnswer = (id: string, status: 200 | 201) => ({ status, url: links.fact(id), location: status === 201 ? links.fact(id) : undefined, representation: () => representations.fact(id) });
  const notAStatement = (id: string) => new NotFound(`No statement with id "${id}". Statistics are written through /v1/statistics/{id}.`);

  const statisticResource = (id: string) => ({ url: links.statistic(id), entity: 'statistic' as const, id, current: () => representations.statistic(id), missing: `No statistic with id "${id}".` });
  const statisticAnswer = (id: string, status: 200 | 201) => ({ status, url: links.statistic(id), location: status === 201 ? links.statistic(id) : undefined, representation: () => representations.statistic(id) });
  const noStatistic = (id: string) => new NotFound(`No statistic with id "${id}".`);

  const sourceResource = (id: string) => ({ url: links.source(id), entity: 'source' as const, id, current: () => representations.source(id), missing: `No source with id "${id}".` });
  const sourceAnswer = (id: string, status: 200 | 201) => ({ status, url: links.source(id), location: status === 201 ? links.source(id) : undefined, representation: () => representations.source(id) });
  const noSource = (id: string) => new NotFound(`No source with id "${id}".`);

  /** The writes that put `source` into `definedIn`: in place when it stays, else out of one file and into the other. */
  function placeSource(corpus: Map<string, ConditionContent>, found: Located<SourceContent>, definedIn: string, source: SourceContent): Plan {
    if (definedIn === found.condition.id) {
      return editCondition(found.condition, (after) => void (after.sources[found.index] = source), `/sources/${found.index}`);
    }
    const target = requireCondition(corpus, definedIn, '/body/definedIn');
    const from = copy(found.condition);
    from.sources.splice(found.index, 1);
    const to = copy(target);
    to.sources.push(source);
    const moved: ConditionWrite[] = [
      { id: found.condition.id, before: found.condition, after: from },
      { id: definedIn, before: target, after: to },
    ];
    return { writes: moved, target: { conditionId: definedIn, path: `/sources/${to.sources.length - 1}` } };
  }

  return {
    /** The storage underneath (corpus, versions), for tools and tests. */
    writes,

    /* Conditions */

    createCondition(ctx: WriteContext, body: ConditionBody): Answer {
      return run(ctx, {
        apply(corpus) {
          if (corpus.has(body.id)) {
            throw new HttpProblem(409, '/problems/conflict', 'Conflict', `The condition "${body.id}" already exists.`, [{ path: '/body/id', message: 'already exists' }]);
          }
          return { writes: [{ id: body.id, before: undefined, after: { ...body, version: 1 } }], target: { conditionId: body.id, path: '' } };
        },
        respond: () => conditionAnswer(body.id, 201, links.condition(body.id)),
      });
    },

    replaceCondition(ctx: WriteContext, id: string, body: ConditionBody): Answer {
      return run(ctx, {
        precondition: conditionResource(id),
        apply(corpus) {
          const before = corpus.get(id);
          if (!before) throw new NotFound(`No condition with id "${id}".`);
          if (body.id !== id) throw new BadRequest('The body id must be the id in the path; ids never change.', [{ path: '/body/id', message: `must be "${id}"` }]);
          return { writes: [{ id, before, after: { ...body, version: before.version } }], target: { conditionId: id, path: '' } };
        },
        respond: () => conditionAnswer(id, 200),
      });
    },

    patchCondition(ctx: WriteContext, id: string, body: ConditionPatch): Answer {
      const patch = presentFields(body);
      return run(ctx, {
        precondition: conditionResource(id),
        apply(corpus) {
          const before = corpus.get(id);
          if (!before) throw new NotFound(`No condition with id "${id}".`);
          return { writes: [{ id, before, after: { ...copy(before), ...patch } }], target: { conditionId: id, path: '' } };
        },
        respond: () => conditionAnswer(id, 200),
      });
    },

    deleteCondition(ctx: WriteContext, id: string): Answer {
      return run(ctx, {
        precondition: conditionResource(id),
        apply(corpus) {
          const before = corpus.get(id);
          if (!before) throw new NotFound(`No condition with id "${id}".`);
          return { writes: [{ id, before, after: undefined }] };
        },
        respond: (result) => deletionReceipt(result, 'condition', id),
      });
    },

    /* Codes: part of the condition document, so code writes are condition updates */

    addCode(ctx: WriteContext, id: string, code: CodeBody): Answer {
      return run(ctx, {
        apply(corpus) {
          const before = corpus.get(id);
          if (!before) throw new NotFound(`No condition with id "${id}".`);
          if (before.codes.some((c) => c.system === code.system && c.code.toUpperCase() === code.code.toUpperCase())) {
            throw new HttpProblem(409, '/problems/conflict', 'Conflict', `${code.system} code ${code.code} is already mapped to "${id}".`, [{ path: '/body/code', message: 'already mapped' }]);
          }
          const after = copy(before);
          after.codes.push(code);
          return { writes: [{ id, before, after }], target: { conditionId: id, path: `/codes/${after.codes.length - 1}` } };
        },
        respond: () => conditionAnswer(id, 201, links.conditionCode(id, code.system, code.code)),
      });
    },

    /** `code` is normalized already (upper case, Orphanet without its prefix); `raw` is as sent, for the 404. */
    removeCode(ctx: WriteContext, id: string, system: ConditionContent['codes'][number]['system'], code: string, raw: string): Answer {
      return run(ctx, {
        precondition: conditionResource(id),
        apply(corpus) {
          const before = corpus.get(id);
          if (!before) throw new NotFound(`No condition with id "${id}".`);
          const after = copy(before);
          after.codes = before.codes.filter((c) => !(c.system === system && c.code.toUpperCase() === code));
          if (after.codes.length === before.codes.length) throw new NotFound(`No ${system} code "${raw}" is mapped to "${id}".`);
          return { writes: [{ id, before, after }] };
        },
        respond: () => conditionAnswer(id, 200),
      });
    },

    /* Statements (facts) */

    createStatement(ctx: WriteContext, body: FactBody): Answer {
      const { conditionId, section, ...item } = body;
      const key = sectionKey(section);
      if (!key) throw new BadRequest(`Unknown section "${section}".`, [{ path: '/body/section', message: 'unknown section' }]);
      return run(ctx, {
        apply(corpus) {
          const before = requireCondition(corpus, conditionId, '/body/conditionId');
          assertFactIdFree(corpus, item.id);
          const after = copy(before);
          const list: StatementContent[] = after[key];
          // The body's section decided its fields (one branch of the body schema per section).
          list.push(item);
          return { writes: [{ id: conditionId, before, after }], target: { conditionId, path: `/${key}/${list.length - 1}` } };
        },
        respond: () => factAnswer(item.id, 201),
      });
    },

    replaceStatement(ctx: WriteContext, id: string, body: FactBody): Answer {
      const { conditionId, section, ...item } = body;
      return run(ctx, {
        precondition: factResource(id),
        apply(corpus) {
          const found = findStatement(corpus, id);
          if (!found) throw notAStatement(id);
          const fixed = [
            ['id', item.id, id],
            ['conditionId', conditionId, found.condition.id],
            ['section', section, sectionName(found.section)],
          ] as const;
          const wrong = fixed.filter(([, given, current]) => given !== current);
          if (wrong.length) {
            throw new BadRequest('A statement keeps its id, condition and section; delete it and create a new one to move it.', wrong.map(([field, , current]) => ({ path: `/body/${field}`, message: `must be "${current}"` })));
          }
          return editCondition(found.condition, (after) => void ((after[found.section] as StatementContent[])[found.index] = item), `/${found.section}/${found.index}`);
        },
        respond: () => factAnswer(id, 200),
      });
    },

    patchStatement(ctx: WriteContext, id: string, body: FactPatch): Answer {
      const patch = presentFields(body);
      return run(ctx, {
        precondition: factResource(id),
        apply(corpus) {
          const found = findStatement(corpus, id);
          if (!found) throw notAStatement(id);
          // Unchecked until validation: a field of another section makes the item invalid there (400).
          const item = { ...found.item, ...patch } as StatementContent;
          return editCondition(found.condition, (after) => void ((after[found.section] as StatementContent[])[found.index] = item), `/${found.section}/${found.index}`);
        },
        respond: () => factAnswer(id, 200),
      });
    },

    deleteStatement(ctx: WriteContext, id: string): Answer {
      return run(ctx, {
        precondition: factResource(id),
        apply(corpus) {
          const found = findStatement(corpus, id);
          if (!found) throw notAStatement(id);
          return editCondition(found.condition, (after) => void (after[found.section] as StatementContent[]).splice(found.index, 1));
        },
        respond: (result) => deletionReceipt(result, 'statement', id),
      });
    },

    /** Treatment fields, checked against and answered with the treatment representation. */
    patchTreatment(ctx: WriteContext, id: string, body: TreatmentPatch): Answer {
      const patch = presentFields(body);
      const url = links.treatment(id);
      return run(ctx, {
        precondition: { url, entity: 'statement', id, current: () => representations.treatment(id), missing: `No treatment with id "${id}".` },
        apply(corpus) {
          const found = findStatement(corpus, id);
          const current = found?.section === 'treatments' ? found.condition.treatments[found.index] : undefined;
          if (!found || !current) throw new NotFound(`No treatment with id "${id}".`);
          const treatment = { ...current, ...patch };
          return editCondition(found.condition, (after) => void (after.treatments[found.index] = treatment), `/treatments/${found.index}`);
        },
        respond: () => ({ status: 200, url, representation: () => representations.treatment(id) }),
      });
    },

    /* Statistics */

    createStatistic(ctx: WriteContext, body: StatisticBody): Answer {
      const { conditionId, ...statistic } = body;
      return run(ctx, {
        apply(corpus) {
          const before = requireCondition(corpus, conditionId, '/body/conditionId');
          assertFactIdFree(corpus, statistic.id);
          const after = copy(before);
          after.statistics.push(statistic);
          return { writes: [{ id: conditionId, before, after }], target: { conditionId, path: `/statistics/${after.statistics.length - 1}` } };
        },
        respond: () => statisticAnswer(statistic.id, 201),
      });
    },

    replaceStatistic(ctx: WriteContext, id: string, body: StatisticBody): Answer {
      const { conditionId, ...statistic } = body;
      return run(ctx, {
        precondition: statisticResource(id),
        apply(corpus) {
          const found = findStatistic(corpus, id);
          if (!found) throw noStatistic(id);
          const wrong = [
            ...(statistic.id === id ? [] : [{ path: '/body/id', message: `must be "${id}"` }]),
            ...(conditionId === found.condition.id ? [] : [{ path: '/body/conditionId', message: `must be "${found.condition.id}"` }]),
          ];
          if (wrong.length) throw new BadRequest('A statistic keeps its id and condition; delete it and create a new one to move it.', wrong);
          return editCondition(found.condition, (after) => void (after.statistics[found.index] = statistic), `/statistics/${found.index}`);
        },
        respond: () => statisticAnswer(id, 200),
      });
    },

    patchStatistic(ctx: WriteContext, id: string, body: StatisticPatch): Answer {
      const patch = presentFields(body);
      return run(ctx, {
        precondition: statisticResource(id),
        apply(corpus) {
          const found = findStatistic(corpus, id);
          if (!found) throw noStatistic(id);
          const statistic = { ...found.item, ...patch };
          return editCondition(found.condition, (after) => void (after.statistics[found.index] = statistic), `/statistics/${found.index}`);
        },
        respond: () => statisticAnswer(id, 200),
      });
    },

    deleteStatistic(ctx: WriteContext, id: string): Answer {
      return run(ctx, {
        precondition: statisticResource(id),
        apply(corpus) {
          const found = findStatistic(corpus, id);
          if (!found) throw noStatistic(id);
          return editCondition(found.condition, (after) => void after.statistics.splice(found.index, 1));
        },
        respond: (result) => deletionReceipt(result, 'statistic', id),
      });
    },

    /* Sources */

    createSource(ctx: WriteContext, body: SourceBody): Answer {
      const { definedIn, ...source } = body;
      return run(ctx, {
        apply(corpus) {
          const before = requireCondition(corpus, definedIn, '/body/definedIn');
          if (findSource(corpus, source.id)) {
            throw new HttpProblem(409, '/problems/conflict', 'Conflict', `The source id "${source.id}" is already in use.`, [{ path: '/body/id', message: 'already in use' }]);
          }
          const after = copy(before);
          after.sources.push(source);
          return { writes: [{ id: definedIn, before, after }], target: { conditionId: definedIn, path: `/sources/${after.sources.length - 1}` } };
        },
        respond: () => sourceAnswer(source.id, 201),
      });
    },

    replaceSource(ctx: WriteContext, id: string, body: SourceBody): Answer {
      const { definedIn, ...source } = body;
      return run(ctx, {
        precondition: sourceResource(id),
        apply(corpus) {
          const found = findSource(corpus, id);
          if (!found) throw noSource(id);
          if (source.id !== id) throw new BadRequest('The body id must be the id in the path; ids never change.', [{ path: '/body/id', message: `must be "${id}"` }]);
          return placeSource(corpus, found, definedIn, source);
        },
        respond: () => sourceAnswer(id, 200),
      });
    },

    patchSource(ctx: WriteContext, id: string, body: SourcePatch): Answer {
      const { definedIn, ...patch } = presentFields(body);
      return run(ctx, {
        precondition: sourceResource(id),
        apply(corpus) {
          const found = findSource(corpus, id);
          if (!found) throw noSource(id);
          return placeSource(corpus, found, definedIn ?? found.condition.id, { ...found.item, ...patch });
        },
        respond: () => sourceAnswer(id, 200),
      });
    },

    deleteSource(ctx: WriteContext, id: string): Answer {
      return run(ctx, {
        precondition: sourceResource(id),
        apply(corpus) {
          const found = findSource(corpus, id);
          if (!found) throw noSource(id);
          return editCondition(found.condition, (after) => void after.sources.splice(found.index, 1));
        },
        respond: (result) => deletionReceipt(result, 'source', id),
      });
    },
  };
}

export type CurationService = ReturnType<typeof createCurationService>;
