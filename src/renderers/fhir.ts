/**
 * FHIR R5 rendering of one statistic (`Accept: application/fhir+json` on `/v1/statistics/{id}`): a
 * `Bundle` of type `collection` holding an `Evidence` and the `Citation` of its primary source.
 *
 * Element names, cardinalities and code systems follow FHIR R5 (5.0.0):
 * - Evidence: `status` 1..1; `variableDefinition` 1..* each with `variableRole` 1..1 from
 *   http://terminology.hl7.org/CodeSystem/variable-role (population | exposure | measuredVariable —
 *   R5 has no "outcome" role: an outcome is the measured variable); `statistic.statisticType` from
 *   http://terminology.hl7.org/CodeSystem/statistic-type (C44256 Proportion, C16726 Incidence,
 *   C17010 Prevalence, C25463 Count); `statistic.attributeEstimate` with type C38013 "Range" from
 *   http://terminology.hl7.org/CodeSystem/attribute-estimate-type for a reported range;
 *   `certainty.rating` from http://hl7.org/fhir/certainty-rating (the R5 system; R4B used
 *   terminology.hl7.org) with `certainty.type` Overall from http://hl7.org/fhir/certainty-type.
 *   R5 Evidence has no timeFrame: the timepoint is a note on the measured variable and on the statistic.
 * - Citation: `status` 1..1; `citedArtifact.title[].text` 1..1; `publicationForm.publishedIn.title`,
 *   `publicationForm.articleDate` (the year), `volume`, `pageString`; `contributorship.entry[]
 *   .contributor` is a Reference 1..1 (display only); `citedArtifact.classification.type`
 *   publication-type from http://hl7.org/fhir/cited-artifact-classification-type.
 * - Identifiers (DOI https://doi.org, PMID https://pubmed.ncbi.nlm.nih.gov, PMCID
 *   https://www.ncbi.nlm.nih.gov/pmc) only where the source record holds them: never guessed.
 * - No `null` anywhere (FHIR forbids it): unknown elements are absent.
 * - `Bundle.entry.fullUrl` is a deterministic `urn:uuid:` (UUID v5 of the resource type and id), and
 *   `Evidence.citeAsReference.reference` is the Citation entry's fullUrl, so the reference resolves
 *   inside the bundle. With a `baseUrl`, each resource also gets `url` = its API address.
 *
 * Certainty: `certainty.rating` comes only from the statistic's `certainty` (a GRADE level reported
 * by a named source, or the curators' stated reason, in `certaintyBasis`); a figure whose certainty
 * was not assessed has no `certainty` element. The curators' `confidence` (that the sources say
 * exactly this) is not a rating of the evidence and is never mapped to one.
 */
import { createHash } from 'node:crypto';
import type { SourceRef } from '../schemas/common.js';
import type { Source } from '../schemas/source.js';
import type { Statistic } from '../schemas/statistic.js';
import { MEASURE_LABEL, SOURCE_KIND_LABEL, formatFigure } from './markdown.js';

// ---------------------------------------------------------------------------------------------
// The subset of FHIR R5 data types this renderer emits

export interface FhirCoding {
  system: string;
  code: string;
  display?: string;
}
export interface FhirCodeableConcept {
  coding?: FhirCoding[];
  text?: string;
}
export interface FhirQuantity {
  value: number;
  comparator?: '<' | '<=' | '>=' | '>';
  unit?: string;
  system?: string;
  code?: string;
}
export interface FhirRange {
  low?: FhirQuantity;
  high?: FhirQuantity;
}
export interface FhirAnnotation {
  text: string;
}
export interface FhirReference {
  reference?: string;
  type?: string;
  display?: string;
}
export interface FhirIdentifier {
  system: string;
  value: string;
}
export interface FhirRelatedArtifact {
  type: 'citation';
  display?: string;
  citation?: string;
}

export interface FhirEvidence {
  resourceType: 'Evidence';
  id: string;
  url?: string;
  title?: string;
  citeAsReference?: FhirReference;
  status: 'active';
  description?: string;
  note?: FhirAnnotation[];
  relatedArtifact?: FhirRelatedArtifact[];
  variableDefinition: {
    description?: string;
    note?: FhirAnnotation[];
    variableRole: FhirCodeableConcept;
  }[];
  studyDesign?: FhirCodeableConcept[];
  statistic?: {
    description?: string;
    note?: FhirAnnotation[];
    statisticType?: FhirCodeableConcept;
    quantity?: FhirQuantity;
    sampleSize?: { numberOfParticipants?: number };
    attributeEstimate?: { description?: string; type?: FhirCodeableConcept; range?: FhirRange }[];
  }[];
  certainty?: {
    description?: string;
    type?: FhirCodeableConcept;
    rating?: FhirCodeableConcept;
    rater?: string;
  }[];
}

