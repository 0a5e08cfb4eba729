/**
 * Markdown renderings for LLM context: a condition document, one section, facts and search hits.
 *
 * Every statement ends with numbered citation markers (`[1]`, `[2][3]`) that index a `## References`
 * list at the end, numbered in order of first use. Reference entries hold only what the source record
 * holds (short citation, title, journal, DOI, PMID…); an unknown field is simply absent.
 *
 * Output is deterministic (same input, same bytes) and structurally safe: all content is collapsed to
 * one line, and a content line never starts with a character that would turn it into a heading, a
 * quote or a list item. Pure functions: no Fastify, no database, no clock.
 */
import type { SourceRef } from '../schemas/common.js';
import type { Condition } from '../schemas/condition.js';
import type { Source } from '../schemas/source.js';
import type { Statistic } from '../schemas/statistic.js';

export interface ContentMeta {
  lastReviewed: string | null;
  disclaimer: string;
}

export interface FactForMarkdown {
  id: string;
  conditionName: string;
  section: string;
  text: string;
  sources: SourceRef[];
}

export interface SearchHitForMarkdown {
  kind: string;
  id: string;
  title: string;
  snippet: string;
  sources: SourceRef[];
}

/** Human label of a source kind, shared by the renderers ("systematic review", "case series"…). */
export const SOURCE_KIND_LABEL: Record<Source['kind'], string> = {
  'meta-analysis': 'meta-analysis',
  'systematic-review': 'systematic review',
  'randomized-trial': 'randomized trial',
  'cross-sectional-study': 'cross-sectional study',
  registry: 'registry',
  review: 'review',
  'case-series': 'case series',
  'cohort-study': 'cohort study',
  'case-report': 'case report',
  guideline: 'guideline',
  article: 'article',
  'reference-website': 'website',
  database: 'database',
  unknown: 'study not identified',
};

/** Human label of a statistic measure. */
export const MEASURE_LABEL: Record<Statistic['measure'], string> = {
  incidence: 'Incidence',
  prevalence: 'Prevalence',
  mortality: 'Mortality',
  survival: 'Survival',
  usage: 'Treatment usage',
  'response-rate': 'Response rate',
  'benefit-rate': 'Benefit rate',
  recovery: 'Recovery',
  'demographic-share': 'Demographic share',
  age: 'Age',
};

/** Human label of a study design ("case series", "randomized trial"). */
export const STUDY_DESIGN_LABEL: Record<Statistic['studyDesign'], string> = {
  'meta-analysis': 'meta-analysis',
  'systematic-review': 'systematic review',
  'randomized-trial': 'randomized trial',
  cohort: 'cohort study',
  'case-control': 'case-control study',
  'cross-sectional': 'cross-sectional study',
  registry: 'registry',
  'case-series': 'case series',
  'case-report': 'case report',
  'narrative-review': 'narrative review',
  'expert-opinion': 'expert opinion',
  unknown: 'design not identified',
};

/** Human label of an estimate type, for the effect measures a reader must not mistake for a share. */
export const ESTIMATE_LABEL: Partial<Record<Statistic['estimateType'], string>> = {
  'risk-ratio': 'risk ratio',
  'odds-ratio': 'odds ratio',
  'hazard-ratio': 'hazard ratio',
  'risk-difference': 'risk difference',
  mean: 'mean',
  median: 'median',
  rate: 'rate',
};

const COMPARATOR_WORD: Record<NonNullable<Statistic['comparator']>, string> = {
  about: 'about ',
  'more-than': 'more than ',
  'less-than': 'less than ',
  'at-least': 'at least ',
  exactly: '',
};

/** A number as written in the content: `String(n)` is exact and stable for the decimals we hold. */
function num(n: number): string {
  return String(n);
}

function withUnit(n: number, unit: string): string {
  if (unit === '%') return `${num(n)}%`;
  if (unit === 'ratio') return num(n);
  return `${num(n)} ${unit.replace(/-/g, ' ')}`;
}

