import type { Sqlite } from '../db/connection.js';

export interface DatasetMeta {
  datasetVersion: string;
  builtAt: string;
  licence: string;
  attribution: string;
  lastReviewed: string | null;
  counts: { conditions: number; statements: number; statistics: number; sources: number; codes: number };
}

export function createMetaRepository(db: Sqlite) {
  const values = db.prepare<[], { key: string; value: string }>('SELECT key, value FROM meta');
  const counts = db.prepare<[], DatasetMeta['counts'] & { last_reviewed: string | null }>(
    `SELECT (SELECT count(*) FROM conditions) AS conditions,
            (SELECT count(*) FROM statements) AS statements,
            (SELECT count(*) FROM statistics) AS statistics,
            (SELECT count(*) FROM sources) AS sources,
            (SELECT count(*) FROM condition_codes) + (SELECT count(*) FROM treatment_codes) AS codes,
            (SELECT max(last_reviewed) FROM conditions) AS last_reviewed`,
  );
  return {
    get(): DatasetMeta {
      const kv = Object.fromEntries(values.all().map((r) => [r.key, r.value]));
      const { last_reviewed, ...c } = counts.get() ?? { conditions: 0, statements: 0, statistics: 0, sources: 0, codes: 0, last_reviewed: null };
      return {
        datasetVersion: kv.datasetVersion ?? 'unknown',
        builtAt: kv.builtAt ?? 'unknown',
        licence: kv.licence ?? '',
        attribution: kv.attribution ?? '',
        lastReviewed: last_reviewed,
        counts: c,
      };
    },
  };
}

export type MetaRepository = ReturnType<typeof createMetaRepository>;