export interface FhirCitation {
  resourceType: 'Citation';
  id: string;
  url?: string;
  title?: string;
  status: 'active';
  summary?: { text: string }[];
  note?: FhirAnnotation[];
  citedArtifact?: {
    identifier?: FhirIdentifier[];
    title?: { type?: FhirCodeableConcept[]; text: string }[];
    publicationForm?: {
      publishedIn?: { title?: string; publisher?: FhirReference };
      volume?: string;
      articleDate?: string;
      pageString?: string;
    }[];
    webLocation?: { url: string }[];
    classification?: { type?: FhirCodeableConcept; classifier?: FhirCodeableConcept[] }[];
    contributorship?: { entry: { contributor: FhirReference; rankingOrder?: number }[] };
  };
}

export interface FhirBundle {
  resourceType: 'Bundle';
  type: 'collection';
  entry: { fullUrl: string; resource: FhirEvidence | FhirCitation }[];
}

// ---------------------------------------------------------------------------------------------
// Code systems (verified against the R5 specification, see the module comment)

const VARIABLE_ROLE = 'http://terminology.hl7.org/CodeSystem/variable-role';
const STATISTIC_TYPE = 'http://terminology.hl7.org/CodeSystem/statistic-type';
const ATTRIBUTE_ESTIMATE_TYPE = 'http://terminology.hl7.org/CodeSystem/attribute-estimate-type';
const CERTAINTY_RATING = 'http://hl7.org/fhir/certainty-rating';
const CERTAINTY_TYPE = 'http://hl7.org/fhir/certainty-type';
const CITED_ARTIFACT_CLASSIFICATION_TYPE = 'http://hl7.org/fhir/cited-artifact-classification-type';
const UCUM = 'http://unitsofmeasure.org';
export const IDENTIFIER_SYSTEMS = {
  doi: 'https://doi.org',
  pmid: 'https://pubmed.ncbi.nlm.nih.gov',
  pmcid: 'https://www.ncbi.nlm.nih.gov/pmc',
} as const;

const CERTAINTY: Record<Statistic['certainty'], { code: string; display: string } | null> = {
  high: { code: 'high', display: 'High quality' },
  moderate: { code: 'moderate', display: 'Moderate quality' },
  low: { code: 'low', display: 'Low quality' },
  'very-low': { code: 'very-low', display: 'Very low quality' },
  'not-assessed': null,
};

const COMPARATOR: Record<NonNullable<Statistic['comparator']>, FhirQuantity['comparator'] | null> = {
  'more-than': '>',
  'less-than': '<',
  'at-least': '>=',
  about: null,
  exactly: null,
};

/** Units that count people: the statistic is then a Count, not a proportion. */
const COUNT_UNITS = new Set(['patients', 'people', 'persons', 'cases', 'participants']);

// ---------------------------------------------------------------------------------------------
// Helpers

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/** A valid FHIR id: kept as-is when it already is one; otherwise sanitized, and hashed when too long. */
export function toFhirId(id: string): string {
  if (FHIR_ID.test(id)) return id;
  const clean = id.replace(/[^A-Za-z0-9\-.]/g, '-') || 'x';
  if (clean.length <= 64) return clean;
  const hash = createHash('sha256').update(id).digest('hex').slice(0, 10);
  return `${clean.slice(0, 53)}-${hash}`;
}

