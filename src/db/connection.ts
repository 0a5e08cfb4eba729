import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as schema from '../../db/schema.js';
import { MIGRATIONS_DIR } from '../paths.js';
import { MigrationRefusal, migrationStatus } from './migrations.js';

export type Sqlite = Database.Database;
export type Drizzle = BetterSQLite3Database<typeof schema>;

export interface OpenOptions {
  readonly?: boolean;
}

/**
 * Opens the knowledge-base file with the settings every process uses:
 * WAL so readers never wait for the single writer, a busy timeout instead of instant SQLITE_BUSY,
 * and foreign keys on (SQLite leaves them off by default).
 */
export function openDatabase(path: string, options: OpenOptions = {}): Sqlite {
  const db = new Database(path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  try {
    db.pragma('busy_timeout = 5000');
    if (!options.readonly) {
      try {
        db.pragma('journal_mode = WAL');
      } catch (error) {
        // A read-only file (or directory) in rollback mode cannot switch: serve it as it is, if
        // it can be read at all, and let the storage guard refuse writes.
        if (!(error instanceof Database.SqliteError && error.code.startsWith('SQLITE_READONLY'))) throw error;
        db.prepare('SELECT count(*) FROM sqlite_master').get();
      }
      db.pragma('synchronous = NORMAL');
    }
    db.pragma('foreign_keys = ON');
  } catch (error) {
    // A file that is not a database, or a read-only directory: do not leak the handle.
    db.close();
    throw error;
  }
  return db;
}

export function toDrizzle(db: Sqlite): Drizzle {
  return drizzle(db, { schema });
}

/**
 * Applies the committed drizzle-kit migrations; a no-op when they are all applied (no write at
 * all, so a read-only file still opens). Refuses (MigrationRefusal) a database whose applied
 * migrations are not a prefix of the shipped ones, e.g. one from a newer release (migrations.ts).
 */
export function applyMigrations(db: Sqlite): void {
  const status = migrationStatus(db);
  if (status.refusal) throw new MigrationRefusal(status.refusal);
  if (status.pending.length) migrate(toDrizzle(db), { migrationsFolder: MIGRATIONS_DIR });
}

/** Shipped migrations the database has not applied, by identity (0 = ready); throws when it must be refused. */
export function pendingMigrations(db: Sqlite): number {
  const status = migrationStatus(db);
  if (status.refusal) throw new MigrationRefusal(status.refusal);
  return status.pending.length;
}
