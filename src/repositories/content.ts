/**
 * Reads a whole condition back into its content-file shape. `kb export` writes these objects as
 * YAML, and the conditions repository shapes API documents from them. How rows map to content is
 * in rows.ts, beside the writer of those rows.
 */
import * as t from '../../db/schema.js';
import type { Sqlite } from '../db/connection.js';
import { citationContent, type CitationContent, type ConditionContent } from '../content/schema.js';
import { relatedEntityId } from './rows.js';
import { objectRows, pushStatement, selectColumns, toSource, toStatistic, type CitationRow, type CodeRow, type ConditionRow, type RelatedRow, type SourceRow, type StatementRow, type StatisticRow, type TreatmentCodeRow } from './rowContent.js';

export function createContentRepository(db: Sqlite) {
  const citationColumns = selectColumns(t.citations, 'c');
  const q = {
    ids: db.prepare<[], { id: string }>('SELECT id FROM conditions ORDER BY id'),
    condition: db.prepare<[string], ConditionRow>(`SELECT ${selectColumns(t.conditions)} FROM conditions WHERE id = ?`),
    aliases: db.prepare<[string], { alias: string }>('SELECT alias FROM condition_aliases WHERE condition_id = ? ORDER BY position'),
    codes: db.prepare<[string], CodeRow>(`SELECT ${selectColumns(t.conditionCodes)} FROM condition_codes WHERE condition_id = ? ORDER BY position`),
    sources: objectRows(db.prepare<[string], SourceRow>(`SELECT ${selectColumns(t.sources)} FROM sources WHERE defined_in = ? ORDER BY position`)),
    statements: objectRows(db.prepare<[string], StatementRow>(`SELECT ${selectColumns(t.statements)} FROM statements WHERE condition_id = ? ORDER BY section, position`)),
    treatmentCodes: db.prepare<[string], TreatmentCodeRow>(
      `SELECT ${selectColumns(t.treatmentCodes, 'tc')} FROM treatment_codes tc
       JOIN statements s ON s.id = tc.treatment_id WHERE s.condition_id = ? ORDER BY tc.treatment_id, tc.position`,
    ),
    statistics: objectRows(db.prepare<[string], StatisticRow>(`SELECT ${selectColumns(t.statistics)} FROM statistics WHERE condition_id = ? ORDER BY position`)),
    related: db.prepare<[string], RelatedRow>(`SELECT ${selectColumns(t.relatedConditions)} FROM related_conditions WHERE condition_id = ? ORDER BY position`),
    // Every citation of one condition's entities, as four ranges of the citations key: a
    // statement's or statistic's id is `<condition>.<kind>.<name>` (content/validate.ts), and a
    // condition id has no '.', so `<condition>.` up to `<condition>/` holds that condition's own
    // and nothing else. It replaced a query through the statements and statistics of the
    // condition (IN subqueries, one OR of four index searches and a sort): half the time.
    citations: db.prepare<[string, string, string, string, string, string, string], CitationRow>(
      `SELECT ${citationColumns} FROM citations c WHERE c.entity_type = 'related' AND c.entity_id >= ? AND c.entity_id < ?
       UNION ALL SELECT ${citationColumns} FROM citations c WHERE c.entity_type = 'statement' AND c.entity_id >= ? AND c.entity_id < ?
       UNION ALL SELECT ${citationColumns} FROM citations c WHERE c.entity_type = 'statistic' AND c.entity_id >= ? AND c.entity_id < ?
       UNION ALL SELECT ${citationColumns} FROM citations c WHERE c.entity_type = 'summary' AND c.entity_id = ?`,
    ),
  };

  function get(id: string): ConditionContent | undefined {
    const row = q.condition.get(id);
    if (!row) return undefined;
    const cites = new Map<string, CitationContent[]>();
    for (const c of q.citations.all(`${id}#related-`, `${id}#related.`, `${id}.`, `${id}/`, `${id}.`, `${id}/`, id)) {
      const key = `${c.entityType}:${c.entityId}`;
      const list = cites.get(key) ?? [];
      // By position, whatever order the ranges come back in (the writer numbers them 0…n−1).
      list[c.position] = citationContent(c.sourceId, c.locator);
      cites.set(key, list);
    }
    const cited = (type: CitationRow['entityType'], entityId: string) => cites.get(`${type}:${entityId}`) ?? [];
    const codesByTreatment = new Map<string, ConditionContent['treatments'][number]['codes']>();
    for (const c of q.treatmentCodes.all(id)) {
      const list = codesByTreatment.get(c.treatmentId) ?? [];
      list.push({ system: c.system, code: c.code, display: c.display });
      codesByTreatment.set(c.treatmentId, list);
    }

    const content: ConditionContent = {
      id: row.id,
      name: row.name,
      aliases: q.aliases.all(id).map((a) => a.alias),
      summary: row.summary,
      summarySources: cited('summary', id),
      version: row.version,
      lastReviewed: row.lastReviewed,
      codes: q.codes.all(id).map((c) => ({ system: c.system, code: c.code, display: c.display, match: c.match, note: c.note, confidence: c.confidence })),
      sources: q.sources(id).map(toSource),
      symptoms: [],
      causes: [],
      riskFactors: [],
      complications: [],
      diagnosis: [],
      treatments: [],
      prognosis: [],
      prevention: [],
      whenToSeekCare: [],
      differentialDiagnosis: [],
      statistics: q.statistics(id).map((s) => toStatistic(s, cited('statistic', s.id))),
      related: q.related.all(id).map((r) => ({
        condition: r.relatedId,
        name: r.name,
        relation: r.relation,
        text: r.text,
        sources: cited('related', relatedEntityId(id, r.position)),
      })),
    };
    for (const s of q.statements(id)) pushStatement(content, s, cited('statement', s.id), codesByTreatment.get(s.id) ?? []);
    return content;
  }

  return {
    ids: (): string[] => q.ids.all().map((r) => r.id),
    get,
  };
}

export type ContentRepository = ReturnType<typeof createContentRepository>;
