/**
 * FHIR R5 rendering of one statistic (`Accept: application/fhir+json` on `/v1/statistics/{id}`): a
 * `Bundle` of type `collection` holding an `Evidence` and the `Citation` of its primary source.
 *
 * The types are @types/fhir's R5 definitions (generated from hl7.fhir.r5.core 5.0.0), so a wrong
 * element name or type fails `npm run typecheck`. Element names, cardinalities, code systems and
 * codes follow FHIR R5 (5.0.0); every code below was checked against the R5 value set it is bound to:
 * - `Evidence.studyDesign` (0..*, extensible binding to http://hl7.org/fhir/ValueSet/study-design,
 *   which in R5 includes all of http://hl7.org/fhir/study-design, the SEVCO study-design terms):
 *   randomized trial → SEVCO:01003 "randomized assignment"; case-control → SEVCO:01013 "Case control
 *   design"; cross-sectional → SEVCO:01027 "Cross sectional data collection"; case series →
 *   SEVCO:01016 "Uncontrolled cohort design" (its alternative term is "Case series design"); case
 *   report → SEVCO:01017 "Case report". R5 has no single "cohort study" or "registry" term: a cohort
 *   is the text "cohort study" plus SEVCO:01002 "Observational research" and SEVCO:01028
 *   "Longitudinal data collection"; a registry is the text plus SEVCO:01002. Observational designs
 *   (case-control, cross-sectional, case series) also carry SEVCO:01002. Meta-analysis, systematic
 *   review, narrative review and expert opinion have no term in the R5 value set: text only. An
 *   unknown design has no `studyDesign` at all.
 * - `statistic.statisticType` from http://terminology.hl7.org/CodeSystem/statistic-type (the R5
 *   value set's 22 codes): C93150 Hazard Ratio, C16932 Odds Ratio, C93152 Relative Risk, 0000424 Risk
 *   Difference, C53319 Mean, C28007 Median, C25463 Count, C44256 Proportion, C16726 Incidence, C17010
 *   Prevalence (a proportion or a rate of new or existing cases). R5 has no code for any other rate,
 *   nor for "other": those are text only.
 * - `statistic.quantity`: UCUM `%` for percentages; a ratio estimate is dimensionless, UCUM's unity
 *   `1` (never `%`); years/months/days are UCUM `a`/`mo`/`d`; counts and per-person-time rates keep
 *   the unit as text with no code (UCUM has no "patients" or "person-years").
 * - `statistic.sampleSize.numberOfParticipants` is `sampleSize`. `events` (participants with the
 *   outcome) is `statistic.numberAffected`, R5's count of participants "where the unit of analysis is
 *   the same as sampleSize.numberOfParticipants"; R5's `numberOfEvents` is for events counted in a
 *   different unit (several per participant), which this model does not hold.
 * - `statistic.attributeEstimate` (type from http://terminology.hl7.org/CodeSystem/attribute-estimate-type):
 *   a confidence interval is C53324 "Confidence interval" with `level` (decimal, e.g. 0.95) and
 *   `range`; a reported range (`low`/`high`) stays C38013 "Range".
 * - `variableDefinition` (1..*, `variableRole` 1..1 from http://terminology.hl7.org/CodeSystem/variable-role):
 *   `population`; `exposure` (the treatment, or for a comparison without one the group the figure is
 *   about); `referenceExposure` ("reference exposure": the comparison group of `comparedWith`);
 *   `measuredVariable` ("measured variable": the outcome; R5 has no "outcome" role).
 * - `certainty` only when `certainty` is assessed: `rating` from http://hl7.org/fhir/certainty-rating
 *   (high "High quality", moderate "Moderate quality", low "Low quality", very-low "Very low
 *   quality"; the R5 system, R4B used terminology.hl7.org), `type` Overall "Overall certainty" from
 *   http://hl7.org/fhir/certainty-type, `description` the `certaintyBasis`, and `rater` only when the
 *   basis names the curators as the raters (it starts "Curators"); a rating reported by a named source
 *   has that source in its basis, not a guessed rater. The curators' `confidence` (that the sources
 *   say exactly this) is not a rating of the evidence and is never mapped to one.
 *   R5 Evidence has no timeFrame: the timepoint is a note on the measured variable and on the statistic.
 * - Citation: `status` 1..1; `citedArtifact.title[].text` 1..1; `publicationForm.publishedIn.title`,
 *   `publicationForm.articleDate` (the year), `volume`, `pageString`; `contributorship.entry[]
 *   .contributor` is a Reference 1..1 (display only); `citedArtifact.classification.type`
 *   publication-type "Publication type" from http://hl7.org/fhir/cited-artifact-classification-type.
 * - Identifiers (DOI https://doi.org, PMID https://pubmed.ncbi.nlm.nih.gov, PMCID
 *   https://www.ncbi.nlm.nih.gov/pmc) only where the source record holds them: never guessed.
 * - No `null` anywhere (FHIR forbids it): unknown elements are absent.
 * - `Bundle.entry.fullUrl` is a deterministic `urn:uuid:` (UUID v5 of the resource type and id), and
 *   `Evidence.citeAsReference.reference` is the Citation entry's fullUrl, so the reference resolves
 *   inside the bundle. With a `baseUrl`, each resource also gets `url` = its API address.
 */
