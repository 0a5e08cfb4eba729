/**
 * Schemas of the two non-JSON representations, so that generated clients type them as what they
 * are rather than as the JSON document. Each is a generic object that names the fields a client
 * keys on and allows the rest (additionalProperties): the schema.org and FHIR vocabularies are
 * open-ended, and these renderings gain properties as the content model grows.
 */
import { Type } from 'typebox';

const Thing = Type.Object(
  {
    '@type': Type.String({ examples: ['MedicalSignOrSymptom'] }),
    '@id': Type.Optional(Type.String({ description: 'IRI of the item, where it has one' })),
    name: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);

export const JsonLdConditionSchema = Type.Object(
  {
    '@context': Type.Literal('https://schema.org'),
    '@type': Type.Literal('MedicalCondition'),
    '@id': Type.String({ description: 'Absolute IRI of the condition document, under PUBLIC_BASE_URL', examples: ['http://localhost:3000/v1/conditions/calciphylaxis'] }),
    url: Type.String({ examples: ['http://localhost:3000/v1/conditions/calciphylaxis'] }),
    name: Type.String({ examples: ['Calciphylaxis'] }),
    alternateName: Type.Optional(Type.Array(Type.String())),
    description: Type.Optional(Type.String()),
    code: Type.Optional(
      Type.Array(
        Type.Object(
          {
            '@type': Type.Literal('MedicalCode'),
            codeValue: Type.String({ examples: ['E83.59'] }),
            codingSystem: Type.String({ examples: ['ICD-10-CM'] }),
          },
          { additionalProperties: true },
        ),
      ),
    ),
    sameAs: Type.Optional(
      Type.Array(Type.String({ description: 'IRI of the same concept elsewhere, for codes that match exactly', examples: ['http://www.orpha.net/ORDO/Orphanet_280062'] })),
    ),
    relevantSpecialty: Type.Optional(
      Type.Array(
        Type.Object({ '@id': Type.String({ description: 'A schema.org MedicalSpecialty enumeration member', examples: ['https://schema.org/Renal'] }) }, { additionalProperties: false }),
      ),
    ),
    cause: Type.Optional(Type.Array(Thing)),
    signOrSymptom: Type.Optional(Type.Array(Thing)),
    riskFactor: Type.Optional(Type.Array(Thing)),
    possibleTreatment: Type.Optional(Type.Array(Thing, { description: '`Drug` for medications, `MedicalTherapy` for every other treatment (procedures included)' })),
    typicalTest: Type.Optional(Type.Array(Thing)),
    subjectOf: Type.Object(
      {
        '@type': Type.Literal('MedicalWebPage'),
        url: Type.String({ examples: ['http://localhost:3000/v1/conditions/calciphylaxis'] }),
        lastReviewed: Type.String({ format: 'date', examples: ['2026-11-26'] }),
        citation: Type.Optional(Type.Array(Thing, { description: 'Every source of the document, as ScholarlyArticle or CreativeWork' })),
        usageInfo: Type.Object({ '@type': Type.Literal('CreativeWork'), text: Type.String({ description: 'The disclaimer' }) }, { additionalProperties: true }),
      },
      { additionalProperties: true, description: 'The web page of the document: review date, citations and disclaimer (WebPage and CreativeWork properties)' },
    ),
  },
  {
    $id: 'JsonLdMedicalCondition',
    title: 'JsonLdMedicalCondition',
    description:
      'The condition document as schema.org JSON-LD (`application/ld+json`): a `MedicalCondition` with its codes, sameAs IRIs, ' +
      'specialties, causes, symptoms, risk factors, treatments and tests, and the `MedicalWebPage` it is the subject of, which ' +
      'carries the review date, the citations and the disclaimer. Key fields are listed; others may appear.',
    additionalProperties: true,
  },
);

const FhirResource = Type.Object(
  {
    resourceType: Type.Union([Type.Literal('Evidence'), Type.Literal('Citation')]),
    id: Type.String({ examples: ['calciphylaxis.stat.usage-sodium-thiosulfate'] }),
    status: Type.Optional(Type.String({ examples: ['active'] })),
    title: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);

export const FhirBundleSchema = Type.Object(
  {
    resourceType: Type.Literal('Bundle'),
    type: Type.Literal('collection'),
    entry: Type.Array(
      Type.Object(
        {
          fullUrl: Type.String({ description: 'urn:uuid: of the entry, which references between entries use', examples: ['urn:uuid:1c807930-cb61-5980-a539-18467757736e'] }),
          resource: FhirResource,
        },
        { additionalProperties: true },
      ),
      { minItems: 1 },
    ),
  },
  {
    $id: 'FhirEvidenceBundle',
    title: 'FhirEvidenceBundle',
    description:
      'A statistic as FHIR R5 (`application/fhir+json`): a Bundle of type collection holding an `Evidence` (the figure, its ' +
      'variables, statistic and certainty) and the `Citation` of its primary source. Key fields are listed; the resources follow FHIR R5.',
    additionalProperties: true,
  },
);

export const REPRESENTATION_SCHEMAS = [JsonLdConditionSchema, FhirBundleSchema];
