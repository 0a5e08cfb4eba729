/**
 * The shape of one curated condition file in `db/content/*.yaml`.
 *
 * Content files are the source of truth; the SQLite database is built from them. This schema is
 * checked first (shape, enums, ranges), then `validate.ts` runs the checks a schema cannot express
 * (ids unique across files, every citation resolves, ids belong to their condition).
 */
import { Type, type Static } from 'typebox';

/** A lower-case slug: letters, digits and single hyphens. Used for condition ids and id parts. */
export const SLUG_PATTERN = '^[a-z0-9]+(?:-[a-z0-9]+)*$';
/** Entity ids: `<condition>.<kind>.<slug>`, stable forever once published (wording may change). */
export const ENTITY_ID_PATTERN = '^[a-z0-9]+(?:-[a-z0-9]+)*\\.[a-z-]+\\.[a-z0-9]+(?:-[a-z0-9]+)*$';
export const SOURCE_ID_PATTERN = '^[a-z0-9]+(?:-[a-z0-9]+)*$';
/** Upper bound on items per section: generous for real content, a guard against runaway input. */
export const SECTION_MAX = 1000;
export const DATE_PATTERN = '^\\d{4}-\\d{2}-\\d{2}$';

const Text = (max = 600) => Type.String({ minLength: 1, maxLength: max });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

export const CONFIDENCE_LEVELS = ['high', 'medium', 'low', 'unknown'] as const;
const literals = <const T extends string[]>(values: readonly [...T]) => Type.Enum(values);
export const ConfidenceSchema = literals(CONFIDENCE_LEVELS);
export type Confidence = Static<typeof ConfidenceSchema>;

export const CODE_SYSTEMS = ['icd10cm', 'icd9cm', 'icd11', 'snomedct', 'orphanet', 'mesh', 'umls', 'mondo', 'doid', 'atc', 'rxnorm'] as const;
export const CODE_MATCHES = ['exact', 'broader', 'narrower', 'related'] as const;
export const SOURCE_KINDS = [
  'meta-analysis',
  'systematic-review',
  'randomized-trial',
  'review',
  'case-series',
  'cohort-study',
  'cross-sectional-study',
  'registry',
  'case-report',
  'guideline',
  'article',
  'reference-website',
  'database',
  'unknown',
] as const;
export const ATTRIBUTIONS = ['confirmed', 'probable', 'unknown'] as const;
export const SYMPTOM_FREQUENCIES = ['common', 'occasional', 'rare', 'unknown'] as const;
export const RISK_FACTOR_TYPES = ['demographic', 'condition', 'medication', 'lab'] as const;
export const DIAGNOSTIC_METHODS = ['clinical', 'biopsy', 'lab', 'imaging'] as const;
export const TREATMENT_TYPES = ['medication', 'procedure', 'therapy', 'transplant', 'supportive', 'approach'] as const;
export const REGULATORY_STATUSES = ['approved', 'off-label', 'not-applicable', 'unknown'] as const;
export const MEASURES = [
  'incidence',
  'prevalence',
  'mortality',
  'survival',
  'usage',
  'response-rate',
  'benefit-rate',
  'recovery',
  'demographic-share',
  'age',
] as const;
/**
 * Measures that answer the same question from opposite sides: a 1-year survival of 45.8% and a
 * 12-month mortality of about 50% are two estimates of one outcome. Filtering by one returns both,
 * and documents group them side by side.
 */
export const MEASURE_FAMILIES: Partial<Record<(typeof MEASURES)[number], readonly (typeof MEASURES)[number][]>> = {
  mortality: ['mortality', 'survival'],
  survival: ['mortality', 'survival'],
};

export const COMPARATORS = ['about', 'more-than', 'less-than', 'at-least', 'exactly'] as const;

/** What kind of number a figure is: a share of people, a rate, an effect measure between two groups… */
export const ESTIMATE_TYPES = ['proportion', 'rate', 'count', 'mean', 'median', 'risk-ratio', 'odds-ratio', 'hazard-ratio', 'risk-difference', 'other'] as const;
/** Effect measures that compare two groups as a ratio: their unit is `ratio`, and they need `comparedWith`. */
export const RATIO_ESTIMATES: readonly (typeof ESTIMATE_TYPES)[number][] = ['risk-ratio', 'odds-ratio', 'hazard-ratio'];
/** The design of the study that produced a figure (not of the works that relay it). */
export const STUDY_DESIGNS = [
  'meta-analysis',
  'systematic-review',
  'randomized-trial',
  'cohort',
  'case-control',
  'cross-sectional',
  'registry',
  'case-series',
  'case-report',
  'narrative-review',
  'expert-opinion',
  'unknown',
] as const;
/**
 * Certainty of the evidence (GRADE's four levels), best first, or `not-assessed`. It is not the
 * curators' `confidence`: a figure can be quoted exactly (high confidence) from weak evidence.
 */
