/**
 * Content files → SQLite. The database is written to a temporary file next to the target and
 * renamed over it only when complete, so a failed or killed build leaves the previous database
 * exactly as it was (rename is atomic on one filesystem).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, openSync, fsyncSync, closeSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as t from '../../db/schema.js';
import { applyMigrations, openDatabase, toDrizzle, type Sqlite } from '../db/connection.js';
import { STATEMENT_SECTIONS, type ConditionContent } from './schema.js';
import { loadContent, type LoadedCondition } from './load.js';
import { LICENCE_TEXT, ATTRIBUTION_TEXT } from './licence.js';
import { createBuildHistoryWriter, createRowWriter, datasetVersionOf, rememberConditionHash } from '../repositories/rows.js';
import { EMPTY_VOCABULARY, loadVocabulary, type Vocabulary } from '../retrieval/vocabulary.js';

export interface BuildResult {
  path: string;
  datasetVersion: string;
  conditions: number;
  statements: number;
  statistics: number;
  sources: number;
}


/** FTS5's in-memory buffer of pending terms while a build writes its index (see inBuildTransaction). */
const BUILD_FTS_HASH_BYTES = 64 * 2 ** 20;

/**
 * Runs `write` (the corpus's rows and history) in the build's one transaction, then the meta rows
 * from what it returns.
 */
function inBuildTransaction(sqlite: Sqlite, builtAt: string, write: () => { datasetVersion: string; vocabulary: Vocabulary }): string {
  const db = toDrizzle(sqlite);
  return sqlite.transaction(() => {
    // FTS5 keeps the terms of uncommitted rows in memory and writes them out as a new segment
    // each time they pass `hashsize` (1 MB by default), merging segments as they pile up: at
    // 1,000 conditions ~3,500 segment writes and their merges, ~1 s of the build. A build writes
    // its whole index in one transaction, so it flushes once (the same rows and the same ranking;
    // fewer, larger segments). The setting is removed before the commit, so the database keeps
    // FTS5's default for every later write (the flush at commit has already been sized).
    // (A bound value is refused here: FTS5 takes its settings as literals.)
    sqlite.exec(`INSERT INTO search_index (search_index, rank) VALUES ('hashsize', ${BUILD_FTS_HASH_BYTES})`);
    const { datasetVersion, vocabulary } = write();
    const meta = { datasetVersion, builtAt, licence: LICENCE_TEXT, attribution: ATTRIBUTION_TEXT, vocabulary: JSON.stringify(vocabulary) };
    for (const [key, value] of Object.entries(meta)) db.insert(t.meta).values({ key, value }).run();
    // Setting it back to 1 MB would leave a row FTS5 never writes itself; the config table is
    // FTS5's own (defensive mode refuses writes to it), so the row goes with defensive mode off
    // for this one statement, on a file nothing else has opened yet.
    sqlite.unsafeMode(true);
    try {
      sqlite.exec("DELETE FROM search_index_config WHERE k = 'hashsize'");
    } finally {
      sqlite.unsafeMode(false);
    }
    return datasetVersion;
  })();
}

/** Writes a validated corpus into an open, migrated, empty database in one transaction. */
export function writeCorpus(sqlite: Sqlite, corpus: ConditionContent[], builtAt: string, vocabulary: Vocabulary = EMPTY_VOCABULARY): string {
  return inBuildTransaction(sqlite, builtAt, () => {
    // The rows curated writes produce too: one writer (src/repositories/rows.ts) for both.
    createRowWriter(sqlite).write(corpus, () => 1);
    const history = createBuildHistoryWriter(sqlite);
    for (const c of corpus) history.record(c);
    history.finish();
    return { datasetVersion: datasetVersionOf(corpus), vocabulary };
  });
}

/** A condition read and prepared by the build's reading worker (src/content/buildWorker.ts). */
export interface PreparedCondition {
  content: ConditionContent;
  /** `conditionHash(content)`. */
  hash: string;
  /** `encodeBuiltContents(builtContentsOf(content))`. */
  body: Uint8Array;
}

/**
 * Writes conditions as they arrive into an open, migrated, empty database in one transaction, then
 * the vocabulary `vocabulary` returns once the last has arrived. Whatever throws (`conditions`
 * included) rolls it all back. The same rows, table by table and in the same order, as
 * writeCorpus of the same corpus.
 */
