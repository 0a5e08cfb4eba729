/**
 * schema.org JSON-LD of a condition document (`Accept: application/ld+json`).
 *
 * - `@context` is the plain string "https://schema.org": consumers resolve it themselves; nothing is
 *   fetched at run time.
 * - The output never contains `null` or `undefined`: unknown values are left out, never guessed.
 * - Symptoms whose `relatedCondition` is set (the symptoms of end-stage kidney disease listed for
 *   context) are left out of `signOrSymptom`: they are not signs of this condition, and schema.org has
 *   no property to hang another condition's symptoms on. They stay in the JSON and markdown renderings.
 * - schema.org has no disclaimer property. The disclaimer goes where schema.org puts terms of use: on
 *   the document's web page, `subjectOf: { @type: MedicalWebPage, usageInfo: { @type: CreativeWork,
 *   text: disclaimer } }`, which also carries `lastReviewed` (a WebPage property). `lastReviewed` and
 *   `citation` are additionally set on the MedicalCondition itself, as the API contract asks.
 * - `possibleTreatment` holds `Drug` for medications (with ATC `MedicalCode`s and `legalStatus` when the
 *   use is off-label), `MedicalProcedure` for procedures and transplants, `MedicalTherapy` otherwise.
 */
import type { Condition } from '../schemas/condition.js';
import type { Source } from '../schemas/source.js';
import type { Statistic } from '../schemas/statistic.js';
import { CODE_SYSTEM_LABEL, SOURCE_KIND_LABEL, STUDY_DESIGN_LABEL, formatInterval } from './markdown.js';
import { links } from '../http/links.js';

/** JSON without `null`: the type itself rules out nulls; `compact` drops undefined and empty values. */
export type JsonLdValue = string | number | boolean | JsonLdObject | JsonLdValue[];
export interface JsonLdObject {
  [key: string]: JsonLdValue;
}

type Maybe<T> = T | null | undefined;

/** An object without the keys whose value is null, undefined, an empty string or an empty array. */
function compact(entries: Record<string, Maybe<JsonLdValue>>): JsonLdObject {
  const out: JsonLdObject = {};
  for (const [key, value] of Object.entries(entries)) {
    if (value === null || value === undefined) continue;
    if (typeof value === 'string' && value.length === 0) continue;
    if (Array.isArray(value) && value.length === 0) continue;
    out[key] = value;
  }
  return out;
}

function joinUrl(baseUrl: string | undefined, path: string): string {
  return baseUrl ? `${baseUrl.replace(/\/+$/, '')}${path}` : path;
}

function medicalCode(system: string, code: string, display: string | null): JsonLdObject {
  return compact({ '@type': 'MedicalCode', codeValue: code, codingSystem: CODE_SYSTEM_LABEL[system] ?? system, name: display });
}

type TreatmentItem = Condition['treatments'][number];

function treatment(t: TreatmentItem): JsonLdObject {
  const codes = t.codes.map((c) => medicalCode(c.system, c.code, c.display));
  if (t.type === 'medication') {
    const legalStatus =
      t.regulatory.status === 'off-label'
        ? `Off-label use for this condition${t.regulatory.note ? `: ${t.regulatory.note}` : ''}`
        : t.regulatory.status === 'approved'
          ? `Approved for this condition${t.regulatory.note ? `: ${t.regulatory.note}` : ''}`
          : null;
    return compact({ '@type': 'Drug', name: t.name, description: t.text, code: codes, administrationRoute: t.route, legalStatus });
  }
  const type = t.type === 'procedure' || t.type === 'transplant' ? 'MedicalProcedure' : 'MedicalTherapy';
  return compact({ '@type': type, name: t.name, description: t.text, code: codes });
}

