/**
 * Opens the knowledge base once per app and exposes the repositories. On the first start of a
 * data directory the database is built from the content files first, so a fresh clone serves with
 * `npm start` alone; a database that was lost is never silently rebuilt (db/dbFile.ts).
 */
import { Socket } from 'node:net';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import { applyMigrations, openDatabase, type Sqlite } from '../db/connection.js';
import { openFailure, prepareDatabaseFile, StartupError, verifyOpenedDatabase } from '../db/dbFile.js';
import { MigrationRefusal } from '../db/migrations.js';
import { createRepositories, type Repositories } from '../repositories/index.js';
import { RenderCache } from '../http/renderCache.js';
import { contentEpoch } from '../repositories/epoch.js';

declare module 'fastify' {
  interface FastifyInstance {
    db: Sqlite;
    repos: Repositories;
    renderCache: RenderCache;
  }
}

export default fp<{ config: Config }>(
  async (app, { config }) => {
    const file = prepareDatabaseFile(config, app.log);
    let db: Sqlite;
    try {
      db = openDatabase(config.databasePath);
    } catch (error) {
      throw openFailure(error, config.databasePath);
    }
    try {
      if (file.verifyAfterOpen) verifyOpenedDatabase(db, config.databasePath);
      // A database built by an older release gains the newer tables here; one from a newer release is refused.
      applyMigrations(db);
    } catch (error) {
      db.close();
      if (error instanceof MigrationRefusal) throw new StartupError(`DATABASE_PATH ${config.databasePath}: ${error.message}`);
      throw error instanceof StartupError ? error : openFailure(error, config.databasePath);
    }
    // better-sqlite3 builds SQLite with a 16 MB page cache per connection (DEFAULT_CACHE_SIZE);
    // the serving connection fills it under list and search load and malloc keeps it, 12 MB of
    // RSS more than a 4 MB cache (smaps of the main malloc arena: 22.8 -> 11 MB at 1,000
    // conditions). A page not cached is one pread from the OS page cache (the database file is
    // read, not mmap'd: mmap_size stays 0, whose pages would count in RSS too).
    db.pragma('cache_size = -4000');
    app.decorate('db', db);
    const repos = createRepositories(db);
    // Entries live for one content epoch: a commit here or in another process ends them.
    const epoch = contentEpoch(db);
    const renderCache = new RenderCache(config.renderCache ? undefined : 0, undefined, () => epoch.current());
    // Dropping documents by hand also drops the remembered versions their cache keys use.
    renderCache.onInvalidate(() => repos.conditions.forgetVersions());
    // The epoch is kept for one event-loop turn (repositories/epoch.ts), which is causally safe for
    // requests read from sockets; an injected request runs in the middle of a turn, after whatever
    // the code that injects it may have committed on another connection, so it reads afresh.
    app.addHook('onRequest', (request, _reply, done) => {
      if (!(request.raw.socket instanceof Socket)) epoch.refresh();
      done();
    });
    app.decorate('repos', repos);
    app.decorate('renderCache', renderCache);
    app.addHook('onClose', async () => {
      db.close();
    });
  },
  { name: 'db' },
);
