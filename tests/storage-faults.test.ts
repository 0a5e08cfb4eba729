/**
 * Storage faults under a real server process on a real file: the database deleted, truncated,
 * from a newer release, read-only (as an unprivileged user), on a full disk. In each, a write
 * that could be lost is answered non-2xx (503, or 507 for a full disk, never 500), /ready says
 * what happened, and no write answered 2xx is missing afterwards: read back by a restart or by a
 * fresh connection to the file, never from the server's own memory. A lost database is never
 * silently rebuilt: the restart refuses, in one line, with exit code 1.
 *
 * The read-only and full-disk cases need root (to run the server as another user, and to mount a
 * small tmpfs in a private mount namespace) or, without root, the current user's own permissions
 * and a user namespace; where neither is possible they are skipped with the reason.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, truncateSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { buildFromContent } from '../src/content/build.js';
import { openDatabase } from '../src/db/connection.js';
import { backupDatabase } from '../src/db/backup.js';
import { KNOWN_MIGRATIONS } from '../src/db/migrations.js';
import { CONTENT_DIR } from '../src/paths.js';
import { createApiKeysRepository } from '../src/repositories/apiKeys.js';
import { failedStart, startServer, type ServerProcess } from './server-process.js';

const FACT = '/v1/facts/calciphylaxis.cause.advanced-kidney-failure';
const FACT_ID = 'calciphylaxis.cause.advanced-kidney-failure';
const UNPRIVILEGED = 65534;
const isRoot = process.getuid?.() === 0;

const dirs: string[] = [];
const servers: ServerProcess[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop();
  for (const d of dirs) {
    // A test may leave a directory read-only.
    spawnSync('chmod', ['-R', 'u+rwX', d]);
    rmSync(d, { recursive: true, force: true });
  }
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kb-faults-'));
  dirs.push(dir);
  return dir;
}

/** A database built from the content files, with a curator key; returns the key. */
function prepareDatabase(path: string): string {
  buildFromContent(CONTENT_DIR, path);
  const db = openDatabase(path);
  try {
    return createApiKeysRepository(db).create('fault-test curator', ['content:write']).key;
  } finally {
    db.close();
  }
}

function createKey(path: string): string {
  const db = openDatabase(path);
  try {
    return createApiKeysRepository(db).create('fault-test curator', ['content:write']).key;
  } finally {
    db.close();
  }
}

async function start(env: Record<string, string>, wrap?: string[]): Promise<ServerProcess> {
  const server = await startServer({ env: { MAX_EVENT_LOOP_DELAY_MS: '0', ...env }, wrap });
  servers.push(server);
  return server;
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
  contentType: string;
}

async function call(base: string, url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(`${base}${url}`, init);
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { raw: text };
  }
  return { status: res.status, body, contentType: res.headers.get('content-type') ?? '' };
}

/** A PATCH of the fact's text with the ETag read just before; resolves with the answer. */
async function patchText(base: string, key: string, text: string): Promise<Answer> {
  const current = await fetch(`${base}${FACT}`);
  const etag = current.headers.get('etag') ?? '"none"';
  return call(base, FACT, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'if-match': etag },
    body: JSON.stringify({ text }),
  });
}

/** The fact's text in each revision, read from the file by a connection of its own (what a restart sees). */
function revisionTexts(path: string): string[] {
  const db = openDatabase(path, { readonly: true });
  try {
    return db
      .prepare<[string], { after: string | null }>("SELECT after FROM revisions WHERE entity_type = 'statement' AND entity_id = ? ORDER BY seq")
      .all(FACT_ID)
      .map((r) => String((JSON.parse(r.after ?? '{}') as { text?: unknown }).text));
  } finally {
    db.close();
  }
}

function expectStorageProblem(answer: Answer, status: number, detail: RegExp): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect(answer.contentType).toMatch(/^application\/problem\+json/);
  expect(String(answer.body.detail)).toMatch(detail);
}

/** The one line a refused start prints, and its exit code 1. */
function expectOneLineRefusal(result: { code: number | null; stdout: string; stderr: string }, message: RegExp): void {
  expect(result.code, result.stdout + result.stderr).toBe(1);
  const lines = result.stderr.trim().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^condition-kb: cannot start: /);
  expect(lines[0]).toMatch(message);
  expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

/** Error-level (50) log lines of a server that mention `text`. */
const errorLines = (server: ServerProcess, text: RegExp) =>
  server
    .output()
    .split('\n')
    .filter((l) => l.includes('"level":50') && text.test(l));

