/**
 * The bodies of curated writes. They are built from the content schema (src/content/schema.ts)
 * with TypeBox's own Omit / Pick / Partial, so a write accepts exactly what a content file may
 * hold, with the same enums, patterns and length limits, rejects unknown fields, and `Static`
 * gives the write routes and the curation service one type per body. Bodies use the content-file
 * shape (as in db/content and `kb export`, e.g. `regulatoryStatus`), not the read representation.
 */
import { Type, type Static, type TObject } from 'typebox';
import {
  CodeSchema as ContentCodeSchema,
  ConditionContentSchema,
  SLUG_PATTERN,
  SourceSchema as ContentSourceSchema,
  StatisticSchema as ContentStatisticSchema,
  type StatementSectionKey,
} from '../content/schema.js';
import { sectionName } from '../content/schema.js';

/** The content schemas of the items of each statement section. */
const ITEMS = {
  symptoms: ConditionContentSchema.properties.symptoms.items,
  causes: ConditionContentSchema.properties.causes.items,
  riskFactors: ConditionContentSchema.properties.riskFactors.items,
  complications: ConditionContentSchema.properties.complications.items,
  diagnosis: ConditionContentSchema.properties.diagnosis.items,
  treatments: ConditionContentSchema.properties.treatments.items,
  prognosis: ConditionContentSchema.properties.prognosis.items,
  prevention: ConditionContentSchema.properties.prevention.items,
  whenToSeekCare: ConditionContentSchema.properties.whenToSeekCare.items,
  differentialDiagnosis: ConditionContentSchema.properties.differentialDiagnosis.items,
} satisfies Record<StatementSectionKey, TObject>;

const ConditionIdField = Type.String({ pattern: SLUG_PATTERN, maxLength: 80, description: 'Id of the condition the item belongs to', examples: ['calciphylaxis'] });
const SectionField = <K extends string>(name: K) => Type.Literal(name, { description: 'The section (kebab-case, as in /v1/conditions/{id}/{section})' });

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

export const ConditionBodySchema = Type.Omit(ConditionContentSchema, ['version'], {
  additionalProperties: false,
  title: 'ConditionWrite',
  description: 'A whole condition in the content-file shape without `version` (the server keeps versions).',
});
export type ConditionBody = Static<typeof ConditionBodySchema>;

export const ConditionPatchSchema = Type.Partial(Type.Pick(ConditionContentSchema, ['name', 'aliases', 'summary', 'summarySources', 'lastReviewed']), {
  additionalProperties: false,
  minProperties: 1,
  title: 'ConditionPatch',
  description: 'Top-level fields to replace; fields not sent keep their values.',
  examples: [{ lastReviewed: '2026-12-01' }],
});
export type ConditionPatch = Static<typeof ConditionPatchSchema>;

/** One branch of the fact body: a statement of section `key` with its condition and section name. */
function factBranch<K extends StatementSectionKey>(key: K) {
  const name = sectionName(key);
  return Type.Object({ conditionId: ConditionIdField, section: SectionField(name), ...ITEMS[key].properties }, { additionalProperties: false, title: `FactWrite (${name})` });
}

/** POST/PUT /v1/facts: one statement with its condition and section, e.g. a symptom. */
export const FactBodySchema = Type.Union(
  [
    factBranch('symptoms'),
    factBranch('causes'),
    factBranch('riskFactors'),
    factBranch('complications'),
    factBranch('diagnosis'),
    factBranch('treatments'),
    factBranch('prognosis'),
    factBranch('prevention'),
    factBranch('whenToSeekCare'),
    factBranch('differentialDiagnosis'),
  ],
  {
    title: 'FactWrite',
    description: 'A statement of one section; `section` selects which fields it has (as in the content files).',
    examples: [EXAMPLE_SYMPTOM],
  },
);
export type FactBody = Static<typeof FactBodySchema>;

/**
 * Every statement field of every section, from the sections' own schemas (in the order they first
 * appear), without the id. `type` is the one field two sections define differently, so it takes
 * either; a section that adds a field is covered by adding it to the spread.
 */
