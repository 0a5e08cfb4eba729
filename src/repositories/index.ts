/**
 * All repositories of one database. SQL lives in these modules and nowhere else; routes get
 * typed rows (or undefined, which they turn into a 404 problem).
 */
import type { Sqlite } from '../db/connection.js';
import { createConditionsRepository } from './conditions.js';
import { createContentRepository } from './content.js';
import { createFactsRepository } from './facts.js';
import { createMetaRepository } from './meta.js';
import { createSearchRepository } from './search.js';
import { createSourcesRepository } from './sources.js';
import { createStatisticsRepository } from './statistics.js';
import { createTreatmentsRepository } from './treatments.js';
import { createCodesRepository } from './codes.js';
import { createChangesRepository } from './changes.js';
import { createApiKeysRepository } from './apiKeys.js';
import { createIdempotencyRepository } from './idempotency.js';
import { createWritesRepository } from './rows.js';
import { createRetrieval } from '../retrieval/engine.js';

export function createRepositories(db: Sqlite) {
  const sources = createSourcesRepository(db);
  const retrieval = createRetrieval(db);
  return {
    content: createContentRepository(db),
    sources,
    conditions: createConditionsRepository(db, sources),
    meta: createMetaRepository(db),
    facts: createFactsRepository(db, sources),
    retrieval,
    search: createSearchRepository(db, sources, retrieval),
    statistics: createStatisticsRepository(db),
    treatments: createTreatmentsRepository(db, sources),
    codes: createCodesRepository(db),
    changes: createChangesRepository(db),
    apiKeys: createApiKeysRepository(db),
    idempotency: createIdempotencyRepository(db),
    writes: createWritesRepository(db),
  };
}

export type Repositories = ReturnType<typeof createRepositories>;
