import { Type, type Static } from 'typebox';
import { COMPARATORS, MEASURES } from '../content/schema.js';
import { ConfidenceSchema, Nullable, SourceKindSchema, SourceRefSchema, StringEnum, ref } from './common.js';

export const StatisticSchema = Type.Object(
  {
    id: Type.String({ examples: ['calciphylaxis.stat.usage-sodium-thiosulfate'] }),
    conditionId: Type.String({ examples: ['calciphylaxis'] }),
    measure: StringEnum(MEASURES),
    value: Nullable(Type.Number({ description: 'Point estimate; null when only a range is reported', examples: [50.3] })),
    low: Nullable(Type.Number({ examples: [0.04] })),
    high: Nullable(Type.Number({ examples: [4] })),
    unit: Type.String({ examples: ['%'] }),
    comparator: Nullable(StringEnum(COMPARATORS, { description: 'Qualifier as reported: about, more-than, ...' })),
    population: Type.String(),
    outcome: Nullable(Type.String()),
    timepoint: Nullable(Type.String({ examples: ['12 months'] })),
    timepointMonths: Nullable(Type.Number({ examples: [12] })),
    sampleSize: Nullable(Type.Integer({ examples: [34] })),
    treatment: Nullable(Type.Object({ id: Type.String(), name: Type.String() })),
    text: Type.String({ description: 'The figure as one citable sentence' }),
    confidence: ConfidenceSchema,
    studyType: SourceKindSchema,
    year: Nullable(Type.Integer({ description: 'Year of the primary source' })),
    sources: Type.Array(ref(SourceRefSchema), { minItems: 1 }),
  },
  { $id: 'Statistic', title: 'Statistic', description: 'A typed, cited figure: value or range, unit, population, timepoint, source.' },
);
export type Statistic = Static<typeof StatisticSchema>;