const { id: _id, ...STATEMENT_FIELDS } = {
  ...ITEMS.symptoms.properties,
  ...ITEMS.riskFactors.properties,
  ...ITEMS.diagnosis.properties,
  ...ITEMS.treatments.properties,
  ...ITEMS.differentialDiagnosis.properties,
  type: Type.Union([ITEMS.riskFactors.properties.type, ITEMS.treatments.properties.type]),
};

/** Optional fields of any section; the statement's own section schema then decides (a field of another section is an unknown field there). */
export const FactPatchSchema = Type.Partial(
  Type.Object(STATEMENT_FIELDS),
  {
    additionalProperties: false,
    minProperties: 1,
    title: 'FactPatch',
    description: 'Fields of the statement to replace. Only the fields of its section are allowed (e.g. `frequency` for a symptom).',
    examples: [{ confidence: 'high', sources: ['nigwekar-2018', 'kodumudi-2020'] }],
  },
);
export type FactPatch = Static<typeof FactPatchSchema>;

export const TreatmentPatchSchema = Type.Partial(Type.Omit(ITEMS.treatments, ['id']), {
  additionalProperties: false,
  minProperties: 1,
  title: 'TreatmentPatch',
  description: 'Treatment fields to replace, in the content-file shape (`regulatoryStatus`, `regulatoryNote`, `codes`).',
  examples: [{ regulatoryStatus: 'off-label', regulatoryNote: 'Example note: not approved for this use.' }],
});
export type TreatmentPatch = Static<typeof TreatmentPatchSchema>;

export const StatisticBodySchema = Type.Object(
  { conditionId: ConditionIdField, ...ContentStatisticSchema.properties },
  { additionalProperties: false, title: 'StatisticWrite', description: 'A statistic in the content-file shape (`treatment` is an id) with its condition.', examples: [EXAMPLE_STATISTIC] },
);
export type StatisticBody = Static<typeof StatisticBodySchema>;
export const StatisticPatchSchema = Type.Partial(Type.Omit(ContentStatisticSchema, ['id']), {
  additionalProperties: false,
  minProperties: 1,
  title: 'StatisticPatch',
  description: 'Fields of the statistic to replace; numbers must be JSON numbers (no coercion).',
  examples: [{ value: 50.3, confidence: 'medium' }],
});
export type StatisticPatch = Static<typeof StatisticPatchSchema>;

const DefinedInField = Type.String({ pattern: SLUG_PATTERN, maxLength: 80, description: 'The condition whose content file lists this source', examples: ['calciphylaxis'] });
export const SourceBodySchema = Type.Object(
  { definedIn: DefinedInField, ...ContentSourceSchema.properties },
  { additionalProperties: false, title: 'SourceWrite', description: 'A cited work, listed in the content file of `definedIn`. Unknown identifiers are null.', examples: [EXAMPLE_SOURCE] },
);
export type SourceBody = Static<typeof SourceBodySchema>;
export const SourcePatchSchema = Type.Partial(Type.Object({ definedIn: DefinedInField, ...Type.Omit(ContentSourceSchema, ['id']).properties }), {
  additionalProperties: false,
  minProperties: 1,
  title: 'SourcePatch',
  description: 'Fields of the source to replace; `definedIn` moves it to another condition file.',
  examples: [{ attribution: 'confirmed', note: 'Example: details checked against the publisher page.' }],
});
export type SourcePatch = Static<typeof SourcePatchSchema>;

export const CodeBodySchema = Type.Object(ContentCodeSchema.properties, {
  additionalProperties: false,
  title: 'CodeWrite',
  description: 'A code mapped to the condition; `code` must be well-formed for its system.',
  examples: [{ system: 'umls', code: 'C0000000', display: null, match: 'related', note: 'A placeholder mapping, for illustration only.', confidence: 'low' }],
});
export type CodeBody = Static<typeof CodeBodySchema>;

