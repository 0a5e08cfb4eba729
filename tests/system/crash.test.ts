/**
 * Crash safety of `kb build`: a child process builds a larger corpus (one real condition file plus 50
 * synthetic conditions) onto an existing good database and is killed with SIGKILL at seeded
 * random moments of the build. After every kill the target is either the previous database, byte
 * for byte, or (when the kill came after the rename) the complete new one: integrity_check ok and
 * every condition present. Never a half-written target, never a hot journal beside it. The temp
 * files that killed builds leave are ignored by the next build, which removes the stale ones.
 *
 * Crash safety of curated writes: a child commits writes one after another on the server's own
 * settings (WAL, synchronous=NORMAL) and prints an acknowledgement after each commit; it is
 * SIGKILLed at seeded random moments, 20+ times, each run continuing on the database the previous
 * kill left. After each kill: integrity_check ok, no dangling foreign key, every acknowledged write
 * present, and nothing half-applied anywhere (content, history, change feed, search index and
 * dataset version agree). SIGKILL is a process crash: the OS still holds everything written, so
 * synchronous=NORMAL loses nothing here; only a power cut can lose the last commits (never corrupt).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { build } from 'esbuild';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFromContent } from '../../src/content/build.js';
import { datasetVersionOf } from '../../src/repositories/rows.js';
import { loadContent } from '../../src/content/load.js';
import { CONTENT_DIR, PROJECT_ROOT } from '../../src/paths.js';
import { createChangesRepository } from '../../src/repositories/changes.js';
import { createContentRepository } from '../../src/repositories/content.js';
import { CONDITION, EDITED, createdId, editedText } from '../fixtures/crash-writes.js';

const SEED = Number(process.env.CRASH_SEED ?? 6);
const SYNTHETIC = 50;
const LANES = 2;
const KILLS_PER_LANE = 10;
const FIXTURES = ['tests/fixtures/crash-build.ts', 'tests/fixtures/crash-writes.ts'];
/** Kills land this long (at most) after the writer is ready: a few dozen commits. */
const WRITE_WINDOW_MS = 700;

/** mulberry32: a tiny seeded generator, so the kill schedule is the same on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/**
 * Synthetic conditions: copies of the real file with every id renamed (condition, statements,
 * statistics, sources), each section cut to its first few items so that 50 of them build in about
 * a second: long enough to kill at many different moments, short enough for 20+ runs.
 */
function writeSyntheticContent(contentDir: string): void {
  const base = parse(readFileSync(join(CONTENT_DIR, REAL), 'utf8')) as Record<string, unknown> & { id: string; sources: { id: string }[] };
  for (let n = 1; n <= SYNTHETIC; n++) {
    const id = `synthetic-${String(n).padStart(2, '0')}`;
    const sourceIds = new Map(base.sources.map((s) => [s.id, `${s.id}-${id}`]));
    const rename = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(rename);
      if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, rename(x)]));
      return typeof v === 'string' ? (sourceIds.get(v) ?? v.replaceAll(base.id, id)) : v;
    };
    const copy = rename(base) as Record<string, unknown>;
    for (const key of ['symptoms', 'causes', 'riskFactors', 'complications', 'diagnosis', 'treatments', 'prognosis', 'prevention']) {
      copy[key] = (copy[key] as unknown[]).slice(0, 2);
    }
    const kept = new Set((copy.treatments as { id: string }[]).map((t) => t.id));
    copy.statistics = (copy.statistics as { treatment: string | null }[]).filter((s) => s.treatment === null || kept.has(s.treatment)).slice(0, 4);
    copy.related = (copy.related as unknown[]).slice(0, 1);
    // Only the sources still cited: the file stays small, so loading it costs little.
    const cited = new Set<string>();
    // A citation is a source id, or `{ id, locator }` when it says where in the work the item is
    // supported (source definitions, also under a `sources` key, have no locator).
    const citedId = (x: unknown): string | undefined =>
      typeof x === 'string' ? x : x && typeof x === 'object' && 'locator' in x && 'id' in x && typeof x.id === 'string' ? x.id : undefined;
    const collect = (v: unknown, key = ''): void => {
      if (Array.isArray(v)) {
        for (const x of v) {
          const sid = key === 'sources' || key === 'summarySources' ? citedId(x) : undefined;
          if (sid === undefined) collect(x, key);
          else cited.add(sid);
        }
      } else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) collect(x, k);
    };
    collect(copy);
    copy.sources = (copy.sources as { id: string }[]).filter((source) => cited.has(source.id));
    writeFileSync(join(contentDir, `${id}.yaml`), stringify(copy));
  }
}