/** "95% CI 4.1–11.8": the confidence interval beside its figure. */
export function formatInterval(stat: Pick<Statistic, 'interval' | 'unit'>): string | null {
  if (stat.interval === null) return null;
  const level = `${num(Math.round(stat.interval.level * 1000) / 10)}% CI`;
  return `${level} ${withUnit(stat.interval.low, stat.unit)}–${withUnit(stat.interval.high, stat.unit)}`;
}

/**
 * The figure of a statistic as text: "50.3%", "about 30%", "more than 50%", "0.04%–4%", "3 patients".
 * A statistic with neither a value nor a range renders as its unit-less text elsewhere; here "n/a".
 */
export function formatFigure(stat: Pick<Statistic, 'value' | 'low' | 'high' | 'unit' | 'comparator'>): string {
  const prefix = stat.comparator ? COMPARATOR_WORD[stat.comparator] : '';
  if (stat.value !== null) return `${prefix}${withUnit(stat.value, stat.unit)}`;
  if (stat.low !== null && stat.high !== null) return `${prefix}${withUnit(stat.low, stat.unit)}–${withUnit(stat.high, stat.unit)}`;
  if (stat.low !== null) return `at least ${withUnit(stat.low, stat.unit)}`;
  if (stat.high !== null) return `at most ${withUnit(stat.high, stat.unit)}`;
  return 'n/a';
}

// ---------------------------------------------------------------------------------------------
// Text safety

/** Collapses every run of whitespace (including newlines) to one space, so content stays on one line. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * Content that begins a line must not become markdown structure: a leading `#`, `>`, `-`/`+`/`*`
 * list marker, `1.` ordered-list marker, `=`/`-` underline, or code fence is backslash-escaped.
 */
