/**
 * `npm start` (src/start.mjs) in a copy of the project: `--prepare` bundles the server and leaves
 * a V8 code cache; a start uses a valid cache as it is, and a cache that is damaged, truncated,
 * made for other code or missing never stops the server: it starts, answers, and writes a good
 * cache in its place.
 *
 * The copy (src, db, migrations, package.json, tsconfig.json, node_modules linked) keeps the
 * project's own dist/start untouched; its database is built by the first start, as a fresh clone's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../src/paths.js';
import { startServer } from '../server-process.js';

const run = promisify(execFile);

let project: string;
let cache: string;
const DOCUMENT = '/v1/conditions/calciphylaxis';
/** `npm start`'s node options (package.json): the code cache is valid only under the same V8 flags. */
const START_OPTIONS = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start
  .trim()
  .split(/\s+/)
  .filter((word) => word.startsWith('-'));

beforeAll(async () => {
  project = mkdtempSync(join(tmpdir(), 'kb-start-'));
  for (const p of ['src', 'db', 'migrations', 'package.json', 'tsconfig.json']) cpSync(join(PROJECT_ROOT, p), join(project, p), { recursive: true });
  symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(project, 'node_modules'));
  cache = join(project, 'dist', 'start', 'server.cjs.cache');
  await run(process.execPath, ['src/start.mjs', '--prepare'], { cwd: project, env: { PATH: process.env.PATH ?? '' }, timeout: 120_000 });
}, 180_000);
afterAll(() => rmSync(project, { recursive: true, force: true }));

function status(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', reject);
  });
}

/** A file's identity: the cache is written to a temporary file and renamed, so a new one has a new inode. */
const identity = (path: string) => (existsSync(path) ? `${statSync(path).ino}@${statSync(path).mtimeMs}` : 'missing');

/** `npm start` in the copy, one request for the document, stopped; the cache's identity before and after. */
async function startAndRequest(): Promise<{ before: string; after: string; documentStatus: number }> {
  const before = identity(cache);
  const server = await startServer({ args: [...START_OPTIONS, 'src/start.mjs'], cwd: project, env: { DATABASE_PATH: join(project, 'data', 'kb.sqlite'), MAX_EVENT_LOOP_DELAY_MS: '0' }, startTimeoutMs: 60_000 });
  try {
    const documentStatus = await status(server.base + DOCUMENT);
    // A new cache is written on the turn after the first response: wait for it when one is due,
    // at most 10 s (a valid cache is left as it is, so "after" then equals "before").
    for (let i = 0; i < 100 && identity(cache) === before; i++) {
      if (before !== 'missing' && validCache()) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // One more request afterwards: writing the cache did not disturb the server.
    expect(await status(`${server.base}/health`)).toBe(200);
    return { before, after: identity(cache), documentStatus };
  } finally {
    expect(await server.stop()).toBe(0);
  }
}

/** The cache file's own checks: a JSON header line whose length and SHA-256 match the bytes after it. */
function validCache(): boolean {
  const file = readFileSync(cache);
  const newline = file.indexOf(0x0a);
  const header = JSON.parse(file.subarray(0, newline).toString()) as { length: number; sha256: string };
  const data = file.subarray(newline + 1);
  return header.length === data.length && createHash('sha256').update(data).digest('hex') === header.sha256;
}

function rewrite(transform: (header: Record<string, unknown>, data: Buffer) => Buffer): void {
  const file = readFileSync(cache);
  const newline = file.indexOf(0x0a);
  const header = JSON.parse(file.subarray(0, newline).toString()) as Record<string, unknown>;
  writeFileSync(cache, transform(header, Buffer.from(file.subarray(newline + 1))));
}

describe('npm start and its code cache', () => {
  it('--prepare leaves the bundle and a code cache', () => {
    expect(existsSync(join(project, 'dist', 'start', 'server.cjs'))).toBe(true);
    expect(existsSync(cache)).toBe(true);
    expect(validCache()).toBe(true);
  });

  it('a valid cache is used as it is (not written again)', async () => {
    // The first start also builds the database (a fresh data directory).
    const first = await startAndRequest();
    expect(first.documentStatus).toBe(200);
    const second = await startAndRequest();
    expect(second.documentStatus).toBe(200);
    expect(second.after).toBe(second.before);
  });

  it('a damaged cache (one byte changed) is refused before V8 reads it, and replaced', async () => {
    rewrite((header, data) => {
      const at = Math.floor(data.length / 2);
      data[at] = (data[at] ?? 0) ^ 0xff;
      return Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), data]);
    });
    expect(validCache()).toBe(false);
    const r = await startAndRequest();
    expect(r.documentStatus).toBe(200);
    expect(r.after).not.toBe(r.before);
    expect(validCache()).toBe(true);
  });

  it('bytes V8 does not accept (with a matching checksum) are rejected by V8, and replaced', async () => {
    rewrite((header) => {
      const garbage = randomBytes(4096);
      const forged = { ...header, length: garbage.length, sha256: createHash('sha256').update(garbage).digest('hex') };
      return Buffer.concat([Buffer.from(`${JSON.stringify(forged)}\n`), garbage]);
    });
    expect(validCache()).toBe(true);
    const r = await startAndRequest();
    expect(r.documentStatus).toBe(200);
    expect(r.after).not.toBe(r.before);
    expect(statSync(cache).size).toBeGreaterThan(100_000);
  });

  it('a cache made for another bundle is not used, and replaced', async () => {
    rewrite((header, data) => Buffer.concat([Buffer.from(`${JSON.stringify({ ...header, key: 'another bundle' })}\n`), data]));
    const r = await startAndRequest();
    expect(r.documentStatus).toBe(200);
    expect(r.after).not.toBe(r.before);
    expect(readFileSync(cache).subarray(0, 30).toString()).not.toContain('another bundle');
  });

  it('a truncated or missing cache is written again', async () => {
    writeFileSync(cache, readFileSync(cache).subarray(0, 1000));
    const truncated = await startAndRequest();
    expect(truncated.documentStatus).toBe(200);
    expect(validCache()).toBe(true);
    rmSync(cache);
    const missing = await startAndRequest();
    expect(missing.documentStatus).toBe(200);
    expect(missing.after).not.toBe('missing');
    expect(validCache()).toBe(true);
  });

  it('npm run kb runs kb from its bundle, made by --prepare with the server, and builds on two threads', async () => {
    for (const file of ['kb.cjs', 'build-worker.cjs']) expect(existsSync(join(project, 'dist', 'start', file))).toBe(true);
    const db = join(project, 'data', 'kb-check.sqlite');
    const env = { PATH: process.env.PATH ?? '' };
    const built = await run(process.execPath, ['src/kb.mjs', 'build', '--db', db], { cwd: project, env, timeout: 60_000 });
    expect(built.stdout).toMatch(/^built .*kb-check\.sqlite: \d+ condition\(s\)/);
    const stats = await run(process.execPath, ['src/kb.mjs', 'stats', '--db', db], { cwd: project, env });
    expect(JSON.parse(stats.stdout)).toMatchObject({ counts: { conditions: expect.any(Number) } });
  });
});
