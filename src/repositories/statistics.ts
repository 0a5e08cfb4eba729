/**
 * Statistics across conditions. Rows come back in the content-file shape (`StatisticContent`) so
 * that the one presenter of the conditions repository (`presentStatistic`) shapes them: a
 * statistic read here is byte-for-byte the one in its condition document.
 */
import type { Sqlite } from '../db/connection.js';
import { MEASURE_FAMILIES, CONFIDENCE_LEVELS, CERTAINTY_LEVELS, citationContent, type Confidence, type StatisticContent } from '../content/schema.js';
import type { Statistic } from '../schemas/statistic.js';
import type { ConditionsRepository } from './conditions.js';
import * as t from '../../db/schema.js';
import { selectColumns, toStatistic, type StatisticRow } from './rows.js';

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

export function createStatisticsRepository(db: Sqlite) {
  const list = db.prepare<[ListParams], Row>(
    `${SELECT}
     WHERE (@after IS NULL OR st.id > @after)
       AND (@condition IS NULL OR st.condition_id = @condition)
       AND (@treatment IS NULL OR st.treatment_id = @treatment)
       AND (@measures IS NULL OR st.measure IN (SELECT value FROM json_each(@measures)))
       AND (@confidences IS NULL OR st.confidence IN (SELECT value FROM json_each(@confidences)))
       AND (@estimateType IS NULL OR st.estimate_type = @estimateType)
       AND (@studyDesign IS NULL OR st.study_design = @studyDesign)
       AND (@certainties IS NULL OR st.certainty IN (SELECT value FROM json_each(@certainties)))
       AND (@studyType IS NULL OR ps.kind = @studyType)
       AND (@yearFrom IS NULL OR ps.year >= @yearFrom)
       AND (@yearTo IS NULL OR ps.year <= @yearTo)
     ORDER BY st.id LIMIT @limit`,
  );
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
      return list
        .all({
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
        })
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
