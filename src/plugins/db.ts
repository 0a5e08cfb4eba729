/**
 * Opens the knowledge base once per app and exposes the repositories. When the database file is
 * missing and the build-on-start setting is on, it is built from the content files first, so a
 * fresh clone serves with `npm start` alone.
 */
import { existsSync } from 'node:fs';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import { buildFromContent } from '../content/build.js';
import { applyMigrations, openDatabase, type Sqlite } from '../db/connection.js';
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

export function ensureDatabase(config: Config, log: { info: (msg: string) => void }): void {
  if (config.databasePath === ':memory:' || existsSync(config.databasePath)) return;
  if (!config.buildOnStart) throw new Error(`DATABASE_PATH ${config.databasePath} does not exist and BUILD_ON_START is false`);
  const result = buildFromContent(config.contentDir, config.databasePath);
  log.info(`built ${result.path} from ${config.contentDir}: ${result.conditions} condition(s), dataset ${result.datasetVersion}`);
}

export default fp<{ config: Config }>(
  async (app, { config }) => {
    ensureDatabase(config, app.log);
    const db = openDatabase(config.databasePath);
    // A database built by an older release gains the newer tables here (migrations are idempotent).
    applyMigrations(db);
    app.decorate('db', db);
    const repos = createRepositories(db);
    // Entries live for one content epoch: a commit here or in another process ends them.
    const epoch = contentEpoch(db);
    const renderCache = new RenderCache(config.renderCache ? undefined : 0, undefined, () => epoch.current());
    // Dropping documents by hand also drops the remembered versions their cache keys use.
    renderCache.onInvalidate(() => repos.conditions.forgetVersions());
    app.decorate('repos', repos);
    app.decorate('renderCache', renderCache);
    app.addHook('onClose', async () => {
      db.close();
    });
  },
  { name: 'db' },
);
