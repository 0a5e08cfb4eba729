/**
 * The storage guard: whether the database this process has open is still the one at
 * DATABASE_PATH, whole and writable, so that no write is acknowledged that a restart would lose.
 *
 * SQLite itself does not notice any of these (tests/storage-faults.test.ts reproduces each):
 * - the file deleted or replaced (rename over it, e.g. a restore or `kb build`): the process keeps
 *   the old inode open, reads and commits go on, and a restart opens another file (or none);
 * - the -wal file deleted: commits go on into the unlinked WAL and vanish with the process;
 * - the file truncated: pages in the cache keep reads and commits going (into the WAL) until a
 *   checkpoint finds the file malformed;
 * - a read-only file or directory, or a full disk: every write fails (SQLITE_READONLY,
 *   SQLITE_FULL, SQLITE_IOERR_*) while reads and a naive readiness check look fine.
 *
 * So the writer checks before and after every commit, /ready checks on every probe, and other
 * requests check at most once a second. A database that is lost (deleted, replaced, truncated,
 * not a database, malformed) stays lost for this process: only a restart, which refuses to open
 * such a file (dbFile.ts), can resolve it. A full disk or read-only storage is checked afresh each
 * time, since freeing space or fixing permissions resolves it.
 */
import { accessSync, closeSync, constants, openSync, readSync, statSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { HttpProblem } from '../http/problems.js';

export type StorageFaultKind = 'deleted' | 'replaced' | 'truncated' | 'not-a-database' | 'corrupt' | 'newer-database' | 'read-only' | 'disk-full' | 'io-error';

export interface StorageFault {
  kind: StorageFaultKind;
  /** 507 Insufficient Storage for a full disk, else 503. */
  status: 503 | 507;
  /** What happened, for clients: no file system paths. */
  detail: string;
  /** For the log: the same with paths and system error codes. */
  log: string;
  /** The open database is no longer the file at DATABASE_PATH, or is damaged: latched until restart. */
  lost: boolean;
  /** Reads of the open database still give consistent answers (a deleted or replaced file is intact). */
  readable: boolean;
}

export interface StorageLogger {
  error: (obj: object, msg: string) => void;
  info: (msg: string) => void;
}

/** Below this much free space on the database's filesystem, a writer is not ready. */
export const MIN_FREE_BYTES = 1024 * 1024;
/** A header that claims more pages than the file holds is read again this often before it counts. */
const TRUNCATION_CONFIRMATIONS = 3;
const TRUNCATION_RECHECK_MS = 20;

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

interface FileId {
  dev: number;
  ino: number;
}

function fileId(path: string): FileId | undefined {
  try {
    const st = statSync(path);
    return { dev: st.dev, ino: st.ino };
  } catch {
    return undefined;
  }
}

function errorCode(error: unknown): string {
  return error !== null && typeof error === 'object' && 'code' in error && typeof error.code === 'string' ? error.code : '';
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function fault(kind: StorageFaultKind, detail: string, log: string): StorageFault {
  const lost = kind === 'deleted' || kind === 'replaced' || kind === 'truncated' || kind === 'not-a-database' || kind === 'corrupt' || kind === 'newer-database';
  return { kind, status: kind === 'disk-full' ? 507 : 503, detail, log, lost, readable: kind === 'deleted' || kind === 'replaced' || !lost };
}

/**
 * What the file at `path` holds, judged by its header (https://www.sqlite.org/fileformat.html):
 * the magic string, and a file at least as long as the page count the header states (that count
 * is valid when the change counter at offset 24 equals the one at 92; after a checkpoint, the
 * file holds every page). Undefined when the file looks whole or cannot be read (no permission:
 * not this check's business).
 */
export function headerProblem(path: string): { kind: 'truncated' | 'not-a-database'; detail: string } | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const header = Buffer.alloc(100);
    const read = readSync(fd, header, 0, 100, 0);
    const size = statSync(path).size;
    if (read < 100) return { kind: 'truncated', detail: `is ${size} bytes long, shorter than a SQLite header` };
    if (!header.subarray(0, 16).equals(SQLITE_MAGIC)) return { kind: 'not-a-database', detail: 'does not start with the SQLite header' };
    const rawPageSize = header.readUInt16BE(16);
    const pageSize = rawPageSize === 1 ? 65536 : rawPageSize;
    const pages = header.readUInt32BE(28);
    const countValid = header.readUInt32BE(24) === header.readUInt32BE(92);
    if (countValid && pages > 0 && size < pages * pageSize) {
      return { kind: 'truncated', detail: `is ${size} bytes long but its header says ${pages} pages of ${pageSize} bytes (${pages * pageSize} bytes)` };
    }
    return undefined;
  } finally {
    closeSync(fd);
  }
}

