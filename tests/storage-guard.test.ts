/**
 * The storage guard, startup checks and migrations by identity, in process (the server-process
 * versions of the main faults are in storage-faults.test.ts): each fault below once let a write
 * be acknowledged that a restart would lose, or a start build over lost data.
 */
import { copyFileSync, existsSync, mkdtempSync, openSync, renameSync, rmSync, truncateSync, unlinkSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { buildFromContent } from '../src/content/build.js';
import { openDatabase } from '../src/db/connection.js';
import { markerPath, StartupError } from '../src/db/dbFile.js';
import { KNOWN_MIGRATIONS, migrationStatus } from '../src/db/migrations.js';
import { createStorageGuard } from '../src/db/storageGuard.js';
import { CONTENT_DIR } from '../src/paths.js';
import { createApiKeysRepository } from '../src/repositories/apiKeys.js';
import { expectProblem } from './helpers.js';

const FACT = '/v1/facts/calciphylaxis.cause.advanced-kidney-failure';
const dirs: string[] = [];
const apps: { close: () => Promise<unknown> }[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kb-guard-'));
  dirs.push(dir);
  return dir;
}

const configFor = (path: string, env: Record<string, string> = {}) => ({ ...loadConfig({ MAX_EVENT_LOOP_DELAY_MS: '0', RATE_LIMIT_MAX: '100000', ...env }), databasePath: path, contentDir: CONTENT_DIR });

async function serving(path: string, env: Record<string, string> = {}) {
  const app = await buildApp(configFor(path, env), { logger: false });
  await app.ready();
  apps.push(app);
  const key = createApiKeysRepository(app.db).create('guard-test curator', ['content:write']).key;
  const patch = async (text: string) => {
    const etag = String((await app.inject({ url: FACT })).headers.etag);
    return app.inject({ method: 'PATCH', url: FACT, headers: { authorization: `Bearer ${key}`, 'if-match': etag }, payload: { text } });
  };
  return { app, patch };
}

let template: string | undefined;
/** A fresh copy of one database built from the content files (a build per test costs a second). */
function builtDatabase(): string {
  if (!template) {
    template = join(tempDir(), 'template.sqlite');
    buildFromContent(CONTENT_DIR, template);
  }
  const path = join(tempDir(), 'kb.sqlite');
  copyFileSync(template, path);
  return path;
}

describe('while serving', () => {
  it('the -wal file deleted: writes and /ready 503, since commits would go to an unlinked log', async () => {
    const path = builtDatabase();
    const { app, patch } = await serving(path);
    expect((await patch('Before the log was deleted.')).statusCode).toBe(200);
    unlinkSync(`${path}-wal`);
    const res = await patch('After the log was deleted.');
    expect(expectProblem(res, 503).detail).toMatch(/write-ahead log was deleted/);
    expect(expectProblem(await app.inject({ url: '/ready' }), 503).type).toBe('/problems/not-ready');
  });

  it('the file replaced by a rename over it (a restore, `kb build`): writes 503, reads of the old file go on', async () => {
    const path = builtDatabase();
    const { app, patch } = await serving(path);
    renameSync(builtDatabase(), path);
    expect(expectProblem(await patch('Into the old inode.'), 503).detail).toMatch(/replaced/);
    expect(expectProblem(await app.inject({ url: '/ready' }), 503).detail).toMatch(/replaced/);
    expect((await app.inject({ url: FACT })).statusCode).toBe(200);
  });

  it('the header overwritten: every data route 503, liveness and the docs still answer', async () => {
    const path = builtDatabase();
    const { app, patch } = await serving(path);
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.from('not a database!!'), 0, 16, 0);
    closeSync(fd);
    expect(expectProblem(await patch('Never.'), 503).detail).toMatch(/not a database/);
    for (const url of ['/v1/meta', FACT, '/v1/conditions/calciphylaxis', '/v1/search?q=skin']) {
      expect(expectProblem(await app.inject({ url }), 503).type, url).toBe('/problems/storage-lost');
    }
    expect((await app.inject({ url: '/health' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/openapi.json' })).statusCode).toBe(200);
  });

  it('another process migrates the file to a newer release: /ready, writes and reads 503', async () => {
    const path = builtDatabase();
    const { app, patch } = await serving(path);
    const other = openDatabase(path);
    other.prepare('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)').run('e'.repeat(64), Math.max(...KNOWN_MIGRATIONS.map((m) => m.when)) + 1);
    other.close();
    expect(expectProblem(await app.inject({ url: '/ready' }), 503).detail).toMatch(/migrated by another release/);
    expect(expectProblem(await patch('Never.'), 503).type).toBe('/problems/storage-lost');
    expect(expectProblem(await app.inject({ url: FACT }), 503).type).toBe('/problems/storage-lost');
  });

  it('storage errors from SQLite become precise problems, never a 500', () => {
    const path = builtDatabase();
    const log = { error: () => undefined, info: () => undefined };
    const guard = createStorageGuard(path, { writer: true, log });
    const sqlite = (code: string) => Object.assign(new Error(`sqlite said ${code}`), { code });
    expect(guard.problemFor(sqlite('SQLITE_FULL'))).toMatchObject({ statusCode: 507, type: '/problems/insufficient-storage' });
    expect(guard.problemFor(sqlite('SQLITE_READONLY'))).toMatchObject({ statusCode: 503, type: '/problems/storage-read-only' });
    expect(guard.problemFor(sqlite('SQLITE_IOERR_WRITE'))).toMatchObject({ statusCode: 503, type: '/problems/storage-error' });
    expect(guard.problemFor(sqlite('SQLITE_CONSTRAINT_FOREIGNKEY'))).toBeUndefined();
    expect(guard.problemFor(new Error('plain'))).toBeUndefined();
    // A malformed page is a lost database: latched.
    expect(guard.problemFor(sqlite('SQLITE_CORRUPT'))).toMatchObject({ statusCode: 503, type: '/problems/storage-lost' });
    expect(guard.lost()?.kind).toBe('corrupt');
  });
});

describe('at start', () => {
  const startError = async (path: string, env: Record<string, string> = {}) => {
    try {
      const app = await buildApp(configFor(path, env), { logger: false });
      apps.push(app);
      return undefined;
    } catch (error) {
      return error;
    }
  };

  it('the first start of a directory builds and leaves a marker; a later missing file is refused, BUILD_ON_START=always rebuilds it', async () => {
    const path = join(tempDir(), 'kb.sqlite');
    await serving(path);
    expect(existsSync(markerPath(path))).toBe(true);
    for (const app of apps.splice(0)) await app.close();
    unlinkSync(path);
    const error = await startError(path);
    expect(error).toBeInstanceOf(StartupError);
    expect(String((error as Error).message)).toMatch(/is missing, but this directory held a database/);
    expect(existsSync(path)).toBe(false);
    expect(await startError(path, { BUILD_ON_START: 'always' })).toBeUndefined();
    expect(existsSync(path)).toBe(true);
  });

  it('a missing file beside its write-ahead log is refused even without a marker (a database from before markers)', async () => {
    const dir = tempDir();
    const path = join(dir, 'kb.sqlite');
    writeFileSync(`${path}-wal`, Buffer.alloc(4096, 1));
    expect(String((await startError(path)) as Error)).toMatch(/write-ahead log .* is still there/);
  });

  it('an existing database without a marker (built before markers existed) is adopted', async () => {
    const path = builtDatabase();
    expect(existsSync(markerPath(path))).toBe(false);
    await serving(path);
    expect(existsSync(markerPath(path))).toBe(true);
  });

  it.each([
    ['an empty file', (p: string) => truncateSync(p, 0), /is 0 bytes long/],
    ['a file that is not a database', (p: string) => writeFileSync(p, 'hello, this is text and not a SQLite database at all, but long enough for a header.'.repeat(3)), /does not start with the SQLite header/],
    ['a truncated file', (p: string) => truncateSync(p, 8192), /header says \d+ pages/],
  ])('%s is refused (SQLite would open an empty file as a new, empty database)', async (_name, damage, message) => {
    const path = builtDatabase();
    damage(path);
    const error = await startError(path);
    expect(error).toBeInstanceOf(StartupError);
    expect(String((error as Error).message)).toMatch(message);
  });

  it('a truncated file beside a write-ahead log (what a crash mid-checkpoint can look like) is checked after opening and refused when damaged', async () => {
    const source = builtDatabase();
    const db = openDatabase(source);
    db.pragma('wal_autocheckpoint = 0');
    const keys = createApiKeysRepository(db);
    for (let i = 0; i < 50; i++) keys.create(`k${i}`, ['content:write']);
    // A crash: the files as they are while the connection is open, with commits only in the WAL.
    const path = join(tempDir(), 'kb.sqlite');
    copyFileSync(source, path);
    copyFileSync(`${source}-wal`, `${path}-wal`);
    db.close();
    truncateSync(path, 8192);
    const error = await startError(path);
    expect(error).toBeInstanceOf(StartupError);
    expect(String((error as Error).message)).toMatch(/not a usable database/);
  });

  it('BUILD_ON_START=false never builds', async () => {
    const path = join(tempDir(), 'kb.sqlite');
    expect(String((await startError(path, { BUILD_ON_START: 'false' })) as Error)).toMatch(/does not exist and BUILD_ON_START is false/);
  });
});

describe('migrations by identity', () => {
  const withRows = (edit: (db: ReturnType<typeof openDatabase>) => void) => {
    const path = builtDatabase();
    const db = openDatabase(path);
    edit(db);
    return { path, db };
  };

  it('counts pending migrations by hash: a bogus row in place of a real one is not "all applied"', () => {
    const last = KNOWN_MIGRATIONS.at(-1);
    if (!last) throw new Error('no migrations');
    const { db } = withRows((d) => {
      d.prepare('DELETE FROM __drizzle_migrations WHERE hash = ?').run(last.hash);
      // As many rows as before, so `expected − applied` said 0 pending.
      d.prepare('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)').run('0'.repeat(64), last.when - 1);
    });
    const status = migrationStatus(db);
    db.close();
    expect(status.refusal).toMatch(/migration\(s\) this release does not ship/);
  });

  it('reports a missing newest migration as pending, and /ready says so', async () => {
    const last = KNOWN_MIGRATIONS.at(-1);
    if (!last) throw new Error('no migrations');
    const path = builtDatabase();
    const { app } = await serving(path);
    expect((await app.inject({ url: '/ready' })).statusCode).toBe(200);
    const db = openDatabase(path);
    db.prepare('DELETE FROM __drizzle_migrations WHERE hash = ?').run(last.hash);
    expect(migrationStatus(db)).toEqual({ pending: [last], refusal: undefined });
    db.close();
    expect(expectProblem(await app.inject({ url: '/ready' }), 503).detail).toBe('1 migration(s) not applied');
  });

  it('refuses a database that skipped a migration a later one builds on', () => {
    const middle = KNOWN_MIGRATIONS[1];
    if (!middle) throw new Error('too few migrations');
    const { db } = withRows((d) => d.prepare('DELETE FROM __drizzle_migrations WHERE hash = ?').run(middle.hash));
    const status = migrationStatus(db);
    db.close();
    expect(status.refusal).toMatch(new RegExp(`skipped migration\\(s\\) ${middle.tag}`));
  });

  it('a newer release\'s database refuses to open in process too', async () => {
    const { path, db } = withRows((d) => d.prepare('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)').run('a'.repeat(64), Date.UTC(2100, 0, 1)));
    db.close();
    await expect(buildApp(configFor(path), { logger: false })).rejects.toThrow(/database is from a newer release: .*dated 2100-01-01/);
  });
});
