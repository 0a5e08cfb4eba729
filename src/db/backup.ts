/**
 * Online backup (`kb backup PATH`): SQLite's backup API, through better-sqlite3's `db.backup()`,
 * copies the database a hundred pages per event-loop turn from its own read-only connection, so a
 * running server keeps answering, and a write from another connection meanwhile makes SQLite
 * restart the copy rather than produce a mix of two states. The copy goes to a temp file beside
 * PATH, is made a single self-contained file (rollback journal, no -wal), and is checked with
 * `integrity_check`; only a copy that passes is renamed onto PATH. A failed backup leaves nothing
 * new behind and never replaces an earlier good backup.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { openDatabase } from './connection.js';

export interface BackupResult {
  path: string;
  bytes: number;
  pages: number;
  /** Rows per table of the copy (FTS5 shadow tables left out). */
  counts: Record<string, number>;
}

export class BackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupError';
  }
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Throws unless the file is a sound SQLite database; returns its row counts. */
export function verifyDatabase(path: string): Record<string, number> {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const result = db.pragma('integrity_check', { simple: true });
    if (result !== 'ok') throw new BackupError(`integrity_check of the copy failed: ${String(result)}`);
    const tables = db
      .prepare<[], { name: string; sql: string | null }>("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .all();
    const virtual = tables.filter((t) => /^CREATE VIRTUAL TABLE/i.test(t.sql ?? '')).map((t) => t.name);
    const counts: Record<string, number> = {};
    for (const { name } of tables) {
      if (virtual.some((v) => name.startsWith(`${v}_`))) continue;
      counts[name] = (db.prepare(`SELECT count(*) AS n FROM "${name.replaceAll('"', '""')}"`).get() as { n: number }).n;
    }
    return counts;
  } finally {
    db.close();
  }
}

/** Copies the database at `source` to `destination` while it stays in use; see the file comment. */
export async function backupDatabase(source: string, destination: string): Promise<BackupResult> {
  const target = resolve(destination);
  if (!existsSync(source)) throw new BackupError(`no database at ${source}`);
  const dir = dirname(target);
  if (!existsSync(dir)) throw new BackupError(`cannot write ${target}: the folder ${dir} does not exist`);
  if (!statSync(dir).isDirectory()) throw new BackupError(`cannot write ${target}: ${dir} is not a folder`);
  if (existsSync(target) && (statSync(target).isDirectory() || realpathSync(target) === realpathSync(source))) {
    throw new BackupError(`cannot write ${target}: it is ${statSync(target).isDirectory() ? 'a directory' : 'the database being backed up'}`);
  }
  const temp = join(dir, `.${basename(target)}.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
  const db = openDatabase(source, { readonly: true });
  try {
    let pages: number;
    try {
      pages = (await db.backup(temp)).totalPages;
    } catch (err) {
      throw new BackupError(`cannot write ${target}: ${err instanceof Error ? err.message : String(err)}`);
    }
    let counts: Record<string, number>;
    try {
      // One file that opens on its own: the copy keeps the source's WAL flag until told otherwise.
      const copy = new Database(temp);
      try {
        copy.pragma('journal_mode = DELETE');
      } finally {
        copy.close();
      }
      counts = verifyDatabase(temp);
    } catch (err) {
      throw err instanceof BackupError ? err : new BackupError(`the copy is not a sound database: ${err instanceof Error ? err.message : String(err)}`);
    }
    fsyncPath(temp);
    renameSync(temp, target);
    fsyncPath(dir);
    return { path: target, bytes: statSync(target).size, pages, counts };
  } finally {
    db.close();
    for (const suffix of ['', '-journal', '-wal', '-shm']) rmSync(temp + suffix, { force: true });
  }
}
