/**
 * Fact ids are a public contract: chatbots cite them. This pins every published id, so renaming
 * or dropping one fails here (rewording a fact does not). Add new ids to the fixture deliberately.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { buildApp } from '../src/app.js';
import { parse } from 'yaml';
import { buildFromContent } from '../src/content/build.js';
import { toYaml } from '../src/content/export.js';
import { statementsOf, type ConditionContent } from '../src/content/schema.js';
import { join } from 'node:path';
import { buildTestApp, collectPages, FIXTURES_DIR, tempContent, type TestContext } from './helpers.js';

const pinned = readFileSync(join(FIXTURES_DIR, 'fact-ids.txt'), 'utf8').trim().split('\n');

let ctx: TestContext;
beforeAll(async () => {
  ctx = await buildTestApp({ conditions: ['calciphylaxis'] });
});
afterAll(() => ctx.close());

describe('stable fact ids', () => {
  it('serves exactly the pinned ids as facts', async () => {
    const { items } = await collectPages<{ id: string }>(ctx.app, '/v1/facts?condition=calciphylaxis&limit=100');
    expect(items.map((f) => f.id).sort()).toEqual(pinned);
  });

  it('keeps every fact self-standing: it names its condition and cites a source that exists', async () => {
    const { items } = await collectPages<{ id: string; text: string; sources: { id: string }[] }>(ctx.app, '/v1/facts?limit=100');
    for (const fact of items) {
      expect(fact.text, fact.id).toMatch(/calciphylaxis/i);
      expect(fact.sources.length, fact.id).toBeGreaterThan(0);
      for (const s of fact.sources) expect((await ctx.app.inject({ url: `/v1/sources/${s.id}` })).statusCode, s.id).toBe(200);
    }
  });

  it('keeps ids when the wording of every fact changes on a rebuild', async () => {
    const { dir, contentDir } = tempContent([], ['calciphylaxis']);
    const file = join(contentDir, 'calciphylaxis.yaml');
    const content = parse(readFileSync(file, 'utf8')) as ConditionContent;
    for (const { item } of statementsOf(content)) item.text = `Reworded: ${item.text}`;
    for (const stat of content.statistics) stat.text = `Reworded: ${stat.text}`;
    writeFileSync(file, toYaml(content));
    const databasePath = join(dir, 'kb.sqlite');
    buildFromContent(contentDir, databasePath);
    const app = await buildApp({ ...ctx.config, databasePath, contentDir }, { logger: false });
    try {
      const before = await collectPages<{ id: string; text: string }>(ctx.app, '/v1/facts?limit=100');
      const after = await collectPages<{ id: string; text: string }>(app, '/v1/facts?limit=100');
      expect(after.items.every((f) => f.text.startsWith('Reworded: '))).toBe(true);
      expect(after.items.map((f) => f.id)).toEqual(before.items.map((f) => f.id));
    } finally {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