import { createHash } from 'node:crypto';
import type {
  Annotation,
  Bundle,
  BundleEntry,
  Citation,
  CitationCitedArtifactPublicationForm,
  CodeableConcept,
  Evidence,
  EvidenceCertainty,
  EvidenceStatistic,
  EvidenceStatisticAttributeEstimate,
  EvidenceVariableDefinition,
  Identifier,
  Quantity,
  Reference,
} from 'fhir/r5.js';
import type { SourceRef } from '../schemas/common.js';
import type { Source } from '../schemas/source.js';
import type { Statistic } from '../schemas/statistic.js';
import { ESTIMATE_LABEL, MEASURE_LABEL, SOURCE_KIND_LABEL, STUDY_DESIGN_LABEL, formatFigure, formatInterval } from './markdown.js';
import { links } from '../http/links.js';

/** The R5 types this renderer emits (re-exported so callers need not name the package). */
export type FhirEvidence = Evidence;
export type FhirCitation = Citation;
export type FhirBundle = Bundle<Evidence | Citation>;

// ---------------------------------------------------------------------------------------------
// Code systems and codes (verified against the R5 specification, see the module comment)

const VARIABLE_ROLE = 'http://terminology.hl7.org/CodeSystem/variable-role';
const STATISTIC_TYPE = 'http://terminology.hl7.org/CodeSystem/statistic-type';
const ATTRIBUTE_ESTIMATE_TYPE = 'http://terminology.hl7.org/CodeSystem/attribute-estimate-type';
const STUDY_DESIGN = 'http://hl7.org/fhir/study-design';
const CERTAINTY_RATING = 'http://hl7.org/fhir/certainty-rating';
const CERTAINTY_TYPE = 'http://hl7.org/fhir/certainty-type';
const CITED_ARTIFACT_CLASSIFICATION_TYPE = 'http://hl7.org/fhir/cited-artifact-classification-type';
const UCUM = 'http://unitsofmeasure.org';
export const IDENTIFIER_SYSTEMS = {
  doi: 'https://doi.org',
  pmid: 'https://pubmed.ncbi.nlm.nih.gov',
  pmcid: 'https://www.ncbi.nlm.nih.gov/pmc',
} as const;

interface Code {
  code: string;
  display: string;
}

const CERTAINTY: Record<Statistic['certainty'], Code | null> = {
  high: { code: 'high', display: 'High quality' },
  moderate: { code: 'moderate', display: 'Moderate quality' },
  low: { code: 'low', display: 'Low quality' },
  'very-low': { code: 'very-low', display: 'Very low quality' },
  'not-assessed': null,
};

const STATISTIC_TYPES = {
  hazardRatio: { code: 'C93150', display: 'Hazard Ratio' },
  oddsRatio: { code: 'C16932', display: 'Odds Ratio' },
  relativeRisk: { code: 'C93152', display: 'Relative Risk' },
  riskDifference: { code: '0000424', display: 'Risk Difference' },
  mean: { code: 'C53319', display: 'Mean' },
  median: { code: 'C28007', display: 'Median' },
  count: { code: 'C25463', display: 'Count' },
  proportion: { code: 'C44256', display: 'Proportion' },
  incidence: { code: 'C16726', display: 'Incidence' },
  prevalence: { code: 'C17010', display: 'Prevalence' },
} as const satisfies Record<string, Code>;

const OBSERVATIONAL: Code = { code: 'SEVCO:01002', display: 'Observational research' };

/**
 * R5 study-design terms per design: `exact` names the design itself (its coding goes on the concept
 * whose text is our label); `traits` are further terms that hold for every study of that design.
 */
