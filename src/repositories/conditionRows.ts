/**
 * Writes condition rows (condition, aliases, codes, sources, statements, treatment codes,
 * statistics, related links, citations, FTS rows) with prepared statements, in the exact layout
 * of the build (src/content/build.ts), plus each entity's version. Curated writes use it two ways:
 * a whole condition (created, or reordered by a PUT), or single entities in place (the usual
 * case: one statement, statistic or source, or the condition's own fields), which costs a few
 * rows instead of hundreds. tests/writes/rows.test.ts proves both produce the build's rows.
 */
import type { Sqlite } from '../db/connection.js';
import { statementsOf, type ConditionContent, type SourceContent, type StatementContent, type StatementSectionKey, type StatisticContent } from '../content/schema.js';
import type { EntityType } from '../content/entities.js';

/** Kind shown in search results for a statement of each section (as the build writes it). */
const SEARCH_KIND: Record<string, string> = { symptoms: 'symptom', treatments: 'treatment' };

export function createConditionRowWriter(db: Sqlite) {
  const s = {
    condition: db.prepare('INSERT INTO conditions (id, name, summary, version, last_reviewed) VALUES (?, ?, ?, ?, ?)'),
    updateCondition: db.prepare('UPDATE conditions SET name = ?, summary = ?, version = ?, last_reviewed = ? WHERE id = ?'),
    setConditionVersion: db.prepare('UPDATE conditions SET version = ? WHERE id = ?'),
    alias: db.prepare('INSERT INTO condition_aliases (condition_id, position, alias) VALUES (?, ?, ?)'),
    code: db.prepare('INSERT INTO condition_codes (condition_id, position, system, code, display, match, note, confidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
    source: db.prepare(
      `INSERT INTO sources (id, defined_in, position, kind, year, title, label, authors, journal, volume, pages, doi, pmid, pmcid, url,
         cited_as, attribution, licence, note, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    statement: db.prepare(
      `INSERT INTO statements (id, condition_id, section, position, name, text, confidence, frequency, related_condition, category,
         purpose, risks, route, goal, regulatory_status, regulatory_note, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    treatmentCode: db.prepare('INSERT INTO treatment_codes (treatment_id, position, system, code, display) VALUES (?, ?, ?, ?, ?)'),
    statistic: db.prepare(
      `INSERT INTO statistics (id, condition_id, position, measure, value, low, high, unit, comparator, population, outcome, timepoint,
         timepoint_months, sample_size, treatment_id, text, confidence, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    related: db.prepare('INSERT INTO related_conditions (condition_id, position, related_id, name, relation, text) VALUES (?, ?, ?, ?, ?, ?)'),
    citation: db.prepare('INSERT INTO citations (entity_type, entity_id, position, source_id) VALUES (?, ?, ?, ?)'),
    search: db.prepare('INSERT INTO search_index (kind, entity_id, condition_id, title, body) VALUES (?, ?, ?, ?, ?)'),
    // Removing single entities and a condition's own rows.
    deleteCitations: db.prepare<[string, string]>('DELETE FROM citations WHERE entity_type = ? AND entity_id = ?'),
    deleteSearch: db.prepare<[string, string]>('DELETE FROM search_index WHERE entity_id = ? AND condition_id = ?'),
    deleteStatement: db.prepare<[string]>('DELETE FROM statements WHERE id = ?'),
    deleteStatistic: db.prepare<[string]>('DELETE FROM statistics WHERE id = ?'),
    deleteSource: db.prepare<[string]>('DELETE FROM sources WHERE id = ?'),
    deleteAliases: db.prepare<[string]>('DELETE FROM condition_aliases WHERE condition_id = ?'),
    deleteCodes: db.prepare<[string]>('DELETE FROM condition_codes WHERE condition_id = ?'),
    deleteRelated: db.prepare<[string]>('DELETE FROM related_conditions WHERE condition_id = ?'),
    deleteRelatedCitations: db.prepare<[string, string]>("DELETE FROM citations WHERE entity_type = 'related' AND entity_id >= ? AND entity_id < ?"),
    position: {
      statement: db.prepare<[string], { position: number; condition_id: string; section: string }>('SELECT position, condition_id, section FROM statements WHERE id = ?'),
      statistic: db.prepare<[string], { position: number; condition_id: string }>('SELECT position, condition_id FROM statistics WHERE id = ?'),
      source: db.prepare<[string], { position: number; condition_id: string }>('SELECT position, defined_in AS condition_id FROM sources WHERE id = ?'),
    },
    next: {
      statement: db.prepare<[string, string], { next: number }>('SELECT coalesce(max(position) + 1, 0) AS next FROM statements WHERE condition_id = ? AND section = ?'),
      statistic: db.prepare<[string], { next: number }>('SELECT coalesce(max(position) + 1, 0) AS next FROM statistics WHERE condition_id = ?'),
      source: db.prepare<[string], { next: number }>('SELECT coalesce(max(position) + 1, 0) AS next FROM sources WHERE defined_in = ?'),
    },
  };
  const cite = (type: string, id: string, sources: readonly string[]) => sources.forEach((sourceId, position) => s.citation.run(type, id, position, sourceId));

  function writeSource(conditionId: string, x: SourceContent, position: number, version: number): void {
    s.source.run(x.id, conditionId, position, x.kind, x.year, x.title, x.label, JSON.stringify(x.authors), x.journal, x.volume, x.pages, x.doi, x.pmid, x.pmcid, x.url, x.citedAs, x.attribution, x.licence, x.note, version);
  }

  function writeStatement(conditionId: string, section: StatementSectionKey, item: StatementContent, position: number, version: number): void {
    const r = {
      frequency: null as string | null,
      relatedCondition: null as string | null,
      category: null as string | null,
      purpose: null as string | null,
      risks: null as string | null,
      route: null as string | null,
      goal: null as string | null,
      regulatoryStatus: null as string | null,
      regulatoryNote: null as string | null,
    };
    if ('frequency' in item) Object.assign(r, { frequency: item.frequency, relatedCondition: item.relatedCondition });
    if ('type' in item) r.category = item.type;
    if ('method' in item) Object.assign(r, { category: item.method, purpose: item.purpose, risks: item.risks });
    if ('regulatoryStatus' in item) Object.assign(r, { route: item.route, goal: item.goal, regulatoryStatus: item.regulatoryStatus, regulatoryNote: item.regulatoryNote });
    s.statement.run(item.id, conditionId, section, position, item.name, item.text, item.confidence, r.frequency, r.relatedCondition, r.category, r.purpose, r.risks, r.route, r.goal, r.regulatoryStatus, r.regulatoryNote, version);
    if ('codes' in item) item.codes.forEach((k, i) => s.treatmentCode.run(item.id, i, k.system, k.code, k.display));
    cite('statement', item.id, item.sources);
    const extra = [r.purpose, r.risks, r.route, r.goal, r.regulatoryNote].filter(Boolean);
    s.search.run(SEARCH_KIND[section] ?? 'fact', item.id, conditionId, item.name, [item.text, ...extra].join(' '));
  }

  function writeStatistic(conditionId: string, x: StatisticContent, position: number, version: number): void {
    s.statistic.run(x.id, conditionId, position, x.measure, x.value, x.low, x.high, x.unit, x.comparator, x.population, x.outcome, x.timepoint, x.timepointMonths, x.sampleSize, x.treatment, x.text, x.confidence, version);
    cite('statistic', x.id, x.sources);
    s.search.run('statistic', x.id, conditionId, `${x.measure}: ${x.population}`, [x.text, x.outcome, x.timepoint].filter(Boolean).join(' '));
  }

  /** The condition's own rows besides its `conditions` row: aliases, codes, summary citations, FTS row, related links. */
  function writeOwn(c: ConditionContent): void {
    c.aliases.forEach((alias, i) => s.alias.run(c.id, i, alias));
    c.codes.forEach((k, i) => s.code.run(c.id, i, k.system, k.code, k.display, k.match, k.note, k.confidence));
    cite('summary', c.id, c.summarySources);
    s.search.run('condition', c.id, c.id, c.name, [c.summary, ...c.aliases].join(' '));
    c.related.forEach((r, i) => {
      s.related.run(c.id, i, r.condition, r.name, r.relation, r.text);
      cite('related', `${c.id}#related-${i}`, r.sources);
    });
  }

  return {
    /**
     * Whole conditions that have no rows yet, in the build's order: every condition row and its
     * sources first (a statement may cite a source of another condition), then everything else.
     */
    write(conditions: ConditionContent[], version: (type: EntityType, id: string) => number): void {
      for (const c of conditions) {
        s.condition.run(c.id, c.name, c.summary, c.version, c.lastReviewed);
        c.sources.forEach((x, i) => writeSource(c.id, x, i, version('source', x.id)));
      }
      for (const c of conditions) {
        writeOwn(c);
        for (const { section, item, position } of statementsOf(c)) writeStatement(c.id, section, item, position, version('statement', item.id));
        c.statistics.forEach((x, i) => writeStatistic(c.id, x, i, version('statistic', x.id)));
      }
    },

    /** Replaces a condition's own fields (name, summary, aliases, codes, summary sources, related links) and sets its version. */
    replaceOwn(c: ConditionContent): void {
      s.updateCondition.run(c.name, c.summary, c.version, c.lastReviewed, c.id);
      for (const del of [s.deleteAliases, s.deleteCodes, s.deleteRelated]) del.run(c.id);
      s.deleteCitations.run('summary', c.id);
      s.deleteRelatedCitations.run(`${c.id}#related-`, `${c.id}#related.`);
      s.deleteSearch.run(c.id, c.id);
      writeOwn(c);
    },

    setConditionVersion(id: string, version: number): void {
      s.setConditionVersion.run(version, id);
    },

    /**
     * Removes one statement, statistic or source; returns where it was, so that an update can
     * take its place (order is part of the content).
     */
    remove(type: Exclude<EntityType, 'condition'>, id: string): { conditionId: string; position: number; section?: string } | undefined {
      const at = s.position[type].get(id);
      if (!at) return undefined;
      if (type === 'source') s.deleteSource.run(id);
      else {
        s.deleteCitations.run(type, id);
        s.deleteSearch.run(id, at.condition_id);
        if (type === 'statement') s.deleteStatement.run(id);
        else s.deleteStatistic.run(id);
      }
      return { conditionId: at.condition_id, position: at.position, section: (at as { section?: string }).section };
    },

    /** Inserts one entity at `position`, or after the last of its list when there is none to reuse. */
    insertStatement(conditionId: string, section: StatementSectionKey, item: StatementContent, version: number, position?: number): void {
      writeStatement(conditionId, section, item, position ?? s.next.statement.get(conditionId, section)?.next ?? 0, version);
    },
    insertStatistic(conditionId: string, x: StatisticContent, version: number, position?: number): void {
      writeStatistic(conditionId, x, position ?? s.next.statistic.get(conditionId)?.next ?? 0, version);
    },
    insertSource(conditionId: string, x: SourceContent, version: number, position?: number): void {
      writeSource(conditionId, x, position ?? s.next.source.get(conditionId)?.next ?? 0, version);
    },
  };
}

export type ConditionRowWriter = ReturnType<typeof createConditionRowWriter>;
