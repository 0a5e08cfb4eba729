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

function renderedOf({ body, contentType }: Body): Rendered {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  return { body: bytes, etag: etagOf(bytes), contentType };
}

/** True when the Buffer is the whole of its ArrayBuffer (not a slice of a pool or of a larger buffer). */
function ownsItsMemory(body: Buffer): boolean {
  return body.byteOffset === 0 && body.buffer.byteLength === body.length;
}

/** A copy in an allocation of its own (Buffer.from(buffer) would take a pool slice again). */
function ownCopy(body: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(body.length);
  body.copy(copy);
  return copy;
}

/**
 * What an entry holds in memory: its body, its key and ETag strings, and ~200 bytes of objects
 * (the entry, the Buffer and its ArrayBuffer, two Map slots). Small representations (a fact, a
 * section's Markdown) are hundreds of bytes, so the fixed part is not negligible next to them.
 */
export function costOf(key: string, entry: Rendered): number {
  return entry.body.length + key.length + entry.etag.length + entry.contentType.length + ENTRY_OVERHEAD;
}
const ENTRY_OVERHEAD = 200;

export class RenderCache {
  private readonly entries = new Map<string, Rendered>();
  private readonly listeners: ((prefix: string | undefined) => void)[] = [];
  private bytes = 0;

  private seenEpoch: string | undefined;

  /**
   * At most `maxEntries` entries and `maxBytes` held (costOf: bodies, keys, ETags and the objects
   * around them), least recently used dropped first: a document is ~133 KB in each
   * representation, so at a thousand conditions the entry bound alone would let the cache grow
   * past the memory target. maxEntries 0 turns caching off (RENDER_CACHE=off): every get renders.
   */
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
    const hit = this.lookup(key);
    if (hit) {
      // Most recently used last: Map iteration order is insertion order.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const fresh = render();
    if (fresh === undefined) return undefined;
    const entry = renderedOf(fresh);
    const bytes = costOf(key, entry);
    if (this.maxEntries === 0 || bytes > this.maxBytes) return entry;
    // A body that shares an allocation pool (Buffer.from of a string under 4 KB takes a slice of
    // an 8 KB pool) would keep the whole pool alive: kept bodies get an allocation of their own,
    // so the byte bound counts what the cache actually holds.
    const kept = ownsItsMemory(entry.body) ? entry : { ...entry, body: ownCopy(entry.body) };
    this.entries.set(key, kept);
    this.bytes += bytes;
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) break;
      this.remove(oldest);
    }
    return kept;
  }

  /**
   * The cached entry for `key` if there is one, else what `render` gives, *not* kept, and without
   * making the entry more recently used: for a reader of many resources once (the bulk export),
   * which would otherwise fill the cache with documents nobody asks for again and evict the ones
   * clients read.
   */
  peekOrRender(key: string, render: () => Body | undefined): Rendered | undefined {
    const hit = this.lookup(key);
    if (hit) return hit;
    const fresh = render();
    return fresh === undefined ? undefined : renderedOf(fresh);
  }

  /** Bytes held by the cache's entries (bodies, keys, ETags and a fixed overhead per entry). */
  get size(): number {
    return this.bytes;
  }

  private lookup(key: string): Rendered | undefined {
    if (this.epoch) {
      const now = this.epoch();
      if (now !== this.seenEpoch) {
        if (this.seenEpoch !== undefined) this.clear();
        this.seenEpoch = now;
      }
    }
    return this.entries.get(key);
  }

  private remove(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= costOf(key, entry);
  }

  /** Drops every entry of a resource (all representations, all versions). */
  invalidate(prefix: string): void {
    for (const key of this.entries.keys()) if (key.startsWith(prefix)) this.remove(key);
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