const STUDY_DESIGN_CODES: Record<Statistic['studyDesign'], { exact: Code | null; traits: readonly Code[] }> = {
  'meta-analysis': { exact: null, traits: [] },
  'systematic-review': { exact: null, traits: [] },
  'randomized-trial': { exact: { code: 'SEVCO:01003', display: 'randomized assignment' }, traits: [] },
  cohort: { exact: null, traits: [OBSERVATIONAL, { code: 'SEVCO:01028', display: 'Longitudinal data collection' }] },
  'case-control': { exact: { code: 'SEVCO:01013', display: 'Case control design' }, traits: [OBSERVATIONAL] },
  'cross-sectional': { exact: { code: 'SEVCO:01027', display: 'Cross sectional data collection' }, traits: [OBSERVATIONAL] },
  registry: { exact: null, traits: [OBSERVATIONAL] },
  'case-series': { exact: { code: 'SEVCO:01016', display: 'Uncontrolled cohort design' }, traits: [OBSERVATIONAL] },
  'case-report': { exact: { code: 'SEVCO:01017', display: 'Case report' }, traits: [] },
  'narrative-review': { exact: null, traits: [] },
  'expert-opinion': { exact: null, traits: [] },
  unknown: { exact: null, traits: [] },
};

/** UCUM codes for the units that have one; other units are text only. */
const UCUM_CODES: Partial<Record<Statistic['unit'], string>> = {
  '%': '%',
  ratio: '1',
  years: 'a',
  months: 'mo',
  days: 'd',
};

const COMPARATOR: Record<NonNullable<Statistic['comparator']>, Quantity['comparator'] | null> = {
  'more-than': '>',
  'less-than': '<',
  'at-least': '>=',
  about: null,
  exactly: null,
};

/** A basis that names the curators as the ones who rated the certainty. */
const CURATORS_BASIS = /^curators\b/i;
const CURATORS = 'Knowledge base curators';

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

function concept(system: string, c: Code, text: string = c.display): CodeableConcept {
  return { coding: [{ system, code: c.code, display: c.display }], text };
}

function role(code: string, display: string): CodeableConcept {
  return { coding: [{ system: VARIABLE_ROLE, code, display }], text: display };
}

/** A quantity in the statistic's unit: UCUM-coded where UCUM has the unit, text otherwise. */
function quantity(value: number, unit: Statistic['unit'], comparator?: Quantity['comparator']): Quantity {
  const q: Quantity = { value };
  if (comparator) q.comparator = comparator;
  const code = UCUM_CODES[unit];
  // UCUM's unity has no name to show: a ratio carries only its code.
  if (unit !== 'ratio') q.unit = unit;
  if (code) {
    q.system = UCUM;
    q.code = code;
  }
  return q;
}

function statisticType(stat: Statistic): CodeableConcept {
  const typed = (c: Code) => concept(STATISTIC_TYPE, c);
  switch (stat.estimateType) {
    case 'hazard-ratio':
      return typed(STATISTIC_TYPES.hazardRatio);
    case 'odds-ratio':
      return typed(STATISTIC_TYPES.oddsRatio);
    case 'risk-ratio':
      return typed(STATISTIC_TYPES.relativeRisk);
    case 'risk-difference':
      return typed(STATISTIC_TYPES.riskDifference);
    case 'mean':
      return typed(STATISTIC_TYPES.mean);
    case 'median':
      return typed(STATISTIC_TYPES.median);
    case 'count':
      return typed(STATISTIC_TYPES.count);
    case 'proportion':
    case 'rate':
      // Incidence and prevalence are R5 statistic types whether reported as a share or per person-time.
      if (stat.measure === 'incidence') return typed(STATISTIC_TYPES.incidence);
      if (stat.measure === 'prevalence') return typed(STATISTIC_TYPES.prevalence);
      return stat.estimateType === 'proportion' ? typed(STATISTIC_TYPES.proportion) : { text: 'Rate' };
    case 'other':
      return { text: MEASURE_LABEL[stat.measure] };
  }
}

function studyDesign(stat: Statistic): CodeableConcept[] | undefined {
  if (stat.studyDesign === 'unknown') return undefined;
  const { exact, traits } = STUDY_DESIGN_CODES[stat.studyDesign];
  const label = STUDY_DESIGN_LABEL[stat.studyDesign];
  return [exact ? concept(STUDY_DESIGN, exact, label) : { text: label }, ...traits.map((c) => concept(STUDY_DESIGN, c))];
}

