/**
 * Schemas of the write routes. Bodies are built from the content schema (src/content/schema.ts),
 * so a write accepts exactly what a content file may hold, with the same enums, patterns and
 * length limits, and rejects unknown fields. Bodies use the content-file shape (as in db/content
 * and `kb export`, e.g. `regulatoryStatus`), not the read representation.
 */
import { Type, type TObject, type TSchema } from 'typebox';
import { CodeSchema as ContentCodeSchema, ConditionContentSchema, SLUG_PATTERN, SOURCE_ID_PATTERN, ENTITY_ID_PATTERN, STATEMENT_SECTIONS, SourceSchema as ContentSourceSchema, StatisticSchema as ContentStatisticSchema, type StatementSectionKey } from '../../content/schema.js';
import { ENTITY_TYPES, sectionName } from '../../content/entities.js';
import { DISCLAIMER_FIELD, LAST_REVIEWED_FIELD, Nullable, ProblemSchema, ref } from '../../schemas/common.js';
import { FactSchema } from '../../schemas/fact.js';
import { SourceSchema } from '../../schemas/source.js';
import { StatisticSchema } from '../../schemas/statistic.js';
import { TreatmentSchema } from '../../schemas/condition.js';

type Props = Record<string, TSchema>;

const C = ConditionContentSchema.properties as unknown as Props;

function pick(props: Props, keys: readonly string[]): Props {
  return Object.fromEntries(keys.map((k) => [k, props[k] as TSchema]));
}
function omit(props: Props, keys: readonly string[]): Props {
  return Object.fromEntries(Object.entries(props).filter(([k]) => !keys.includes(k)));
}
function optional(props: Props): Props {
  return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, Type.Optional(v)]));
}

/** The content schema of one section's items. */
export function sectionItemSchema(key: StatementSectionKey): TObject {
  return (C[key] as unknown as { items: TObject }).items;
}

const ConditionIdField = Type.String({ pattern: SLUG_PATTERN, maxLength: 80, description: 'Id of the condition the item belongs to', examples: ['calciphylaxis'] });
const SectionField = (name: string) => Type.Literal(name, { description: 'The section (kebab-case, as in /v1/conditions/{id}/{section})' });

/* Examples: short, neutral and clearly made up, so no one mistakes them for content. */
const EXAMPLE_SYMPTOM = {
  conditionId: 'calciphylaxis',
  section: 'symptoms',
  id: 'calciphylaxis.symptom.example-itch',
  name: 'Itching (example)',
  text: 'An example statement: itching of the affected skin is reported by some patients.',
  sources: ['nigwekar-2018'],
  confidence: 'low',
  frequency: 'occasional',
  relatedCondition: null,
};
const EXAMPLE_STATISTIC = {
  conditionId: 'calciphylaxis',
  id: 'calciphylaxis.stat.example-recovery',
  measure: 'recovery',
  value: 40,
  low: null,
  high: null,
  unit: '%',
  comparator: 'about',
  population: 'Example cohort of patients on dialysis',
  outcome: 'Complete wound healing',
  timepoint: '12 months',
  timepointMonths: 12,
  estimateType: 'proportion',
  interval: null,
  events: 20,
  sampleSize: 50,
  comparedWith: null,
  studyDesign: 'cohort',
  primarySource: 'nigwekar-2018',
  certainty: 'not-assessed',
  certaintyBasis: null,
  treatment: null,
  text: 'An example figure: about 40% of an example cohort healed completely within 12 months.',
  sources: ['nigwekar-2018'],
  confidence: 'low',
};
const EXAMPLE_SOURCE = {
  definedIn: 'calciphylaxis',
  id: 'example-2024',
  kind: 'review',
  year: 2024,
  title: 'An example review title',
  label: null,
  authors: ['Example A', 'Sample B'],
  journal: 'Example Journal',
  volume: '1',
  pages: '1–10',
  doi: null,
  pmid: null,
  pmcid: null,
  url: 'https://example.org/review',
  citedAs: null,
  attribution: 'unknown',
  licence: null,
  note: 'An example source.',
};

export const ConditionBodySchema = Type.Object(omit(C, ['version']), {
  additionalProperties: false,
  title: 'ConditionWrite',
  description: 'A whole condition in the content-file shape without `version` (the server keeps versions).',
});

export const ConditionPatchSchema = Type.Object(optional(pick(C, ['name', 'aliases', 'summary', 'summarySources', 'lastReviewed'])), {
  additionalProperties: false,
  minProperties: 1,
  title: 'ConditionPatch',
  description: 'Top-level fields to replace; fields not sent keep their values.',
  examples: [{ lastReviewed: '2026-12-01' }],
});

