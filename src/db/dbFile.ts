/**
 * What a starting server does with the file at DATABASE_PATH, before and right after opening it.
 *
 * - **No silent rebuild over lost data.** The first start builds the database from the content
 *   files, then leaves a marker beside it (`<DATABASE_PATH>.marker`). When the database is missing
 *   later but the marker (or a write-ahead log of it) is there, the directory held a database that
 *   may hold curated writes: the server refuses to start and says how to recover, rather than
 *   serve a fresh copy of the content files and lose those writes for good. BUILD_ON_START=always
 *   builds anyway (never over an existing file); BUILD_ON_START=false never builds.
 * - **Not a database, or cut short:** an empty file, a file without the SQLite header, or one
 *   shorter than its header says is refused (SQLite would open an empty file as a new empty
 *   database, and read a short one until a checkpoint finds it malformed). A short file beside a
 *   write-ahead log can be a checkpoint cut off by a crash, which SQLite completes: that one is
 *   opened, checkpointed and checked before it is trusted.
 *
 * Every refusal is a StartupError: one line naming the path and the way out, which src/server.ts
 * prints as it is (exit code 1).
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import type { Config } from '../config.js';
import { buildFromContent } from '../content/build.js';
import type { Sqlite } from './connection.js';
import { headerProblem } from './storageGuard.js';

/** A reason not to start, stated in one line for the operator. */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

export const markerPath = (databasePath: string) => `${databasePath}.marker`;

const RECOVERY = 'restore it from a backup (`kb backup` makes them; copy one to that path), or run `kb build` deliberately to start over from the content files (curated writes in the lost database are then gone)';

function nonEmpty(path: string): boolean {
  try {
    return statSync(path).size > 0;
  } catch {
    return false;
  }
}

function markerDate(marker: string): string {
  try {
    const parsed = JSON.parse(readFileSync(marker, 'utf8')) as { createdAt?: unknown };
    return typeof parsed.createdAt === 'string' ? parsed.createdAt : 'an unknown date';
  } catch {
    return 'an unknown date';
  }
}

function writeMarker(databasePath: string, log: { warn: (msg: string) => void }): void {
  const marker = markerPath(databasePath);
  if (existsSync(marker)) return;
  const body = {
    database: databasePath,
    createdAt: new Date().toISOString(),
    note: 'This directory has held the knowledge base. While this file exists, the server refuses to build a fresh database in place of a missing one (it may have held curated writes). Delete it only together with the database, deliberately.',
  };
  try {
    writeFileSync(marker, `${JSON.stringify(body, null, 2)}\n`, { flag: 'wx' });
  } catch (error) {
    // A read-only directory (a replica's snapshot): the file itself is what matters there.
    log.warn(`could not write ${marker} (${error instanceof Error ? error.message : String(error)}); a missing database will not be detected as lost`);
  }
}

export interface PreparedFile {
  /** The header said the file is short but a write-ahead log is beside it: check after opening. */
  verifyAfterOpen: boolean;
}

/** Builds, adopts or refuses the file at DATABASE_PATH before it is opened (see the module comment). */
export function prepareDatabaseFile(config: Pick<Config, 'databasePath' | 'buildOnStart' | 'contentDir'>, log: { info: (msg: string) => void; warn: (msg: string) => void }): PreparedFile {
  const path = config.databasePath;
  if (path === ':memory:') return { verifyAfterOpen: false };
  const marker = markerPath(path);
  if (existsSync(path)) {
    const problem = headerProblem(path);
    const walBeside = nonEmpty(`${path}-wal`);
    if (problem && !(problem.kind === 'truncated' && walBeside)) {
      throw new StartupError(`DATABASE_PATH ${path} ${problem.detail}: it is not a usable database. Move it aside, then ${RECOVERY}.`);
    }
    writeMarker(path, log);
    return { verifyAfterOpen: problem !== undefined };
  }
  const held = existsSync(marker) ? `its marker ${marker} dates from ${markerDate(marker)}` : nonEmpty(`${path}-wal`) ? `its write-ahead log ${path}-wal is still there` : undefined;
  if (held && config.buildOnStart !== 'always') {
    throw new StartupError(`DATABASE_PATH ${path} is missing, but this directory held a database (${held}): refusing to build a fresh one over curated writes. To recover, ${RECOVERY}, or start once with BUILD_ON_START=always.`);
  }
  if (config.buildOnStart === 'never') {
    throw new StartupError(`DATABASE_PATH ${path} does not exist and BUILD_ON_START is false: build it with \`kb build\`, or restore a backup there.`);
  }
  const result = buildFromContent(config.contentDir, path);
  writeMarker(path, log);
  log.info(`built a new database at ${result.path} from ${config.contentDir}: ${result.conditions} condition(s), dataset ${result.datasetVersion}${held ? ' (BUILD_ON_START=always, over a database that was lost)' : ''}`);
  return { verifyAfterOpen: false };
}

/**
 * A file shorter than its header with a write-ahead log beside it: a checkpoint completes it when
 * a crash cut one short; then the header must agree with the file and the pages must read back.
 */
export function verifyOpenedDatabase(db: Sqlite, path: string): void {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    const problem = headerProblem(path);
    if (problem) throw new Error(`DATABASE_PATH ${path} ${problem.detail}`);
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new Error(`DATABASE_PATH ${path} fails quick_check (${String(check)})`);
  } catch (error) {
    throw new StartupError(`${error instanceof Error ? error.message : String(error)}: it is not a usable database. Move it aside (with its -wal and -shm files), then ${RECOVERY}.`);
  }
}

/** Why SQLite could not open the file, in one line with the path and what to do. */
export function openFailure(error: unknown, path: string): StartupError {
  const code = error !== null && typeof error === 'object' && 'code' in error && typeof error.code === 'string' ? error.code : '';
  const message = error instanceof Error ? error.message : String(error);
  const hint = code.startsWith('SQLITE_READONLY')
    ? 'the server needs to write the file and its directory (SQLite keeps the -wal and -shm files beside it): fix the owner or mode, or mount the volume read-write'
    : code === 'SQLITE_CANTOPEN'
      ? 'check that the directory exists and that the server may read and write it'
      : code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')
        ? `it is not a usable database. Move it aside (with its -wal and -shm files), then ${RECOVERY}`
        : code === 'SQLITE_FULL'
          ? 'the disk is full: free space and start again'
          : 'see the SQLite error';
  return new StartupError(`cannot open DATABASE_PATH ${path}: ${message}${code ? ` (${code})` : ''}; ${hint}.`);
}