function timepointNote(stat: Statistic): Annotation[] | undefined {
  return stat.timepoint ? [{ text: `Timepoint: ${stat.timepoint}` }] : undefined;
}

function variables(stat: Statistic): EvidenceVariableDefinition[] {
  const out: EvidenceVariableDefinition[] = [{ description: stat.population, variableRole: role('population', 'population') }];
  if (stat.treatment) out.push({ description: stat.treatment.name, variableRole: role('exposure', 'exposure') });
  // A comparison without a treatment compares the figure's own group (the exposed) with another.
  else if (stat.comparedWith) out.push({ description: stat.population, variableRole: role('exposure', 'exposure') });
  if (stat.comparedWith) {
    const { label, treatment } = stat.comparedWith;
    out.push({
      description: label,
      note: treatment && treatment.name !== label ? [{ text: `Comparison treatment: ${treatment.name}` }] : undefined,
      variableRole: role('referenceExposure', 'reference exposure'),
    });
  }
  out.push({ description: stat.outcome ?? MEASURE_LABEL[stat.measure], note: timepointNote(stat), variableRole: role('measuredVariable', 'measured variable') });
  return out;
}

function attributeEstimates(stat: Statistic): EvidenceStatisticAttributeEstimate[] {
  const out: EvidenceStatisticAttributeEstimate[] = [];
  if (stat.interval) {
    out.push({
      description: formatInterval(stat) ?? undefined,
      type: concept(ATTRIBUTE_ESTIMATE_TYPE, { code: 'C53324', display: 'Confidence interval' }),
      level: stat.interval.level,
      range: { low: quantity(stat.interval.low, stat.unit), high: quantity(stat.interval.high, stat.unit) },
    });
  }
  if (stat.low !== null && stat.high !== null) {
    out.push({
      description: 'Reported range',
      type: concept(ATTRIBUTE_ESTIMATE_TYPE, { code: 'C38013', display: 'Range' }),
      range: { low: quantity(stat.low, stat.unit), high: quantity(stat.high, stat.unit) },
    });
  }
  return out;
}

function statistic(stat: Statistic): EvidenceStatistic {
  const figure = formatFigure(stat);
  const interval = formatInterval(stat);
  const comparator = stat.comparator ? COMPARATOR[stat.comparator] : null;
  const notes: Annotation[] = [...(timepointNote(stat) ?? [])];
  if (stat.comparator === 'about') notes.push({ text: 'Reported as an approximate figure.' });
  return {
    description: [figure, interval ? ` (${interval})` : '', stat.timepoint ? ` at ${stat.timepoint}` : ''].join(''),
    note: notes,
    statisticType: statisticType(stat),
    quantity: stat.value !== null ? quantity(stat.value, stat.unit, comparator ?? undefined) : undefined,
    numberAffected: stat.events ?? undefined,
    sampleSize: stat.sampleSize !== null ? { numberOfParticipants: stat.sampleSize } : undefined,
    attributeEstimate: attributeEstimates(stat),
  };
}

