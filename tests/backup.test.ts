/**
 * `kb backup PATH`: an online copy taken while the database is open and being read (in this
 * process and from the CLI in another one), with identical content (every table, row for row, and
 * the same `kb export` files), checked with integrity_check. A destination that cannot be written
 * or a source that is corrupt fails cleanly: an error, exit code 1, nothing new left behind, and
 * an earlier backup at the destination untouched.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportCorpus } from '../src/content/export.js';
import { openDatabase } from '../src/db/connection.js';
import { BackupError, backupDatabase, verifyDatabase } from '../src/db/backup.js';
import { PROJECT_ROOT } from '../src/paths.js';
import { buildTestApp, type TestContext } from './helpers.js';

let ctx: TestContext;
let source: string;

beforeAll(async () => {
  // Load shedding off: the read loops keep this process busy on purpose.
  ctx = await buildTestApp({ extraFixtures: ['examplitis.yaml'], conditions: ['calciphylaxis'], env: { RATE_LIMIT_MAX: '1000000', MAX_EVENT_LOOP_DELAY_MS: '0' } });
  source = ctx.config.databasePath;
});
afterAll(async () => {
  await ctx?.close();
});

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Every row of every table (FTS5 shadow tables included), in a stable order. */
function dump(path: string): Record<string, string[]> {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
    return Object.fromEntries(tables.map(({ name }) => [name, db.prepare(`SELECT * FROM "${name}"`).all().map((row) => JSON.stringify(row)).sort()]));
  } finally {
    db.close();
  }
}

function exported(path: string, out: string): Record<string, string> {
  const db = openDatabase(path, { readonly: true });
  try {
    exportCorpus(db, out);
  } finally {
    db.close();
  }
  return Object.fromEntries(readdirSync(out).map((name) => [name, readFileSync(join(out, name), 'utf8')]));
}

/** Reads through the app until stopped; every one must succeed. */
function readLoop(): { stop: () => Promise<number> } {
  const urls = ['/v1/conditions/calciphylaxis', '/v1/search?q=pain', '/v1/statistics?limit=50', '/v1/conditions/examplitis?format=markdown', '/v1/meta'];
  let running = true;
  let reads = 0;
  const loops = Array.from({ length: 4 }, async (_, i) => {
    for (let n = 0; running && n < 100_000; n++) {
      const res = await ctx.app.inject({ url: urls[(i + n) % urls.length] ?? '/health' });
      if (res.statusCode !== 200) throw new Error(`read failed during the backup: ${res.statusCode} ${res.body.slice(0, 200)}`);
      reads++;
      // Let the backup's steps (setImmediate) interleave with the reads.
      await new Promise((r) => setImmediate(r));
    }
  });
  // Settled now so that a failure waits for stop() instead of surfacing as an unhandled rejection.
  const settled = Promise.allSettled(loops);
  return {
    stop: async () => {
      running = false;
      for (const r of await settled) if (r.status === 'rejected') throw r.reason;
      return reads;
    },
  };
}

function runKb(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), join(PROJECT_ROOT, 'src/cli/kb.ts'), ...args], {
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('online backup', () => {
  it('copies the serving database while reads run, with identical content', async () => {
    expect(ctx.app.db.pragma('journal_mode', { simple: true })).toBe('wal');
    const dest = join(ctx.dir, 'copy.sqlite');
    const reads = readLoop();
    const result = await backupDatabase(source, dest);
    const during = await reads.stop();
    expect(during).toBeGreaterThan(0);

    expect(result.path).toBe(dest);
    expect(result.bytes).toBeGreaterThan(0);
    expect(result.counts.conditions).toBe(2);
    expect(verifyDatabase(dest)).toEqual(result.counts);
    // A single self-contained file: no WAL beside it is needed to read it.
    const copy = new Database(dest, { readonly: true });
    expect(copy.pragma('journal_mode', { simple: true })).toBe('delete');
    copy.close();

    expect(dump(dest)).toEqual(dump(source));
    const original = exported(source, join(ctx.dir, 'export-source'));
    expect(Object.keys(original).sort()).toEqual(['calciphylaxis.yaml', 'examplitis.yaml']);
    expect(exported(dest, join(ctx.dir, 'export-copy'))).toEqual(original);
    expect(readdirSync(ctx.dir).filter((name) => name.includes('.partial-'))).toEqual([]);
  });

  it('works from the CLI in another process while this one serves', async () => {
    const dest = join(ctx.dir, 'cli-copy.sqlite');
    const reads = readLoop();
    const { code, stdout, stderr } = await runKb(['backup', dest, '--db', source]);
    await reads.stop();
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/backed up .* to .*cli-copy\.sqlite: \d+ bytes \(\d+ pages\), integrity_check ok/);
    expect(stdout).toMatch(/\bconditions 2\b/);
    expect(dump(dest)).toEqual(dump(source));
  });

  it('fails cleanly on a destination it cannot write, leaving nothing behind', async () => {
    const folder = join(ctx.dir, 'targets');
    mkdirSync(folder);
    writeFileSync(join(folder, 'a-file'), 'not a folder');
    mkdirSync(join(folder, 'a-folder'));
    const before = readdirSync(folder).sort();
    const cases: [string, RegExp][] = [
      [join(folder, 'missing', 'copy.sqlite'), /does not exist/],
      [join(folder, 'a-file', 'copy.sqlite'), /is not a folder/],
      [join(folder, 'a-folder'), /is a directory/],
      [source, /the database being backed up/],
    ];
    for (const [dest, message] of cases) {
      await expect(backupDatabase(source, dest)).rejects.toThrow(message);
      await expect(backupDatabase(source, dest)).rejects.toBeInstanceOf(BackupError);
    }
    expect(readdirSync(folder).sort()).toEqual(before);
    const cli = await runKb(['backup', join(folder, 'missing', 'copy.sqlite'), '--db', source]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/does not exist/);
    expect(cli.stdout).toBe('');
  });

  it('refuses to keep a copy of a corrupt database, and keeps the earlier backup', async () => {
    const folder = join(ctx.dir, 'corrupt');
    mkdirSync(folder);
    const corrupt = join(folder, 'corrupt.sqlite');
    copyFileSync(source, corrupt);
    const db = new Database(corrupt);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.pragma('journal_mode = DELETE');
    const pageSize = Number(db.pragma('page_size', { simple: true }));
    const pages = Number(db.pragma('page_count', { simple: true }));
    db.close();
    // Tear the b-tree pages after the schema page: what a bad disk or a stray write leaves.
    const fd = openSync(corrupt, 'r+');
    for (let page = 2; page < pages; page += 3) writeSync(fd, Buffer.alloc(64, 0x5a), 0, 64, (page - 1) * pageSize);
    closeSync(fd);

    const dest = join(folder, 'backup.sqlite');
    copyFileSync(source, dest);
    const earlier = sha256(dest);
    const attempt = backupDatabase(corrupt, dest);
    await expect(attempt).rejects.toBeInstanceOf(BackupError);
    await expect(attempt).rejects.toThrow(/integrity_check of the copy failed|not a sound database/);
    expect(sha256(dest)).toBe(earlier);
    expect(readdirSync(folder).sort()).toEqual(['backup.sqlite', 'corrupt.sqlite']);
  });
});
