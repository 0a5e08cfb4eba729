/**
 * The dataset version is a hash of the content as JSON, so it depends on key order. Curated writes
 * recompute it from the content the database holds, and the crash test checks it after every kill:
 * a content file whose keys are not in the order the database gives back (for example `questions`
 * written after `frequency` instead of after `confidence`) makes the first write change the dataset
 * version of conditions nobody touched. This catches such a file in seconds, naming the key paths.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFromContent } from '../src/content/build.js';
import { canonicalJson, canonicalJsonByReplacer, datasetVersionOf } from '../src/repositories/rows.js';
import { loadContent } from '../src/content/load.js';
import { createContentRepository } from '../src/repositories/content.js';
import { CONTENT_DIR } from '../src/paths.js';

let dir: string;
let db: Database.Database;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kb-dataset-'));
  buildFromContent(CONTENT_DIR, join(dir, 'kb.sqlite'));
  db = new Database(join(dir, 'kb.sqlite'), { readonly: true });
});
afterAll(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Paths where two objects list their keys in a different order. */
function orderMismatches(a: unknown, b: unknown, path: string): string[] {
  if (!a || !b || typeof a !== 'object' || typeof b !== 'object') return [];
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  const here = ka.join(',') === kb.join(',') ? [] : [`${path}: ${ka.join(',')} ≠ ${kb.join(',')}`];
  return [...here, ...ka.flatMap((k) => orderMismatches((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}/${k}`))];
}

describe('dataset version', () => {
  it('is the same whether hashed from the content files or from the content the database gives back', () => {
    const repo = createContentRepository(db);
    const loaded = loadContent(CONTENT_DIR).map((c) => c.content);
    const stored = loaded.map((c) => repo.get(c.id));
    expect(loaded.flatMap((c, i) => orderMismatches(c, stored[i], c.id))).toEqual([]);
    expect(datasetVersionOf(stored.filter((c) => c !== undefined))).toBe(datasetVersionOf(loaded));
  });

  it('hashes canonical JSON written directly, the same string as JSON.stringify with a sorting replacer', () => {
    for (const c of loadContent(CONTENT_DIR)) expect(canonicalJson(c.content)).toBe(canonicalJsonByReplacer(c.content));
    const odd: unknown[] = [
      { b: 1, a: [3, { d: null, c: 'x' }], '10': 'ten', '2': 'two', '01': 'zero-one', '4294967295': 'not an index', 'é': 1, e: 2, E: 3 },
      { u: undefined, f: () => 1, n: Number.NaN, i: Number.POSITIVE_INFINITY, z: -0, nested: [undefined, () => 1, { y: undefined }] },
      JSON.parse('{"__proto__": {"b": 1, "a": 2}, "x": "\\u2028"}'),
      { when: new Date(0), list: [new Date(1)] },
      [],
      {},
      'text',
      42,
    ];
    for (const value of odd) expect(canonicalJson(value)).toBe(canonicalJsonByReplacer(value));
  });
});
