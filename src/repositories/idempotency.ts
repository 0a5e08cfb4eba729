/**
 * Responses of successful creates, by API key and `Idempotency-Key`, so that a retried POST gets
 * the original answer instead of creating twice (or a 409). Kept for a day: a retry comes within
 * minutes, and the table must not grow without bound.
 */
import type { Sqlite } from '../db/connection.js';

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

export interface StoredResponse {
  requestHash: string;
  status: number;
  body: string;
  location: string | null;
}

export function createIdempotencyRepository(db: Sqlite) {
  const get = db.prepare<[string, string, string], { request_hash: string; status: number; body: string; location: string | null }>(
    'SELECT request_hash, status, body, location FROM idempotency_keys WHERE key_id = ? AND key = ? AND created_at >= ?',
  );
  const insert = db.prepare<[string, string, string, number, string, string | null, string]>(
    `INSERT INTO idempotency_keys (key_id, key, request_hash, status, body, location, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (key_id, key) DO UPDATE SET request_hash = excluded.request_hash, status = excluded.status, body = excluded.body,
       location = excluded.location, created_at = excluded.created_at`,
  );
  const prune = db.prepare<[string]>('DELETE FROM idempotency_keys WHERE created_at < ?');
  const cutoff = (now: Date) => new Date(now.getTime() - IDEMPOTENCY_TTL_MS).toISOString();

  return {
    get(keyId: string, key: string, now: Date = new Date()): StoredResponse | undefined {
      const row = get.get(keyId, key, cutoff(now));
      return row ? { requestHash: row.request_hash, status: row.status, body: row.body, location: row.location } : undefined;
    },
    save(keyId: string, key: string, response: StoredResponse, now: Date = new Date()): void {
      prune.run(cutoff(now));
      insert.run(keyId, key, response.requestHash, response.status, response.body, response.location, now.toISOString());
    },
  };
}

export type IdempotencyRepository = ReturnType<typeof createIdempotencyRepository>;
