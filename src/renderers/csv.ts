/**
 * Statistics as CSV for researchers: one row per figure, every field flat, with the primary
 * source's identifiers so a spreadsheet can link each figure to its work. The header names are
 * part of the API (documented in the OpenAPI description of GET /v1/statistics).
 */
import { stringify } from 'csv-stringify/sync';
import type { Statistic } from '../schemas/statistic.js';

/** What a row needs besides the statistic: its primary source's record and the review date. */
export interface CsvContext {
  primary: { citation: string; doi: string | null; pmid: string | null; url: string | null } | undefined;
  lastReviewed: string;
  disclaimer: string;
}

type Cell = string | number | null;

/** Column name → value, in column order. */
const COLUMNS: readonly [string, (s: Statistic, c: CsvContext) => Cell][] = [
  ['id', (s) => s.id],
  ['conditionId', (s) => s.conditionId],
  ['measure', (s) => s.measure],
  ['estimateType', (s) => s.estimateType],
  ['comparator', (s) => s.comparator],
  ['value', (s) => s.value],
  ['low', (s) => s.low],
  ['high', (s) => s.high],
  ['unit', (s) => s.unit],
  ['intervalLevel', (s) => s.interval?.level ?? null],
  ['intervalLow', (s) => s.interval?.low ?? null],
  ['intervalHigh', (s) => s.interval?.high ?? null],
  ['events', (s) => s.events],
  ['sampleSize', (s) => s.sampleSize],
  ['population', (s) => s.population],
  ['outcome', (s) => s.outcome],
  ['timepoint', (s) => s.timepoint],
  ['timepointMonths', (s) => s.timepointMonths],
  ['comparedWithLabel', (s) => s.comparedWith?.label ?? null],
  ['comparedWithTreatmentId', (s) => s.comparedWith?.treatment?.id ?? null],
  ['treatmentId', (s) => s.treatment?.id ?? null],
  ['treatmentName', (s) => s.treatment?.name ?? null],
  ['studyDesign', (s) => s.studyDesign],
  ['certainty', (s) => s.certainty],
  ['certaintyBasis', (s) => s.certaintyBasis],
  ['confidence', (s) => s.confidence],
  ['primarySource', (s) => s.primarySource],
  ['primarySourceCitation', (_s, c) => c.primary?.citation ?? null],
  ['primarySourceDoi', (_s, c) => c.primary?.doi ?? null],
  ['primarySourcePmid', (_s, c) => c.primary?.pmid ?? null],
  ['primarySourceUrl', (_s, c) => c.primary?.url ?? null],
  ['studyType', (s) => s.studyType],
  ['year', (s) => s.year],
  ['sources', (s) => s.sources.map((r) => r.id).join(';')],
  ['text', (s) => s.text],
  ['lastReviewed', (_s, c) => c.lastReviewed],
  ['disclaimer', (_s, c) => c.disclaimer],
];

export const STATISTICS_CSV_HEADER: readonly string[] = COLUMNS.map(([name]) => name);

/**
 * RFC 4180 CSV (CRLF line ends, quoting where needed) with a header row. Null is an empty cell;
 * numbers are written as JavaScript prints them, so they read back exactly.
 */
export function statisticsToCsv(rows: readonly { statistic: Statistic; context: CsvContext }[]): string {
  const records = rows.map(({ statistic, context }) => COLUMNS.map(([, get]) => get(statistic, context)));
  return stringify([STATISTICS_CSV_HEADER as string[], ...records], {
    record_delimiter: 'windows',
    cast: { number: (n) => String(n) },
  });
}