/** RFC 4122 UUID v5 (SHA-1, URL namespace) of `name`: deterministic, so bodies and ETags are stable. */
function uuidV5(name: string): string {
  const namespace = Buffer.from('6ba7b8119dad11d180b400c04fd430c8', 'hex');
  const bytes = createHash('sha1').update(namespace).update(name, 'utf8').digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function fullUrlOf(resourceType: string, id: string): string {
  return `urn:uuid:${uuidV5(`condition-knowledge-api/${resourceType}/${id}`)}`;
}

function joinUrl(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}${path}`;
}

/** Deep copy without `undefined` values and without empty arrays/objects, which FHIR forbids. */
function prune<T>(value: T): T {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) {
      const items = v.map(walk).filter((x) => x !== undefined);
      return items.length ? items : undefined;
    }
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        const w = walk(x);
        if (w !== undefined) out[k] = w;
      }
      return Object.keys(out).length ? out : undefined;
    }
    if (v === null || v === '') return undefined;
    return v;
  };
  return walk(value) as T;
}

function concept(system: string, code: string, display: string | undefined, text: string): FhirCodeableConcept {
  return { coding: [{ system, code, ...(display ? { display } : {}) }], text };
}

function quantity(value: number, unit: string, comparator?: FhirQuantity['comparator']): FhirQuantity {
  const q: FhirQuantity = { value };
  if (comparator) q.comparator = comparator;
  q.unit = unit;
  if (unit === '%') {
    q.system = UCUM;
    q.code = '%';
  }
  return q;
}

function statisticType(stat: Statistic): FhirCodeableConcept {
  if (stat.unit === '%') {
    if (stat.measure === 'incidence') return concept(STATISTIC_TYPE, 'C16726', 'Incidence', 'Incidence');
    if (stat.measure === 'prevalence') return concept(STATISTIC_TYPE, 'C17010', 'Prevalence', 'Prevalence');
    return concept(STATISTIC_TYPE, 'C44256', 'Proportion', 'Proportion');
  }
  if (COUNT_UNITS.has(stat.unit.toLowerCase())) return concept(STATISTIC_TYPE, 'C25463', 'Count', 'Count');
  return { text: MEASURE_LABEL[stat.measure] };
}

function timepointNote(stat: Statistic): FhirAnnotation[] | undefined {
  return stat.timepoint ? [{ text: `Timepoint: ${stat.timepoint}` }] : undefined;
}

// ---------------------------------------------------------------------------------------------
// Resources

function evidence(stat: Statistic, conditionName: string, citationRef: FhirReference | undefined, others: readonly SourceRef[], baseUrl: string | undefined): FhirEvidence {
  const figure = formatFigure(stat);
  const comparator = stat.comparator ? COMPARATOR[stat.comparator] : null;
  const statNotes: FhirAnnotation[] = [...(timepointNote(stat) ?? [])];
  if (stat.comparator === 'about') statNotes.push({ text: 'Reported as an approximate figure.' });

  const variables: FhirEvidence['variableDefinition'] = [
    { description: stat.population, variableRole: concept(VARIABLE_ROLE, 'population', undefined, 'population') },
  ];
  if (stat.treatment) variables.push({ description: stat.treatment.name, variableRole: concept(VARIABLE_ROLE, 'exposure', undefined, 'exposure') });
  variables.push({
    description: stat.outcome ?? MEASURE_LABEL[stat.measure],
    note: timepointNote(stat),
    variableRole: concept(VARIABLE_ROLE, 'measuredVariable', undefined, 'measured variable'),
  });

  const rating = CERTAINTY[stat.certainty];
  const subject = stat.treatment ? `, ${stat.treatment.name}` : '';
  return {
    resourceType: 'Evidence',
    id: toFhirId(stat.id),
    url: baseUrl ? joinUrl(baseUrl, `/v1/statistics/${encodeURIComponent(stat.id)}`) : undefined,
    title: `${conditionName}: ${MEASURE_LABEL[stat.measure].toLowerCase()}${subject}, ${figure}`,
    citeAsReference: citationRef,
    status: 'active',
    description: stat.text,
    relatedArtifact: others.map((ref) => ({ type: 'citation', display: ref.citation, citation: ref.citation })),
    variableDefinition: variables,
    studyDesign: [{ text: SOURCE_KIND_LABEL[stat.studyType] }],
    statistic: [
      {
        description: stat.timepoint ? `${figure} at ${stat.timepoint}` : figure,
        note: statNotes,
        statisticType: statisticType(stat),
        quantity: stat.value !== null ? quantity(stat.value, stat.unit, comparator ?? undefined) : undefined,
        sampleSize: stat.sampleSize !== null ? { numberOfParticipants: stat.sampleSize } : undefined,
        attributeEstimate:
          stat.low !== null && stat.high !== null
            ? [
                {
                  description: 'Reported range',
                  type: concept(ATTRIBUTE_ESTIMATE_TYPE, 'C38013', 'Range', 'Range'),
                  range: { low: quantity(stat.low, stat.unit), high: quantity(stat.high, stat.unit) },
                },
              ]
            : undefined,
      },
    ],
    certainty: rating
      ? [
          {
            description: stat.certaintyBasis ?? undefined,
            type: concept(CERTAINTY_TYPE, 'Overall', undefined, 'Overall certainty'),
            rating: concept(CERTAINTY_RATING, rating.code, rating.display, rating.display),
          },
        ]
      : undefined,
  };
}

/** Kinds whose `label` names the publisher (a website, a news outlet) rather than a study. */
const PUBLISHER_LABEL_KINDS: ReadonlySet<Source['kind']> = new Set(['reference-website', 'database', 'article']);

const ATTRIBUTION_NOTE: Record<Source['attribution'], string> = {
  confirmed: 'Attribution: confirmed (this is the work the citing article refers to).',
  probable: 'Attribution: probable (most likely the work the citing article refers to).',
  unknown: 'Attribution: unknown (the work the citing article refers to is not identified).',
};

function citationFromSource(s: Source, baseUrl: string | undefined): FhirCitation {
  const identifiers: FhirIdentifier[] = [];
  if (s.doi) identifiers.push({ system: IDENTIFIER_SYSTEMS.doi, value: s.doi });
  if (s.pmid) identifiers.push({ system: IDENTIFIER_SYSTEMS.pmid, value: s.pmid });
  if (s.pmcid) identifiers.push({ system: IDENTIFIER_SYSTEMS.pmcid, value: s.pmcid });

  const publisher = s.label && s.authors.length === 0 && PUBLISHER_LABEL_KINDS.has(s.kind) ? { display: s.label } : undefined;
  const form = {
    publishedIn: s.journal || publisher ? { title: s.journal ?? undefined, publisher } : undefined,
    volume: s.volume ?? undefined,
    articleDate: s.year === null ? undefined : String(s.year),
    pageString: s.pages ?? undefined,
  };
  const notes: FhirAnnotation[] = [{ text: ATTRIBUTION_NOTE[s.attribution] }];
  if (s.citedAs) notes.push({ text: `Cited as: ${s.citedAs}` });
  if (s.note) notes.push({ text: s.note });

  return {
    resourceType: 'Citation',
    id: toFhirId(s.id),
    url: baseUrl ? joinUrl(baseUrl, `/v1/sources/${encodeURIComponent(s.id)}`) : undefined,
    title: s.title ?? s.citation,
    status: 'active',
    summary: [{ text: s.citation }],
    note: notes,
    citedArtifact: {
      identifier: identifiers,
      title: s.title ? [{ text: s.title }] : [{ type: [{ text: 'Short citation (title not recorded)' }], text: s.citation }],
      publicationForm: [form],
      webLocation: s.url ? [{ url: s.url }] : undefined,
      classification:
        s.kind === 'unknown'
          ? undefined
          : [
              {
                type: concept(CITED_ARTIFACT_CLASSIFICATION_TYPE, 'publication-type', 'Publication type', 'Publication type'),
                classifier: [{ text: SOURCE_KIND_LABEL[s.kind] }],
              },
            ],
      contributorship: s.authors.length ? { entry: s.authors.map((name, i) => ({ contributor: { display: name }, rankingOrder: i + 1 })) } : undefined,
    },
  };
}

/** A Citation from the short reference only, when the full source record is not at hand. */
function citationFromRef(ref: SourceRef, baseUrl: string | undefined): FhirCitation {
  return {
    resourceType: 'Citation',
    id: toFhirId(ref.id),
    url: baseUrl ? joinUrl(baseUrl, `/v1/sources/${encodeURIComponent(ref.id)}`) : undefined,
    title: ref.citation,
    status: 'active',
    summary: [{ text: ref.citation }],
    citedArtifact: { title: [{ type: [{ text: 'Short citation (title not recorded)' }], text: ref.citation }] },
  };
}

/**
 * A statistic as a FHIR R5 `Bundle` (type `collection`): the `Evidence`, then the `Citation` of its
 * primary source. Pass the full record of the statistic's primary source (`stat.primarySource`) as
 * `source`; without it the Citation is built from the short reference. Other sources of the statistic
 * are listed in `Evidence.relatedArtifact`. `baseUrl` (e.g. "https://api.example.org") adds `url`s.
 */
export function statisticToFhir(stat: Statistic, source: Source | undefined, conditionName: string, baseUrl?: string): FhirBundle {
  const primaryRef = stat.sources.find((r) => r.id === stat.primarySource) ?? stat.sources[0];
  const primaryId = source?.id ?? primaryRef?.id;
  const citation = source ? citationFromSource(source, baseUrl) : primaryRef ? citationFromRef(primaryRef, baseUrl) : undefined;
  const citationFullUrl = citation ? fullUrlOf('Citation', citation.id) : undefined;
  const citationRef: FhirReference | undefined =
    citation && citationFullUrl ? { reference: citationFullUrl, type: 'Citation', display: source?.citation ?? primaryRef?.citation } : undefined;
  const others = stat.sources.filter((r) => r.id !== primaryId);

  const ev = evidence(stat, conditionName, citationRef, others, baseUrl);
  const entry: FhirBundle['entry'] = [{ fullUrl: fullUrlOf('Evidence', ev.id), resource: prune(ev) }];
  if (citation && citationFullUrl) entry.push({ fullUrl: citationFullUrl, resource: prune(citation) });
  return { resourceType: 'Bundle', type: 'collection', entry };
}