export const CERTAINTY_LEVELS = ['high', 'moderate', 'low', 'very-low', 'not-assessed'] as const;
export const UNITS = [
  '%',
  'patients',
  'cases',
  'studies',
  'ratio',
  'years',
  'months',
  'days',
  'people',
  'per-1000-person-years',
  'per-100000-person-years',
  'per-100000-population',
  'per-million-population',
] as const;

/** Per-code pattern: a malformed code is an error, not a silent mismatch at lookup time. */
export const CODE_PATTERNS: Record<(typeof CODE_SYSTEMS)[number], RegExp> = {
  icd10cm: /^[A-TV-Z][0-9][0-9AB](?:\.[0-9A-Z]{1,4})?$/,
  icd9cm: /^(?:[0-9]{3}|[EV][0-9]{2,3})(?:\.[0-9]{1,2})?$/,
  icd11: /^[0-9A-Z]{4}(?:\.[0-9A-Z]{1,4})?$/,
  snomedct: /^[0-9]{6,18}$/,
  orphanet: /^[0-9]{1,7}$/,
  mesh: /^[CD][0-9]{6,9}$/,
  umls: /^C[0-9]{7}$/,
  mondo: /^[0-9]{7}$/,
  doid: /^[0-9]{1,7}$/,
  atc: /^[A-Z][0-9]{2}(?:[A-Z](?:[A-Z](?:[0-9]{2})?)?)?$/,
  rxnorm: /^[0-9]{1,9}$/,
};

export const SourceSchema = Type.Object(
  {
    id: Type.String({ pattern: SOURCE_ID_PATTERN, maxLength: 80 }),
    kind: literals(SOURCE_KINDS),
    year: Nullable(Type.Integer({ format: 'int32', minimum: 1800, maximum: 2100 })),
    /** Null when the title is not verified: never filled from memory. */
    title: Nullable(Text(400)),
    /** What to call the work when it has no authors on record: a website's publisher, a study's name. */
    label: Nullable(Text(160)),
    authors: Type.Array(Text(120), { maxItems: 100, description: 'In citation order; empty when not known' }),
    journal: Nullable(Text(200)),
    volume: Nullable(Text(40)),
    pages: Nullable(Text(40)),
    doi: Nullable(Type.String({ pattern: '^10\\.\\d{4,9}/\\S+$', maxLength: 200 })),
    pmid: Nullable(Type.String({ pattern: '^[0-9]{1,9}$', maxLength: 9 })),
    pmcid: Nullable(Type.String({ pattern: '^PMC[0-9]{1,9}$', maxLength: 12 })),
    url: Nullable(Type.String({ pattern: '^https://\\S+$', maxLength: 500 })),
    citedAs: Nullable(Text(200)),
    attribution: literals(ATTRIBUTIONS),
    licence: Nullable(Text(300)),
    note: Nullable(Text(600)),
  },
  { additionalProperties: false },
);
export type SourceContent = Static<typeof SourceSchema>;

const SourceId = Type.String({ pattern: SOURCE_ID_PATTERN, maxLength: 80 });
/**
 * One citation of a work by an item: its id, or the id with a locator saying where in the work the
 * item is supported ("abstract", "Table 2"). The short form keeps content files readable.
 */
export const CitationContentSchema = Type.Union([SourceId, Type.Object({ id: SourceId, locator: Nullable(Text(120)) }, { additionalProperties: false })]);
export type CitationContent = Static<typeof CitationContentSchema>;
const SourceIds = Type.Array(CitationContentSchema, { minItems: 1, maxItems: 20 });

/** A citation in its one canonical form. */
export interface CitationRef {
  id: string;
  locator: string | null;
}
export function citationRef(c: CitationContent): CitationRef {
  return typeof c === 'string' ? { id: c, locator: null } : { id: c.id, locator: c.locator };
}
/** The short form when there is no locator, so exported files stay as curators write them. */
export function citationContent(id: string, locator: string | null): CitationContent {
  return locator === null ? id : { id, locator };
}
export const citedIds = (list: readonly CitationContent[]): string[] => list.map((c) => (typeof c === 'string' ? c : c.id));

