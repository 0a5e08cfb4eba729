/**
 * Grounding a chatbot answer: search → facts → markdown.
 *
 *   1. search   ranked hits for the user's terms, each with its stable id and sources
 *   2. facts    the top hits as atomic facts: text, confidence and citations, to cite by id
 *   3. markdown the matching facts of the best condition as one Markdown block, with numbered
 *               references, the review date and the disclaimer, ready to put in a prompt
 *
 * Run against a server: `npm start`, then
 *   KB_URL=http://127.0.0.1:3000 npx tsx examples/grounding.ts thiosulfate
 */
import { fileURLToPath } from 'node:url';
import { createKbClient, type FactDocument, type KbClient, type SearchResults } from './client/index.js';

export interface Grounding {
  query: string;
  hits: SearchResults['data'];
  facts: FactDocument[];
  markdown: string;
}

export async function ground(kb: KbClient, query: string, maxFacts = 5): Promise<Grounding> {
  const results = await kb.search(query, { limit: maxFacts });
  // A condition hit is a whole document, not a fact; the chatbot cites facts.
  const factHits = results.data.filter((hit) => hit.kind !== 'condition');
  const facts = await Promise.all(factHits.map((hit) => kb.getFact(hit.id)));
  const condition = results.data[0]?.conditionId;
  const markdown = condition ? await kb.factsMarkdown({ condition, q: query, limit: maxFacts }) : '';
  return { query, hits: results.data, facts, markdown };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const kb = createKbClient(process.env.KB_URL ?? 'http://127.0.0.1:3000');
  const query = process.argv.slice(2).join(' ') || 'thiosulfate';
  const { hits, facts, markdown } = await ground(kb, query);
  console.log(`${hits.length} hit(s) for ${JSON.stringify(query)}; facts to cite:`);
  for (const fact of facts) console.log(`  ${fact.id} [${fact.sources.map((s) => s.id).join(', ')}]`);
  console.log(`\n${markdown || 'No matching facts.'}`);
}
