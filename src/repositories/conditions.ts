/**
 * Condition documents and summaries. Documents are assembled from the content repository (one
 * read transaction, so a document is a consistent snapshot) and shaped for the API here.
 */
import type { Sqlite } from '../db/connection.js';
import { MEASURE_FAMILIES, STATEMENT_SECTIONS, citedIds, type CitationContent, type ConditionContent, type StatisticContent } from '../content/schema.js';
import { DISCLAIMER } from '../content/licence.js';
import type { Condition, ConditionSummary } from '../schemas/condition.js';
import type { Statistic } from '../schemas/statistic.js';
import { createContentRepository } from './content.js';
import { contentEpoch, perEpoch } from './epoch.js';
import { presentSource, type SourcesRepository } from './sources.js';
import { links } from '../http/links.js';

export interface ConditionFilter {
  q?: string;
  code?: { system: string; code: string };
  after?: string;
  limit: number;
}

interface SummaryRow {
  id: string;
  name: string;
  summary: string;
  version: number;
  last_reviewed: string;
  aliases: string;
  codes: string;
}

export function createConditionsRepository(db: Sqlite, sources: SourcesRepository) {
  const content = createContentRepository(db);
  // Aliases and codes are aggregated by SQLite into JSON so a page of summaries is one query.
  const list = db.prepare<[{ q: string | null; system: string | null; code: string | null; after: string | null; limit: number }], SummaryRow>(
    `SELECT c.id, c.name, c.summary, c.version, c.last_reviewed,
       (SELECT json_group_array(alias) FROM (SELECT alias FROM condition_aliases WHERE condition_id = c.id ORDER BY position)) AS aliases,
       (SELECT json_group_array(json_object('system', system, 'code', code, 'display', display, 'match', match, 'note', note, 'confidence', confidence))
          FROM (SELECT * FROM condition_codes WHERE condition_id = c.id ORDER BY position)) AS codes
     FROM conditions c
     WHERE (@after IS NULL OR c.id > @after)
       AND (@system IS NULL OR EXISTS (SELECT 1 FROM condition_codes k WHERE k.condition_id = c.id AND k.system = @system AND upper(k.code) = upper(@code)))
       AND (@q IS NULL OR instr(lower(c.name), lower(@q)) > 0 OR instr(lower(c.summary), lower(@q)) > 0
            OR EXISTS (SELECT 1 FROM condition_aliases a WHERE a.condition_id = c.id AND instr(lower(a.alias), lower(@q)) > 0))
     ORDER BY c.id LIMIT @limit`,
  );
  const allIds = db.prepare<[], { id: string }>('SELECT id FROM conditions ORDER BY id');
  const versionOf = db.prepare<[string], { version: number; last_reviewed: string }>('SELECT version, last_reviewed FROM conditions WHERE id = ?');
  // Versions by condition id (a few dozen bytes per condition), for the current content epoch: see version() below.
  const rememberedVersions = perEpoch(contentEpoch(db), () => new Map<string, { version: number; lastReviewed: string }>());
  function currentVersion(id: string): { version: number; lastReviewed: string } | undefined {
    const versions = rememberedVersions.get();
    const known = versions.get(id);
    if (known) return known;
    const row = versionOf.get(id);
    if (!row) return undefined;
    const current = { version: row.version, lastReviewed: row.last_reviewed };
    versions.set(id, current);
    return current;
  }
  const treatmentName = db.prepare<[string], { name: string }>("SELECT name FROM statements WHERE id = ? AND section = 'treatments'");

  function presentStatistic(s: StatisticContent, conditionId: string, treatments?: Map<string, string>): Statistic {
    const primary = sources.cited(s.primarySource);
    const named = (id: string | null) => (id === null ? null : { id, name: treatments?.get(id) ?? treatmentName.get(id)?.name ?? id });
    const { treatment, sources: cited, comparedWith } = s;
    // Field by field, in the order of the content shape (rows.ts toStatistic) less the three
    // fields shaped here: spreading a rest copy of a 24-field object took ~50 µs per statistic
    // (V8's slow path for objects that size), a third of assembling a document.
    return {
      id: s.id,
      measure: s.measure,
      value: s.value,
      low: s.low,
      high: s.high,
      unit: s.unit,
      comparator: s.comparator,
      population: s.population,
      outcome: s.outcome,
      timepoint: s.timepoint,
      timepointMonths: s.timepointMonths,
      estimateType: s.estimateType,
      interval: s.interval,
      events: s.events,
      sampleSize: s.sampleSize,
      studyDesign: s.studyDesign,
      primarySource: s.primarySource,
      certainty: s.certainty,
      certaintyBasis: s.certaintyBasis,
      text: s.text,
      confidence: s.confidence,
      conditionId,
      comparedWith: comparedWith === null ? null : { label: comparedWith.label, treatment: named(comparedWith.treatment) },
      treatment: named(treatment),
      studyType: primary?.kind ?? 'unknown',
      year: primary?.year ?? null,
      sources: sources.refs(cited),
    };
  }

  function toDocument(c: ConditionContent): Condition {
    const refs = (list: readonly CitationContent[]) => sources.refs(list);
    // Lay questions feed retrieval; the document shows the items themselves.
    const withRefs = <T extends { sources: CitationContent[]; questions?: string[] }>({ questions: _questions, ...item }: T) => ({ ...item, sources: refs(item.sources) });
    const treatmentNames = new Map(c.treatments.map((t) => [t.id, t.name]));
    const statistics = c.statistics.map((s) => presentStatistic(s, c.id, treatmentNames));
    const groups = new Map<string, { measure: string; subject: string; statistics: string[] }>();
    for (const s of c.statistics) {
      const subject = s.treatment ?? 'condition';
      // Survival and mortality estimates of one subject sit in one group, named by the family.
      const family = MEASURE_FAMILIES[s.measure]?.[0] ?? s.measure;
      const key = `${family}|${subject}`;
      const group = groups.get(key) ?? { measure: family, subject, statistics: [] };
      group.statistics.push(s.id);
      groups.set(key, group);
    }
    const cited = new Set(
      [c.summarySources, ...c.statistics.map((s) => s.sources), ...c.related.map((r) => r.sources), ...STATEMENT_SECTIONS.flatMap(({ key }) => c[key].map((s) => s.sources))].flatMap(citedIds),
    );
    const ownSources = c.sources.map(presentSource);
    // Sources defined in another condition's file but cited here belong in this document too.
    const foreign = [...cited].filter((id) => !c.sources.some((s) => s.id === id)).flatMap((id) => sources.get(id) ?? []);
    const statsByTreatment = new Map<string, string[]>();
    for (const s of c.statistics) if (s.treatment) statsByTreatment.set(s.treatment, [...(statsByTreatment.get(s.treatment) ?? []), s.id]);
    return {
      id: c.id,
      name: c.name,
      aliases: c.aliases,
      summary: c.summary,
      summarySources: refs(c.summarySources),
      codes: c.codes,
      symptoms: c.symptoms.map(withRefs),
      causes: c.causes.map(withRefs),
      riskFactors: c.riskFactors.map(withRefs),
      complications: c.complications.map(withRefs),
      diagnosis: c.diagnosis.map(withRefs),
      treatments: c.treatments.map(({ regulatoryStatus, regulatoryNote, ...t }) => ({
        ...withRefs(t),
        conditionId: c.id,
        regulatory: { status: regulatoryStatus, note: regulatoryNote },
        statistics: statsByTreatment.get(t.id) ?? [],
      })),
      prognosis: c.prognosis.map(withRefs),
      prevention: c.prevention.map(withRefs),
      whenToSeekCare: c.whenToSeekCare.map(withRefs),
      differentialDiagnosis: c.differentialDiagnosis.map(withRefs),
      statistics,
      statisticGroups: [...groups.values()],
      sources: [...ownSources, ...foreign],
      related: c.related.map((r) => ({
        conditionId: r.condition,
        name: r.name,
        relation: r.relation,
        text: r.text,
        sources: refs(r.sources),
        url: currentVersion(r.condition) ? links.condition(r.condition) : null,
        inKnowledgeBase: currentVersion(r.condition) !== undefined,
      })),
      lastReviewed: c.lastReviewed,
      version: c.version,
      disclaimer: DISCLAIMER,
    };
  }

  const readDocument = db.transaction((id: string) => {
    const c = content.get(id);
    return c ? toDocument(c) : undefined;
  });

  return {
    list(f: ConditionFilter): ConditionSummary[] {
      return list
        .all({ q: f.q ?? null, system: f.code?.system ?? null, code: f.code?.code ?? null, after: f.after ?? null, limit: f.limit })
        .map((r) => ({
          id: r.id,
          name: r.name,
          aliases: JSON.parse(r.aliases) as string[],
          summary: r.summary,
          codes: JSON.parse(r.codes) as ConditionSummary['codes'],
          version: r.version,
          lastReviewed: r.last_reviewed,
          url: links.condition(r.id),
        }));
    },
    /** Every condition id, in id order. */
    ids(): string[] {
      return allIds.all().map((r) => r.id);
    },
    /** The whole document, or undefined when there is no such condition. */
    document(id: string): Condition | undefined {
      return readDocument(id);
    },
    /**
     * Current version, for cache keys. Asked on every document request, so it is remembered in
     * process for the current content epoch: its SELECT was ~10% of a cached document's server CPU
     * time (see README, Performance). Unknown ids are never remembered.
     */
    version: currentVersion,
    /** Drops the remembered versions; the next `version(id)` asks the database. */
    forgetVersions(): void {
      rememberedVersions.clear();
    },
    presentStatistic,
  };
}

export type ConditionsRepository = ReturnType<typeof createConditionsRepository>;
