#!/usr/bin/env node
/**
 * The `kb` command (`npm run kb -- <command>`): validate, build, export and inspect the
 * knowledge base. Exit codes: 0 ok, 1 content or runtime problem, 2 usage error.
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { CONTENT_DIR, PROJECT_ROOT } from '../paths.js';
import { ContentError, formatProblem, loadContent } from '../content/load.js';
import { contentWarnings } from '../content/validate.js';
import { buildFromContentInParallel } from '../content/parallelBuild.js';
import { exportCorpus } from '../content/export.js';
import { applyMigrations, openDatabase } from '../db/connection.js';
import { createMetaRepository } from '../repositories/meta.js';

const USAGE = `usage: kb <command> [options]

commands:
  validate [--content DIR]               check content files (schema + references)
  build    [--content DIR] [--db PATH]   build the SQLite database (atomic: temp file + rename)
  export   [--db PATH] [--out DIR]       write the database back to content files
  stats    [--db PATH]                   counts of what the database holds
  backup   PATH [--db PATH]              online copy to PATH (safe while serving), verified with integrity_check
  openapi  [--out FILE]                  write the OpenAPI document (default openapi/openapi.json)
  keys create --name NAME --scope SCOPE  create a curator API key (printed once); scopes content:write, admin
  keys list | keys revoke ID             list keys (never secrets) | revoke one

defaults: --content db/content, --db $DATABASE_PATH or data/kb.sqlite`;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    content: { type: 'string' },
    db: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
    name: { type: 'string' },
    scope: { type: 'string', multiple: true },
  },
});

const contentDir = resolve(values.content ?? CONTENT_DIR);
// The database of the server's own configuration (DATABASE_PATH, read and checked in config.ts) unless --db names one.
// Imported only then: the configuration module (Ajv compiling its schema) is a few hundred ms of start-up.
const dbPath = async (): Promise<string> => (values.db === undefined ? (await import('../config.js')).loadConfig().databasePath : resolve(values.db));

async function main(command: string | undefined): Promise<number> {
  switch (command) {
    case 'validate': {
      const corpus = loadContent(contentDir);
      const warnings = contentWarnings(corpus);
      for (const w of warnings) console.warn(`warning: ${formatProblem(w)}`);
      console.log(`ok: ${corpus.length} condition file(s) valid${warnings.length ? `, ${warnings.length} warning(s)` : ''}`);
      return 0;
    }
    case 'build': {
      const r = buildFromContentInParallel(contentDir, await dbPath());
      console.log(`built ${r.path}: ${r.conditions} condition(s), ${r.statements} statements, ${r.statistics} statistics, ${r.sources} sources (dataset ${r.datasetVersion})`);
      return 0;
    }
    case 'export': {
      const db = openDatabase(await dbPath(), { readonly: true });
      try {
        for (const path of exportCorpus(db, resolve(values.out ?? contentDir))) console.log(`wrote ${path}`);
      } finally {
        db.close();
      }
      return 0;
    }
    case 'stats': {
      const db = openDatabase(await dbPath(), { readonly: true });
      try {
        console.log(JSON.stringify(createMetaRepository(db).get(), null, 2));
      } finally {
        db.close();
      }
      return 0;
    }
    case 'openapi': {
      const { writeOpenApi } = await import('./openapi.js');
      const path = await writeOpenApi(resolve(values.out ?? resolve(PROJECT_ROOT, 'openapi/openapi.json')));
      console.log(`wrote ${path}`);
      return 0;
    }
    case 'keys': {
      const { keysCommand, UsageError } = await import('./keys.js');
      const db = openDatabase(await dbPath());
      try {
        // Keys live in tables a database built before curation lacks: migrate first.
        applyMigrations(db);
        return keysCommand(db, { action: positionals[1], name: values.name, scopes: values.scope, id: positionals[2] }, (line) => console.log(line));
      } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        console.error(err.message);
        return 2;
      } finally {
        db.close();
      }
    }
    case 'backup': {
      const destination = positionals[1];
      if (!destination) {
        console.error('usage: kb backup PATH [--db PATH]');
        return 2;
      }
      const { backupDatabase } = await import('../db/backup.js');
      const source = await dbPath();
      const r = await backupDatabase(source, destination);
      const counts = Object.entries(r.counts).map(([table, n]) => `${table} ${n}`).join(', ');
      console.log(`backed up ${source} to ${r.path}: ${r.bytes} bytes (${r.pages} pages), integrity_check ok\n${counts}`);
      return 0;
    }
    default:
      console.error(USAGE);
      return values.help ? 0 : 2;
  }
}

// Not top-level await: the `kb` bundle (src/kb.mjs) is CommonJS, like the server's.
main(positionals[0]).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ContentError) {
      for (const p of err.problems) console.error(formatProblem(p));
      console.error(`${err.problems.length} problem(s); nothing was built`);
    } else {
      console.error(err instanceof Error ? err.message : err);
    }
    process.exitCode = 1;
  },
);
