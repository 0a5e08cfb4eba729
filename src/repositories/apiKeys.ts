/**
 * API keys as stored: id, name, scopes, salt and hash, never the secret. Created and revoked by
 * the `kb keys` command; read by the auth plugin on every authenticated request.
 */
import type { Sqlite } from '../db/connection.js';
import { generateKey, isScope, parseKey, verifySecret, type Scope } from '../auth/keys.js';

export interface ApiKey {
  id: string;
  name: string;
  scopes: Scope[];
  createdAt: string;
  revokedAt: string | null;
}

interface Row {
  id: string;
  name: string;
  scopes: string;
  salt: string;
  hash: string;
  created_at: string;
  revoked_at: string | null;
}

const toKey = (r: Row): ApiKey => ({
  id: r.id,
  name: r.name,
  scopes: (JSON.parse(r.scopes) as string[]).filter(isScope),
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
});

/** A fixed salt and hash to compare against when the id is unknown, so both paths cost the same. */
const DUMMY = generateKey();

export function createApiKeysRepository(db: Sqlite) {
  const insert = db.prepare<[string, string, string, string, string, string]>(
    'INSERT INTO api_keys (id, name, scopes, salt, hash, created_at) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const byId = db.prepare<[string], Row>('SELECT * FROM api_keys WHERE id = ?');
  const all = db.prepare<[], Row>('SELECT * FROM api_keys ORDER BY created_at, id');
  const revoke = db.prepare<[string, string]>('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');

  return {
    /** Creates a key and returns it with the one and only copy of the full key string. */
    create(name: string, scopes: readonly Scope[], now: Date = new Date()): ApiKey & { key: string } {
      const generated = generateKey();
      const createdAt = now.toISOString();
      const unique = [...new Set(scopes)];
      insert.run(generated.id, name, JSON.stringify(unique), generated.salt, generated.hash, createdAt);
      return { id: generated.id, name, scopes: unique, createdAt, revokedAt: null, key: generated.key };
    },
    list(): ApiKey[] {
      return all.all().map(toKey);
    },
    get(id: string): ApiKey | undefined {
      const row = byId.get(id);
      return row ? toKey(row) : undefined;
    },
    /** true when the key existed and was active; revoking twice keeps the first revocation time. */
    revoke(id: string, now: Date = new Date()): boolean {
      return revoke.run(now.toISOString(), id).changes === 1;
    },
    /** The active key a presented token belongs to, or undefined (malformed, unknown, revoked or wrong secret). */
    authenticate(token: string): ApiKey | undefined {
      const result = this.verify(token);
      return 'key' in result ? result.key : undefined;
    },
    /**
     * Like authenticate, with the reason for a refusal: `guess` when the token is malformed, names
     * an unknown id or has a wrong secret (what a lockout counts per id), `revoked` when it is the
     * right secret of a revoked key (a stale configuration, not a guess).
     */
    verify(token: string): { key: ApiKey } | { refused: 'guess' | 'revoked'; id: string | undefined } {
      const parsed = parseKey(token);
      if (!parsed) return { refused: 'guess', id: undefined };
      const row = byId.get(parsed.id);
      const ok = verifySecret(parsed.secret, row?.salt ?? DUMMY.salt, row?.hash ?? DUMMY.hash);
      if (!row || !ok) return { refused: 'guess', id: parsed.id };
      if (row.revoked_at !== null) return { refused: 'revoked', id: parsed.id };
      return { key: toKey(row) };
    },
  };
}

export type ApiKeysRepository = ReturnType<typeof createApiKeysRepository>;
