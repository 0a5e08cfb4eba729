/**
 * Schemas shared by every route: problems, pages, citations. Named schemas carry an `$id`, are
 * registered once with `app.addSchema`, and appear as components in the OpenAPI document; routes
 * reference them through `ref()` so handler types still come from the schema.
 */
import { Type, type Static, type TSchema } from 'typebox';
import { CONFIDENCE_LEVELS, SOURCE_KINDS, ATTRIBUTIONS } from '../content/schema.js';

/** A `$ref` to a registered schema that keeps the schema's static type for the type provider. */
export function ref<T extends TSchema>(schema: T): ReturnType<typeof Type.Unsafe<Static<T>>> {
  const id = (schema as { $id?: string }).$id;
  if (!id) throw new Error('ref() needs a schema with an $id');
  return Type.Unsafe<Static<T>>({ $ref: `${id}#` });
}

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
export const StringEnum = <const T extends string[]>(values: readonly [...T], options: Record<string, unknown> = {}) => Type.Enum(values, options);

export const ConfidenceSchema = StringEnum(CONFIDENCE_LEVELS, {
  description:
    'How sure the curators are that the cited sources say exactly this (high = several independent reputable sources agree); not the strength of the evidence (see certainty on statistics)',
});
export const SourceKindSchema = StringEnum(SOURCE_KINDS);
export const AttributionSchema = StringEnum(ATTRIBUTIONS, { description: 'Whether this is surely the work the article cites: confirmed, probable or unknown' });

export const ProblemSchema = Type.Object(
  {
    type: Type.String({ description: 'URI reference naming the problem type', examples: ['/problems/not-found'] }),
    title: Type.String({ examples: ['Not Found'] }),
    status: Type.Integer({ minimum: 400, maximum: 599, examples: [404] }),
    detail: Type.String({ examples: ['No condition with id "unknown".'] }),
    instance: Type.Optional(Type.String({ description: 'The request path' })),
    requestId: Type.Optional(Type.String()),
    errors: Type.Optional(
      Type.Array(
        Type.Object({
          path: Type.String({ description: 'Where the problem is: /querystring/limit, /params/id, /headers/accept', examples: ['/querystring/limit'] }),
          message: Type.String({ examples: ['must be <= 100'] }),
        }),
      ),
    ),
    supported: Type.Optional(Type.Array(Type.String(), { description: 'Media types this resource can be served as (406 only)' })),
  },
  { $id: 'Problem', title: 'Problem', description: 'RFC 9457 problem details, served as application/problem+json' },
);
export type Problem = Static<typeof ProblemSchema>;

export const PageSchema = Type.Object(
  {
    nextCursor: Nullable(Type.String({ description: 'Opaque; pass as ?cursor= to get the next page. Null on the last page.' })),
    limit: Type.Integer({ minimum: 1, maximum: 100 }),
  },
  { $id: 'Page', title: 'Page' },
);

export const SourceRefSchema = Type.Object(
  {
    id: Type.String({ examples: ['udomkarnjananun-2019'] }),
    citation: Type.String({ description: 'Short human-readable citation', examples: ['Udomkarnjananun et al., 2019, systematic review'] }),
    locator: Nullable(Type.String({ description: 'Where in the work this item is supported, e.g. "abstract" or "Table 2"; null when not recorded', examples: ['abstract'] })),
    doi: Nullable(Type.String({ description: "The work's DOI, when verified", examples: ['10.1111/nep.12433'] })),
    pmid: Nullable(Type.String({ description: "The work's PubMed id, when verified", examples: ['25707425'] })),
    url: Nullable(Type.String({ description: 'A link to the work: its recorded URL, else its DOI resolver', examples: ['https://doi.org/10.1111/nep.12433'] })),
  },
  { $id: 'SourceRef', title: 'SourceRef', description: 'A citation of a work by one item: which work, where in it, and how to reach it; full details at /v1/sources/{id}' },
);
export type SourceRef = Static<typeof SourceRefSchema>;

export const DISCLAIMER_FIELD = Type.String({ description: 'Information, not medical advice', examples: ['For information only; not medical advice.'] });
export const LAST_REVIEWED_FIELD = Type.String({ format: 'date', description: 'When curators last reviewed the content', examples: ['2026-11-26'] });

export const DEFAULT_LIMIT = 20;

/** Query fields every list accepts. */
export const pageQuery = {
  // Optional in the document (clients may omit it); Ajv fills the default, so handlers see a number.
  limit: Type.Optional(Type.Integer({ format: 'int32', minimum: 1, maximum: 100, default: DEFAULT_LIMIT, description: 'Items per page (1-100)', examples: [DEFAULT_LIMIT] })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Opaque cursor from page.nextCursor' })),
};

/** The fixed list envelope, plus the content notes every content response carries. */
export function listOf<T extends TSchema>(item: T, options: { title: string; description?: string }) {
  return Type.Object(
    {
      data: Type.Array(item),
      page: ref(PageSchema),
      lastReviewed: Nullable(LAST_REVIEWED_FIELD),
      disclaimer: DISCLAIMER_FIELD,
    },
    { title: options.title, description: options.description },
  );
}

export const problemResponses = {
  400: ref(ProblemSchema),
  404: ref(ProblemSchema),
  406: ref(ProblemSchema),
  // Rate limiting and load shedding apply to every route, and so does the generic 500.
  429: ref(ProblemSchema),
  500: ref(ProblemSchema),
  503: ref(ProblemSchema),
};

export const SHARED_SCHEMAS = [ProblemSchema, PageSchema, SourceRefSchema];
