/**
 * A condition's content split into the entities that the change feed and revision history track:
 * the condition's own fields, each source it defines, each statement and each statistic.
 *
 * An entity's content is JSON in exactly the shape its write body takes (a statement carries its
 * `conditionId` and `section`, a source its `definedIn`), so a revision's `after` can be sent back
 * as a PUT/POST body, and replaying the feed's `after`s rebuilds the content files.
 */
import type { TSchema } from 'typebox';
import { ConditionContentSchema, STATEMENT_SECTIONS, statementsOf, type ConditionContent, type SourceContent, type StatementSectionKey, type StatisticContent } from './schema.js';

export const ENTITY_TYPES = ['condition', 'statement', 'statistic', 'source'] as const;
export type EntityType = (typeof ENTITY_TYPES)[number];
export type ChangeAction = 'create' | 'update' | 'delete';

/** The fields of a condition that belong to no child entity (codes and related links included). */
export const CONDITION_OWN_FIELDS = ['id', 'name', 'aliases', 'summary', 'summarySources', 'lastReviewed', 'codes', 'related'] as const;
export type ConditionOwn = Pick<ConditionContent, (typeof CONDITION_OWN_FIELDS)[number]>;

export interface Entity {
  type: EntityType;
  id: string;
  /** The condition the entity belongs to (for a source: the one defining it). */
  conditionId: string;
  content: Record<string, unknown>;
}

/** Section keys as stored (camelCase) ↔ the section names of URLs and write bodies (kebab-case). */
export function sectionName(key: StatementSectionKey): string {
  return key.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`);
}
const SECTION_KEYS = new Map(STATEMENT_SECTIONS.map(({ key }) => [sectionName(key), key]));
export function sectionKey(name: string): StatementSectionKey | undefined {
  return SECTION_KEYS.get(name);
}
export const STATEMENT_SECTION_NAMES = STATEMENT_SECTIONS.map(({ key }) => sectionName(key));

export function conditionOwn(c: ConditionContent): ConditionOwn {
  return { id: c.id, name: c.name, aliases: c.aliases, summary: c.summary, summarySources: c.summarySources, lastReviewed: c.lastReviewed, codes: c.codes, related: c.related };
}

export function sourceEntity(definedIn: string, s: SourceContent): Record<string, unknown> {
  return { definedIn, ...s };
}

export function statisticEntity(conditionId: string, s: StatisticContent): Record<string, unknown> {
  return { conditionId, ...s };
}

export function statementEntity(conditionId: string, section: StatementSectionKey, item: object): Record<string, unknown> {
  return { conditionId, section: sectionName(section), ...item };
}

/** Every entity of a condition: the condition first, then its sources, statements and statistics in document order. */
export function entitiesOf(c: ConditionContent): Entity[] {
  return [
    { type: 'condition', id: c.id, conditionId: c.id, content: { ...conditionOwn(c) } },
    ...c.sources.map((s): Entity => ({ type: 'source', id: s.id, conditionId: c.id, content: sourceEntity(c.id, s) })),
    ...statementsOf(c).map(({ section, item }): Entity => ({ type: 'statement', id: item.id, conditionId: c.id, content: statementEntity(c.id, section, item) })),
    ...c.statistics.map((s): Entity => ({ type: 'statistic', id: s.id, conditionId: c.id, content: statisticEntity(c.id, s) })),
  ];
}

export interface EntityChange {
  type: EntityType;
  id: string;
  action: 'create' | 'update' | 'delete';
  before: Entity | undefined;
  after: Entity | undefined;
}

/**
 * What changed between two sets of entities. Creates and updates come in document order (a
 * condition before its children), deletes after them in reverse (children before their condition),
 * so a consumer applying the feed in order never sees a child without its condition.
 */
export function diffEntities(before: Entity[], after: Entity[]): EntityChange[] {
  const key = (e: Entity) => `${e.type}:${e.id}`;
  const old = new Map(before.map((e) => [key(e), e]));
  const next = new Map(after.map((e) => [key(e), e]));
  const changes: EntityChange[] = [];
  for (const e of after) {
    const prev = old.get(key(e));
    if (!prev) changes.push({ type: e.type, id: e.id, action: 'create', before: undefined, after: e });
    else if (JSON.stringify(prev.content) !== JSON.stringify(e.content)) changes.push({ type: e.type, id: e.id, action: 'update', before: prev, after: e });
  }
  for (const e of [...before].reverse()) {
    if (!next.has(key(e))) changes.push({ type: e.type, id: e.id, action: 'delete', before: e, after: undefined });
  }
  return changes;
}

/**
 * A value with its object keys in the order of the schema's properties (recursively), so content
 * that arrives in a request body compares and serializes exactly like content read from the
 * database. Keys the schema does not know are kept at the end (validation rejects them).
 */
export function canonicalize(schema: TSchema | undefined, value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => canonicalize((schema as { items?: TSchema } | undefined)?.items, v));
  if (value === null || typeof value !== 'object') return value;
  const s = schema as { properties?: Record<string, TSchema>; anyOf?: TSchema[] } | undefined;
  const props = s?.properties ?? (s?.anyOf?.find((b) => (b as { properties?: unknown }).properties) as { properties?: Record<string, TSchema> } | undefined)?.properties;
  if (!props) return value;
  const input = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(props)) if (k in input) out[k] = canonicalize(props[k], input[k]);
  for (const k of Object.keys(input)) if (!(k in props)) out[k] = input[k];
  return out;
}

export function canonicalCondition(c: ConditionContent): ConditionContent {
  return canonicalize(ConditionContentSchema, c) as ConditionContent;
}