/**
 * The children run as plain JavaScript: each fixture bundled once (esbuild, types erased, nothing
 * checked) with the project code and its dependencies into one file, in a folder of its own whose
 * package.json says ESM and whose node_modules (for the native better-sqlite3) and migrations link
 * back here. Under tsx each child spent about a second of CPU more on loader hooks, and loading the
 * hundreds of files of its dependencies one by one cost about as much again: forty children made
 * that the largest cost of this file.
 */
async function compileForChildren(out: string): Promise<void> {
  await build({
    entryPoints: FIXTURES.map((file) => join(PROJECT_ROOT, file)),
    outbase: PROJECT_ROOT,
    outdir: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['better-sqlite3'],
    // CommonJS dependencies bundled into ESM still call require().
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    logLevel: 'error',
  });
  writeFileSync(join(out, 'package.json'), JSON.stringify({ type: 'module' }));
  for (const link of ['node_modules', 'migrations']) symlinkSync(join(PROJECT_ROOT, link), join(out, link));
}

/** Children still running: a failed assertion must not leave one behind. */
const running = new Set<ChildProcess>();

/** Runs every lane to its end even when one fails, then reports the first failure. */
async function allLanes(lanes: Promise<void>[]): Promise<void> {
  for (const r of await Promise.allSettled(lanes)) if (r.status === 'rejected') throw r.reason;
}

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
}

/** Runs a child script; with `killAfterMs`, SIGKILLs it that long after it printed `marker`. */
function runChild(script: string, args: string[], marker: string, killAfterMs: number | null): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    let out = '';
    let killTimer: NodeJS.Timeout | undefined;
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (killAfterMs !== null && killTimer === undefined && out.includes(`${marker}\n`)) {
        killTimer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      running.delete(child);
      clearTimeout(guard);
      clearTimeout(killTimer);
      resolve({ code, signal, out });
    });
  });
}

const runBuild = (target: string, killAfterMs: number | null) => runChild(join(dir, 'js', 'tests/fixtures/crash-build.js'), [corpusJson, target], 'loaded', killAfterMs);

type Outcome = 'intact' | 'replaced';

/** The target is the previous database unchanged, or the complete new one; never anything else. */
function verifyTarget(target: string, previousSha: string, expectedConditions: number): Outcome {
  expect(existsSync(target), 'the target database disappeared').toBe(true);
  for (const suffix of ['-journal', '-wal']) expect(existsSync(target + suffix), `a ${suffix} file beside the target`).toBe(false);
  if (sha256(target) === previousSha) return 'intact';
  const db = new Database(target, { readonly: true, fileMustExist: true });
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect((db.prepare('SELECT count(*) AS n FROM conditions').get() as { n: number }).n).toBe(expectedConditions);
    expect(db.prepare("SELECT value FROM meta WHERE key = 'datasetVersion'").get()).toBeTruthy();
  } finally {
    db.close();
  }
  return 'replaced';
}