const TEST_TYPE: Record<Condition['diagnosis'][number]['method'], string> = {
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

function identifiers(s: Source): JsonLdObject[] {
  const ids: JsonLdObject[] = [];
  if (s.doi) ids.push({ '@type': 'PropertyValue', propertyID: 'DOI', value: s.doi });
  if (s.pmid) ids.push({ '@type': 'PropertyValue', propertyID: 'PMID', value: s.pmid });
  if (s.pmcid) ids.push({ '@type': 'PropertyValue', propertyID: 'PMCID', value: s.pmcid });
  return ids;
}

function citation(s: Source, baseUrl: string | undefined): JsonLdObject {
  const scholarly = SCHOLARLY_KINDS.has(s.kind) || (s.kind === 'article' && s.journal !== null);
  return compact({
    '@type': scholarly ? 'ScholarlyArticle' : 'CreativeWork',
    '@id': joinUrl(baseUrl, links.source(s.id)),
    name: s.title ?? s.citation,
    alternateName: s.title ? s.citation : null,
    genre: SOURCE_KIND_LABEL[s.kind],
    author: s.authors.map((name) => ({ '@type': 'Person', name })),
    publisher: s.label && s.authors.length === 0 && PUBLISHER_LABEL_KINDS.has(s.kind) ? { '@type': 'Organization', name: s.label } : null,
    datePublished: s.year === null ? null : String(s.year),
    isPartOf: s.journal ? compact({ '@type': 'Periodical', name: s.journal }) : null,
    pagination: scholarly ? s.pages : null,
    identifier: identifiers(s),
    url: s.url,
  });
}

/** The condition as a schema.org `MedicalCondition`. Relative `@id`/`url` unless `baseUrl` is given. */
export function conditionToJsonLd(doc: Condition, baseUrl?: string): JsonLdObject {
  const url = joinUrl(baseUrl, links.condition(doc.id));
  const epidemiology = statisticsText(doc.statistics, ['incidence', 'prevalence', 'demographic-share']);
  const prognosis = [...doc.prognosis.map((p) => citedSentence(p.text, p.sources)), ...statisticsText(doc.statistics, ['mortality', 'survival'])];
  return compact({
    '@context': 'https://schema.org',
    '@type': 'MedicalCondition',
    '@id': url,
    url,
    name: doc.name,
    alternateName: doc.aliases,
    description: doc.summary,
    code: doc.codes.map((c) => medicalCode(c.system, c.code, c.display)),
    signOrSymptom: doc.symptoms
      .filter((s) => s.relatedCondition === null)
      .map((s) => compact({ '@type': 'MedicalSignOrSymptom', name: s.name, description: s.text })),
    riskFactor: doc.riskFactors.map((r) => compact({ '@type': 'MedicalRiskFactor', name: r.name, description: r.text })),
    possibleTreatment: doc.treatments.map(treatment),
    possibleComplication: doc.complications.map((c) => c.text),
    typicalTest: doc.diagnosis.map((d) => compact({ '@type': TEST_TYPE[d.method], name: d.name, description: d.text })),
    // schema.org's DDxElement: a condition to rule out, and (in its description) how it differs.
    differentialDiagnosis: doc.differentialDiagnosis.map((d) =>
      compact({
        '@type': 'DDxElement',
        description: d.text,
        diagnosis: compact({ '@type': 'MedicalCondition', name: d.name, code: d.code ? [medicalCode(d.code.system, d.code.code, d.code.display)] : [] }),
      }),
    ),
    epidemiology: epidemiology.length ? epidemiology.join(' ') : null,
    expectedPrognosis: prognosis.length ? prognosis.join(' ') : null,
    primaryPrevention: doc.prevention.map((p) => compact({ '@type': 'MedicalTherapy', name: p.name, description: p.text })),
    lastReviewed: doc.lastReviewed,
    citation: doc.sources.map((s) => citation(s, baseUrl)),
    subjectOf: compact({
      '@type': 'MedicalWebPage',
      url,
      name: doc.name,
      lastReviewed: doc.lastReviewed,
      usageInfo: { '@type': 'CreativeWork', name: 'Disclaimer', text: doc.disclaimer },
    }),
  });
}