export function writeCorpusStream(
  sqlite: Sqlite,
  conditions: Iterable<PreparedCondition>,
  builtAt: string,
  vocabulary: () => Vocabulary,
): { datasetVersion: string; corpus: ConditionContent[] } {
  const corpus: ConditionContent[] = [];
  const datasetVersion = inBuildTransaction(sqlite, builtAt, () => {
    // A statement may cite a source of a condition that has not arrived yet: foreign keys are
    // checked at the commit instead (the setting ends with the transaction).
    sqlite.pragma('defer_foreign_keys = ON');
    const rows = createRowWriter(sqlite);
    const history = createBuildHistoryWriter(sqlite);
    for (const { content, hash, body } of conditions) {
      rememberConditionHash(content, hash);
      rows.writeCondition(content, () => 1);
      history.record(content, body);
      corpus.push(content);
    }
    history.finish();
    return { datasetVersion: datasetVersionOf(corpus), vocabulary: vocabulary() };
  });
  return { datasetVersion, corpus };
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A temp file untouched this long belongs to no running build, even one in another container. */
const STALE_TEMP_MS = 10 * 60_000;

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A killed build (SIGKILL, power loss) leaves its `<target>.build-<pid>-<hex>` temp file behind.
 * Nothing ever reads one, so it is only wasted space; remove those whose process is gone and that
 * have not changed for STALE_TEMP_MS. The age test protects a build running in another container
 * on a shared volume, whose pid means nothing here. Our own pid cannot be a live build: builds are
 * synchronous and this runs before ours creates its file (in a container the pid repeats).
 */
function removeStaleTemps(target: string): void {
  const dir = dirname(target);
  const prefix = `${basename(target)}.build-`;
  for (const name of readdirSync(dir)) {
    const m = name.startsWith(prefix) ? /^(\d+)-[0-9a-f]{8}(?:-journal|-wal|-shm)?$/.exec(name.slice(prefix.length)) : null;
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid !== process.pid && processIsAlive(pid)) continue;
    const path = join(dir, name);
    try {
      if (Date.now() - statSync(path).mtimeMs >= STALE_TEMP_MS) rmSync(path, { force: true });
    } catch {
      // Removed meanwhile by another build's cleanup: nothing to do.
    }
  }
}

/**
 * Makes a database at `target` with `write` (given the open, migrated temp file; returns the
 * dataset version and the corpus it wrote), checks it, and moves it into place.
 */
function buildFile(target: string, write: (sqlite: Sqlite) => { datasetVersion: string; corpus: ConditionContent[] }): BuildResult {
  mkdirSync(dirname(target), { recursive: true });
  removeStaleTemps(target);
  const temp = `${target}.build-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const sqlite = openDatabase(temp);
    let written: { datasetVersion: string; corpus: ConditionContent[] };
    try {
      // A self-contained file (no -wal beside it) so that the rename moves everything.
      sqlite.pragma('journal_mode = DELETE');
      applyMigrations(sqlite);
      written = write(sqlite);
      const integrity = sqlite.pragma('integrity_check', { simple: true });
      if (integrity !== 'ok') throw new Error(`integrity_check failed on the new database: ${String(integrity)}`);
    } finally {
      sqlite.close();
    }
    fsyncPath(temp);
    // A stale WAL from an earlier server would be replayed against the new file: remove it first.
    for (const suffix of ['-wal', '-shm']) rmSync(`${target}${suffix}`, { force: true });
    renameSync(temp, target);
    fsyncPath(dirname(target));
    const { datasetVersion, corpus } = written;
    return {
      path: target,
      datasetVersion,
      conditions: corpus.length,
      statements: corpus.reduce((n, c) => n + STATEMENT_SECTIONS.reduce((m, { key }) => m + c[key].length, 0), 0),
      statistics: corpus.reduce((n, c) => n + c.statistics.length, 0),
      sources: corpus.reduce((n, c) => n + c.sources.length, 0),
    };
  } finally {
    for (const suffix of ['', '-journal', '-wal', '-shm']) if (existsSync(temp + suffix)) rmSync(temp + suffix, { force: true });
  }
}

export function buildDatabase(corpus: LoadedCondition[], target: string, now: Date = new Date(), vocabulary: Vocabulary = EMPTY_VOCABULARY): BuildResult {
  return buildFile(target, (sqlite) => {
    const contents = corpus.map((c) => c.content);
    return { datasetVersion: writeCorpus(sqlite, contents, now.toISOString(), vocabulary), corpus: contents };
  });
}

/**
 * Builds `target` from conditions as they arrive (validated by whoever yields them, which throws
 * to stop the build: nothing is then built).
 */
export function buildDatabaseStream(conditions: Iterable<PreparedCondition>, target: string, now: Date, vocabulary: () => Vocabulary): BuildResult {
  return buildFile(target, (sqlite) => writeCorpusStream(sqlite, conditions, now.toISOString(), vocabulary));
}

/** Validates the content folder and builds it into `target`; throws ContentError on bad content. */
export function buildFromContent(contentDir: string, target: string): BuildResult {
  return buildDatabase(loadContent(contentDir), target, new Date(), loadVocabulary(contentDir));
}