/** POST/PUT /v1/facts: one statement with its condition and section, e.g. a symptom. */
export const FactBodySchema = Type.Union(
  STATEMENT_SECTIONS.map(({ key }) =>
    Type.Object(
      { conditionId: ConditionIdField, section: SectionField(sectionName(key)), ...(sectionItemSchema(key).properties as Props) },
      { additionalProperties: false, title: `FactWrite (${sectionName(key)})` },
    ),
  ),
  {
    title: 'FactWrite',
    description: 'A statement of one section; `section` selects which fields it has (as in the content files).',
    examples: [EXAMPLE_SYMPTOM],
  },
);

/** Every statement field of every section (not the id), optional; the section's own schema then decides. */
function statementPatchProps(): Props {
  const variants = new Map<string, TSchema[]>();
  for (const { key } of STATEMENT_SECTIONS) {
    for (const [name, schema] of Object.entries(sectionItemSchema(key).properties as Props)) {
      if (name === 'id') continue;
      const list = variants.get(name) ?? [];
      if (!list.some((s) => JSON.stringify(s) === JSON.stringify(schema))) list.push(schema);
      variants.set(name, list);
    }
  }
  return Object.fromEntries([...variants].map(([name, list]) => [name, Type.Optional(list.length === 1 ? (list[0] as TSchema) : Type.Union(list))]));
}

export const FactPatchSchema = Type.Object(statementPatchProps(), {
  additionalProperties: false,
  minProperties: 1,
  title: 'FactPatch',
  description: 'Fields of the statement to replace. Only the fields of its section are allowed (e.g. `frequency` for a symptom).',
  examples: [{ confidence: 'high', sources: ['nigwekar-2018', 'kodumudi-2020'] }],
});

export const TreatmentPatchSchema = Type.Object(optional(omit(sectionItemSchema('treatments').properties as Props, ['id'])), {
  additionalProperties: false,
  minProperties: 1,
  title: 'TreatmentPatch',
  description: 'Treatment fields to replace, in the content-file shape (`regulatoryStatus`, `regulatoryNote`, `codes`).',
  examples: [{ regulatoryStatus: 'off-label', regulatoryNote: 'Example note: not approved for this use.' }],
});

const STATISTIC_PROPS = ContentStatisticSchema.properties as unknown as Props;
export const StatisticBodySchema = Type.Object(
  { conditionId: ConditionIdField, ...STATISTIC_PROPS },
  { additionalProperties: false, title: 'StatisticWrite', description: 'A statistic in the content-file shape (`treatment` is an id) with its condition.', examples: [EXAMPLE_STATISTIC] },
);
export const StatisticPatchSchema = Type.Object(optional(omit(STATISTIC_PROPS, ['id'])), {
  additionalProperties: false,
  minProperties: 1,
  title: 'StatisticPatch',
  description: 'Fields of the statistic to replace; numbers must be JSON numbers (no coercion).',
  examples: [{ value: 50.3, confidence: 'medium' }],
});

const SOURCE_PROPS = ContentSourceSchema.properties as unknown as Props;
const DefinedInField = Type.String({ pattern: SLUG_PATTERN, maxLength: 80, description: 'The condition whose content file lists this source', examples: ['calciphylaxis'] });
export const SourceBodySchema = Type.Object(
  { definedIn: DefinedInField, ...SOURCE_PROPS },
  { additionalProperties: false, title: 'SourceWrite', description: 'A cited work, listed in the content file of `definedIn`. Unknown identifiers are null.', examples: [EXAMPLE_SOURCE] },
);
export const SourcePatchSchema = Type.Object(optional({ definedIn: DefinedInField, ...omit(SOURCE_PROPS, ['id']) }), {
  additionalProperties: false,
  minProperties: 1,
  title: 'SourcePatch',
  description: 'Fields of the source to replace; `definedIn` moves it to another condition file.',
  examples: [{ attribution: 'confirmed', note: 'Example: details checked against the publisher page.' }],
});

export const CodeBodySchema = Type.Object(ContentCodeSchema.properties, {
  additionalProperties: false,
  title: 'CodeWrite',
  description: 'A code mapped to the condition; `code` must be well-formed for its system.',
  examples: [{ system: 'umls', code: 'C0000000', display: null, match: 'related', note: 'A placeholder mapping, for illustration only.', confidence: 'low' }],
});

/* Params and headers */

export const ConditionIdParam = Type.String({ pattern: SLUG_PATTERN, maxLength: 80, description: 'Condition id', examples: ['calciphylaxis'] });
export const EntityIdParam = (what: string, example: string) => Type.String({ pattern: ENTITY_ID_PATTERN, maxLength: 120, description: `${what} id`, examples: [example] });
export const SourceIdParam = Type.String({ pattern: SOURCE_ID_PATTERN, maxLength: 80, description: 'Source id', examples: ['nigwekar-2018'] });