describe('finding 1: the database file deleted while serving', () => {
  it('refuses writes and readiness at once, logs it, and a restart refuses to build over it; the backup holds every write acknowledged before it', async () => {
    const dir = tempDir();
    const path = join(dir, 'kb.sqlite');
    // The first start of this directory builds the database (and leaves the marker).
    const s1 = await start({ DATABASE_PATH: path });
    expect(existsSync(`${path}.marker`)).toBe(true);
    const key = createKey(path);
    const acknowledged: string[] = [];
    const first = await patchText(s1.base, key, 'Written before the backup.');
    expect(first.status).toBe(200);
    acknowledged.push('Written before the backup.');
    await backupDatabase(path, join(dir, 'backup.sqlite'));

    unlinkSync(path);
    const write = await patchText(s1.base, key, 'Written after the file was deleted.');
    expectStorageProblem(write, 503, /deleted/);
    expectStorageProblem(await call(s1.base, '/ready'), 503, /deleted/);
    // Reads of the open file are still consistent, so they go on.
    expect((await call(s1.base, FACT)).status).toBe(200);
    expect(errorLines(s1, new RegExp(`${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} was deleted`))).toHaveLength(1);
    expect(await s1.stop()).toBe(0);

    // No silent rebuild: the marker says this directory held a database.
    const refused = await failedStart({ env: { DATABASE_PATH: path } });
    expectOneLineRefusal(refused, new RegExp(`DATABASE_PATH ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is missing, but this directory held a database.*restore it from a backup.*kb build`));
    expect(existsSync(path)).toBe(false);

    // Recovery as the message says: the backup back in place, with every write it was taken after.
    copyFileSync(join(dir, 'backup.sqlite'), path);
    expect(revisionTexts(path)).toEqual(expect.arrayContaining(acknowledged));
    expect(revisionTexts(path)).not.toContain('Written after the file was deleted.');
    const restored = await buildApp({ ...loadConfig({ DATABASE_PATH: path, MAX_EVENT_LOOP_DELAY_MS: '0' }), contentDir: CONTENT_DIR }, { logger: false });
    try {
      expect((await restored.inject({ url: '/ready' })).statusCode).toBe(200);
      expect(restored.db.prepare<[string], { text: string }>("SELECT json_extract(after, '$.text') AS text FROM revisions WHERE entity_id = ? ORDER BY seq DESC LIMIT 1").get(FACT_ID)?.text).toBe('Written before the backup.');
    } finally {
      await restored.close();
    }
  }, 120_000);
});

describe('finding 2: the database file truncated while serving', () => {
  it('answers writes, /ready and even cached reads 503, and a restart refuses the file', async () => {
    const dir = tempDir();
    const path = join(dir, 'kb.sqlite');
    const key = prepareDatabase(path);
    const s1 = await start({ DATABASE_PATH: path });
    expect((await patchText(s1.base, key, 'Written before the truncation.')).status).toBe(200);
    // Rendered once, so the document is in the render cache.
    expect((await call(s1.base, '/v1/conditions/calciphylaxis')).status).toBe(200);

    truncateSync(path, 4096);
    // A write checks the file before and after it commits, whatever the last check was.
    expectStorageProblem(await patchText(s1.base, key, 'Written after the truncation.'), 503, /truncated/);
    expectStorageProblem(await call(s1.base, '/v1/conditions/calciphylaxis'), 503, /truncated/);
    expectStorageProblem(await call(s1.base, FACT), 503, /truncated/);
    expectStorageProblem(await call(s1.base, '/ready'), 503, /truncated/);
    expect(errorLines(s1, /header says \d+ pages/)).toHaveLength(1);
    // Liveness does not depend on the database.
    expect((await call(s1.base, '/health')).status).toBe(200);
    await s1.stop();

    const refused = await failedStart({ env: { DATABASE_PATH: path } });
    expectOneLineRefusal(refused, /not a usable database.*restore it from a backup/);
  }, 120_000);
});