function safeLineStart(text: string): string {
  const t = oneLine(text);
  if (/^(?:#|>|[-+*](?:\s|$)|=|`{3}|~{3}|\|)/.test(t)) return `\\${t}`;
  const ordered = /^(\d{1,9})([.)])(\s|$)/.exec(t);
  if (ordered) return `${ordered[1] ?? ''}\\${t.slice((ordered[1] ?? '').length)}`;
  return t;
}

/** Inline text inside a line we started ourselves: one line; `_`/`*` left as-is (harmless for LLMs). */
function inline(text: string): string {
  return oneLine(text);
}

/** Text placed inside `_…_` emphasis: underscores escaped so the emphasis cannot break early. */
function inItalics(text: string): string {
  return oneLine(text).replace(/_/g, '\\_');
}

// ---------------------------------------------------------------------------------------------
// Citation numbering

/** Numbers sources in order of first use and renders `[n]` markers. */
class References {
  private readonly numbers = new Map<string, number>();
  private readonly used: SourceRef[] = [];

  markers(refs: readonly SourceRef[]): string {
    const seen = new Set<number>();
    let out = '';
    for (const ref of refs) {
      let n = this.numbers.get(ref.id);
      if (n === undefined) {
        n = this.used.length + 1;
        this.numbers.set(ref.id, n);
        this.used.push(ref);
      }
      if (seen.has(n)) continue;
      seen.add(n);
      // Where in the work the item is supported travels with its marker: "[2, Table 2]".
      out += ref.locator ? `[${n}, ${inline(ref.locator).replace(/[[\]]/g, '')}]` : `[${n}]`;
    }
    return out;
  }

  get entries(): readonly SourceRef[] {
    return this.used;
  }
}

/** One reference-list entry from a full source record: only what is known, nothing invented. */
function sourceEntry(source: Source): string {
  const parts: string[] = [inline(source.citation)];
  if (source.title) parts.push(`"${inline(source.title)}"`);
  if (source.journal) {
    let journal = `_${inItalics(source.journal)}_`;
    if (source.volume) journal += ` ${inline(source.volume)}`;
    if (source.pages) journal += `${source.volume ? ':' : ', '}${inline(source.pages)}`;
    parts.push(journal);
  }
  if (source.doi) parts.push(`DOI: ${source.doi}`);
  if (source.pmid) parts.push(`PMID: ${source.pmid}`);
  if (source.pmcid) parts.push(`PMCID: ${source.pmcid}`);
  if (source.url && (!source.doi || source.url !== `https://doi.org/${source.doi}`)) parts.push(`<${source.url}>`);
  return `${parts.join('. ')} (id: ${source.id})`;
}

function refEntry(ref: SourceRef): string {
  const parts = [inline(ref.citation)];
  if (ref.doi) parts.push(`DOI: ${ref.doi}`);
  if (ref.pmid) parts.push(`PMID: ${ref.pmid}`);
  if (ref.url && (!ref.doi || ref.url !== `https://doi.org/${ref.doi}`)) parts.push(`<${ref.url}>`);
  return `${parts.join('. ')} (id: ${ref.id})`;
}

function referenceList(refs: References, byId?: ReadonlyMap<string, Source>): string[] {
  if (refs.entries.length === 0) return [];
  const lines = ['## References', ''];
  refs.entries.forEach((ref, i) => {
    const source = byId?.get(ref.id);
    lines.push(`${i + 1}. ${source ? sourceEntry(source) : refEntry(ref)}`);
  });
  lines.push('');
  return lines;
}

function footer(meta: ContentMeta): string[] {
  const reviewed = meta.lastReviewed ? `Last reviewed: ${meta.lastReviewed}. ` : '';
  return ['---', '', `_${inItalics(reviewed + meta.disclaimer)}_`];
}

/** Joins lines into the final document: exactly one trailing newline. */
function finish(lines: string[]): string {
  return `${lines.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

// ---------------------------------------------------------------------------------------------
// Condition sections

type SectionKey = keyof Condition & string;

interface RenderContext {
  doc: Condition;
  refs: References;
}

/** `- **Name** (detail): text [1][2]`, with the markers always last on the line. */
function bullet(name: string | null, details: (string | null | undefined)[], text: string, sources: readonly SourceRef[], refs: References): string {
  const detail = details.filter((d): d is string => typeof d === 'string' && d.length > 0).map(inline);
  const head = name ? `**${inline(name)}**${detail.length ? ` (${detail.join('; ')})` : ''}: ` : detail.length ? `(${detail.join('; ')}) ` : '';
  const markers = refs.markers(sources);
  return `- ${head}${inline(text)}${markers ? ` ${markers}` : ''}`;
}

function relatedName(doc: Condition, conditionId: string): string {
  return doc.related.find((r) => r.conditionId === conditionId)?.name ?? conditionId.replace(/-/g, ' ');
}

function symptomLines({ doc, refs }: RenderContext): string[] {
  const own = doc.symptoms.filter((s) => s.relatedCondition === null);
  const lines = own.map((s) => bullet(s.name, [s.frequency === 'unknown' ? null : s.frequency], s.text, s.sources, refs));
  // Symptoms of an underlying condition are kept, but under their own heading so that a reader (or a
  // model) never mistakes them for signs of this condition.
  const groups = new Map<string, Condition['symptoms']>();
  for (const s of doc.symptoms) {
    if (s.relatedCondition === null) continue;
    const list = groups.get(s.relatedCondition) ?? [];
    list.push(s);
    groups.set(s.relatedCondition, list);
  }
  for (const [conditionId, list] of groups) {
    lines.push('', `### Symptoms of the underlying condition: ${inline(relatedName(doc, conditionId))}`, '');
    for (const s of list) lines.push(bullet(s.name, [s.frequency === 'unknown' ? null : s.frequency], s.text, s.sources, refs));
  }
  return lines;
}

function statementLines(items: readonly { name: string; text: string; sources: SourceRef[] }[], refs: References): string[] {
  return items.map((s) => bullet(s.name, [], s.text, s.sources, refs));
}

const RISK_TYPE_LABEL: Record<Condition['riskFactors'][number]['type'], string> = {
  demographic: 'demographic',
  condition: 'condition',
  medication: 'medication',
  lab: 'laboratory finding',
};

function riskFactorLines({ doc, refs }: RenderContext): string[] {
  return doc.riskFactors.map((r) => bullet(r.name, [RISK_TYPE_LABEL[r.type]], r.text, r.sources, refs));
}

