/**
 * schema.org JSON-LD of a condition document (`Accept: application/ld+json`).
 *
 * Every node is typed with schema-dts (`WithContext<MedicalCondition>` and the types of the nodes in
 * it), so a property outside its type's domain or a value outside its range fails `tsc`. The shape
 * follows the schema.org vocabulary (release 30.0, data/releases/30.0 in schemaorg/schemaorg):
 *
 * - `@context` is the plain string "https://schema.org": consumers resolve it themselves; nothing is
 *   fetched at run time. `@id`s and `url`s are absolute, under PUBLIC_BASE_URL (src/config.ts), so
 *   the document expands without a base IRI (jsonld.js safe mode).
 * - The output never contains `null`, `undefined` or an empty value: unknown values are left out,
 *   never guessed.
 * - `citation` (domain CreativeWork) and `lastReviewed` (domain WebPage) are not MedicalCondition
 *   properties. They sit on the document's web page, the `MedicalWebPage` that is `subjectOf` the
 *   condition, with the disclaimer as its `usageInfo` (schema.org has no disclaimer property; this
 *   is where it puts terms of use). The page has no `@id` of its own: the document URL is the
 *   condition's `@id`, and a second node with the same `@id` would merge the two when expanded.
 * - `possibleTreatment` ranges over Drug, DrugClass, LifestyleModification and MedicalTherapy.
 *   Medications are `Drug` (with ATC `MedicalCode`s, and `legalStatus` when the use is off-label);
 *   every other treatment, procedures and transplants included, is a `MedicalTherapy`, which
 *   schema.org defines as a TherapeuticProcedure (itself a MedicalProcedure) and whose definition
 *   names dialysis. No MedicalCondition property takes a plain MedicalProcedure.
 * - `cause` holds the causes section as `MedicalCause`s (name and explanation).
 * - `sameAs` (the item's identity elsewhere) only for codes whose `match` is `exact`, and only in
 *   URI forms checked against their publishers (SAME_AS_URI below); a broader or narrower code is
 *   not the same thing as the condition.
 * - `relevantSpecialty` comes from the ICD-10-CM blocks the condition is coded in (SPECIALTY_BY_BLOCK),
 *   as `MedicalSpecialty` enumeration members.
 * - Symptoms whose `relatedCondition` is set (the symptoms of end-stage kidney disease listed for
 *   context) are left out of `signOrSymptom`: they are not signs of this condition, and schema.org has
 *   no property to hang another condition's symptoms on. They stay in the JSON and markdown renderings.
 */
import type {
  CreativeWork,
  DDxElement,
  Drug,
  IdReference,
  MedicalCause,
  MedicalCode,
  MedicalCondition,
  MedicalRiskFactor,
  MedicalSignOrSymptom,
  MedicalTest,
  MedicalTherapy,
  MedicalWebPage,
  Person,
  PropertyValue,
  WithContext,
} from 'schema-dts';
import type { Condition } from '../schemas/condition.js';
import type { Source } from '../schemas/source.js';
import type { Statistic } from '../schemas/statistic.js';
import { CODE_SYSTEM_LABEL, SOURCE_KIND_LABEL, STUDY_DESIGN_LABEL, formatInterval } from './markdown.js';
import { links } from '../http/links.js';

export type ConditionJsonLd = WithContext<MedicalCondition>;

/** A copy of `value` without the keys whose value is `undefined` (JSON.stringify drops them too; tests compare objects). */
function pruned<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v: unknown) => pruned(v)) as T;
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, pruned(v)]),
  ) as T;
}

/** `undefined` (left out) for null and empty strings. */
const str = (value: string | null | undefined): string | undefined => (value ? value : undefined);
/** `undefined` (left out) for empty lists. */
const list = <T>(values: T[]): T[] | undefined => (values.length > 0 ? values : undefined);

function joinUrl(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}${path}`;
}

function medicalCode(system: string, code: string, display: string | null): MedicalCode {
  return { '@type': 'MedicalCode', codeValue: code, codingSystem: CODE_SYSTEM_LABEL[system] ?? system, name: str(display) };
}

/**
 * URI forms of codes that identify a concept, each checked against its publisher:
 * - ICD-10-CM and ICD-9-CM: the class IRIs of NCBO BioPortal, `http://purl.bioontology.org/ontology/<acronym>/<code>`,
 *   as its umls2rdf converter (github.com/ncbo/umls2rdf) mints them for sources loaded on codes;
 * - Orphanet: the ORDO class IRIs, `http://www.orpha.net/ORDO/Orphanet_<ORPHAcode>`.
 * Systems without a verified form (ICD-11 codes, SNOMED CT, MeSH, UMLS, …) get no `sameAs`.
 */
const SAME_AS_URI: Partial<Record<string, (code: string) => string>> = {
  icd10cm: (code) => `http://purl.bioontology.org/ontology/ICD10CM/${encodeURIComponent(code)}`,
  icd9cm: (code) => `http://purl.bioontology.org/ontology/ICD9CM/${encodeURIComponent(code)}`,
  orphanet: (code) => `http://www.orpha.net/ORDO/Orphanet_${encodeURIComponent(code)}`,
};