describe('finding 3: a database from a newer release', () => {
  it('refuses to start, in one line, naming the unknown migration', async () => {
    const dir = tempDir();
    const path = join(dir, 'kb.sqlite');
    prepareDatabase(path);
    const db = openDatabase(path);
    const newest = Math.max(...KNOWN_MIGRATIONS.map((m) => m.when));
    db.prepare('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)').run('f'.repeat(64), newest + 86_400_000);
    db.close();
    const refused = await failedStart({ env: { DATABASE_PATH: path } });
    expectOneLineRefusal(refused, /database is from a newer release: it has 1 migration\(s\) this release does not know \(ffffffffffff/);
  }, 60_000);
});

/** Root runs the server as an unprivileged user (chmod means nothing to root); anyone else as themselves. */
const asUnprivileged = isRoot ? ['setpriv', `--reuid=${UNPRIVILEGED}`, `--regid=${UNPRIVILEGED}`, '--clear-groups'] : undefined;
const setprivMissing = isRoot && spawnSync('setpriv', ['--version']).status !== 0;

describe.skipIf(setprivMissing)('finding 5: read-only storage, as an unprivileged user', () => {
  it('a file made read-only while serving: /ready 503 and writes 503 (never 500) until it is writable again; nothing acknowledged is lost', async () => {
    const dir = tempDir();
    const path = join(dir, 'kb.sqlite');
    const key = prepareDatabase(path);
    if (isRoot) for (const p of [dir, path]) chownSync(p, UNPRIVILEGED, UNPRIVILEGED);
    const s1 = await start({ DATABASE_PATH: path }, asUnprivileged);
    const acknowledged: string[] = [];
    const refused: string[] = [];
    const write = async (text: string) => {
      const answer = await patchText(s1.base, key, text);
      expect([200, 503], JSON.stringify(answer.body)).toContain(answer.status);
      (answer.status === 200 ? acknowledged : refused).push(text);
      return answer;
    };
    expect((await write('Written while writable.')).status).toBe(200);

    chmodSync(path, 0o444);
    expectStorageProblem(await call(s1.base, '/ready'), 503, /file is not writable/);
    expectStorageProblem(await write('Written while read-only.'), 503, /file is not writable/);
    expect((await call(s1.base, FACT)).status).toBe(200);

    chmodSync(path, 0o644);
    expect((await call(s1.base, '/ready')).status).toBe(200);
    expect((await write('Written when writable again.')).status).toBe(200);
    expect(await s1.stop()).toBe(0);
    expect(acknowledged).toHaveLength(2);
    const stored = revisionTexts(path);
    expect(stored).toEqual(expect.arrayContaining(acknowledged));
    for (const text of refused) expect(stored).not.toContain(text);
  }, 120_000);

  /** A database in WAL mode, as a server leaves it (kb build writes rollback mode), owned by the server's user. */
  function walDatabase(dir: string, path: string): string {
    const key = prepareDatabase(path);
    openDatabase(path).close();
    if (isRoot) for (const p of [dir, path]) chownSync(p, UNPRIVILEGED, UNPRIVILEGED);
    return key;
  }

  it('a file read-only from the start: the server serves reads, /ready 503, writes 503', async () => {
    const dir = tempDir();
    const path = join(dir, 'kb.sqlite');
    const key = walDatabase(dir, path);
    chmodSync(path, 0o444);
    const s1 = await start({ DATABASE_PATH: path }, asUnprivileged);
    expect((await call(s1.base, FACT)).status).toBe(200);
    expectStorageProblem(await call(s1.base, '/ready'), 503, /file is not writable/);
    expectStorageProblem(await patchText(s1.base, key, 'Never written.'), 503, /not writable/);
    // Made writable again, the file is still open read-only (SQLite decided at open): writes stay 503, never 500.
    chmodSync(path, 0o644);
    expectStorageProblem(await patchText(s1.base, key, 'Never written either.'), 503, /cannot be written|not writable/);
    await s1.stop();
    const stored = revisionTexts(path);
    expect(stored).not.toContain('Never written.');
    expect(stored).not.toContain('Never written either.');
  }, 120_000);

  it('a read-only directory: the start fails in one line saying what to fix', async () => {
    const dir = tempDir();
    const data = join(dir, 'data');
    mkdirSync(data);
    const path = join(data, 'kb.sqlite');
    walDatabase(data, path);
    if (isRoot) chownSync(dir, UNPRIVILEGED, UNPRIVILEGED);
    chmodSync(data, 0o555);
    const refused = await failedStart({ env: { DATABASE_PATH: path }, wrap: asUnprivileged });
    expectOneLineRefusal(refused, /cannot open DATABASE_PATH .*kb\.sqlite: .*\(SQLITE_READONLY.*\).*directory/);
  }, 120_000);
});

/**
 * A private mount namespace with a small tmpfs at the data directory: the server sees a disk that
 * the test can fill and free (through nsenter), and the mount goes away with the process.
 */
function fullDiskWrap(): { wrap: string[]; enter: string[] } | string {
  const namespace = isRoot ? ['unshare', '--mount', '--propagation', 'private'] : ['unshare', '--user', '--map-root-user', '--mount', '--propagation', 'private'];
  const probe = spawnSync(namespace[0] ?? 'unshare', [...namespace.slice(1), 'sh', '-c', 'd=$(mktemp -d) && mount -t tmpfs -o size=1m tmpfs "$d" && umount "$d" && rmdir "$d"']);
  if (probe.status !== 0) return `cannot mount a tmpfs in a private mount namespace here (${String(probe.stderr).trim() || `exit ${probe.status}`})`;
  if (spawnSync('nsenter', ['--version']).status !== 0) return 'nsenter is not installed';
  return { wrap: namespace, enter: isRoot ? ['-m'] : ['-U', '-m', '--preserve-credentials'] };
}
const fullDisk = fullDiskWrap();

describe.skipIf(typeof fullDisk === 'string')(`finding 5: a full disk${typeof fullDisk === 'string' ? ` (skipped: ${fullDisk})` : ''}`, () => {
  it('answers writes 507 (never 500 or 2xx) and /ready 503 while full; resumes when space is freed; every acknowledged write is on disk', async () => {
    if (typeof fullDisk === 'string') return;
    const dir = tempDir();
    const source = join(dir, 'source.sqlite');
    const key = prepareDatabase(source);
    const data = join(dir, 'data');
    mkdirSync(data);
    const path = join(data, 'kb.sqlite');
    // In the namespace: a 4 MiB tmpfs at data/, the database copied onto it, then the server.
    const script = 'mount -t tmpfs -o size=4m tmpfs "$1" && cp "$2" "$1/kb.sqlite" && shift 2 && exec "$@"';
    const s1 = await start({ DATABASE_PATH: path }, [...fullDisk.wrap, 'sh', '-c', script, 'sh', data, source]);
    const pid = String(s1.child.pid);
    const inside = (command: string, ...args: string[]) => spawnSync('nsenter', ['-t', pid, ...fullDisk.enter, '--', 'sh', '-c', command, 'sh', ...args], { encoding: 'utf8' });

    const acknowledged: string[] = [];
    const refused: string[] = [];
    const write = async (text: string) => {
      const answer = await patchText(s1.base, key, text);
      expect([200, 507], JSON.stringify(answer.body)).toContain(answer.status);
      (answer.status === 200 ? acknowledged : refused).push(text);
      return answer;
    };
    expect((await write('Written before the disk filled.')).status).toBe(200);

    inside('cat /dev/zero > "$1/fill" 2>/dev/null; exit 0', data);
    expectStorageProblem(await call(s1.base, '/ready'), 503, /disk holding the database is full/);
    for (let i = 1; i <= 5; i++) {
      const answer = await write(`Written on a full disk, attempt ${i}, ${'x'.repeat(200)}.`);
      if (answer.status === 507) expect(answer.body).toMatchObject({ type: '/problems/insufficient-storage', title: 'Insufficient Storage' });
    }
    // The first attempt at least needed more room for the write-ahead log than there was.
    expect(refused.length).toBeGreaterThan(0);
    expect(errorLines(s1, /SQLITE_FULL|bytes free/).length).toBeGreaterThan(0);

    inside('rm -f "$1/fill"', data);
    expect((await call(s1.base, '/ready')).status).toBe(200);
    expect((await write('Written after space was freed.')).status).toBe(200);

    // What a restart would see: a fresh connection to the file, inside the namespace.
    const reader = `const D = (await import(${JSON.stringify(import.meta.resolve('better-sqlite3'))})).default; const db = new D(process.argv[1], { readonly: true });
      console.log(JSON.stringify({ check: db.pragma('integrity_check', { simple: true }), texts: db.prepare("SELECT json_extract(after, '$.text') AS t FROM revisions WHERE entity_id = ? ORDER BY seq").all(${JSON.stringify(FACT_ID)}).map((r) => r.t) }));`;
    const read = spawnSync('nsenter', ['-t', pid, ...fullDisk.enter, '--', process.execPath, '--input-type=module', '-e', reader, path], { encoding: 'utf8' });
    expect(read.status, read.stderr).toBe(0);
    const onDisk = JSON.parse(read.stdout) as { check: string; texts: string[] };
    expect(onDisk.check).toBe('ok');
    expect(onDisk.texts).toEqual(expect.arrayContaining(acknowledged));
    for (const text of refused) expect(onDisk.texts).not.toContain(text);
    expect(await s1.stop()).toBe(0);
  }, 120_000);
});
