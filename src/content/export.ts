/**
 * SQLite → content files. The output is canonical (fixed key order, fixed YAML style), so
 * build → export → build → export yields byte-identical files, and a curated database can be
 * brought back into the repository as a reviewable diff.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Sqlite } from '../db/connection.js';
import { createContentRepository } from '../repositories/content.js';
import type { ConditionContent } from './schema.js';

const HEADER = `# Condition content: the source of truth for this condition in the knowledge base.
# Write in your own words; cite a source for every statement; leave unknown identifiers null.
# Check with \`npm run kb -- validate\`, then \`npm run kb -- build\`. Field reference: src/content/schema.ts.
`;

export function toYaml(content: ConditionContent): string {
  return HEADER + stringify(content, { lineWidth: 110, minContentWidth: 40, nullStr: 'null' });
}

/** Writes one `<id>.yaml` per condition into `dir`; returns the paths written. */
export function exportCorpus(sqlite: Sqlite, dir: string): string[] {
  const repo = createContentRepository(sqlite);
  mkdirSync(dir, { recursive: true });
  return repo.ids().map((id) => {
    const content = repo.get(id);
    if (!content) throw new Error(`condition ${id} vanished during export`);
    const path = join(dir, `${id}.yaml`);
    writeFileSync(path, toYaml(content));
    return path;
  });
}