let dir: string;
let contentDir: string;
/** The synthetic corpus, loaded and validated once, as the build children read it. */
let corpusJson: string;
let pristine: string;
let pristineSha: string;
let buildMs: number;
/** The real condition file the synthetic ones are copied from; the other shipped files add size, not cases. */
const REAL = 'calciphylaxis.yaml';
const expectedConditions = SYNTHETIC + 1;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kb-crash-'));
  await compileForChildren(join(dir, 'js'));
  contentDir = join(dir, 'content');
  mkdirSync(contentDir);
  copyFileSync(join(CONTENT_DIR, REAL), join(contentDir, REAL));
  writeSyntheticContent(contentDir);
  corpusJson = join(dir, 'corpus.json');
  writeFileSync(corpusJson, JSON.stringify(loadContent(contentDir)));
  // The "previous" database: the real condition alone, so old and new are easy to tell apart.
  pristine = join(dir, 'previous.sqlite');
  const realOnly = join(dir, 'real');
  mkdirSync(realOnly);
  copyFileSync(join(CONTENT_DIR, REAL), join(realOnly, REAL));
  buildFromContent(realOnly, pristine);
  pristineSha = sha256(pristine);
  // One uninterrupted run: checks the synthetic corpus builds and measures how long a build takes.
  const calibration = await runBuild(join(dir, 'calibration', 'kb.sqlite'), null);
  const m = /built (\d+) (\d+)/.exec(calibration.out);
  if (calibration.code !== 0 || !m) throw new Error(`calibration build failed:\n${calibration.out}`);
  expect(Number(m[1])).toBe(expectedConditions);
  buildMs = Number(m[2]);
}, 120_000);

