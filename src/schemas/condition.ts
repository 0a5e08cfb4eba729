import { Type, type Static } from 'typebox';
import {
  CODE_MATCHES,
  CODE_SYSTEMS,
  DIAGNOSTIC_METHODS,
  REGULATORY_STATUSES,
  RISK_FACTOR_TYPES,
  SYMPTOM_FREQUENCIES,
  TREATMENT_TYPES,
} from '../content/schema.js';
import { ConfidenceSchema, DISCLAIMER_FIELD, LAST_REVIEWED_FIELD, Nullable, SourceRefSchema, StringEnum, ref } from './common.js';
import { SourceSchema } from './source.js';
import { StatisticSchema } from './statistic.js';

export const CodeSchema = Type.Object(
  {
    system: StringEnum(CODE_SYSTEMS),
    code: Type.String({ examples: ['E83.59'] }),
    display: Nullable(Type.String()),
    match: StringEnum(CODE_MATCHES, { description: 'How the code relates to the condition: exact, broader (the code covers more), narrower, related' }),
    note: Nullable(Type.String()),
    confidence: ConfidenceSchema,
  },
  { $id: 'Code', title: 'Code' },
);

const statementFields = {
  id: Type.String({ description: 'Stable id: never changes when the wording is edited' }),
  name: Type.String(),
  text: Type.String(),
  confidence: ConfidenceSchema,
  sources: Type.Array(ref(SourceRefSchema), { minItems: 1 }),
};

export const StatementSchema = Type.Object(statementFields, { $id: 'Statement', title: 'Statement', description: 'An atomic, cited statement' });
export const SymptomSchema = Type.Object(
  {
    ...statementFields,
    frequency: StringEnum(SYMPTOM_FREQUENCIES),
    relatedCondition: Nullable(Type.String({ description: 'Set when the symptom belongs to an underlying condition' })),
  },
  { $id: 'Symptom', title: 'Symptom' },
);
export const RiskFactorSchema = Type.Object({ ...statementFields, type: StringEnum(RISK_FACTOR_TYPES) }, { $id: 'RiskFactor', title: 'RiskFactor' });
export const DiagnosticSchema = Type.Object(
  { ...statementFields, method: StringEnum(DIAGNOSTIC_METHODS), purpose: Type.String(), risks: Nullable(Type.String()) },
  { $id: 'DiagnosticMethod', title: 'DiagnosticMethod' },
);
export const DifferentialSchema = Type.Object(
  {
    ...statementFields,
    code: Nullable(
      Type.Object(
        { system: StringEnum(CODE_SYSTEMS), code: Type.String({ examples: ['L88'] }), display: Nullable(Type.String()) },
        { description: 'Code of the condition ruled out, where a verified one exists' },
      ),
    ),
  },
  { $id: 'DifferentialDiagnosis', title: 'DifferentialDiagnosis', description: 'A condition a clinician rules out, and how it differs' },
);
export const TreatmentCodeSchema = Type.Object(
  { system: StringEnum(CODE_SYSTEMS), code: Type.String({ examples: ['V03AB06'] }), display: Nullable(Type.String()) },
  { $id: 'TreatmentCode', title: 'TreatmentCode' },
);
export const TreatmentSchema = Type.Object(
  {
    ...statementFields,
    conditionId: Type.String(),
    type: StringEnum(TREATMENT_TYPES),
    route: Nullable(Type.String({ examples: ['intravenous'] })),
    goal: Nullable(Type.String()),
    regulatory: Type.Object({ status: StringEnum(REGULATORY_STATUSES), note: Nullable(Type.String()) }),
    codes: Type.Array(ref(TreatmentCodeSchema)),
    statistics: Type.Array(Type.String(), { description: 'Ids of statistics about this treatment (see /v1/statistics/{id})' }),
  },
  { $id: 'Treatment', title: 'Treatment' },
);
export const RelatedConditionSchema = Type.Object(
  {
    conditionId: Type.String({ examples: ['end-stage-kidney-disease'] }),
    name: Type.String(),
    relation: Type.String({ examples: ['underlying-cause'] }),
    text: Type.String(),
    sources: Type.Array(ref(SourceRefSchema), { minItems: 1 }),
    url: Nullable(Type.String({ description: 'Path of its document when the knowledge base holds it' })),
    inKnowledgeBase: Type.Boolean({ description: 'Whether the knowledge base holds a document for the linked condition' }),
  },
  { $id: 'RelatedCondition', title: 'RelatedCondition' },
);