function diagnosisLines({ doc, refs }: RenderContext): string[] {
  return doc.diagnosis.map((d) => {
    const extra = [`Purpose: ${d.purpose}`, d.risks ? `Risks: ${d.risks}` : null].filter((p): p is string => p !== null);
    return bullet(d.name, [d.method], `${d.text} ${extra.map((p) => (/[.!?]$/.test(p.trim()) ? p : `${p}.`)).join(' ')}`, d.sources, refs);
  });
}

const REGULATORY_LABEL: Record<Condition['treatments'][number]['regulatory']['status'], string | null> = {
  approved: 'approved',
  'off-label': 'off-label',
  'not-applicable': null,
  unknown: null,
};

function treatmentLines({ doc, refs }: RenderContext): string[] {
  return doc.treatments.map((t) => {
    const codes = t.codes.map((c) => `${c.system.toUpperCase()} ${c.code}`).join(', ');
    const details = [t.type, t.route, REGULATORY_LABEL[t.regulatory.status], codes || null];
    const notes: string[] = [];
    if (t.goal) notes.push(`Goal: ${t.goal}`);
    if (t.regulatory.status === 'off-label' && t.regulatory.note) notes.push(`Regulatory note: ${t.regulatory.note}`);
    const text = [t.text, ...notes.map((n) => (/[.!?]$/.test(n.trim()) ? n : `${n}.`))].join(' ');
    return bullet(t.name, details, text, t.sources, refs);
  });
}

function statisticLine(stat: Statistic, refs: References): string {
  const estimate = ESTIMATE_LABEL[stat.estimateType];
  const figure = [estimate ? `${estimate} ${formatFigure(stat)}` : formatFigure(stat), formatInterval(stat)].filter(Boolean).join(', ');
  const details = [
    stat.comparedWith ? `compared with: ${stat.comparedWith.label}` : null,
    `population: ${stat.population}`,
    stat.outcome ? `outcome: ${stat.outcome}` : null,
    stat.timepoint ? `timepoint: ${stat.timepoint}` : null,
    stat.events !== null && stat.sampleSize !== null ? `${stat.events} of ${stat.sampleSize}` : stat.sampleSize !== null ? `n = ${stat.sampleSize}` : null,
    `design: ${STUDY_DESIGN_LABEL[stat.studyDesign]}`,
    stat.certainty === 'not-assessed' ? 'certainty not assessed' : `certainty: ${stat.certainty}${stat.certaintyBasis ? ` (${stat.certaintyBasis})` : ''}`,
    `curators' confidence: ${stat.confidence}`,
  ];
  return bullet(figure, details, stat.text, stat.sources, refs);
}

function statisticLines({ doc, refs }: RenderContext): string[] {
  const byId = new Map(doc.statistics.map((s) => [s.id, s]));
  const placed = new Set<string>();
  const lines: string[] = [];
  // Estimates of the same measure sit side by side under one heading, so that conflicting or
  // complementary figures are read together, each with its own source.
  for (const group of doc.statisticGroups) {
    const stats = group.statistics.map((id) => byId.get(id)).filter((s): s is Statistic => s !== undefined);
    if (stats.length === 0) continue;
    const measure = MEASURE_LABEL[group.measure as Statistic['measure']] ?? group.measure;
    const subject = group.subject === 'condition' ? doc.name : (doc.treatments.find((t) => t.id === group.subject)?.name ?? stats[0]?.treatment?.name ?? group.subject);
    lines.push('', `### ${inline(measure)}: ${inline(subject)}`, '');
    for (const s of stats) {
      lines.push(statisticLine(s, refs));
      placed.add(s.id);
    }
  }
  const rest = doc.statistics.filter((s) => !placed.has(s.id));
  if (rest.length) {
    if (lines.length) lines.push('', '### Other figures', '');
    for (const s of rest) lines.push(statisticLine(s, refs));
  }
  return lines;
}

const RELATION_LABEL: Record<string, string> = {
  'underlying-cause': 'underlying cause',
  'risk-factor': 'risk factor',
  complication: 'complication',
};

function relatedLines({ doc, refs }: RenderContext): string[] {
  return doc.related.map((r) => bullet(r.name, [RELATION_LABEL[r.relation] ?? r.relation.replace(/-/g, ' '), r.url ? `see ${r.url}` : null], r.text, r.sources, refs));
}

