import { openDatabase } from '/work/wt-retrieval/src/db/connection.ts';
import { createRetrieval } from '/work/wt-retrieval/src/retrieval/engine.ts';
const db = openDatabase('/tmp/r.sqlite', { readonly: true });
const r = createRetrieval(db);
for (const q of process.argv.slice(2)) {
  const res = r.rank(q, { limit: 5 });
  console.log(`\n## ${q}  → answerable=${res.answerable} cond=${res.condition} expr=${res.query.expression}`);
  for (const row of res.rows.slice(0, 5)) console.log(`  ${row.score.toFixed(2)} ${row.entityId}`);
}
