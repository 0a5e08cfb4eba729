import type { Sqlite } from '../db/connection.js';
import { shortCitation, sourceUrl } from '../content/citation.js';
import { citationRef, type CitationContent, type SourceContent } from '../content/schema.js';
import type { SourceRef } from '../schemas/common.js';
import type { Source } from '../schemas/source.js';
import * as t from '../../db/schema.js';
import { contentEpoch, perEpoch } from './epoch.js';
import { selectColumns, toSource, type SourceRow } from './rowContent.js';

/** A source as the API shows it: its fields in content order (rows.ts toSource), its link and short citation. */
export function presentSource(s: SourceContent): Source {
  // Field by field: spreading the 17-field object was ~10 µs per source (V8's slow path).
  return {
    id: s.id,
    kind: s.kind,
    year: s.year,
    title: s.title,
    label: s.label,
    authors: s.authors,
    journal: s.journal,
    volume: s.volume,
    pages: s.pages,
    doi: s.doi,
    pmid: s.pmid,
    pmcid: s.pmcid,
    url: sourceUrl(s),
    citedAs: s.citedAs,
    attribution: s.attribution,
    licence: s.licence,
    note: s.note,
    citation: shortCitation(s),
  };
}

export interface CitedSource {
  /** The ref without its locator, which belongs to each citation. */
  ref: Omit<SourceRef, 'locator'>;
  kind: SourceContent['kind'];
  year: number | null;
}

/** Something that cites a source: a statement, a statistic, a condition summary or a related-condition link. */
export interface Citing {
  entityType: 'statement' | 'statistic' | 'summary' | 'related';
  /** Statement or statistic id; the condition id for a summary; the linked condition's id for a related link. */
  id: string;
  conditionId: string;
  /** The section key of a citing statement (where it is served); null otherwise. */
  section: string | null;
}

export interface SourceFilter {
  kind?: string;
  attribution?: string;
  condition?: string;
  after?: string;
  limit: number;
}

export function createSourcesRepository(db: Sqlite) {
  const byId = db.prepare<[string], SourceRow>(`SELECT ${selectColumns(t.sources)} FROM sources WHERE id = ?`);
  const list = db.prepare<[{ kind: string | null; attribution: string | null; condition: string | null; after: string | null; limit: number }], SourceRow>(
    `SELECT ${selectColumns(t.sources, 's')} FROM sources s
     WHERE (@kind IS NULL OR s.kind = @kind)
       AND (@attribution IS NULL OR s.attribution = @attribution)
       AND (@condition IS NULL OR s.id IN (
             SELECT c.source_id FROM citations c
             WHERE (c.entity_type = 'summary' AND c.entity_id = @condition)
                OR (c.entity_type = 'statement' AND c.entity_id IN (SELECT id FROM statements WHERE condition_id = @condition))
                OR (c.entity_type = 'statistic' AND c.entity_id IN (SELECT id FROM statistics WHERE condition_id = @condition))
                OR (c.entity_type = 'related' AND c.entity_id >= @condition || '#' AND c.entity_id < @condition || '$')))
       AND (@after IS NULL OR s.id > @after)
     ORDER BY s.id LIMIT @limit`,
  );
  const citing = db.prepare<[string], { entity_type: Citing['entityType']; id: string; condition_id: string; section: string | null }>(
    `SELECT * FROM (
       SELECT DISTINCT c.entity_type,
         CASE c.entity_type WHEN 'related' THEN r.related_id ELSE c.entity_id END AS id,
         CASE c.entity_type WHEN 'summary' THEN c.entity_id WHEN 'statement' THEN st.condition_id
                            WHEN 'statistic' THEN sx.condition_id WHEN 'related' THEN r.condition_id END AS condition_id,
         st.section
       FROM citations c
       LEFT JOIN statements st ON c.entity_type = 'statement' AND st.id = c.entity_id
       LEFT JOIN statistics sx ON c.entity_type = 'statistic' AND sx.id = c.entity_id
       LEFT JOIN related_conditions r ON c.entity_type = 'related' AND c.entity_id = r.condition_id || '#related-' || r.position
       WHERE c.source_id = ?)
     WHERE id IS NOT NULL AND condition_id IS NOT NULL
     ORDER BY condition_id, entity_type, id`,
  );
  // Sources are curated inside a condition file, so they are reviewed with that condition.
  const reviewed = db.prepare<[string], { last_reviewed: string | null }>(
    `SELECT max(c.last_reviewed) AS last_reviewed FROM sources s JOIN conditions c ON c.id = s.defined_in
     WHERE s.id IN (SELECT value FROM json_each(?))`,
  );
  // Short citations are read on every document and statistic: remembered for the current content
  // epoch, each source when first cited. (Building them all at once cost ~200 ms at 1,000
  // conditions, on the first request and again after every write, for the few a response needs.)
  const known = perEpoch(contentEpoch(db), () => new Map<string, CitedSource | null>());
  function citedSource(id: string): CitedSource | undefined {
    const memo = known.get();
    let entry = memo.get(id);
    if (entry === undefined) {
      const r = byId.get(id);
      const source = r ? toSource(r) : undefined;
      entry = r && source ? { ref: { id: r.id, citation: shortCitation(source), doi: r.doi, pmid: r.pmid, url: sourceUrl(source) }, kind: source.kind, year: r.year } : null;
      memo.set(id, entry);
    }
    return entry ?? undefined;
  }

  return {
    get(id: string): Source | undefined {
      const row = byId.get(id);
      return row ? presentSource(toSource(row)) : undefined;
    },
    list(f: SourceFilter): Source[] {
      return list.all({ kind: f.kind ?? null, attribution: f.attribution ?? null, condition: f.condition ?? null, after: f.after ?? null, limit: f.limit }).map((r) => presentSource(toSource(r)));
    },
    /** Citation refs, in the order given, with the work's identifiers so a client can link without a second call. */
    refs(list: readonly CitationContent[]): SourceRef[] {
      return list.map((entry) => {
        const { id, locator } = citationRef(entry);
        const known = citedSource(id)?.ref ?? { id, citation: 'Unidentified source', doi: null, pmid: null, url: null };
        return { id: known.id, citation: known.citation, locator, doi: known.doi, pmid: known.pmid, url: known.url };
      });
    },
    /** Kind and year of a source, for the study type and year of the statistics citing it. */
    cited(id: string): CitedSource | undefined {
      return citedSource(id);
    },
    /** Everything that cites a source, grouped by condition (links.citing says where each is served). */
    citedBy(id: string): Citing[] {
      return citing.all(id).map((r) => ({ entityType: r.entity_type, id: r.id, conditionId: r.condition_id, section: r.section }));
    },
    /** Latest review date of the conditions that define these sources; null for none. */
    lastReviewed(ids: readonly string[]): string | null {
      return ids.length === 0 ? null : (reviewed.get(JSON.stringify(ids))?.last_reviewed ?? null);
    },
  };
}

export type SourcesRepository = ReturnType<typeof createSourcesRepository>;
