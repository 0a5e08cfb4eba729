/**
 * Reads a whole condition back into its content-file shape. `kb export` writes these objects as
 * YAML, and the conditions repository shapes API documents from them, so there is exactly one
 * place that knows how a condition is spread over the tables.
 */
import type { Sqlite } from '../db/connection.js';
import type { STATEMENT_SECTIONS} from '../content/schema.js';
import { type ConditionContent, type SourceContent, type StatisticContent } from '../content/schema.js';

interface ConditionRow {
  id: string;
  name: string;
  summary: string;
  version: number;
  last_reviewed: string;
}
interface SourceRow {
  id: string;
  kind: string;
  year: number | null;
  title: string | null;
  label: string | null;
  authors: string;
  journal: string | null;
  volume: string | null;
  pages: string | null;
  doi: string | null;
  pmid: string | null;
  pmcid: string | null;
  url: string | null;
  cited_as: string | null;
  attribution: string;
  licence: string | null;
  note: string | null;
}
interface StatementRow {
  id: string;
  section: string;
  name: string;
  text: string;
  confidence: string;
  frequency: string | null;
  related_condition: string | null;
  category: string | null;
  purpose: string | null;
  risks: string | null;
  route: string | null;
  goal: string | null;
  regulatory_status: string | null;
  regulatory_note: string | null;
}
interface StatisticRow {
  id: string;
  measure: string;
  value: number | null;
  low: number | null;
  high: number | null;
  unit: string;
  comparator: string | null;
  population: string;
  outcome: string | null;
  timepoint: string | null;
  timepoint_months: number | null;
  sample_size: number | null;
  treatment_id: string | null;
  text: string;
  confidence: string;
}

export function toSource(r: SourceRow): SourceContent {
  return {
    id: r.id,
    kind: r.kind as SourceContent['kind'],
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
    citedAs: r.cited_as,
    attribution: r.attribution as SourceContent['attribution'],
    licence: r.licence,
    note: r.note,
  };
}

export function toStatistic(r: StatisticRow, sources: string[]): StatisticContent {
  return {
    id: r.id,
    measure: r.measure as StatisticContent['measure'],
    value: r.value,
    low: r.low,
    high: r.high,
    unit: r.unit as StatisticContent['unit'],
    comparator: r.comparator as StatisticContent['comparator'],
    population: r.population,
    outcome: r.outcome,
    timepoint: r.timepoint,
    timepointMonths: r.timepoint_months,
    sampleSize: r.sample_size,
    treatment: r.treatment_id,
    text: r.text,
    sources,
    confidence: r.confidence as StatisticContent['confidence'],
  };
}

export type { SourceRow, StatisticRow };