function certainty(stat: Statistic): EvidenceCertainty[] | undefined {
  const rating = CERTAINTY[stat.certainty];
  if (!rating) return undefined;
  const basis = stat.certaintyBasis ?? undefined;
  return [
    {
      description: basis,
      type: concept(CERTAINTY_TYPE, { code: 'Overall', display: 'Overall certainty' }),
      rating: concept(CERTAINTY_RATING, rating),
      rater: basis && CURATORS_BASIS.test(basis) ? CURATORS : undefined,
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Resources

function evidence(stat: Statistic, conditionName: string, citationRef: Reference | undefined, others: readonly SourceRef[], baseUrl: string | undefined): Evidence {
  const estimate = ESTIMATE_LABEL[stat.estimateType];
  const subject = [estimate ? ` (${estimate})` : '', stat.treatment ? `, ${stat.treatment.name}` : ''].join('');
  return {
    resourceType: 'Evidence',
    id: toFhirId(stat.id),
    url: baseUrl ? joinUrl(baseUrl, links.statistic(stat.id)) : undefined,
    title: `${conditionName}: ${MEASURE_LABEL[stat.measure].toLowerCase()}${subject}, ${formatFigure(stat)}`,
    citeAsReference: citationRef,
    status: 'active',
    description: stat.text,
    relatedArtifact: others.map((ref) => ({ type: 'citation', display: ref.citation, citation: ref.citation })),
    variableDefinition: variables(stat),
    studyDesign: studyDesign(stat),
    statistic: [statistic(stat)],
    certainty: certainty(stat),
  };
}

/** Kinds whose `label` names the publisher (a website, a news outlet) rather than a study. */
const PUBLISHER_LABEL_KINDS: ReadonlySet<Source['kind']> = new Set(['reference-website', 'database', 'article']);

const ATTRIBUTION_NOTE: Record<Source['attribution'], string> = {
  confirmed: 'Attribution: confirmed (this is the work the citing article refers to).',
  probable: 'Attribution: probable (most likely the work the citing article refers to).',
  unknown: 'Attribution: unknown (the work the citing article refers to is not identified).',
};

function identifiersOf(ids: { doi: string | null; pmid: string | null; pmcid?: string | null }): Identifier[] {
  const out: Identifier[] = [];
  if (ids.doi) out.push({ system: IDENTIFIER_SYSTEMS.doi, value: ids.doi });
  if (ids.pmid) out.push({ system: IDENTIFIER_SYSTEMS.pmid, value: ids.pmid });
  if (ids.pmcid) out.push({ system: IDENTIFIER_SYSTEMS.pmcid, value: ids.pmcid });
  return out;
}

function citationFromSource(s: Source, baseUrl: string | undefined): Citation {

  const publisher = s.label && s.authors.length === 0 && PUBLISHER_LABEL_KINDS.has(s.kind) ? { display: s.label } : undefined;
  const form: CitationCitedArtifactPublicationForm = {
    publishedIn: s.journal || publisher ? { title: s.journal ?? undefined, publisher } : undefined,
    volume: s.volume ?? undefined,
    articleDate: s.year === null ? undefined : String(s.year),
    pageString: s.pages ?? undefined,
  };
  const notes: Annotation[] = [{ text: ATTRIBUTION_NOTE[s.attribution] }];
  if (s.citedAs) notes.push({ text: `Cited as: ${s.citedAs}` });
  if (s.note) notes.push({ text: s.note });

  return {
    resourceType: 'Citation',
    id: toFhirId(s.id),
    url: baseUrl ? joinUrl(baseUrl, links.source(s.id)) : undefined,
    title: s.title ?? s.citation,
    status: 'active',
    summary: [{ text: s.citation }],
    note: notes,
    citedArtifact: {
      identifier: identifiersOf(s),
      title: s.title ? [{ text: s.title }] : [{ type: [{ text: 'Short citation (title not recorded)' }], text: s.citation }],
      publicationForm: [form],
      webLocation: s.url ? [{ url: s.url }] : undefined,
      classification:
        s.kind === 'unknown'
          ? undefined
          : [
              {
                type: concept(CITED_ARTIFACT_CLASSIFICATION_TYPE, { code: 'publication-type', display: 'Publication type' }),
                classifier: [{ text: SOURCE_KIND_LABEL[s.kind] }],
              },
            ],
      contributorship: s.authors.length ? { entry: s.authors.map((name, i) => ({ contributor: { display: name }, rankingOrder: i + 1 })) } : undefined,
    },
  };
}

/** A Citation from the citation ref only (its identifiers included), when the full source record is not at hand. */
function citationFromRef(ref: SourceRef, baseUrl: string | undefined): Citation {
  return {
    resourceType: 'Citation',
    id: toFhirId(ref.id),
    url: baseUrl ? joinUrl(baseUrl, links.source(ref.id)) : undefined,
    title: ref.citation,
    status: 'active',
    summary: [{ text: ref.citation }],
    citedArtifact: {
      identifier: identifiersOf(ref),
      title: [{ type: [{ text: 'Short citation (title not recorded)' }], text: ref.citation }],
      webLocation: ref.url ? [{ url: ref.url }] : undefined,
    },
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
  const citationFullUrl = primaryId !== undefined ? fullUrlOf('Citation', toFhirId(primaryId)) : undefined;
  const citationRef: Reference | undefined =
    citation && citationFullUrl ? { reference: citationFullUrl, type: 'Citation', display: source?.citation ?? primaryRef?.citation } : undefined;
  const others = stat.sources.filter((r) => r.id !== primaryId);

  const entry: BundleEntry<Evidence | Citation>[] = [
    { fullUrl: fullUrlOf('Evidence', toFhirId(stat.id)), resource: prune(evidence(stat, conditionName, citationRef, others, baseUrl)) },
  ];
  if (citation && citationFullUrl) entry.push({ fullUrl: citationFullUrl, resource: prune(citation) });
  return { resourceType: 'Bundle', type: 'collection', entry };
}
