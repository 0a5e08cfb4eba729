/**
 * Test helpers: every test file builds its own database in its own temp folder through the same
 * factory the server uses, so files never share state and tests see production settings.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, type App } from '../src/app.js';
import { loadConfig, type Config } from '../src/config.js';
import { buildFromContent } from '../src/content/build.js';
import { ContentError, type ContentProblem } from '../src/content/load.js';
import { CONTENT_DIR, PROJECT_ROOT } from '../src/paths.js';

export const FIXTURES_DIR = join(PROJECT_ROOT, 'tests', 'fixtures');

export interface TestContext {
  app: App;
  dir: string;
  config: Config;
  close: () => Promise<void>;
}

/**
 * A temp folder holding a copy of the real content, plus any extra fixture files named. With
 * `conditions`, only those condition files are copied: tests that pin exact lists, counts and
 * rankings of one condition's content stay true as other condition files are added.
 */
export function tempContent(extraFixtures: string[] = [], conditions?: string[]): { dir: string; contentDir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kb-test-'));
  const contentDir = join(dir, 'content');
  if (conditions) {
    mkdirSync(contentDir);
    for (const id of conditions) cpSync(join(CONTENT_DIR, `${id}.yaml`), join(contentDir, `${id}.yaml`));
  } else {
    cpSync(CONTENT_DIR, contentDir, { recursive: true });
  }
  for (const name of extraFixtures) cpSync(join(FIXTURES_DIR, name), join(contentDir, name));
  return { dir, contentDir };
}

export async function buildTestApp(options: { extraFixtures?: string[]; conditions?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<TestContext> {
  const { dir, contentDir } = tempContent(options.extraFixtures, options.conditions);
  const databasePath = join(dir, 'kb.sqlite');
  buildFromContent(contentDir, databasePath);
  // Load shedding reacts to the test machine's load, not to the app: off unless a test asks for it.
  const config = { ...loadConfig({ MAX_EVENT_LOOP_DELAY_MS: '0', ...options.env }), databasePath, contentDir };
  const app = await buildApp(config, { logger: false });
  await app.ready();
  return {
    app,
    dir,
    config,
    close: async () => {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Follows `page.nextCursor` until the end and returns every item, failing on a loop. */
export async function collectPages<T>(app: App, firstUrl: string, maxPages = 200): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let url: string | null = firstUrl;
  let pages = 0;
  while (url) {
    if (++pages > maxPages) throw new Error(`more than ${maxPages} pages from ${firstUrl}`);
    const res = await app.inject({ url });
    if (res.statusCode !== 200) throw new Error(`${url} → ${res.statusCode}: ${res.body}`);
    const body = res.json<{ data: T[]; page: { nextCursor: string | null } }>();
    items.push(...body.data);
    const next = body.page.nextCursor;
    if (next) {
      const u: URL = new URL(url, 'http://x');
      u.searchParams.set('cursor', next);
      url = `${u.pathname}${u.search}`;
    } else url = null;
  }
  return { items, pages };
}

export function expectProblem(res: { statusCode: number; headers: Record<string, unknown>; json: () => unknown }, status: number): Record<string, unknown> {
  if (res.statusCode !== status) throw new Error(`expected ${status}, got ${res.statusCode}`);
  const ct = String(res.headers['content-type']);
  if (!ct.startsWith('application/problem+json')) throw new Error(`expected problem+json, got ${ct}`);
  const body = res.json() as Record<string, unknown>;
  for (const key of ['type', 'title', 'status', 'detail']) if (!(key in body)) throw new Error(`problem lacks ${key}`);
  if (body.status !== status) throw new Error(`problem status ${String(body.status)} != ${status}`);
  return body;
}

/** The problems `fn` throws as a ContentError; fails when it throws anything else or nothing. */
export function contentProblemsOf(fn: () => unknown): ContentProblem[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ContentError) return error.problems;
    throw error;
  }
  throw new Error('no ContentError');
}
