/**
 * The encoding of a `built_contents` body (db/schema.ts): JSON compressed as one stream per
 * condition. Brotli since migration 0011; rows written before it are raw DEFLATE, and their
 * `encoding` column (defaulted by the migration) says so, so both read back the same.
 */
import { brotliCompressSync, brotliDecompressSync, constants, inflateRawSync } from 'node:zlib';
import type { EntityType } from '../content/schema.js';

export type BuiltEncoding = 'deflate-raw' | 'br';

/** What the build writes. */
export const BUILT_ENCODING: BuiltEncoding = 'br';

/**
 * Quality 5: at 1,000 conditions 8.2 MB in ~0.8 s of CPU, where raw DEFLATE at level 3 gave
 * 9.6 MB in ~0.35 s and Brotli 4 8.8 MB in ~0.55 s (higher qualities gain <0.2 MB for much more).
 */
const QUALITY = 5;

export function encodeBuiltContents(contents: Record<string, unknown>): Buffer {
  const json = Buffer.from(JSON.stringify(contents), 'utf8');
  return brotliCompressSync(json, { params: { [constants.BROTLI_PARAM_QUALITY]: QUALITY, [constants.BROTLI_PARAM_SIZE_HINT]: json.length } });
}

export function decodeBuiltContents(body: Buffer, encoding: BuiltEncoding): Record<string, unknown> {
  const json = encoding === 'br' ? brotliDecompressSync(body) : inflateRawSync(body);
  return JSON.parse(json.toString('utf8')) as Record<string, unknown>;
}

/** The key of an entity in a body: `"<entityType> <entityId>"` (ids have no space). */
export function builtContentKey(entityType: EntityType, entityId: string): string {
  return `${entityType} ${entityId}`;
}
