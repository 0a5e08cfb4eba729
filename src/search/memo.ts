/**
 * Answers remembered for one content epoch, least recently used dropped first. Ranking a question
 * computes bm25 for every row that matches it, so its cost grows with the corpus for common words
 * ("skin" matches thousands of rows at 1,000 conditions); asked again while the content is the same,
 * the answer is the same. When the epoch moves on (a write here or in another process), everything
 * remembered goes at once, as the render cache's entries do.
 */
import { perEpoch, type ContentEpoch } from '../repositories/epoch.js';

export interface Memo<T> {
  /** The answer remembered for `key` in this epoch, else `compute()`'s (remembered unless it throws). */
  get(key: string, compute: () => T): T;
}

export function createMemo<T>(epoch: ContentEpoch, maxEntries: number): Memo<T> {
  const entries = perEpoch(epoch, () => new Map<string, T>());
  return {
    get(key, compute) {
      const map = entries.get();
      if (map.has(key)) {
        const known = map.get(key) as T;
        // Most recently used last: Map iteration order is insertion order.
        map.delete(key);
        map.set(key, known);
        return known;
      }
      const value = compute();
      map.set(key, value);
      if (map.size > maxEntries) {
        const oldest = map.keys().next();
        if (!oldest.done) map.delete(oldest.value);
      }
      return value;
    },
  };
}