export interface StorageGuardOptions {
  /** A server that takes writes: /ready also checks that the file, directory and disk can take one. */
  writer: boolean;
  log: StorageLogger;
  /** Why this release must not use the database's schema any more (another process migrated it to a newer release). */
  schemaRefusal?: () => string | undefined;
}

export function createStorageGuard(path: string, options: StorageGuardOptions) {
  const memory = path === ':memory:';
  const dir = dirname(path);
  const wal = `${path}-wal`;
  // Taken right after the connection opened (db plugin): the inodes that connection holds.
  const dbId = memory ? undefined : fileId(path);
  const walId = memory ? undefined : fileId(wal);
  let lost: StorageFault | undefined;
  /** Free bytes when a write last failed with a full disk; writes resume once more is free. */
  let fullAt: number | undefined;
  let lastLogged = '';
  let lastCheck = 0;

  function report(f: StorageFault): StorageFault {
    // Once per state, not once per probe: a load balancer asks /ready every few seconds.
    if (f.log !== lastLogged) options.log.error({ storageFault: f.kind, path }, f.log);
    lastLogged = f.log;
    return f;
  }

  function latch(f: StorageFault): StorageFault {
    lost ??= f;
    return report(lost);
  }

  function fileFault(): StorageFault | undefined {
    if (memory || !dbId) return undefined;
    if (lost) return lost;
    lastCheck = Date.now();
    const now = fileId(path);
    if (!now) {
      return latch(fault('deleted', 'The database file was deleted while the server was running: writes cannot be kept.', `DATABASE_PATH ${path} was deleted while open; writes refused until a restart (which will refuse to start: restore the file from a backup)`));
    }
    if (now.dev !== dbId.dev || now.ino !== dbId.ino) {
      return latch(fault('replaced', 'The database file was replaced while the server was running: this server still has the old one open, and writes to it would be lost.', `DATABASE_PATH ${path} was replaced by another file while open (inode ${dbId.ino} → ${now.ino}); restart to serve the new file`));
    }
    if (walId) {
      const w = fileId(wal);
      if (!w || w.dev !== walId.dev || w.ino !== walId.ino) {
        return latch(fault('deleted', 'The database write-ahead log was deleted while the server was running: recent writes cannot be kept.', `${wal} was ${w ? 'replaced' : 'deleted'} while open: commits since the last checkpoint are only in the unlinked file`));
      }
    }
    let header = headerProblem(path);
    // A checkpoint in another process writes page 1 (the new page count) before the pages that
    // extend the file: a short file must stay short on a second look before it counts.
    for (let i = 1; header?.kind === 'truncated' && i < TRUNCATION_CONFIRMATIONS; i++) {
      sleepSync(TRUNCATION_RECHECK_MS);
      header = headerProblem(path);
    }
    if (header) {
      const what = header.kind === 'truncated' ? 'truncated' : 'overwritten with something that is not a database';
      return latch(fault(header.kind, `The database file was ${what} while the server was running: nothing more can be read or written safely.`, `DATABASE_PATH ${path} ${header.detail}`));
    }
    let refusal: string | undefined;
    try {
      refusal = options.schemaRefusal?.();
    } catch {
      refusal = undefined; // an unreadable file: the query that needs it reports that
    }
    if (refusal) return latch(fault('newer-database', 'The database was migrated by another release while this server was running: this one must not read or write it any more.', `${refusal} (${path}, migrated while open)`));
    return undefined;
  }

  function freeBytes(): number | undefined {
    try {
      const s = statfsSync(dir);
      return s.bavail * s.bsize;
    } catch {
      return undefined;
    }
  }

  function notWritable(target: string, what: string): StorageFault | undefined {
    try {
      accessSync(target, constants.W_OK);
      return undefined;
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ENOENT') return undefined;
      const reason = code === 'EROFS' ? 'is on a read-only file system' : 'is not writable by this process';
      return fault('read-only', `The database ${what} ${reason}: writes cannot be saved.`, `${target} ${reason} (${code}); writes refused`);
    }
  }

  /** Read-only file, directory, WAL or shared-memory file. */
  function permissionFault(): StorageFault | undefined {
    if (memory) return undefined;
    return notWritable(path, 'file') ?? notWritable(dir, 'directory') ?? notWritable(wal, 'write-ahead log') ?? notWritable(`${path}-shm`, 'shared-memory file');
  }

  function spaceFault(): StorageFault | undefined {
    if (memory) return undefined;
    const free = freeBytes();
    if (free === undefined) return undefined;
    if (fullAt !== undefined && free > fullAt + MIN_FREE_BYTES) fullAt = undefined;
    if (free >= MIN_FREE_BYTES && fullAt === undefined) return undefined;
    return fault('disk-full', 'The disk holding the database is full: writes cannot be saved until space is freed.', `the file system of ${dir} has ${free} bytes free${fullAt === undefined ? '' : ' and the last write failed with SQLITE_FULL'}; writes answer 507`);
  }

  /** A SQLite error as a storage fault, or undefined when it is not about storage (a constraint, a busy lock). */
  function classify(error: unknown): StorageFault | undefined {
    const code = errorCode(error);
    if (!code.startsWith('SQLITE_')) return undefined;
    const message = error instanceof Error ? error.message : code;
    if (code === 'SQLITE_FULL') {
      fullAt = freeBytes() ?? 0;
      return report(fault('disk-full', 'The disk holding the database is full: the write was not saved.', `write failed: ${code} (${message}) on ${path}`));
    }
    if (code.startsWith('SQLITE_READONLY')) {
      return fileFault() ?? report(permissionFault() ?? fault('read-only', 'The database cannot be written (read-only file, directory or file system): the write was not saved.', `write failed: ${code} (${message}) on ${path}`));
    }
    if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
      return fileFault() ?? latch(fault('corrupt', 'The database file is damaged: nothing more can be read or written safely.', `${code} (${message}) on ${path}: restore a backup`));
    }
    if (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN')) {
      const space = freeBytes();
      if (space !== undefined && space < MIN_FREE_BYTES) {
        fullAt = space;
        return report(fault('disk-full', 'The disk holding the database is full: the write was not saved.', `${code} (${message}) on ${path} with ${space} bytes free`));
      }
      return fileFault() ?? report(permissionFault() ?? fault('io-error', 'The disk holding the database failed to read or write: the request was not completed.', `${code} (${message}) on ${path}`));
    }
    return undefined;
  }

  function problem(f: StorageFault, phase: 'request' | 'before' | 'after'): HttpProblem {
    const detail =
      phase === 'after'
        ? `${f.detail} The write was committed to the file this server has open, which is not the one at its configured path, so it would not survive a restart: treat it as not saved.`
        : f.detail;
    if (f.status === 507) return new HttpProblem(507, '/problems/insufficient-storage', 'Insufficient Storage', detail, undefined, { storage: f.kind });
    const type = f.kind === 'read-only' ? '/problems/storage-read-only' : f.kind === 'io-error' ? '/problems/storage-error' : '/problems/storage-lost';
    return new HttpProblem(503, type, 'Service Unavailable', detail, undefined, { storage: f.kind });
  }

  return {
    /** The latched fault when the open database is lost (see the module comment), else undefined. */
    lost(): StorageFault | undefined {
      return lost;
    },
    /** Checks the file now (identity, header); at most once per `maxAgeMs` when given. */
    check(maxAgeMs = 0): StorageFault | undefined {
      if (maxAgeMs > 0 && Date.now() - lastCheck < maxAgeMs) return lost;
      return fileFault();
    },
    /** What /ready reports: a lost file, and for a writer read-only storage or a full disk. */
    readiness(): StorageFault | undefined {
      const f = fileFault() ?? (options.writer ? (permissionFault() ?? spaceFault()) : undefined);
      if (f) return report(f);
      if (lastLogged) options.log.info(`storage healthy again at ${path}`);
      lastLogged = '';
      return undefined;
    },
    /**
     * Runs a commit so that it is acknowledged only when durable: refused before it starts when the
     * file is lost or read-only, its storage errors turned into 503/507 problems, and checked again
     * after it, since a commit into a deleted or replaced file succeeds and is still lost.
     */
    commit<T>(run: () => T): T {
      const before = fileFault() ?? permissionFault();
      if (before) throw problem(report(before), 'before');
      let result: T;
      try {
        result = run();
      } catch (error) {
        const f = classify(error);
        throw f ? problem(f, 'before') : error;
      }
      const after = fileFault();
      if (after) throw problem(after, 'after');
      fullAt = undefined;
      return result;
    },
    /** A storage problem (503/507) for an error any query raised, or undefined when it is not about storage. */
    problemFor(error: unknown): HttpProblem | undefined {
      const f = classify(error);
      return f ? problem(f, 'request') : undefined;
    },
    /** The problem to answer any request with while the database is lost. */
    problem(f: StorageFault): HttpProblem {
      return problem(f, 'request');
    },
  };
}

export type StorageGuard = ReturnType<typeof createStorageGuard>;