function differentialLines({ doc, refs }: RenderContext): string[] {
  return doc.differentialDiagnosis.map((d) => bullet(d.name, [d.code ? `${CODE_SYSTEM_LABEL[d.code.system] ?? d.code.system} ${d.code.code}` : null], d.text, d.sources, refs));
}

function codeLines({ doc }: RenderContext): string[] {
  return doc.codes.map((c) => {
    const details = [c.display, `${c.match} match`, c.note].filter((d): d is string => d !== null).map(inline);
    return `- **${CODE_SYSTEM_LABEL[c.system] ?? c.system} ${c.code}**: ${details.join('; ')}`;
  });
}

function sourceLines({ doc }: RenderContext): string[] {
  return doc.sources.map((s, i) => `${i + 1}. ${sourceEntry(s)}`);
}

function summaryLines({ doc, refs }: RenderContext): string[] {
  const markers = refs.markers(doc.summarySources);
  return [`${safeLineStart(doc.summary)}${markers ? ` ${markers}` : ''}`];
}

/** Display names of code systems, shared with the JSON-LD renderer. */
export const CODE_SYSTEM_LABEL: Record<string, string> = {
  icd10cm: 'ICD-10-CM',
  icd9cm: 'ICD-9-CM',
  icd11: 'ICD-11',
  snomedct: 'SNOMED CT',
  orphanet: 'Orphanet',
  mesh: 'MeSH',
  umls: 'UMLS',
  atc: 'ATC',
  mondo: 'MONDO',
  doid: 'Disease Ontology',
  rxnorm: 'RxNorm',
};

const SECTION_RENDERERS: Partial<Record<SectionKey, (ctx: RenderContext) => string[]>> = {
  summary: summaryLines,
  codes: codeLines,
  symptoms: symptomLines,
  causes: ({ doc, refs }) => statementLines(doc.causes, refs),
  riskFactors: riskFactorLines,
  complications: ({ doc, refs }) => statementLines(doc.complications, refs),
  diagnosis: diagnosisLines,
  treatments: treatmentLines,
  prognosis: ({ doc, refs }) => statementLines(doc.prognosis, refs),
  prevention: ({ doc, refs }) => statementLines(doc.prevention, refs),
  whenToSeekCare: ({ doc, refs }) => statementLines(doc.whenToSeekCare, refs),
  differentialDiagnosis: differentialLines,
  statistics: statisticLines,
  statisticGroups: statisticLines,
  related: relatedLines,
  sources: sourceLines,
};

/** The sections of a whole document, in reading order. */
const DOCUMENT_SECTIONS: readonly [SectionKey, string][] = [
  ['symptoms', 'Symptoms'],
  ['causes', 'Causes'],
  ['riskFactors', 'Risk factors'],
  ['complications', 'Complications'],
  ['diagnosis', 'Diagnosis'],
  ['differentialDiagnosis', 'Conditions that look similar'],
  ['treatments', 'Treatments'],
  ['prognosis', 'Prognosis'],
  ['prevention', 'Prevention'],
  ['whenToSeekCare', 'When to seek care'],
  ['statistics', 'Statistics'],
  ['related', 'Related conditions'],
];

function sourcesById(doc: Condition): Map<string, Source> {
  return new Map(doc.sources.map((s) => [s.id, s]));
}

function aliasLine(doc: Condition): string[] {
  return doc.aliases.length ? [`_Also known as: ${inItalics(doc.aliases.join(', '))}_`, ''] : [];
}

function docMeta(doc: Condition): ContentMeta {
  return { lastReviewed: doc.lastReviewed, disclaimer: doc.disclaimer };
}

/** The whole condition document as markdown for an LLM prompt. */
export function conditionToMarkdown(doc: Condition): string {
  const refs = new References();
  const ctx: RenderContext = { doc, refs };
  const lines: string[] = [`# ${inline(doc.name)}`, '', ...aliasLine(doc), ...summaryLines(ctx), ''];
  for (const [key, title] of DOCUMENT_SECTIONS) {
    const render = SECTION_RENDERERS[key];
    if (!render) continue;
    const body = render(ctx);
    if (body.length === 0) continue;
    lines.push(`## ${title}`, '', ...body, '');
  }
  lines.push(...referenceList(refs, sourcesById(doc)), ...footer(docMeta(doc)));
  return finish(lines);
}

