/**
 * Serialized response bodies by resource and representation, each with its strong ETag. A cached
 * document is served as bytes: no assembly, no serialization on the hot path. The cache belongs to
 * one content epoch (src/repositories/epoch.ts): when the epoch moves on (a commit here or in any
 * other process on the same file), every entry goes, so no writer has to invalidate anything.
 * `invalidate` and `onInvalidate` remain for dropping entries by hand (operations, tests).
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

interface Body {
  body: string | Buffer;
  contentType: string;
}

export class RenderCache {
  private readonly entries = new Map<string, Rendered>();
  private readonly listeners: ((prefix: string | undefined) => void)[] = [];
  private bytes = 0;

  /**
   * At most `maxEntries` entries and `maxBytes` of bodies, least recently used dropped first: a
   * document is ~64 KB in each representation, so at a thousand conditions the entry bound alone
   * would let the cache grow past the memory target. maxEntries 0 turns caching off
   * (RENDER_CACHE=off): every get renders.
   */
  private seenEpoch: string | undefined;

  constructor(
    private readonly maxEntries = 5000,
    private readonly maxBytes = 64 * 2 ** 20,
    /** The content epoch the entries belong to; without one, entries live until invalidated. */
    private readonly epoch?: () => string,
  ) {}

  /** The cached entry for `key`, else what `render` gives (kept unless undefined: nothing to serve). */
  get(key: string, render: () => Body): Rendered;
  get(key: string, render: () => Body | undefined): Rendered | undefined;
  get(key: string, render: () => Body | undefined): Rendered | undefined {
    if (this.epoch) {
      const now = this.epoch();
      if (now !== this.seenEpoch) {
        if (this.seenEpoch !== undefined) this.clear();
        this.seenEpoch = now;
      }
    }
    const hit = this.entries.get(key);
    if (hit) {
      // Most recently used last: Map iteration order is insertion order.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const fresh = render();
    if (fresh === undefined) return undefined;
    const { body, contentType } = fresh;
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    const entry = { body: bytes, etag: etagOf(bytes), contentType };
    if (this.maxEntries === 0 || bytes.length > this.maxBytes) return entry;
    this.entries.set(key, entry);
    this.bytes += bytes.length;
    for (const [oldest, old] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= old.body.length;
    }
    return entry;
  }

  /** Drops every entry of a resource (all representations, all versions). */
  invalidate(prefix: string): void {
    for (const [key, entry] of this.entries) {
      if (!key.startsWith(prefix)) continue;
      this.entries.delete(key);
      this.bytes -= entry.body.length;
    }
    this.notify(prefix);
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
    this.notify(undefined);
  }

  /**
   * Runs `listener` on every invalidate (with its prefix) and clear (undefined), so in-process
   * caches derived from the same content, such as the conditions repository's version lookup,
   * are dropped by the one call that writers already make after a commit.
   */
  onInvalidate(listener: (prefix: string | undefined) => void): void {
    this.listeners.push(listener);
  }

  private notify(prefix: string | undefined): void {
    for (const listener of this.listeners) listener(prefix);
  }
}