/** Fields every statement (an atomic, citable fact) has, whatever its section. */
const statementFields = {
  id: Type.String({ pattern: ENTITY_ID_PATTERN, maxLength: 120 }),
  name: Text(160),
  text: Text(),
  sources: SourceIds,
  confidence: ConfidenceSchema,
  /** Short lay phrasings of questions this item answers; indexed for retrieval. */
  questions: Type.Optional(Type.Array(Text(160), { maxItems: 8 })),
};

export const SymptomSchema = Type.Object(
  {
    ...statementFields,
    frequency: literals(SYMPTOM_FREQUENCIES),
    /** Set when the symptom belongs to an underlying condition rather than to this one. */
    relatedCondition: Nullable(Type.String({ pattern: SLUG_PATTERN, maxLength: 80 })),
  },
  { additionalProperties: false },
);
export const PlainStatementSchema = Type.Object(statementFields, { additionalProperties: false });
export const RiskFactorSchema = Type.Object(
  { ...statementFields, type: literals(RISK_FACTOR_TYPES) },
  { additionalProperties: false },
);
export const DiagnosticSchema = Type.Object(
  {
    ...statementFields,
    method: literals(DIAGNOSTIC_METHODS),
    purpose: Text(300),
    risks: Nullable(Text(300)),
  },
  { additionalProperties: false },
);
export const DifferentialSchema = Type.Object(
  {
    ...statementFields,
    /** The code of the condition a clinician rules out, where a verified one exists. */
    code: Nullable(Type.Object({ system: literals(CODE_SYSTEMS), code: Text(40), display: Nullable(Text(200)) }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);
export const TreatmentCodeSchema = Type.Object(
  { system: literals(CODE_SYSTEMS), code: Text(40), display: Nullable(Text(200)) },
  { additionalProperties: false },
);
export const TreatmentSchema = Type.Object(
  {
    ...statementFields,
    type: literals(TREATMENT_TYPES),
    route: Nullable(Text(80)),
    goal: Nullable(Text(300)),
    regulatoryStatus: literals(REGULATORY_STATUSES),
    regulatoryNote: Nullable(Text(300)),
    codes: Type.Array(TreatmentCodeSchema, { maxItems: 50 }),
  },
  { additionalProperties: false },
);

export const StatisticSchema = Type.Object(
  {
    id: Type.String({ pattern: ENTITY_ID_PATTERN, maxLength: 120 }),
    measure: literals(MEASURES),
    /** Point estimate; null when only a range is reported. */
    value: Nullable(Type.Number({ minimum: 0 })),
    low: Nullable(Type.Number({ minimum: 0 })),
    high: Nullable(Type.Number({ minimum: 0 })),
    unit: literals(UNITS),
    comparator: Nullable(literals(COMPARATORS)),
    population: Text(300),
    outcome: Nullable(Text(200)),
    timepoint: Nullable(Text(80)),
    timepointMonths: Nullable(Type.Number({ minimum: 0, maximum: 1200 })),
    estimateType: literals(ESTIMATE_TYPES),
    /** A confidence interval; `low`/`high` above stay a reported range. */
    interval: Nullable(
      Type.Object(
        { level: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1 }), low: Type.Number(), high: Type.Number() },
        { additionalProperties: false },
      ),
    ),
    /** Numerator: the participants with the outcome, when reported. */
    events: Nullable(Type.Integer({ format: 'int32', minimum: 0, maximum: 100000000 })),
    /** The participants this figure is computed on (a subgroup's size for a subgroup figure). */
    sampleSize: Nullable(Type.Integer({ format: 'int32', minimum: 1, maximum: 100000000 })),
    /** For effect measures: the comparison group. */
    comparedWith: Nullable(
      Type.Object(
        { label: Text(200), treatment: Nullable(Type.String({ pattern: ENTITY_ID_PATTERN, maxLength: 120 })) },
        { additionalProperties: false },
      ),
    ),
    studyDesign: literals(STUDY_DESIGNS),
    /** The work that produced the figure; the other cited sources relay it. */
    primarySource: SourceId,
    certainty: literals(CERTAINTY_LEVELS),
    /** Required unless not assessed: a GRADE rating reported by a named source, or the curators' reason. */
    certaintyBasis: Nullable(Text(300)),
    /** Id of the treatment (in any condition) this figure is about, if any. */
    treatment: Nullable(Type.String({ pattern: ENTITY_ID_PATTERN, maxLength: 120 })),
    text: Text(),
    sources: SourceIds,
    confidence: ConfidenceSchema,
  },
  { additionalProperties: false },
);
export type StatisticContent = Static<typeof StatisticSchema>;

export const CodeSchema = Type.Object(
  {
    system: literals(CODE_SYSTEMS),
    code: Text(40),
    display: Nullable(Text(200)),
    match: literals(CODE_MATCHES),
    note: Nullable(Text(300)),
    confidence: ConfidenceSchema,
  },
  { additionalProperties: false },
);

export const RelatedSchema = Type.Object(
  {
    condition: Type.String({ pattern: SLUG_PATTERN, maxLength: 80 }),
    name: Text(160),
    relation: literals(['underlying-cause', 'risk-factor', 'complication', 'associated', 'differential'] as const),
    text: Text(),
    sources: SourceIds,
  },
  { additionalProperties: false },
);

export const ConditionContentSchema = Type.Object(
  {
    id: Type.String({ pattern: SLUG_PATTERN, maxLength: 80 }),
    name: Text(160),
    aliases: Type.Array(Text(160), { maxItems: 50 }),
    summary: Text(1000),
    summarySources: SourceIds,
    version: Type.Integer({ format: 'int32', minimum: 1 }),
    lastReviewed: Type.String({ pattern: DATE_PATTERN, maxLength: 10 }),
    codes: Type.Array(CodeSchema, { maxItems: SECTION_MAX }),
    sources: Type.Array(SourceSchema, { maxItems: SECTION_MAX }),
    symptoms: Type.Array(SymptomSchema, { maxItems: SECTION_MAX }),
    causes: Type.Array(PlainStatementSchema, { maxItems: SECTION_MAX }),
    riskFactors: Type.Array(RiskFactorSchema, { maxItems: SECTION_MAX }),
    complications: Type.Array(PlainStatementSchema, { maxItems: SECTION_MAX }),
    diagnosis: Type.Array(DiagnosticSchema, { maxItems: SECTION_MAX }),
    treatments: Type.Array(TreatmentSchema, { maxItems: SECTION_MAX }),
    prognosis: Type.Array(PlainStatementSchema, { maxItems: SECTION_MAX }),
    prevention: Type.Array(PlainStatementSchema, { maxItems: SECTION_MAX }),
    whenToSeekCare: Type.Array(PlainStatementSchema, { maxItems: SECTION_MAX }),
    differentialDiagnosis: Type.Array(DifferentialSchema, { maxItems: SECTION_MAX }),
    statistics: Type.Array(StatisticSchema, { maxItems: SECTION_MAX }),
    related: Type.Array(RelatedSchema, { maxItems: SECTION_MAX }),
  },
  { additionalProperties: false },
);
export type ConditionContent = Static<typeof ConditionContentSchema>;

/** Statement sections in document order, with the middle segment their ids must carry. */
export const STATEMENT_SECTIONS = [
  { key: 'symptoms', idKind: 'symptom' },
  { key: 'causes', idKind: 'cause' },
  { key: 'riskFactors', idKind: 'risk' },
  { key: 'complications', idKind: 'complication' },
  { key: 'diagnosis', idKind: 'diagnosis' },
  { key: 'treatments', idKind: 'treatment' },
  { key: 'prognosis', idKind: 'prognosis' },
  { key: 'prevention', idKind: 'prevention' },
  { key: 'whenToSeekCare', idKind: 'seek-care' },
  { key: 'differentialDiagnosis', idKind: 'differential' },
] as const;
export type StatementSectionKey = (typeof STATEMENT_SECTIONS)[number]['key'];

/** Any section item: the union that code iterating over all sections works with. */
export type StatementContent = ConditionContent[StatementSectionKey][number];

/** Every statement of a condition in document order, with its section key. */
export function statementsOf(c: ConditionContent): { section: StatementSectionKey; item: StatementContent; position: number }[] {
  return STATEMENT_SECTIONS.flatMap(({ key }) => (c[key] as StatementContent[]).map((item, position) => ({ section: key, item, position })));
}

/* Entities and section names: the vocabulary of the change feed, revisions and URLs */

export const ENTITY_TYPES = ['condition', 'statement', 'statistic', 'source'] as const;
export type EntityType = (typeof ENTITY_TYPES)[number];
export type ChangeAction = 'create' | 'update' | 'delete';

/** Section keys as stored (camelCase) ↔ the section names of URLs and write bodies (kebab-case). */
export function sectionName(key: StatementSectionKey): string {
  return key.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`);
}
const SECTION_KEYS = new Map(STATEMENT_SECTIONS.map(({ key }) => [sectionName(key), key]));
export function sectionKey(name: string): StatementSectionKey | undefined {
  return SECTION_KEYS.get(name);
}
export const STATEMENT_SECTION_NAMES = STATEMENT_SECTIONS.map(({ key }) => sectionName(key));
