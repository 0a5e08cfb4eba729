/**
 * The representations of single resources (a condition document, one of its sections, a fact, a
 * statistic, a treatment, a source) as bytes with their strong ETag, built by plain functions.
 * GET handlers send them; curated writes compare `If-Match` with them and answer with them, so a
 * write never calls the app through HTTP and its ETag is, by construction, the one a GET returns.
 *
 * JSON is serialized with the route's own response schema (fast-json-stringify, as Fastify does),
 * so the bytes are exactly those a handler returning the object produced. ETags are content
 * hashes: identical bytes get identical ETags in every process.
 */
import type { FastifyReply } from 'fastify';
import build from 'fast-json-stringify';
import type { TSchema } from 'typebox';
import { DISCLAIMER } from '../content/licence.js';
import { conditionToJsonLd } from '../renderers/jsonld.js';
import { factsToMarkdown, conditionToMarkdown, sectionToMarkdown } from '../renderers/markdown.js';
import { statisticToFhir } from '../renderers/fhir.js';
import type { Repositories } from '../repositories/index.js';
import { presentStatisticRecord } from '../repositories/statistics.js';
import type { FactWithReview } from '../repositories/facts.js';
import { ALL_NAMED_SCHEMAS } from '../schemas/index.js';
import { TreatmentDocumentSchema, type Condition } from '../schemas/condition.js';
import { FactDocumentSchema, type Fact } from '../schemas/fact.js';
import { SourceDocumentSchema } from '../schemas/source.js';
import { StatisticDocumentSchema } from '../schemas/statistic.js';
import { FHIR_TYPE, JSONLD_TYPE, JSON_TYPE, MARKDOWN_TYPE } from './media.js';
import { etagOf, type RenderCache, type Rendered } from './renderCache.js';
import { links } from './links.js';

export type { Rendered };

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
const MARKDOWN_CONTENT_TYPE = `${MARKDOWN_TYPE}; charset=utf-8`;

/** URL section names (kebab-case, as in the contract) → document keys. `facts` lives in routes/facts.ts. */
export const SECTIONS = {
  symptoms: 'symptoms',
  causes: 'causes',
  'risk-factors': 'riskFactors',
  complications: 'complications',
  diagnosis: 'diagnosis',
  treatments: 'treatments',
  prognosis: 'prognosis',
  prevention: 'prevention',
  'when-to-seek-care': 'whenToSeekCare',
  'differential-diagnosis': 'differentialDiagnosis',
  statistics: 'statistics',
  sources: 'sources',
} as const satisfies Record<string, keyof Condition>;
export type SectionName = keyof typeof SECTIONS;

/** Human titles of the sections, for the Markdown rendering. */
const SECTION_TITLES: Record<SectionName, string> = {
  symptoms: 'Symptoms',
  causes: 'Causes',
  'risk-factors': 'Risk factors',
  complications: 'Complications',
  diagnosis: 'Diagnosis',
  treatments: 'Treatments',
  prognosis: 'Prognosis',
  prevention: 'Prevention',
  'when-to-seek-care': 'When to seek care',
  'differential-diagnosis': 'Conditions that look similar',
  statistics: 'Statistics',
  sources: 'Sources',
};

/** The latest of the review dates, or null for none. */
export function latestReviewed(dates: Iterable<string | null>): string | null {
  let max: string | null = null;
  for (const d of dates) if (d !== null && (max === null || d > max)) max = d;
  return max;
}

/** The schemas that `$ref`s point at, by id, as Fastify hands them to its serializer compiler. */
const EXTERNAL_SCHEMAS = Object.fromEntries(ALL_NAMED_SCHEMAS.map((s) => ['$id' in s ? String(s.$id) : '', s]));

/** A serializer for a response schema, compiled the way Fastify compiles route response schemas. */
export function serializerFor<T>(schema: TSchema): (value: T) => string {
  return build(schema, { schema: EXTERNAL_SCHEMAS });
}

/**
 * Compiled on the first call, as Fastify's route serializers are here (lazySerializers.ts):
 * building these four at import was ~10% of start-up CPU to the first response, and a server
 * may never be asked for a fact, statistic, treatment or source document.
 */
function lazySerializerFor<T>(schema: TSchema): (value: T) => string {
  let compiled: ((value: T) => string) | undefined;
  return (value) => (compiled ??= serializerFor<T>(schema))(value);
}

const serialize = {
  fact: lazySerializerFor<Fact & { lastReviewed: string; disclaimer: string }>(FactDocumentSchema),
  statistic: lazySerializerFor<object>(StatisticDocumentSchema),
  treatment: lazySerializerFor<object>(TreatmentDocumentSchema),
  source: lazySerializerFor<object>(SourceDocumentSchema),
};

function rendered(body: string, contentType: string): Rendered {
  const bytes = Buffer.from(body);
  return { body: bytes, etag: etagOf(bytes), contentType };
}

