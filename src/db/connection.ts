import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as schema from '../../db/schema.js';
import { MIGRATIONS_DIR } from '../paths.js';

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
  db.pragma('busy_timeout = 5000');
  if (!options.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
  }
  db.pragma('foreign_keys = ON');
  return db;
}

export function toDrizzle(db: Sqlite): Drizzle {
  return drizzle(db, { schema });
}

/** Applies the committed drizzle-kit migrations; a no-op when they are all applied. */
export function applyMigrations(db: Sqlite): void {
  migrate(toDrizzle(db), { migrationsFolder: MIGRATIONS_DIR });
}

/** Number of migrations on disk that the database has not applied (0 = ready). */
export function pendingMigrations(db: Sqlite, expected: number): number {
  const hasTable = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'")
    .get();
  if (!hasTable) return expected;
  const row = db.prepare('SELECT count(*) AS n FROM __drizzle_migrations').get() as { n: number };
  return Math.max(0, expected - row.n);
}