/**
 * One section of a condition document, with its own reference list. `sectionKey` is the document
 * key (`riskFactors`, not `risk-factors`); a key without list content renders "No entries".
 */
export function sectionToMarkdown(doc: Condition, sectionKey: SectionKey, title: string): string {
  const refs = new References();
  const render = SECTION_RENDERERS[sectionKey];
  const body = render ? render({ doc, refs }) : [];
  const lines: string[] = [`# ${inline(doc.name)}: ${inline(title)}`, '', ...(body.length ? body : ['_No entries in this section._']), ''];
  lines.push(...referenceList(refs, sourcesById(doc)), ...footer(docMeta(doc)));
  return finish(lines);
}

/** Atomic facts as retrieval chunks, each with its citation markers and stable id. */
export function factsToMarkdown(
  facts: readonly FactForMarkdown[],
  meta: ContentMeta,
  options: { title?: string; nextCursor?: string | null } = {},
): string {
  const refs = new References();
  const lines: string[] = [`# ${inline(options.title ?? 'Facts')}`, ''];
  if (facts.length === 0) lines.push('_No facts matched._');
  for (const f of facts) {
    const markers = refs.markers(f.sources);
    lines.push(`- **${inline(f.conditionName)}, ${inline(f.section)}:** ${inline(f.text)}${markers ? ` ${markers}` : ''} (fact \`${inline(f.id)}\`)`);
  }
  // A model (or person) holding one page should know there is more and how to ask for it.
  if (options.nextCursor) lines.push('', `_More facts: repeat the request with \`cursor=${options.nextCursor}\`._`);
  lines.push('', ...referenceList(refs), ...footer(meta));
  return finish(lines);
}

/** `<mark>…</mark>` highlight tags from the search snippet become `**bold**`; other tags are dropped. */
function snippetText(snippet: string): string {
  return inline(snippet.replace(/<\/?mark>/gi, '**').replace(/<[^>]*>/g, ''));
}

/** Ranked search hits with their snippets and citation markers. */
export function searchHitsToMarkdown(hits: readonly SearchHitForMarkdown[], query: string, meta: ContentMeta): string {
  const refs = new References();
  const q = inline(query).replace(/"/g, '\\"');
  const lines: string[] = [`# Search results for "${q}"`, ''];
  if (hits.length === 0) lines.push('_The knowledge base has no cited answer for this query._');
  for (const h of hits) {
    const markers = refs.markers(h.sources);
    lines.push(`- **${inline(h.title)}** (${inline(h.kind)} \`${inline(h.id)}\`): ${snippetText(h.snippet)}${markers ? ` ${markers}` : ''}`);
  }
  lines.push('', ...referenceList(refs), ...footer(meta));
  return finish(lines);
}

export interface ContextFactForMarkdown {
  id: string;
  conditionName: string;
  section: string;
  text: string;
  sources: readonly SourceRef[];
}

/**
 * A context pack for a model's prompt: the question, the facts that answer it as a numbered list
 * with citation markers, a reference list with links, the review date and the disclaimer. When
 * nothing answers the question, it says so in words a model will repeat rather than fill in.
 */
export function contextToMarkdown(question: string, facts: readonly ContextFactForMarkdown[], meta: ContentMeta & { answerable: boolean }): string {
  const refs = new References();
  const lines: string[] = [`# Context for: ${safeLineStart(question)}`, ''];
  if (!meta.answerable || facts.length === 0) {
    lines.push('_The knowledge base has no cited answer to this question. Do not answer it from this context._');
  }
  facts.forEach((f, i) => {
    const markers = refs.markers(f.sources);
    lines.push(`${i + 1}. **${inline(f.conditionName)}, ${inline(f.section)}:** ${inline(f.text)}${markers ? ` ${markers}` : ''} (fact \`${inline(f.id)}\`)`);
  });
  lines.push('', ...referenceList(refs), ...footer(meta));
  return finish(lines);
}
