/**
 * Statistics across conditions. Rows come back in the content-file shape (`StatisticContent`) so
 * that the one presenter of the conditions repository (`presentStatistic`) shapes them: a
 * statistic read here is byte-for-byte the one in its condition document.
 */
import type { Statement } from 'better-sqlite3';
import type { Sqlite } from '../db/connection.js';
import { MEASURE_FAMILIES, CONFIDENCE_LEVELS, CERTAINTY_LEVELS, citationContent, type Confidence, type StatisticContent } from '../content/schema.js';
import type { Statistic } from '../schemas/statistic.js';
import type { ConditionsRepository } from './conditions.js';
import * as t from '../../db/schema.js';
import { selectColumns, toStatistic, type StatisticRow } from './rowContent.js';

export interface StatisticFilter {
  condition?: string;
  treatment?: string;
  measure?: string;
  studyType?: string;
  yearFrom?: number;
  yearTo?: number;
  minConfidence?: Confidence;
  estimateType?: string;
  studyDesign?: string;
  /** GRADE level or better; figures whose certainty was not assessed never match. */
  minCertainty?: Exclude<StatisticContent['certainty'], 'not-assessed'>;
  after?: string;
  limit: number;
}

/** A statistic as stored, with what its presentation and the response envelope need. */
export interface StatisticRecord {
  content: StatisticContent;
  conditionId: string;
  treatmentName: string | null;
  lastReviewed: string;
}

interface Row extends StatisticRow {
  last_reviewed: string;
  treatment_name: string | null;
  citation_list: string;
}

interface ListParams {
  condition: string | null;
  treatment: string | null;
  measures: string | null;
  studyType: string | null;
  yearFrom: number | null;
  yearTo: number | null;
  confidences: string | null;
  estimateType: string | null;
  studyDesign: string | null;
  certainties: string | null;
  after: string | null;
  limit: number;
}

// Citations are aggregated in SQL (in citation order) so a page is one query, not one per item.
const SELECT = `SELECT ${selectColumns(t.statistics, 'st')}, c.last_reviewed, t.name AS treatment_name,
    (SELECT json_group_array(json_array(source_id, locator))
       FROM (SELECT source_id, locator FROM citations WHERE entity_type = 'statistic' AND entity_id = st.id ORDER BY position)) AS citation_list
  FROM statistics st
  JOIN conditions c ON c.id = st.condition_id
  LEFT JOIN statements t ON t.id = st.treatment_id
  LEFT JOIN sources ps ON ps.id = st.primary_source_id`;

/**
 * Each filter's condition; a list query holds only the filters in use. A condition or treatment
 * picks out a handful of rows, so those use their index; the others (`+` keeps SQLite off an
 * index) match many rows across conditions, and reading in id order until the page is full stops
 * early, where an index on `measure` would gather and sort every mortality figure of the corpus.
 */
const FILTERS: Record<Exclude<keyof ListParams, 'limit'>, string> = {
  after: 'st.id > @after',
  condition: 'st.condition_id = @condition',
  treatment: 'st.treatment_id = @treatment',
  measures: '+st.measure IN (SELECT value FROM json_each(@measures))',
  confidences: '+st.confidence IN (SELECT value FROM json_each(@confidences))',
  estimateType: '+st.estimate_type = @estimateType',
  studyDesign: '+st.study_design = @studyDesign',
  certainties: '+st.certainty IN (SELECT value FROM json_each(@certainties))',
  studyType: '+ps.kind = @studyType',
  yearFrom: '+ps.year >= @yearFrom',
  yearTo: '+ps.year <= @yearTo',
};

export function createStatisticsRepository(db: Sqlite) {
  // One prepared statement per combination of filters in use, made on first use: a fixed
  // statement with `(@x IS NULL OR ...)` for every filter hid the indexes from the planner, so a
  // condition's figures were found by scanning every statistic (7 ms at 1,000 conditions).
  const lists = new Map<string, Statement<[Record<string, string | number | null>], Row>>();
  function listStatement(used: (keyof typeof FILTERS)[]) {
    const key = used.join(',');
    let statement = lists.get(key);
    if (!statement) {
      const where = used.map((k) => FILTERS[k]);
      statement = db.prepare<[Record<string, string | number | null>], Row>(`${SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY st.id LIMIT @limit`);
      lists.set(key, statement);
    }
    return statement;
  }
  const byId = db.prepare<[string], Row>(`${SELECT} WHERE st.id = ?`);
  // The treatment's own condition first, in document order, so the list reads like the document.
  const byTreatment = db.prepare<[string], Row>(
    `${SELECT} WHERE st.treatment_id = ?
     ORDER BY st.condition_id <> t.condition_id, st.condition_id, st.position`,
  );

  const toRecord = (r: Row): StatisticRecord => ({
    content: toStatistic(r, (JSON.parse(r.citation_list) as [string, string | null][]).map(([id, locator]) => citationContent(id, locator))),
    conditionId: r.conditionId,
    treatmentName: r.treatment_name,
    lastReviewed: r.last_reviewed,
  });

  return {
    list(f: StatisticFilter): StatisticRecord[] {
      // Confidence order lives in CONFIDENCE_LEVELS (best first): "at least X" is X and everything before it.
      const confidences = f.minConfidence === undefined ? null : JSON.stringify(CONFIDENCE_LEVELS.slice(0, CONFIDENCE_LEVELS.indexOf(f.minConfidence) + 1));
      const params: ListParams = {
        condition: f.condition ?? null,
        treatment: f.treatment ?? null,
        measures: f.measure ? JSON.stringify(MEASURE_FAMILIES[f.measure as keyof typeof MEASURE_FAMILIES] ?? [f.measure]) : null,
        studyType: f.studyType ?? null,
        yearFrom: f.yearFrom ?? null,
        yearTo: f.yearTo ?? null,
        confidences,
        estimateType: f.estimateType ?? null,
        studyDesign: f.studyDesign ?? null,
        // GRADE order lives in CERTAINTY_LEVELS (best first, not-assessed last and never "at least" anything).
        certainties: f.minCertainty === undefined ? null : JSON.stringify(CERTAINTY_LEVELS.slice(0, CERTAINTY_LEVELS.indexOf(f.minCertainty) + 1)),
        after: f.after ?? null,
        limit: f.limit,
      };
      const used = (Object.keys(FILTERS) as (keyof typeof FILTERS)[]).filter((k) => params[k] !== null);
      return listStatement(used)
        .all(Object.fromEntries([['limit', params.limit], ...used.map((k) => [k, params[k]])]))
        .map(toRecord);
    },
    get(id: string): StatisticRecord | undefined {
      const row = byId.get(id);
      return row ? toRecord(row) : undefined;
    },
    /** Every statistic about one treatment, from any condition. */
    aboutTreatment(treatmentId: string): StatisticRecord[] {
      return byTreatment.all(treatmentId).map(toRecord);
    },
  };
}

/** Shapes a record exactly as the condition document shapes its statistics. */
export function presentStatisticRecord(conditions: Pick<ConditionsRepository, 'presentStatistic'>, r: StatisticRecord): Statistic {
  const names = r.content.treatment !== null && r.treatmentName !== null ? new Map([[r.content.treatment, r.treatmentName]]) : undefined;
  return conditions.presentStatistic(r.content, r.conditionId, names);
}

export type StatisticsRepository = ReturnType<typeof createStatisticsRepository>;