/** Sends a representation as it is: its bytes, type and ETag (no serialization, no hashing again). */
export function sendRendered(reply: FastifyReply, r: Rendered): FastifyReply {
  return reply.header('etag', r.etag).type(r.contentType).send(r.body);
}

/** A fact without its condition's review date (which goes in the envelope). */
export function withoutReview({ lastReviewed: _reviewed, ...fact }: FactWithReview): Fact {
  return fact;
}

export function createRepresentations(repos: Repositories, cache: RenderCache, options: { publicBaseUrl: string }) {
  const { conditions, facts, statistics, treatments, sources } = repos;

  /**
   * One document in a representation; the bytes are cached, so this renders once per content
   * epoch. `keep: false` (the bulk export, which reads every document once) takes a cached
   * rendering when there is one and otherwise renders without keeping it, so an export neither
   * fills the cache nor evicts the documents clients read.
   */
  function condition(id: string, type: string, { keep = true }: { keep?: boolean } = {}): Rendered | undefined {
    const current = conditions.version(id);
    if (!current) return undefined;
    const key = `condition:${id}@${current.version}:${type}`;
    const render = () => {
      const doc = conditions.document(id);
      if (!doc) return undefined;
      if (type === MARKDOWN_TYPE) return { body: conditionToMarkdown(doc), contentType: MARKDOWN_CONTENT_TYPE };
      if (type === JSONLD_TYPE) return { body: JSON.stringify(conditionToJsonLd(doc, options.publicBaseUrl)), contentType: `${JSONLD_TYPE}; charset=utf-8` };
      return { body: JSON.stringify(doc), contentType: JSON_CONTENT_TYPE };
    };
    return keep ? cache.get(key, render) : cache.peekOrRender(key, render);
  }

  function section(id: string, name: SectionName, type: string): Rendered | undefined {
    const key = SECTIONS[name];
    const current = conditions.version(id);
    if (!current) return undefined;
    return cache.get(`condition:${id}@${current.version}:section:${name}:${type}`, () => {
      const doc = conditions.document(id);
      if (!doc) return undefined;
      if (type === MARKDOWN_TYPE) return { body: sectionToMarkdown(doc, key, `${doc.name}: ${SECTION_TITLES[name]}`), contentType: MARKDOWN_CONTENT_TYPE };
      const body = { conditionId: doc.id, conditionName: doc.name, section: name, data: doc[key], lastReviewed: doc.lastReviewed, version: doc.version, disclaimer: doc.disclaimer };
      return { body: JSON.stringify(body), contentType: JSON_CONTENT_TYPE };
    });
  }

  function fact(id: string, type: string = JSON_TYPE): Rendered | undefined {
    const found = facts.get(id);
    if (!found) return undefined;
    const body = { ...withoutReview(found), lastReviewed: found.lastReviewed, disclaimer: DISCLAIMER };
    if (type === MARKDOWN_TYPE) return rendered(factsToMarkdown([body], body, { title: found.name }), MARKDOWN_CONTENT_TYPE);
    return rendered(serialize.fact(body), JSON_CONTENT_TYPE);
  }

  function statistic(id: string, type: string = JSON_TYPE): Rendered | undefined {
    const record = statistics.get(id);
    if (!record) return undefined;
    const presented = presentStatisticRecord(conditions, record);
    if (type === FHIR_TYPE) {
      const primary = sources.get(presented.primarySource);
      const conditionName = facts.condition(presented.conditionId)?.name ?? presented.conditionId;
      return rendered(JSON.stringify(statisticToFhir(presented, primary, conditionName)), `${FHIR_TYPE}; charset=utf-8`);
    }
    return rendered(serialize.statistic({ ...presented, lastReviewed: record.lastReviewed, disclaimer: DISCLAIMER }), JSON_CONTENT_TYPE);
  }

  function treatment(id: string): Rendered | undefined {
    const record = treatments.get(id);
    if (!record) return undefined;
    const evidence = statistics.aboutTreatment(id);
    const body = {
      ...record.treatment,
      evidence: evidence.map((r) => presentStatisticRecord(conditions, r)),
      lastReviewed: latestReviewed([record.lastReviewed, ...evidence.map((r) => r.lastReviewed)]) ?? record.lastReviewed,
      disclaimer: DISCLAIMER,
    };
    return rendered(serialize.treatment(body), JSON_CONTENT_TYPE);
  }

  function source(id: string): Rendered | undefined {
    const found = sources.get(id);
    if (!found) return undefined;
    const citedBy = sources.citedBy(id).map(({ section, ...c }) => ({ ...c, url: links.citing(c.entityType, c.id, c.conditionId, section) }));
    return rendered(serialize.source({ ...found, citedBy, lastReviewed: sources.lastReviewed([id]), disclaimer: DISCLAIMER }), JSON_CONTENT_TYPE);
  }

  return { condition, section, fact, statistic, treatment, source };
}

export type Representations = ReturnType<typeof createRepresentations>;
