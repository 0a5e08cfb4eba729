/**
 * The media types the API speaks, and the `?format=` names for clients that cannot set Accept
 * (a browser link, a prompt tool). Negotiation itself lives in plugins/http-caching.ts.
 */
import { Type } from 'typebox';
import { ref } from '../schemas/common.js';
import { FhirBundleSchema, JsonLdConditionSchema } from '../schemas/representations.js';

export const JSON_TYPE = 'application/json';
export const MARKDOWN_TYPE = 'text/markdown';
export const JSONLD_TYPE = 'application/ld+json';
export const FHIR_TYPE = 'application/fhir+json';
export const CSV_TYPE = 'text/csv';
/** Newline-delimited JSON: one JSON text per line (the bulk export). */
export const NDJSON_TYPE = 'application/x-ndjson';

export const FORMATS = { json: JSON_TYPE, markdown: MARKDOWN_TYPE, jsonld: JSONLD_TYPE, fhir: FHIR_TYPE, csv: CSV_TYPE } as const;
export type FormatName = keyof typeof FORMATS;

/**
 * Add to the querystring of every route that produces more than JSON. The runtime accepts every
 * name (one the route does not offer is a 406, like an Accept it cannot meet); the OpenAPI
 * document lists only the names each route offers (http/openapiContract.ts).
 */
export const formatQuery = {
  format: Type.Optional(
    Type.Enum(Object.keys(FORMATS) as FormatName[], {
      description: 'Representation, instead of an Accept header: json, markdown, jsonld, fhir, csv (where the route offers it)',
      examples: ['markdown'],
    }),
  ),
};

/** Response `content` map for OpenAPI: the JSON schema plus the other representations a route offers. */
export function alternatives<T>(json: T, others: { markdown?: boolean; jsonld?: boolean; fhir?: boolean; csv?: string }) {
  return {
    content: {
      [JSON_TYPE]: { schema: json },
      ...(others.markdown ? { [MARKDOWN_TYPE]: { schema: Type.String({ description: 'Markdown with numbered citations, a reference list, the review date and the disclaimer' }) } } : {}),
      ...(others.jsonld ? { [JSONLD_TYPE]: { schema: ref(JsonLdConditionSchema) } } : {}),
      ...(others.fhir ? { [FHIR_TYPE]: { schema: ref(FhirBundleSchema) } } : {}),
      ...(others.csv ? { [CSV_TYPE]: { schema: Type.String({ description: others.csv }) } } : {}),
    },
  };
}