afterAll(() => {
  for (const child of running) child.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('kb build killed with SIGKILL at random points', () => {
  it(
    `leaves the previous database intact or the new one complete (≥ ${LANES * KILLS_PER_LANE} kills)`,
    async () => {
      const random = rng(SEED);
      const tally = { intact: 0, replaced: 0, finished: 0, kills: 0 };
      const lane = async (index: number) => {
        const laneDir = join(dir, `lane-${index}`);
        mkdirSync(laneDir);
        const target = join(laneDir, 'kb.sqlite');
        let kills = 0;
        // Bounded: a run whose build beat the kill does not count, but the attempts are capped.
        for (let attempt = 0; kills < KILLS_PER_LANE && attempt < KILLS_PER_LANE * 2; attempt++) {
          copyFileSync(pristine, target);
          // Uniform over the whole build step and a little past it, so a kill can land after the rename.
          const delay = Math.round(random() * buildMs * 1.15);
          const result = await runBuild(target, delay);
          const outcome = verifyTarget(target, pristineSha, expectedConditions);
          if (result.signal === 'SIGKILL') {
            kills++;
            tally[outcome]++;
          } else {
            expect(result.code, result.out).toBe(0);
            expect(outcome).toBe('replaced');
            tally.finished++;
            // The window follows the build time measured now, with both lanes building at once:
            // wider than a calibration run alone on a quiet machine, narrower than one that ran
            // while other tests loaded both cores (a window kept wide lets builds beat the kill).
            buildMs = Number(/built \d+ (\d+)/.exec(result.out)?.[1] ?? buildMs);
          }
        }
        tally.kills += kills;
      };
      await allLanes(Array.from({ length: LANES }, (_, i) => lane(i)));
      const leftovers = readdirSync(dir, { recursive: true }).filter((name) => /\.build-\d+-[0-9a-f]{8}/.test(String(name)));
      console.log(
        `crash (seed ${SEED}, build ${buildMs} ms): ${tally.kills} kills: ${tally.intact} left the previous database intact, ` +
          `${tally.replaced} came after the rename (new database complete); ${tally.finished} build(s) finished first; ` +
          `${leftovers.length} temp file(s) left behind`,
      );
      expect(tally.kills).toBeGreaterThanOrEqual(LANES * KILLS_PER_LANE);
      expect(tally.intact, 'no kill landed in the middle of a build').toBeGreaterThan(0);
    },
    180_000,
  );

  it('ignores temp files that killed builds left, and removes the stale ones', () => {
    const laneDir = join(dir, 'lane-0');
    const target = join(laneDir, 'kb.sqlite');
    copyFileSync(pristine, target);
    const temps = () => readdirSync(laneDir).filter((name) => name.startsWith('kb.sqlite.build-'));
    // Garbage of every kind next to the target: half-written databases and journals of dead
    // builds (made an hour old), one as fresh as a build in another container, one of a live pid.
    const deadOld = join(laneDir, 'kb.sqlite.build-999999999-0badc0de');
    const deadOldJournal = `${deadOld}-journal`;
    const deadFresh = join(laneDir, 'kb.sqlite.build-999999998-feedf00d');
    const liveOld = join(laneDir, `kb.sqlite.build-${process.ppid}-0ddba11a`);
    for (const path of [deadOld, deadOldJournal, deadFresh, liveOld]) writeFileSync(path, 'SQLite format 3\u0000 torn page');
    const hourAgo = new Date(Date.now() - 3_600_000);
    const killedLeftovers = temps().map((name) => join(laneDir, name)).filter((path) => ![deadFresh].includes(path));
    for (const path of killedLeftovers) utimesSync(path, hourAgo, hourAgo);

    const result = buildFromContent(contentDir, target);
    expect(result.conditions).toBe(expectedConditions);
    expect(verifyTarget(target, pristineSha, expectedConditions)).toBe('replaced');
    // Stale leftovers of dead processes are gone; the live one and the fresh one are kept.
    expect(temps().sort()).toEqual([`kb.sqlite.build-${process.ppid}-0ddba11a`, 'kb.sqlite.build-999999998-feedf00d'].sort());
  });
});

interface Ack {
  n: number;
  kind: 'create' | 'update';
  id: string;
  conditionVersion: number;
}

interface WriterState {
  conditionVersion: number;
  editedText: string;
}

function readState(db: Database.Database): WriterState {
  const version = db.prepare<[string], { version: number }>('SELECT version FROM conditions WHERE id = ?').get(CONDITION)?.version;
  const text = db.prepare<[string], { text: string }>('SELECT text FROM statements WHERE id = ?').get(EDITED)?.text;
  if (version === undefined || text === undefined) throw new Error('the written condition or statement is gone');
  return { conditionVersion: version, editedText: text };
}

/**
 * After a kill: the database is sound, every acknowledged write is there, the write in flight is
 * either wholly there or wholly absent, and history, feed, search index and dataset version all
 * agree with the content (a half-applied commit would break at least one of them).
 */
function verifyWrites(path: string, tag: string, before: WriterState, acks: Ack[]): WriterState {
  // Read-write, as the server opens it: the first connection replays the WAL.
  const db = new Database(path, { fileMustExist: true });
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('foreign_key_check')).toEqual([]);
    const state = readState(db);
    const last = acks.at(-1);
    const inFlight = (last?.n ?? -1) + 1;

    const statement = db.prepare<[string], { id: string }>('SELECT id FROM statements WHERE id = ?');
    for (const ack of acks) if (ack.kind === 'create') expect(statement.get(ack.id), `acknowledged ${ack.id} is missing`).toBeTruthy();
    const acknowledgedVersion = last?.conditionVersion ?? before.conditionVersion;
    expect([acknowledgedVersion, acknowledgedVersion + 1], 'condition version').toContain(state.conditionVersion);
    const lastEdit = acks.filter((a) => a.kind === 'update').at(-1);
    const acknowledgedText = lastEdit ? editedText(tag, lastEdit.n) : before.editedText;
    const allowedTexts = inFlight % 2 === 1 ? [acknowledgedText, editedText(tag, inFlight)] : [acknowledgedText];
    expect(allowedTexts, 'edited text').toContain(state.editedText);
    // The write in flight is applied exactly when the condition's version moved past the last ack.
    const applied = state.conditionVersion === acknowledgedVersion + 1;
    if (inFlight % 2 === 0) expect(Boolean(statement.get(createdId(tag, inFlight)))).toBe(applied);
    else expect(state.editedText === editedText(tag, inFlight)).toBe(applied);

    const content = createContentRepository(db);
    const corpus = content.ids().map((id) => content.get(id)).filter((c) => c !== undefined);
    const stored = db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'datasetVersion'").get()?.value;
    expect(stored, 'dataset version against the content').toBe(datasetVersionOf(corpus));
    const one = (sql: string) => (db.prepare(sql).get() as { n: number | null }).n;
    expect(one('SELECT count(*) AS n FROM revisions')).toBe(one('SELECT count(*) AS n FROM changes'));
    expect(one('SELECT max(seq) AS n FROM revisions')).toBe(one('SELECT max(seq) AS n FROM changes'));
    // The build's creates are ranges, not rows (buildHistory.ts): asked as the revision endpoint asks.
    const history = createChangesRepository(db);
    const statements = db.prepare<[], { id: string; version: number }>('SELECT id, version FROM statements').all();
    expect(statements.filter((s) => history.revisions(['statement'], s.id, { limit: 1 })[0]?.version !== s.version), 'a statement without its revision').toEqual([]);
    expect(one('SELECT count(*) AS n FROM statements s WHERE NOT EXISTS (SELECT 1 FROM search_index x WHERE x.entity_id = s.id)'), 'a statement missing from search').toBe(0);
    expect(
      one(
        'SELECT count(*) AS n FROM conditions c WHERE c.version IS NOT coalesce((SELECT condition_version FROM changes x WHERE x.condition_id = c.id ORDER BY seq DESC LIMIT 1), (SELECT condition_version FROM built_contents b WHERE b.condition_id = c.id))',
      ),
      'a condition version the feed does not show',
    ).toBe(0);
    return state;
  } finally {
    db.close();
  }
}

