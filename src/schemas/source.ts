import { Type, type Static } from 'typebox';
import { AttributionSchema, Nullable, SourceKindSchema } from './common.js';

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
