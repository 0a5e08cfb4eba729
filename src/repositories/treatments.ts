/**
 * Treatments across conditions, shaped like the treatments of a condition document. Codes,
 * citations and the ids of the statistics about each treatment are aggregated in SQL, so a page
 * of treatments is one query.
 */
import type { Sqlite } from '../db/connection.js';
import type { Treatment } from '../schemas/condition.js';
import type { SourcesRepository } from './sources.js';
import { citationContent } from '../content/schema.js';

export interface TreatmentFilter {
  condition?: string;
  type?: string;
  code?: { system: string; code: string };
  after?: string;
  limit: number;
}

export interface TreatmentRecord {
  treatment: Treatment;
  lastReviewed: string;
}

interface Row {
  id: string;
  condition_id: string;
  name: string;
  text: string;
  confidence: string;
  category: string | null;
  route: string | null;
  goal: string | null;
  regulatory_status: string | null;
  regulatory_note: string | null;
  last_reviewed: string;
  source_ids: string;
  codes: string;
  statistic_ids: string;
}

interface ListParams {
  condition: string | null;
  type: string | null;
  system: string | null;
  code: string | null;
  after: string | null;
  limit: number;
}

// Statistics about a treatment may live in any condition; its own condition's come first, in
// document order, so for a single condition the ids equal the condition document's.
const SELECT = `SELECT t.id, t.condition_id, t.name, t.text, t.confidence, t.category, t.route, t.goal,
    t.regulatory_status, t.regulatory_note, c.last_reviewed,
    (SELECT json_group_array(json_array(source_id, locator))
       FROM (SELECT source_id, locator FROM citations WHERE entity_type = 'statement' AND entity_id = t.id ORDER BY position)) AS source_ids,
    (SELECT json_group_array(json_object('system', system, 'code', code, 'display', display))
       FROM (SELECT system, code, display FROM treatment_codes WHERE treatment_id = t.id ORDER BY position)) AS codes,
    (SELECT json_group_array(id)
       FROM (SELECT st.id FROM statistics st WHERE st.treatment_id = t.id
             ORDER BY st.condition_id <> t.condition_id, st.condition_id, st.position)) AS statistic_ids
  FROM statements t
  JOIN conditions c ON c.id = t.condition_id`;

export function createTreatmentsRepository(db: Sqlite, sources: SourcesRepository) {
  const list = db.prepare<[ListParams], Row>(
    `${SELECT}
     WHERE t.section = 'treatments'
       AND (@after IS NULL OR t.id > @after)
       AND (@condition IS NULL OR t.condition_id = @condition)
       AND (@type IS NULL OR t.category = @type)
       AND (@system IS NULL OR EXISTS (SELECT 1 FROM treatment_codes k
                                       WHERE k.treatment_id = t.id AND k.system = @system AND upper(k.code) = upper(@code)))
     ORDER BY t.id LIMIT @limit`,
  );
  const byId = db.prepare<[string], Row>(`${SELECT} WHERE t.section = 'treatments' AND t.id = ?`);

  function toRecord(r: Row): TreatmentRecord {
    return {
      treatment: {
        id: r.id,
        name: r.name,
        text: r.text,
        confidence: r.confidence as Treatment['confidence'],
        sources: sources.refs((JSON.parse(r.source_ids) as [string, string | null][]).map(([id, locator]) => citationContent(id, locator))),
        conditionId: r.condition_id,
        type: r.category as Treatment['type'],
        route: r.route,
        goal: r.goal,
        // The build writes a status for every treatment; 'unknown' only guards a hand-edited row.
        regulatory: { status: (r.regulatory_status ?? 'unknown') as Treatment['regulatory']['status'], note: r.regulatory_note },
        codes: JSON.parse(r.codes) as Treatment['codes'],
        statistics: JSON.parse(r.statistic_ids) as string[],
      },
      lastReviewed: r.last_reviewed,
    };
  }

  return {
    list(f: TreatmentFilter): TreatmentRecord[] {
      return list
        .all({
          condition: f.condition ?? null,
          type: f.type ?? null,
          system: f.code?.system ?? null,
          code: f.code?.code ?? null,
          after: f.after ?? null,
          limit: f.limit,
        })
        .map(toRecord);
    },
    get(id: string): TreatmentRecord | undefined {
      const row = byId.get(id);
      return row ? toRecord(row) : undefined;
    },
  };
}

export type TreatmentsRepository = ReturnType<typeof createTreatmentsRepository>;