describe('curated writes killed with SIGKILL at random points', () => {
  it(
    `keep every acknowledged write and never half-apply one (≥ ${LANES * KILLS_PER_LANE} kills)`,
    async () => {
      const random = rng(SEED + 1);
      const tally = { kills: 0, acknowledged: 0, inFlightApplied: 0 };
      const lane = async (index: number) => {
        const path = join(dir, `writes-${index}.sqlite`);
        copyFileSync(pristine, path);
        const first = new Database(path, { readonly: true });
        let state = readState(first);
        first.close();
        for (let run = 0; run < KILLS_PER_LANE; run++) {
          const tag = `${index}-${run}`;
          const result = await runChild(join(dir, 'js', 'tests/fixtures/crash-writes.js'), [path, tag], 'ready', Math.round(random() * WRITE_WINDOW_MS));
          expect(result.signal, result.out).toBe('SIGKILL');
          const acks: Ack[] = [...result.out.matchAll(/^ack (\d+) (create|update) (\S+) (\d+)$/gm)].map((m) => ({
            n: Number(m[1]),
            kind: m[2] as Ack['kind'],
            id: m[3] ?? '',
            conditionVersion: Number(m[4]),
          }));
          const next = verifyWrites(path, tag, state, acks);
          tally.kills++;
          tally.acknowledged += acks.length;
          if (next.conditionVersion > (acks.at(-1)?.conditionVersion ?? state.conditionVersion)) tally.inFlightApplied++;
          state = next;
        }
      };
      await allLanes(Array.from({ length: LANES }, (_, i) => lane(i)));
      console.log(
        `crash (writes, seed ${SEED + 1}): ${tally.kills} kills, ${tally.acknowledged} acknowledged writes all present, ` +
          `the write in flight applied whole in ${tally.inFlightApplied} and absent in ${tally.kills - tally.inFlightApplied}`,
      );
      expect(tally.kills).toBeGreaterThanOrEqual(LANES * KILLS_PER_LANE);
      expect(tally.acknowledged, 'no write was acknowledged before the kills').toBeGreaterThan(tally.kills);
    },
    180_000,
  );
});
