/**
 * Facts: every statement and every statistic of every condition as one flat, citable item with a
 * stable id, for retrieval-augmented chatbots and anything else that quotes the knowledge base.
 */
import { Type, type Static } from 'typebox';
import { ConfidenceSchema, DISCLAIMER_FIELD, LAST_REVIEWED_FIELD, SourceRefSchema, StringEnum, ref } from './common.js';

/** Section names as they appear in URLs (kebab-case), `statistics` included. */
export const FACT_SECTIONS = [
  'symptoms',
  'causes',
  'risk-factors',
  'complications',
  'diagnosis',
  'differential-diagnosis',
  'treatments',
  'prognosis',
  'prevention',
  'when-to-seek-care',
  'statistics',
] as const;
export type FactSection = (typeof FACT_SECTIONS)[number];

export const FactSectionSchema = StringEnum(FACT_SECTIONS, { description: 'The condition section the fact belongs to', examples: ['symptoms'] });

const factFields = {
  id: Type.String({
    description: 'Stable id (the statement or statistic id): never changes when the wording is edited',
    examples: ['calciphylaxis.symptom.livedo-patches'],
  }),
  conditionId: Type.String({ examples: ['calciphylaxis'] }),
  conditionName: Type.String({ examples: ['Calciphylaxis'] }),
  section: FactSectionSchema,
  name: Type.String({ description: 'Short label; for a statistic, its measure and outcome', examples: ['Purple net-like (livedo-like) patches'] }),
  text: Type.String({ description: 'The fact as one self-contained sentence', examples: ['A purplish, lace- or net-patterned mottling of the skin (livedo-like patches) is a common sign of calciphylaxis.'] }),
  sources: Type.Array(ref(SourceRefSchema), { minItems: 1 }),
  confidence: ConfidenceSchema,
  url: Type.String({
    description: 'Where the full item is served: /v1/treatments/{id}, /v1/statistics/{id}, else /v1/facts/{id}',
    examples: ['/v1/facts/calciphylaxis.symptom.livedo-patches'],
  }),
};

const FACT_OPTIONS = { title: 'Fact', description: 'An atomic, cited statement or statistic with a stable id' };

export const FactSchema = Type.Object(factFields, { $id: 'Fact', ...FACT_OPTIONS });

export type Fact = Static<typeof FactSchema>;

/** GET /v1/facts/{id}: one fact with the review date of its condition and the disclaimer. */
export const FactDocumentSchema = Type.Object(
  { ...FactSchema.properties, lastReviewed: LAST_REVIEWED_FIELD, disclaimer: DISCLAIMER_FIELD },
  { title: 'FactDocument', description: 'One fact with the review date of its condition and the disclaimer' },
);
export type FactDocument = Static<typeof FactDocumentSchema>;
