/**
 * Migrations by identity. drizzle's migrator applies every migration newer than the newest row of
 * `__drizzle_migrations` and records (sha256 of the SQL file, the journal's `when`). It never looks
 * at what the rows are, so a database migrated by a newer release (a row this code does not ship)
 * looked fully migrated, and its changed tables failed only when a query reached them. Here the
 * applied rows are compared with the migrations this release ships, row by row:
 *
 * - a row that matches no shipped migration and is newer than all of them: the database is from a
 *   newer release, and this code must not serve or write it;
 * - any other unknown row (an edited migration file, another branch's migration): same refusal;
 * - a shipped migration not applied while a later one is: drizzle would never apply it (it only
 *   applies what is newer than the newest row), so that is a refusal too;
 * - shipped migrations newer than every row are pending: `applyMigrations` runs them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import type Database from 'better-sqlite3';
import { MIGRATIONS_DIR } from '../paths.js';

export interface KnownMigration {
  tag: string;
  hash: string;
  /** The journal's `when` (ms), which drizzle stores as `created_at`. */
  when: number;
}

interface JournalEntry {
  tag: string;
  when: number;
}

/** The hashes exactly as drizzle computes and stores them; the tags (for messages) from the journal. */
function readKnown(): KnownMigration[] {
  const files = readMigrationFiles({ migrationsFolder: MIGRATIONS_DIR });
  const journal = (JSON.parse(readFileSync(join(MIGRATIONS_DIR, 'meta', '_journal.json'), 'utf8')) as { entries: JournalEntry[] }).entries;
  return files.map((f, i) => ({ tag: journal[i]?.tag ?? `#${i}`, hash: f.hash, when: f.folderMillis }));
}

/** The migrations this release ships, oldest first. */
export const KNOWN_MIGRATIONS: readonly KnownMigration[] = readKnown();
/** How many migrations the code ships. */
export const MIGRATION_COUNT: number = KNOWN_MIGRATIONS.length;

export interface AppliedMigration {
  hash: string;
  when: number;
}

export interface MigrationStatus {
  /** Shipped migrations the database has not applied, that `applyMigrations` would apply. */
  pending: KnownMigration[];
  /** Why this release must not open the database; undefined when it may. */
  refusal: string | undefined;
}

function appliedMigrations(db: Database.Database): AppliedMigration[] {
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'").get();
  if (!table) return [];
  return db
    .prepare<[], { hash: string; created_at: number | string | null }>('SELECT hash, created_at FROM __drizzle_migrations ORDER BY created_at, id')
    .all()
    .map((r) => ({ hash: r.hash, when: Number(r.created_at) }));
}

const iso = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString() : 'an unknown time');

export function migrationStatus(db: Database.Database, known: readonly KnownMigration[] = KNOWN_MIGRATIONS): MigrationStatus {
  const applied = appliedMigrations(db);
  const byHash = new Map(known.map((k) => [k.hash, k]));
  const newestKnown = Math.max(0, ...known.map((k) => k.when));
  const unknown = applied.filter((a) => byHash.get(a.hash)?.when !== a.when);
  const newer = unknown.filter((a) => a.when > newestKnown);
  if (newer.length) {
    const list = newer.map((a) => `${a.hash.slice(0, 12)} applied for a migration dated ${iso(a.when)}`).join(', ');
    return {
      pending: [],
      refusal: `database is from a newer release: it has ${newer.length} migration(s) this release does not know (${list}; the newest known here is ${known.at(-1)?.tag ?? 'none'}). Run the release that migrated it, or restore a backup made by this release.`,
    };
  }
  if (unknown.length) {
    const list = unknown.map((a) => `${a.hash.slice(0, 12)} dated ${iso(a.when)}`).join(', ');
    return {
      pending: [],
      refusal: `database has ${unknown.length} migration(s) this release does not ship (${list}): it was migrated by a different build. Run that build, or restore a backup made by this release.`,
    };
  }
  const appliedHashes = new Set(applied.map((a) => a.hash));
  const newestApplied = Math.max(0, ...applied.map((a) => a.when));
  const missing = known.filter((k) => !appliedHashes.has(k.hash));
  const skipped = missing.filter((k) => k.when <= newestApplied);
  if (skipped.length) {
    return {
      pending: missing,
      refusal: `database skipped migration(s) ${skipped.map((k) => k.tag).join(', ')} although later ones are applied: it was migrated by a different build. Restore a backup made by this release.`,
    };
  }
  return { pending: missing, refusal: undefined };
}

/** Thrown when the database must not be opened by this release (see the module comment). */
export class MigrationRefusal extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationRefusal';
  }
}
