/**
 * Curator API keys: `kb_<id>_<secret>`. The id is public (it names the key in lists, logs and
 * revisions); the secret is 32 random bytes, shown once and never stored.
 *
 * Stored: a per-key random salt and HMAC-SHA256(salt, secret). A slow password hash (scrypt)
 * protects guessable passwords; a 256-bit random secret cannot be guessed, so a fast keyed hash
 * is as safe here and keeps authentication cheap on every write. Hashes are compared with
 * `timingSafeEqual`.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SCOPES = ['content:write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/** 12 lower-case hex characters: short enough to read out, never containing the `_` separator. */
const ID_PATTERN = /^[0-9a-f]{12}$/;
/** 32 bytes in base64url (43 characters); base64url may contain `_`, so the id is split off first. */
const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface GeneratedKey {
  id: string;
  /** The whole key to hand to the curator: shown once. */
  key: string;
  salt: string;
  hash: string;
}

export function hashSecret(secret: string, salt: string): string {
  return createHmac('sha256', Buffer.from(salt, 'base64url')).update(secret).digest('base64url');
}

export function generateKey(): GeneratedKey {
  const id = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const salt = randomBytes(16).toString('base64url');
  return { id, key: `kb_${id}_${secret}`, salt, hash: hashSecret(secret, salt) };
}

/** Splits a presented key into id and secret; undefined when it cannot be one of ours. */
export function parseKey(token: string): { id: string; secret: string } | undefined {
  if (!token.startsWith('kb_')) return undefined;
  const id = token.slice(3, 15);
  const secret = token.slice(16);
  if (token[15] !== '_' || !ID_PATTERN.test(id) || !SECRET_PATTERN.test(secret)) return undefined;
  return { id, secret };
}

/** Constant-time comparison of the presented secret with the stored hash. */
export function verifySecret(secret: string, salt: string, hash: string): boolean {
  const expected = Buffer.from(hash, 'base64url');
  const actual = Buffer.from(hashSecret(secret, salt), 'base64url');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