export const ConditionSummarySchema = Type.Object(
  {
    id: Type.String({ examples: ['calciphylaxis'] }),
    name: Type.String({ examples: ['Calciphylaxis'] }),
    aliases: Type.Array(Type.String()),
    summary: Type.String(),
    codes: Type.Array(ref(CodeSchema)),
    version: Type.Integer(),
    lastReviewed: LAST_REVIEWED_FIELD,
    url: Type.String({ examples: ['/v1/conditions/calciphylaxis'] }),
  },
  { $id: 'ConditionSummary', title: 'ConditionSummary' },
);

export const ConditionSchema = Type.Object(
  {
    id: Type.String({ examples: ['calciphylaxis'] }),
    name: Type.String({ examples: ['Calciphylaxis'] }),
    aliases: Type.Array(Type.String()),
    summary: Type.String(),
    summarySources: Type.Array(ref(SourceRefSchema)),
    codes: Type.Array(ref(CodeSchema)),
    symptoms: Type.Array(ref(SymptomSchema)),
    causes: Type.Array(ref(StatementSchema)),
    riskFactors: Type.Array(ref(RiskFactorSchema)),
    complications: Type.Array(ref(StatementSchema)),
    diagnosis: Type.Array(ref(DiagnosticSchema)),
    treatments: Type.Array(ref(TreatmentSchema)),
    prognosis: Type.Array(ref(StatementSchema)),
    prevention: Type.Array(ref(StatementSchema)),
    whenToSeekCare: Type.Array(ref(StatementSchema), { description: 'Signs that should send someone to a doctor' }),
    differentialDiagnosis: Type.Array(ref(DifferentialSchema), { description: 'Conditions a clinician rules out' }),
    statistics: Type.Array(ref(StatisticSchema)),
    statisticGroups: Type.Array(
      Type.Object({
        measure: Type.String(),
        subject: Type.String({ description: 'Treatment id, or "condition" for figures about the condition itself' }),
        statistics: Type.Array(Type.String()),
      }),
      { description: 'Estimates of the same measure side by side, so conflicting or complementary figures are seen together' },
    ),
    sources: Type.Array(ref(SourceSchema)),
    related: Type.Array(ref(RelatedConditionSchema)),
    lastReviewed: LAST_REVIEWED_FIELD,
    version: Type.Integer({ description: 'Content version; increases with every change' }),
    disclaimer: DISCLAIMER_FIELD,
  },
  { $id: 'Condition', title: 'Condition', description: 'The whole condition document' },
);
export type Condition = Static<typeof ConditionSchema>;

/** GET /v1/treatments/{id}: one treatment with its evidence in full. */
export const TreatmentDocumentSchema = Type.Object(
  {
    ...TreatmentSchema.properties,
    evidence: Type.Array(ref(StatisticSchema), { description: 'The statistics listed in `statistics`, in full and in the same order' }),
    lastReviewed: LAST_REVIEWED_FIELD,
    disclaimer: DISCLAIMER_FIELD,
  },
  { title: 'TreatmentDocument', description: 'One treatment with its evidence' },
);
export type TreatmentDocument = Static<typeof TreatmentDocumentSchema>;
export type ConditionSummary = Static<typeof ConditionSummarySchema>;
export type Treatment = Static<typeof TreatmentSchema>;

export const CONDITION_SCHEMAS = [
  CodeSchema,
  StatementSchema,
  SymptomSchema,
  RiskFactorSchema,
  DiagnosticSchema,
  DifferentialSchema,
  TreatmentCodeSchema,
  TreatmentSchema,
  RelatedConditionSchema,
  ConditionSummarySchema,
  ConditionSchema,
];
