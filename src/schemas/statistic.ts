import { Type, type Static } from 'typebox';
import { CERTAINTY_LEVELS, COMPARATORS, ESTIMATE_TYPES, MEASURES, STUDY_DESIGNS, UNITS } from '../content/schema.js';
import { ConfidenceSchema, DISCLAIMER_FIELD, LAST_REVIEWED_FIELD, Nullable, SourceKindSchema, SourceRefSchema, StringEnum, ref } from './common.js';

export const StatisticSchema = Type.Object(
  {
    id: Type.String({ examples: ['calciphylaxis.stat.usage-sodium-thiosulfate'] }),
    conditionId: Type.String({ examples: ['calciphylaxis'] }),
    measure: StringEnum(MEASURES),
    value: Nullable(Type.Number({ description: 'Point estimate; null when only a range is reported', examples: [50.3] })),
    low: Nullable(Type.Number({ description: 'Low end of a reported range (not a confidence interval: see interval)', examples: [0.04] })),
    high: Nullable(Type.Number({ description: 'High end of a reported range', examples: [4] })),
    unit: StringEnum(UNITS, { examples: ['%'] }),
    comparator: Nullable(StringEnum(COMPARATORS, { description: 'Qualifier as reported: about, more-than, ...' })),
    population: Type.String(),
    outcome: Nullable(Type.String()),
    timepoint: Nullable(Type.String({ examples: ['12 months'] })),
    timepointMonths: Nullable(Type.Number({ examples: [12] })),
    estimateType: StringEnum(ESTIMATE_TYPES, { description: 'What kind of number this is: a proportion, a rate, or an effect measure such as a hazard ratio' }),
    interval: Nullable(
      Type.Object(
        {
          level: Type.Number({ description: 'Confidence level, e.g. 0.95', examples: [0.95] }),
          low: Type.Number(),
          high: Type.Number(),
        },
        { description: 'Confidence interval of the estimate' },
      ),
    ),
    events: Nullable(Type.Integer({ description: 'Numerator: participants with the outcome', examples: [20] })),
    sampleSize: Nullable(Type.Integer({ description: 'Participants this figure is computed on (a subgroup size for a subgroup figure)', examples: [34] })),
    comparedWith: Nullable(
      Type.Object(
        { label: Type.String(), treatment: Nullable(Type.Object({ id: Type.String(), name: Type.String() })) },
        { description: 'For effect measures: the comparison group' },
      ),
    ),
    studyDesign: StringEnum(STUDY_DESIGNS, { description: 'Design of the study that produced the figure' }),
    primarySource: Type.String({ description: 'Id of the work that produced the figure; the other sources relay it', examples: ['udomkarnjananun-2019'] }),
    certainty: StringEnum(CERTAINTY_LEVELS, { description: 'Certainty of the evidence (GRADE levels), or not-assessed' }),
    certaintyBasis: Nullable(Type.String({ description: 'Why: a GRADE rating reported by a named source, or the curators\' reason; null when not assessed' })),
    treatment: Nullable(Type.Object({ id: Type.String(), name: Type.String() })),
    text: Type.String({ description: 'The figure as one citable sentence' }),
    confidence: ConfidenceSchema,
    studyType: SourceKindSchema,
    year: Nullable(Type.Integer({ description: 'Year of the primary source' })),
    sources: Type.Array(ref(SourceRefSchema), { minItems: 1 }),
  },
  {
    $id: 'Statistic',
    title: 'Statistic',
    description:
      'A typed, cited figure: value or range, unit, population, timepoint, its interval and denominator, the design and certainty of the evidence, and its sources. `confidence` is how sure the curators are that the sources say exactly this; `certainty` is how strong the evidence is.',
  },
);
export type Statistic = Static<typeof StatisticSchema>;

/** GET /v1/statistics/{id}: one statistic with the review date of its condition and the disclaimer. */
export const StatisticDocumentSchema = Type.Object(
  { ...StatisticSchema.properties, lastReviewed: LAST_REVIEWED_FIELD, disclaimer: DISCLAIMER_FIELD },
  { title: 'StatisticDocument', description: 'One statistic with the review date of its condition and the disclaimer' },
);
export type StatisticDocument = Static<typeof StatisticDocumentSchema>;
