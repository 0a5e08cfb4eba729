import { Type, type Static } from 'typebox';
import { AttributionSchema, DISCLAIMER_FIELD, LAST_REVIEWED_FIELD, Nullable, SourceKindSchema, StringEnum } from './common.js';

export const SourceSchema = Type.Object(
  {
    id: Type.String({ examples: ['an-2015'] }),
    kind: SourceKindSchema,
    year: Nullable(Type.Integer({ examples: [2015] })),
    title: Nullable(Type.String({ description: 'Null when not verified; never filled from memory' })),
    label: Nullable(Type.String({ description: 'Name of a work without authors on record (a website publisher, a named study)' })),
    authors: Type.Array(Type.String(), { description: 'In citation order; empty when unknown' }),
    journal: Nullable(Type.String()),
    volume: Nullable(Type.String()),
    pages: Nullable(Type.String()),
    doi: Nullable(Type.String({ examples: ['10.1111/nep.12433'] })),
    pmid: Nullable(Type.String({ examples: ['25707425'] })),
    pmcid: Nullable(Type.String()),
    url: Nullable(Type.String({ description: 'Canonical link: the given URL, else https://doi.org/<doi>, else null' })),
    citedAs: Nullable(Type.String({ description: 'How the source article refers to this work', examples: ['a 2015 analysis'] })),
    attribution: AttributionSchema,
    licence: Nullable(Type.String()),
    note: Nullable(Type.String()),
    citation: Type.String({ description: 'Short human-readable citation', examples: ['An et al., 2015, case series'] }),
  },
  { $id: 'Source', title: 'Source', description: 'A cited work. Unknown identifiers are null, never guessed.' },
);
export type Source = Static<typeof SourceSchema>;

const CitingSchema = Type.Object(
  {
    entityType: StringEnum(['statement', 'statistic', 'summary', 'related'] as const, {
      description: 'statement (any section item), statistic, summary (of a condition) or related (a link between conditions)',
    }),
    id: Type.String({
      description: 'Statement or statistic id; the condition id for a summary; the linked condition id for a related link',
      examples: ['calciphylaxis.stat.usage-sodium-thiosulfate'],
    }),
    conditionId: Type.String({ description: 'The condition whose content cites the source', examples: ['calciphylaxis'] }),
    url: Type.String({ description: 'Where the citing content is served', examples: ['/v1/statistics/calciphylaxis.stat.usage-sodium-thiosulfate'] }),
  },
  { title: 'Citing' },
);

/** GET /v1/sources/{id}: one cited work and what cites it. */
export const SourceDocumentSchema = Type.Object(
  {
    ...SourceSchema.properties,
    citedBy: Type.Array(CitingSchema, { description: 'Everything in the knowledge base that cites this source, by condition' }),
    lastReviewed: Nullable(LAST_REVIEWED_FIELD),
    disclaimer: DISCLAIMER_FIELD,
  },
  { title: 'SourceDocument', description: 'One cited work and what cites it. Unknown identifiers are null, never guessed.' },
);
export type SourceDocument = Static<typeof SourceDocumentSchema>;