/**
 * ICD-10-CM blocks (first three characters, inclusive ranges) whose conditions belong to one
 * schema.org MedicalSpecialty: Chapter 1 (A00-B99, certain infectious and parasitic diseases),
 * E20-E35 (disorders of other endocrine glands), N17-N19 (acute kidney failure and chronic kidney
 * disease) and N25 (disorders resulting from impaired renal tubular function). Blocks that span
 * several specialties (E70-E88, metabolic disorders, which holds calciphylaxis's E83.59) map to none.
 */
const SPECIALTY_BY_BLOCK: readonly { from: string; to: string; specialty: 'Infectious' | 'Endocrine' | 'Renal' }[] = [
  { from: 'A00', to: 'B99', specialty: 'Infectious' },
  { from: 'E20', to: 'E35', specialty: 'Endocrine' },
  { from: 'N17', to: 'N19', specialty: 'Renal' },
  { from: 'N25', to: 'N25', specialty: 'Renal' },
];

/** The specialties of the ICD-10-CM codes that classify the condition (not merely `related` ones), in block order. */
function specialties(codes: Condition['codes']): IdReference[] {
  const blocks = codes.filter((c) => c.system === 'icd10cm' && c.match !== 'related').map((c) => c.code.slice(0, 3).toUpperCase());
  const found = SPECIALTY_BY_BLOCK.filter((b) => blocks.some((block) => block >= b.from && block <= b.to)).map((b) => b.specialty);
  // Enumeration members as IRIs (`@id`), the way schema.org's examples link them, not as text.
  return [...new Set(found)].map((s) => ({ '@id': `https://schema.org/${s}` }));
}

function sameAs(codes: Condition['codes']): string[] {
  return codes.flatMap((c) => {
    const uri = c.match === 'exact' ? SAME_AS_URI[c.system] : undefined;
    return uri ? [uri(c.code)] : [];
  });
}

type TreatmentItem = Condition['treatments'][number];

function treatment(t: TreatmentItem): Drug | MedicalTherapy {
  const code = list(t.codes.map((c) => medicalCode(c.system, c.code, c.display)));
  if (t.type === 'medication') {
    const legalStatus =
      t.regulatory.status === 'off-label'
        ? `Off-label use for this condition${t.regulatory.note ? `: ${t.regulatory.note}` : ''}`
        : t.regulatory.status === 'approved'
          ? `Approved for this condition${t.regulatory.note ? `: ${t.regulatory.note}` : ''}`
          : undefined;
    return { '@type': 'Drug', name: t.name, description: t.text, code, administrationRoute: str(t.route), legalStatus };
  }
  // Procedures and transplants too: MedicalTherapy is the MedicalProcedure subtype in possibleTreatment's range.
  return { '@type': 'MedicalTherapy', name: t.name, description: t.text, code };
}

const TEST_TYPE: Record<Condition['diagnosis'][number]['method'], 'MedicalTest' | 'PathologyTest' | 'ImagingTest'> = {
  clinical: 'MedicalTest',
  lab: 'MedicalTest',
  biopsy: 'PathologyTest',
  imaging: 'ImagingTest',
};

/** A statistic as one sentence followed by its citations: "… (An et al., 2015, case series)". */
function citedSentence(text: string, sources: readonly { citation: string }[]): string {
  const cites = sources.map((s) => s.citation).join('; ');
  if (!cites) return text;
  const end = /[.!?]$/.exec(text.trim())?.[0] ?? '.';
  return `${text.trim().replace(/[.!?]$/, '')} (${cites})${end}`;
}

/**
 * What a reader needs beside a figure to weigh it: its interval, denominator, the design of the
 * study behind it and, when assessed, the certainty of that evidence. schema.org has no property
 * for these on a condition, so they travel in the sentence.
 */
function evidenceNote(s: Statistic): string {
  const parts = [
    formatInterval(s),
    s.events !== null && s.sampleSize !== null ? `${s.events} of ${s.sampleSize}` : s.sampleSize !== null ? `n = ${s.sampleSize}` : null,
    STUDY_DESIGN_LABEL[s.studyDesign],
    s.certainty === 'not-assessed' ? null : `certainty ${s.certainty}`,
  ].filter((p): p is string => p !== null);
  return parts.join('; ');
}

function statisticsText(stats: readonly Statistic[], measures: readonly Statistic['measure'][]): string[] {
  return stats.filter((s) => measures.includes(s.measure)).map((s) => citedSentence(`${s.text.trim().replace(/[.!?]$/, '')} [${evidenceNote(s)}].`, s.sources));
}

const SCHOLARLY_KINDS: ReadonlySet<Source['kind']> = new Set(['meta-analysis', 'systematic-review', 'randomized-trial', 'review', 'case-series', 'cohort-study', 'cross-sectional-study', 'registry', 'case-report', 'guideline']);
/** Kinds whose `label` names the publisher (a website, a news outlet) rather than a study. */
const PUBLISHER_LABEL_KINDS: ReadonlySet<Source['kind']> = new Set(['reference-website', 'database', 'article']);

