/**
 * Statistics across conditions. Rows come back in the content-file shape (`StatisticContent`) so
 * that the one presenter of the conditions repository (`presentStatistic`) shapes them: a
 * statistic read here is byte-for-byte the one in its condition document.
 */
import type { Sqlite } from '../db/connection.js';
import { MEASURE_FAMILIES, CONFIDENCE_LEVELS, type Confidence, type StatisticContent } from '../content/schema.js';
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
  source_ids: string;
}

interface ListParams {
  condition: string | null;
  treatment: string | null;
  measures: string | null;
  studyType: string | null;
  yearFrom: number | null;
  yearTo: number | null;
  confidences: string | null;
  after: string | null;
  limit: number;
}

// Citations are aggregated in SQL (in citation order) so a page is one query, not one per item.
const SELECT = `SELECT ${selectColumns(t.statistics, 'st')}, c.last_reviewed, t.name AS treatment_name,
    (SELECT json_group_array(source_id)
       FROM (SELECT source_id FROM citations WHERE entity_type = 'statistic' AND entity_id = st.id ORDER BY position)) AS source_ids
  FROM statistics st
  JOIN conditions c ON c.id = st.condition_id
  LEFT JOIN statements t ON t.id = st.treatment_id`;

/** Matches when any source the statistic cites satisfies `condition` (SQL over `s`, a source). */
const anyCitedSource = (condition: string) =>
  `EXISTS (SELECT 1 FROM citations ci JOIN sources s ON s.id = ci.source_id
           WHERE ci.entity_type = 'statistic' AND ci.entity_id = st.id AND ${condition})`;

export function createStatisticsRepository(db: Sqlite) {
  const list = db.prepare<[ListParams], Row>(
    `${SELECT}
     WHERE (@after IS NULL OR st.id > @after)
       AND (@condition IS NULL OR st.condition_id = @condition)
       AND (@treatment IS NULL OR st.treatment_id = @treatment)
       AND (@measures IS NULL OR st.measure IN (SELECT value FROM json_each(@measures)))
       AND (@confidences IS NULL OR st.confidence IN (SELECT value FROM json_each(@confidences)))
       AND (@studyType IS NULL OR ${anyCitedSource('s.kind = @studyType')})
       AND ((@yearFrom IS NULL AND @yearTo IS NULL)
            OR ${anyCitedSource('s.year IS NOT NULL AND (@yearFrom IS NULL OR s.year >= @yearFrom) AND (@yearTo IS NULL OR s.year <= @yearTo)')})
     ORDER BY st.id LIMIT @limit`,
  );
  const byId = db.prepare<[string], Row>(`${SELECT} WHERE st.id = ?`);
  // The treatment's own condition first, in document order, so the list reads like the document.
  const byTreatment = db.prepare<[string], Row>(
    `${SELECT} WHERE st.treatment_id = ?
     ORDER BY st.condition_id <> t.condition_id, st.condition_id, st.position`,
  );

  const toRecord = (r: Row): StatisticRecord => ({
    content: toStatistic(r, JSON.parse(r.source_ids) as string[]),
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
