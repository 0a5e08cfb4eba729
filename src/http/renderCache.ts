/**
 * Serialized response bodies by resource and representation, each with its strong ETag. A cached
 * document is served as bytes: no assembly, no serialization on the hot path. Keys include the
 * content version, so a changed document can never be served from an old entry; writes also call
 * `invalidate` so the old bytes do not linger.
 */
import { createHash } from 'node:crypto';

export interface Rendered {
  body: Buffer;
  etag: string;
  contentType: string;
}

/** The opaque part of an ETag: a content hash, so identical bytes get identical ETags anywhere. */
export function contentHash(body: Buffer | string): string {
  return createHash('sha256').update(body).digest('base64url').slice(0, 32);
}

export function etagOf(body: Buffer | string): string {
  return `"${contentHash(body)}"`;
}

export class RenderCache {
  private readonly entries = new Map<string, Rendered>();

  constructor(private readonly maxEntries = 5000) {}

  get(key: string, render: () => { body: string | Buffer; contentType: string }): Rendered {
    const hit = this.entries.get(key);
    if (hit) return hit;
    const { body, contentType } = render();
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    const entry = { body: bytes, etag: etagOf(bytes), contentType };
    // A simple bound: the corpus is small; if it outgrows the cache, start over rather than grow.
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(key, entry);
    return entry;
  }

  /** Drops every entry of a resource (all representations, all versions). */
  invalidate(prefix: string): void {
    for (const key of this.entries.keys()) if (key.startsWith(prefix)) this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