export const NoQuery = Type.Object({}, { additionalProperties: false });

export const IfMatchHeaders = Type.Object({
  'if-match': Type.Optional(
    Type.String({
      maxLength: 1000,
      description: 'The ETag from the GET of this resource (or of the condition, for codes). Required: missing → 428, stale → 412.',
      examples: ['"q3d6bOo1xqkbPp0yv0S3Mw4F5m2Yx1tA"'],
    }),
  ),
});

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 200,
      pattern: '^[\\x21-\\x7E]+$',
      description: 'A unique key per create (e.g. a UUID): retrying with the same key and body replays the first answer; another body → 422.',
      examples: ['5b2f8e0c-3d1a-4c9e-9f7b-2a6d0e4c8b11'],
    }),
  ),
});

/* Responses */

const PreconditionFailedSchema = Type.Object(
  {
    ...ProblemSchema.properties,
    currentEtag: Type.String({ description: 'The ETag of the resource now' }),
    currentVersion: Nullable(Type.Integer({ description: 'The version of the entity now' })),
  },
  { title: 'PreconditionFailedProblem', description: 'A problem with the current ETag and version of the resource' },
);

const problem = ref(ProblemSchema);
export const PROBLEMS = {
  400: problem,
  401: problem,
  403: problem,
  404: problem,
  406: problem,
  409: problem,
  412: PreconditionFailedSchema,
  413: problem,
  415: problem,
  422: problem,
  428: problem,
  429: problem,
  503: problem,
} as const;

type ProblemStatus = keyof typeof PROBLEMS;
export function problems<S extends ProblemStatus>(...statuses: S[]): Pick<typeof PROBLEMS, S> {
  return Object.fromEntries(statuses.map((s) => [s, PROBLEMS[s]])) as Pick<typeof PROBLEMS, S>;
}
/** The answer when a committed write's new representation cannot be rendered (see service.ts). */
export const WRITTEN_WITHOUT_BODY = {
  204: Type.Null({ description: 'Written, but the new representation could not be rendered (e.g. the rate limit was reached meanwhile); read it with GET' }),
};

/** Problems every write can answer. */
export const COMMON_PROBLEMS = [401, 403, 406, 429, 503] as const;
export const BODY_PROBLEMS = [400, 413, 415] as const;

const withNotes = (props: Props) => ({ ...props, lastReviewed: LAST_REVIEWED_FIELD, disclaimer: DISCLAIMER_FIELD });

export const FactDocumentSchema = Type.Object(withNotes(FactSchema.properties as unknown as Props), { title: 'FactDocument', description: 'The fact as GET /v1/facts/{id} returns it' });
export const StatisticDocumentSchema = Type.Object(withNotes(StatisticSchema.properties as unknown as Props), {
  title: 'StatisticDocument',
  description: 'The statistic as GET /v1/statistics/{id} returns it',
});
export const TreatmentDocumentSchema = Type.Object(
  withNotes({ ...(TreatmentSchema.properties as unknown as Props), evidence: Type.Array(ref(StatisticSchema)) }),
  { title: 'TreatmentDocument', description: 'The treatment as GET /v1/treatments/{id} returns it' },
);
export const SourceDocumentSchema = Type.Object(
  {
    ...(SourceSchema.properties as unknown as Props),
    citedBy: Type.Array(Type.Object({ entityType: Type.String(), id: Type.String(), conditionId: Type.String(), url: Type.String() })),
    lastReviewed: Nullable(LAST_REVIEWED_FIELD),
    disclaimer: DISCLAIMER_FIELD,
  },
  { title: 'SourceDocument', description: 'The source as GET /v1/sources/{id} returns it' },
);

export const DeletionSchema = Type.Object(
  {
    entity: Type.Enum([...ENTITY_TYPES], { description: 'What was deleted' }),
    id: Type.String({ examples: ['calciphylaxis.stat.example-recovery'] }),
    conditionId: Type.String({ examples: ['calciphylaxis'] }),
    action: Type.Literal('delete'),
    version: Type.Integer({ description: 'The version the deletion recorded (the last version + 1)' }),
    conditionVersion: Nullable(Type.Integer({ description: 'The condition version after the deletion; null when the condition was deleted' })),
    seq: Type.Integer({ description: 'Position of the deletion in /v1/changes (and its revision)' }),
  },
  { title: 'Deletion', description: 'What a delete recorded; the change feed lists the same event' },
);

export const WRITE_SECURITY = [{ bearerAuth: [] }];
/** PATCH takes JSON, or JSON merge patch (RFC 7396), whose semantics it follows for top-level fields. */
export const PATCH_TYPES = ['application/json', 'application/merge-patch+json'];
