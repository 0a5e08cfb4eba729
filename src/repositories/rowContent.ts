/**
 * Rows → content: the tables' row types (`$inferSelect` of db/schema.ts, enums typed with
 * `$type`), `selectColumns` for raw SELECTs keyed like them, and the functions that rebuild
 * content-file objects from rows, for the content repository, `kb export` and the read
 * repositories. The other direction (content → rows, and every write) is rows.ts.
 */
import { getTableColumns } from 'drizzle-orm';
import type { Statement } from 'better-sqlite3';
import type { SQLiteTable } from 'drizzle-orm/sqlite-core';
import type * as t from '../../db/schema.js';
import {
  DIAGNOSTIC_METHODS,
  REGULATORY_STATUSES,
  RISK_FACTOR_TYPES,
  SYMPTOM_FREQUENCIES,
  TREATMENT_TYPES,
  citationRef,
  type CitationContent,
  type ConditionContent,
  type SourceContent,
  type StatisticContent,
} from '../content/schema.js';

export type ConditionRow = typeof t.conditions.$inferSelect;
export type SourceRow = typeof t.sources.$inferSelect;
export type StatementRow = typeof t.statements.$inferSelect;
export type StatisticRow = typeof t.statistics.$inferSelect;
export type CitationRow = typeof t.citations.$inferSelect;
export type CodeRow = typeof t.conditionCodes.$inferSelect;
export type TreatmentCodeRow = typeof t.treatmentCodes.$inferSelect;
export type RelatedRow = typeof t.relatedConditions.$inferSelect;

/**
 * `col AS key, ...` for every column of a table, so that a raw SELECT returns rows keyed like
 * `$inferSelect` (camelCase) rather than by SQL column name. `alias` prefixes each column.
 */
export function selectColumns(table: SQLiteTable, alias?: string): string {
  const prefix = alias === undefined ? '' : `${alias}.`;
  return Object.entries(getTableColumns(table))
    .map(([key, column]) => (key === column.name ? `${prefix}${column.name}` : `${prefix}${column.name} AS ${key}`))
    .join(', ');
}

/**
 * A statement's rows as objects keyed by column name, built here from better-sqlite3's raw arrays:
 * for the wide rows of a condition's sources, statements and statistics (20–30 columns), half the
 * time of the objects better-sqlite3 makes itself (~0.6 ms of a document read at 1,000 conditions).
 * The objects are the same: same keys in the same order, same values.
 */
export function objectRows<P extends unknown[], R extends object>(statement: Statement<P, R>): (...params: P) => R[] {
  const raw = statement.raw(true);
  const names = raw.columns().map((c) => c.name);
  return (...params) =>
    raw.all(...params).map((values) => {
      const row: Record<string, unknown> = {};
      for (let i = 0; i < names.length; i++) row[names[i] ?? ''] = (values as unknown[])[i];
      return row as R;
    });
}

/* rows → content */

/** `value` when it is one of `allowed`; a stored value outside the schema's enum is a corrupt database. */
function oneOf<const T extends string>(allowed: readonly T[], value: string | null, what: string): T {
  const found = allowed.find((a) => a === value);
  if (found === undefined) throw new Error(`stored ${what} ${JSON.stringify(value)} is not one of ${allowed.join(', ')}`);
  return found;
}

export function toSource(r: SourceRow): SourceContent {
  return {
    id: r.id,
    kind: r.kind,
    year: r.year,
    title: r.title,
    label: r.label,
    authors: JSON.parse(r.authors) as string[],
    journal: r.journal,
    volume: r.volume,
    pages: r.pages,
    doi: r.doi,
    pmid: r.pmid,
    pmcid: r.pmcid,
    url: r.url,
    citedAs: r.citedAs,
    attribution: r.attribution,
    licence: r.licence,
    note: r.note,
  };
}

export function toStatistic(r: StatisticRow, sources: CitationContent[]): StatisticContent {
  const interval = r.intervalLevel !== null && r.intervalLow !== null && r.intervalHigh !== null ? { level: r.intervalLevel, low: r.intervalLow, high: r.intervalHigh } : null;
  const first = sources[0];
  return {
    id: r.id,
    measure: r.measure,
    value: r.value,
    low: r.low,
    high: r.high,
    unit: r.unit,
    comparator: r.comparator,
    population: r.population,
    outcome: r.outcome,
    timepoint: r.timepoint,
    timepointMonths: r.timepointMonths,
    estimateType: r.estimateType,
    interval,
    events: r.events,
    sampleSize: r.sampleSize,
    comparedWith: r.comparedLabel === null ? null : { label: r.comparedLabel, treatment: r.comparedTreatmentId },
    studyDesign: r.studyDesign,
    primarySource: r.primarySourceId ?? (first === undefined ? '' : citationRef(first).id),
    certainty: r.certainty,
    certaintyBasis: r.certaintyBasis,
    treatment: r.treatmentId,
    text: r.text,
    sources,
    confidence: r.confidence,
  };
}

/** Rebuilds a section item in the exact field order of the content schema (export is byte-stable) and adds it to its section. */
export function pushStatement(c: ConditionContent, s: StatementRow, sources: CitationContent[], codes: ConditionContent['treatments'][number]['codes']): void {
  const base = {
    id: s.id,
    name: s.name,
    text: s.text,
    sources,
    confidence: s.confidence,
    // Absent rather than empty when none are curated, as in the content files.
    ...(s.questions === null ? {} : { questions: JSON.parse(s.questions) as string[] }),
  };
  switch (s.section) {
    case 'symptoms':
      c.symptoms.push({ ...base, frequency: oneOf(SYMPTOM_FREQUENCIES, s.frequency, 'symptom frequency'), relatedCondition: s.relatedCondition });
      break;
    case 'riskFactors':
      c.riskFactors.push({ ...base, type: oneOf(RISK_FACTOR_TYPES, s.category, 'risk factor type') });
      break;
    case 'diagnosis':
      c.diagnosis.push({ ...base, method: oneOf(DIAGNOSTIC_METHODS, s.category, 'diagnostic method'), purpose: s.purpose ?? '', risks: s.risks });
      break;
    case 'treatments':
      c.treatments.push({
        ...base,
        type: oneOf(TREATMENT_TYPES, s.category, 'treatment type'),
        route: s.route,
        goal: s.goal,
        regulatoryStatus: oneOf(REGULATORY_STATUSES, s.regulatoryStatus, 'regulatory status'),
        regulatoryNote: s.regulatoryNote,
        codes,
      });
      break;
    case 'differentialDiagnosis':
      c.differentialDiagnosis.push({ ...base, code: s.codeSystem === null || s.code === null ? null : { system: s.codeSystem, code: s.code, display: s.codeDisplay } });
      break;
    case 'causes':
    case 'complications':
    case 'prognosis':
    case 'prevention':
    case 'whenToSeekCare':
      c[s.section].push(base);
      break;
  }
}
