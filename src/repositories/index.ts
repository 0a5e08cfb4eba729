/**
 * All repositories of one database. SQL lives in these modules and nowhere else; routes get
 * typed rows (or undefined, which they turn into a 404 problem).
 */
import type { Sqlite } from '../db/connection.js';
import { createConditionsRepository } from './conditions.js';
import { createContentRepository } from './content.js';
import { createMetaRepository } from './meta.js';
import { createSourcesRepository } from './sources.js';

export function createRepositories(db: Sqlite) {
  const sources = createSourcesRepository(db);
  return {
    content: createContentRepository(db),
    sources,
    conditions: createConditionsRepository(db, sources),
    meta: createMetaRepository(db),
  };
}

export type Repositories = ReturnType<typeof createRepositories>;
