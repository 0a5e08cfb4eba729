import type { Sqlite } from '../db/connection.js';
import { shortCitation, sourceUrl } from '../content/citation.js';
import type { SourceContent } from '../content/schema.js';
import type { SourceRef } from '../schemas/common.js';
import type { Source } from '../schemas/source.js';
import { toSource, type SourceRow } from './content.js';

export function presentSource(s: SourceContent): Source {
  return { ...s, url: sourceUrl(s), citation: shortCitation(s) };
}

export interface CitedSource {
  ref: SourceRef;
  kind: SourceContent['kind'];
  year: number | null;
}

export interface SourceFilter {
  kind?: string;
  attribution?: string;
  condition?: string;
  after?: string;
  limit: number;
}

export function createSourcesRepository(db: Sqlite) {
  const byId = db.prepare<[string], SourceRow>('SELECT * FROM sources WHERE id = ?');
  const list = db.prepare<[{ kind: string | null; attribution: string | null; condition: string | null; after: string | null; limit: number }], SourceRow>(
    `SELECT s.* FROM sources s
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
  // Short citations are read on every document and statistic: keep them in memory (sources are few
  // and change only through a rebuild or a curated write, which calls invalidate()).
  let index: Map<string, CitedSource> | undefined;
  const allRows = db.prepare<[], SourceRow>('SELECT * FROM sources');

  function citedSources(): Map<string, CitedSource> {
    index ??= new Map(
      allRows.all().map((r) => [r.id, { ref: { id: r.id, citation: shortCitation(toSource(r)) }, kind: r.kind as SourceContent['kind'], year: r.year }]),
    );
    return index;
  }

  return {
    get(id: string): Source | undefined {
      const row = byId.get(id);
      return row ? presentSource(toSource(row)) : undefined;
    },
    list(f: SourceFilter): Source[] {
      return list.all({ kind: f.kind ?? null, attribution: f.attribution ?? null, condition: f.condition ?? null, after: f.after ?? null, limit: f.limit }).map((r) => presentSource(toSource(r)));
    },
    /** Citation refs for source ids, in the order given. */
    refs(ids: readonly string[]): SourceRef[] {
      const map = citedSources();
      return ids.map((id) => map.get(id)?.ref ?? { id, citation: 'Unidentified source' });
    },
    /** Kind and year of a source, for the study type and year of the statistics citing it. */
    cited(id: string): CitedSource | undefined {
      return citedSources().get(id);
    },
    invalidate(): void {
      index = undefined;
    },
  };
}

export type SourcesRepository = ReturnType<typeof createSourcesRepository>;
