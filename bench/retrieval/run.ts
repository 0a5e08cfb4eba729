/**
 * `npm run bench:retrieval`: builds the shipped content into a temporary database, runs the
 * benchmark questions, and prints recall@5, MRR and the rate of correct "not answerable" per user
 * group, then every miss with what was returned instead (`--all` prints every question).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFromContent } from '../../src/content/build.js';
import { openDatabase } from '../../src/db/connection.js';
import { CONTENT_DIR } from '../../src/paths.js';
import { createRetrieval } from '../../src/retrieval/engine.js';
import { TARGETS, loadQuestions, metricsByGroup, runQuestions } from './evaluate.js';

const dir = mkdtempSync(join(tmpdir(), 'bench-retrieval-'));
try {
  const path = join(dir, 'kb.sqlite');
  buildFromContent(CONTENT_DIR, path);
  const db = openDatabase(path, { readonly: true });
  const results = runQuestions(createRetrieval(db), loadQuestions());
  console.table(metricsByGroup(results));
  console.log(`targets: recall@5 ≥ ${TARGETS.recallAt5}, MRR ≥ ${TARGETS.mrr}, correctly unanswerable ≥ ${TARGETS.correctlyUnanswerable}`);
  const all = process.argv.includes('--all');
  for (const r of results) {
    const miss = r.answers.length > 0 ? r.rank !== 1 || !r.answerable : r.answerable;
    if (!all && !miss) continue;
    const verdict = r.answers.length === 0 ? (r.answerable ? 'WRONGLY ANSWERABLE' : 'ok: not answerable') : r.rank === null ? 'MISS' : `rank ${r.rank}`;
    console.log(`\n[${r.group}] ${r.q}${r.condition ? ` (condition=${r.condition})` : ''} → ${verdict}`);
    for (const t of r.top) console.log(`   ${t.score.toFixed(2).padStart(6)} ${t.id}${r.answers.includes(t.id) ? '  ✓' : ''}`);
  }
  db.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