function identifiers(s: Source): PropertyValue[] {
  const ids: PropertyValue[] = [];
  if (s.doi) ids.push({ '@type': 'PropertyValue', propertyID: 'DOI', value: s.doi });
  if (s.pmid) ids.push({ '@type': 'PropertyValue', propertyID: 'PMID', value: s.pmid });
  if (s.pmcid) ids.push({ '@type': 'PropertyValue', propertyID: 'PMCID', value: s.pmcid });
  return ids;
}

function citation(s: Source, baseUrl: string): CreativeWork {
  const scholarly = SCHOLARLY_KINDS.has(s.kind) || (s.kind === 'article' && s.journal !== null);
  const publisher = s.label && s.authors.length === 0 && PUBLISHER_LABEL_KINDS.has(s.kind) ? s.label : null;
  return {
    '@type': scholarly ? 'ScholarlyArticle' : 'CreativeWork',
    '@id': joinUrl(baseUrl, links.source(s.id)),
    name: s.title ?? s.citation,
    alternateName: s.title ? s.citation : undefined,
    genre: SOURCE_KIND_LABEL[s.kind],
    author: list(s.authors.map((name): Person => ({ '@type': 'Person', name }))),
    publisher: publisher ? { '@type': 'Organization', name: publisher } : undefined,
    datePublished: s.year === null ? undefined : String(s.year),
    isPartOf: s.journal ? { '@type': 'Periodical', name: s.journal } : undefined,
    // `pagination` is an Article property.
    pagination: scholarly ? str(s.pages) : undefined,
    identifier: list(identifiers(s)),
    url: str(s.url),
  };
}

/** The condition as a schema.org `MedicalCondition`; `@id`s and `url`s under `baseUrl` (PUBLIC_BASE_URL). */
export function conditionToJsonLd(doc: Condition, baseUrl: string): ConditionJsonLd {
  const url = joinUrl(baseUrl, links.condition(doc.id));
  const epidemiology = statisticsText(doc.statistics, ['incidence', 'prevalence', 'demographic-share']);
  const prognosis = [...doc.prognosis.map((p) => citedSentence(p.text, p.sources)), ...statisticsText(doc.statistics, ['mortality', 'survival'])];
  const cause = doc.causes.map((c): MedicalCause => ({ '@type': 'MedicalCause', name: c.name, description: c.text }));
  const typicalTest = doc.diagnosis.map((d): MedicalTest => ({ '@type': TEST_TYPE[d.method], name: d.name, description: d.text }));
  // schema.org's DDxElement: a condition to rule out, and (in its description) how it differs.
  const differentialDiagnosis = doc.differentialDiagnosis.map((d): DDxElement => ({
    '@type': 'DDxElement',
    description: d.text,
    diagnosis: { '@type': 'MedicalCondition', name: d.name, code: d.code ? medicalCode(d.code.system, d.code.code, d.code.display) : undefined },
  }));
  const page: MedicalWebPage = {
    '@type': 'MedicalWebPage',
    url,
    name: doc.name,
    lastReviewed: doc.lastReviewed,
    citation: list(doc.sources.map((s) => citation(s, baseUrl))),
    usageInfo: { '@type': 'CreativeWork', name: 'Disclaimer', text: doc.disclaimer },
  };
  const ld: ConditionJsonLd = {
    '@context': 'https://schema.org',
    '@type': 'MedicalCondition',
    '@id': url,
    url,
    name: doc.name,
    alternateName: list(doc.aliases),
    description: doc.summary,
    code: list(doc.codes.map((c): MedicalCode => medicalCode(c.system, c.code, c.display))),
    sameAs: list(sameAs(doc.codes)),
    relevantSpecialty: list(specialties(doc.codes)),
    cause: list(cause),
    signOrSymptom: list(doc.symptoms.filter((s) => s.relatedCondition === null).map((s): MedicalSignOrSymptom => ({ '@type': 'MedicalSignOrSymptom', name: s.name, description: s.text }))),
    riskFactor: list(doc.riskFactors.map((r): MedicalRiskFactor => ({ '@type': 'MedicalRiskFactor', name: r.name, description: r.text }))),
    possibleTreatment: list(doc.treatments.map(treatment)),
    possibleComplication: list(doc.complications.map((c) => c.text)),
    typicalTest: list(typicalTest),
    differentialDiagnosis: list(differentialDiagnosis),
    epidemiology: epidemiology.length ? epidemiology.join(' ') : undefined,
    expectedPrognosis: prognosis.length ? prognosis.join(' ') : undefined,
    primaryPrevention: list(doc.prevention.map((p): MedicalTherapy => ({ '@type': 'MedicalTherapy', name: p.name, description: p.text }))),
    subjectOf: page,
  };
  return pruned(ld);
}