export function createContentRepository(db: Sqlite) {
  const q = {
    ids: db.prepare<[], { id: string }>('SELECT id FROM conditions ORDER BY id'),
    condition: db.prepare<[string], ConditionRow>('SELECT id, name, summary, version, last_reviewed FROM conditions WHERE id = ?'),
    aliases: db.prepare<[string], { alias: string }>('SELECT alias FROM condition_aliases WHERE condition_id = ? ORDER BY position'),
    codes: db.prepare<[string], { system: string; code: string; display: string | null; match: string; note: string | null; confidence: string }>(
      'SELECT system, code, display, match, note, confidence FROM condition_codes WHERE condition_id = ? ORDER BY position',
    ),
    sources: db.prepare<[string], SourceRow>('SELECT * FROM sources WHERE defined_in = ? ORDER BY position'),
    statements: db.prepare<[string], StatementRow>('SELECT * FROM statements WHERE condition_id = ? ORDER BY section, position'),
    treatmentCodes: db.prepare<[string], { treatment_id: string; system: string; code: string; display: string | null }>(
      `SELECT tc.treatment_id, tc.system, tc.code, tc.display FROM treatment_codes tc
       JOIN statements s ON s.id = tc.treatment_id WHERE s.condition_id = ? ORDER BY tc.treatment_id, tc.position`,
    ),
    statistics: db.prepare<[string], StatisticRow>('SELECT * FROM statistics WHERE condition_id = ? ORDER BY position'),
    related: db.prepare<[string], { position: number; related_id: string; name: string; relation: string; text: string }>(
      'SELECT position, related_id, name, relation, text FROM related_conditions WHERE condition_id = ? ORDER BY position',
    ),
    // Every citation of one condition's entities, in one query, keyed by entity.
    citations: db.prepare<[string, string, string, string, string], { entity_type: string; entity_id: string; source_id: string }>(
      `SELECT c.entity_type, c.entity_id, c.source_id FROM citations c
       WHERE (c.entity_type = 'summary' AND c.entity_id = ?)
          OR (c.entity_type = 'statement' AND c.entity_id IN (SELECT id FROM statements WHERE condition_id = ?))
          OR (c.entity_type = 'statistic' AND c.entity_id IN (SELECT id FROM statistics WHERE condition_id = ?))
          OR (c.entity_type = 'related' AND c.entity_id >= ? AND c.entity_id < ?)
       ORDER BY c.entity_type, c.entity_id, c.position`,
    ),
  };

  function get(id: string): ConditionContent | undefined {
    const row = q.condition.get(id);
    if (!row) return undefined;
    const cites = new Map<string, string[]>();
    for (const c of q.citations.all(id, id, id, `${id}#related-`, `${id}#related.`)) {
      const key = `${c.entity_type}:${c.entity_id}`;
      const list = cites.get(key) ?? [];
      list.push(c.source_id);
      cites.set(key, list);
    }
    const cited = (type: string, entityId: string) => cites.get(`${type}:${entityId}`) ?? [];
    const codesByTreatment = new Map<string, ConditionContent['treatments'][number]['codes']>();
    for (const c of q.treatmentCodes.all(id)) {
      const list = codesByTreatment.get(c.treatment_id) ?? [];
      list.push({ system: c.system as ConditionContent['codes'][number]['system'], code: c.code, display: c.display });
      codesByTreatment.set(c.treatment_id, list);
    }

    const content: ConditionContent = {
      id: row.id,
      name: row.name,
      aliases: q.aliases.all(id).map((a) => a.alias),
      summary: row.summary,
      summarySources: cited('summary', id),
      version: row.version,
      lastReviewed: row.last_reviewed,
      codes: q.codes.all(id).map((c) => ({
        system: c.system as ConditionContent['codes'][number]['system'],
        code: c.code,
        display: c.display,
        match: c.match as ConditionContent['codes'][number]['match'],
        note: c.note,
        confidence: c.confidence as ConditionContent['codes'][number]['confidence'],
      })),
      sources: q.sources.all(id).map(toSource),
      symptoms: [],
      causes: [],
      riskFactors: [],
      complications: [],
      diagnosis: [],
      treatments: [],
      prognosis: [],
      prevention: [],
      statistics: q.statistics.all(id).map((s) => toStatistic(s, cited('statistic', s.id))),
      related: q.related.all(id).map((r) => ({
        condition: r.related_id,
        name: r.name,
        relation: r.relation as ConditionContent['related'][number]['relation'],
        text: r.text,
        sources: cited('related', `${id}#related-${r.position}`),
      })),
    };
    for (const s of q.statements.all(id)) pushStatement(content, s, cited('statement', s.id), codesByTreatment.get(s.id) ?? []);
    return content;
  }

  return {
    ids: (): string[] => q.ids.all().map((r) => r.id),
    get,
  };
}

/** Rebuilds a section item in the exact field order of the content schema (export is byte-stable). */
function pushStatement(c: ConditionContent, s: StatementRow, sources: string[], codes: ConditionContent['treatments'][number]['codes']): void {
  const base = { id: s.id, name: s.name, text: s.text, sources, confidence: s.confidence as ConditionContent['symptoms'][number]['confidence'] };
  type T = ConditionContent;
  switch (s.section as (typeof STATEMENT_SECTIONS)[number]['key']) {
    case 'symptoms':
      c.symptoms.push({ ...base, frequency: s.frequency as T['symptoms'][number]['frequency'], relatedCondition: s.related_condition });
      break;
    case 'riskFactors':
      c.riskFactors.push({ ...base, type: s.category as T['riskFactors'][number]['type'] });
      break;
    case 'diagnosis':
      c.diagnosis.push({ ...base, method: s.category as T['diagnosis'][number]['method'], purpose: s.purpose ?? '', risks: s.risks });
      break;
    case 'treatments':
      c.treatments.push({
        ...base,
        type: s.category as T['treatments'][number]['type'],
        route: s.route,
        goal: s.goal,
        regulatoryStatus: s.regulatory_status as T['treatments'][number]['regulatoryStatus'],
        regulatoryNote: s.regulatory_note,
        codes,
      });
      break;
    case 'causes':
    case 'complications':
    case 'prognosis':
    case 'prevention':
      c[s.section as 'causes'].push(base);
      break;
  }
}

export type ContentRepository = ReturnType<typeof createContentRepository>;
