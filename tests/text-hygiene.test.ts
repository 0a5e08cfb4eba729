/**
 * Text that content must not hold (lone surrogates, NUL and other controls, bidi overrides) is
 * refused with the field's path, by `kb validate` (loadContent) and by the write API alike, and a
 * refused write leaves the database as it was; text is stored in NFC.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ContentError, loadContent } from '../src/content/load.js';
import { normalizeText, textProblems } from '../src/content/textHygiene.js';
import { expectProblem, tempContent } from './helpers.js';
import { buildCurationApp, checksum, type CurationContext } from './writes/helpers.js';

const BAD: [string, string, RegExp][] = [
  ['a lone high surrogate', 'Blue \ud800 thumbs', /lone surrogate \(U\+D800\) at character 6/],
  ['a lone low surrogate', '\udc00', /lone surrogate \(U\+DC00\) at character 1/],
  ['a NUL', 'Blue\u0000thumbs', /control character U\+0000 at character 5/],
  ['an ESC (terminal escape)', 'Blue \u001b[31mthumbs', /control character U\+001B/],
  ['a carriage return', 'Blue\rthumbs', /control character U\+000D/],
  ['a C1 control', 'Blue\u0085thumbs', /control character U\+0085/],
  ['DEL', 'Blue\u007fthumbs', /control character U\+007F/],
  ['a right-to-left override', 'Blue \u202ebmuht', /bidirectional control U\+202E \(RIGHT-TO-LEFT OVERRIDE\)/],
  ['a first-strong isolate', 'Blue \u2068thumbs', /U\+2068 \(FIRST STRONG ISOLATE\)/],
];

describe('textProblems', () => {
  it.each(BAD)('finds %s, with the path and position', (_name, text, message) => {
    const problems = textProblems({ a: [{ b: 'fine' }, { b: text }] });
    expect(problems).toHaveLength(1);
    expect(problems[0]?.path).toBe('/a/1/b');
    expect(problems[0]?.message).toMatch(message);
  });

  it('accepts tab, newline, paired surrogates (emoji), RTL text with direction marks, and every script', () => {
    expect(textProblems(['a\tb\nc', 'pain 😖 at night', 'שלום\u200f world', 'カルシフィラキシス', 'x\u200e'])).toEqual([]);
  });

  it('finds a forbidden character in a field name, and every problem of a value that has several', () => {
    expect(textProblems({ ok: 'fine', 'bad\u0007key': 'x' })).toMatchObject([{ path: '/bad\u0007key', message: expect.stringMatching(/^field name contains the control character U\+0007/) }]);
    expect(textProblems(['😖 fine', { a: 'x\u202ey', b: ['ok', '\udfff'] }]).map((p) => p.path)).toEqual(['/1/a', '/1/b/1']);
  });

  it('normalizes strings (and keys) to NFC, leaving other values alone', () => {
    expect(normalizeText({ 'cafe\u0301': ['e\u0301', 1, null, true], n: 2 })).toEqual({ café: ['é', 1, null, true], n: 2 });
  });

  it('keeps the order of keys, a later key that normalizes to an earlier one winning, and `__proto__` as an own key', () => {
    expect(Object.entries(normalizeText({ b: 1, 'cafe\u0301': 2, a: 3, café: 4 }))).toEqual([['b', 1], ['café', 4], ['a', 3]]);
    const parsed = normalizeText(JSON.parse('{"__proto__": {"polluted": true}, "x": "e\u0301"}') as Record<string, unknown>);
    expect(Object.keys(parsed)).toEqual(['__proto__', 'x']);
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(parsed.x).toBe('é');
  });

  it('returns a value that is NFC throughout as itself, and copies only the objects and arrays on the way to a change', () => {
    const clean = { a: ['x', { b: 'café' }], c: { d: 1 } };
    expect(normalizeText(clean)).toBe(clean);
    const mixed = { a: ['x', { b: 'cafe\u0301' }], c: { d: 1 } };
    const out = normalizeText(mixed);
    expect(out).toEqual({ a: ['x', { b: 'café' }], c: { d: 1 } });
    expect(out).not.toBe(mixed);
    expect(out.a).not.toBe(mixed.a);
    expect(out.c).toBe(mixed.c);
    expect(mixed.a[1]).toEqual({ b: 'cafe\u0301' });
  });
});

describe('kb validate', () => {
  it('refuses a content file with a control character, naming the file and the field path', () => {
    const { contentDir } = tempContent(['examplitis.yaml']);
    const file = join(contentDir, 'examplitis.yaml');
    const content = parse(readFileSync(file, 'utf8')) as { symptoms: { name: string }[] };
    const first = content.symptoms[0];
    if (!first) throw new Error('fixture has no symptom');
    first.name = 'Blue\u0000thumbs';
    writeFileSync(file, stringify(content));
    let problems: { file: string; path: string; message: string }[] = [];
    try {
      loadContent(contentDir);
    } catch (error) {
      if (error instanceof ContentError) problems = error.problems;
    }
    expect(problems).toMatchObject([{ path: '/symptoms/0/name', message: expect.stringMatching(/control character U\+0000/) }]);
    expect(problems[0]?.file).toMatch(/examplitis\.yaml$/);
  });

  it('loads decomposed text as NFC', () => {
    const { contentDir } = tempContent(['examplitis.yaml']);
    const file = join(contentDir, 'examplitis.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('name: Blue thumbs', 'name: "Blue thumbs (cafe\u0301)"'));
    const loaded = loadContent(contentDir).find((c) => c.content.id === 'examplitis');
    expect(loaded?.content.symptoms[0]?.name).toBe('Blue thumbs (café)');
  });
});

describe('the write API', () => {
  let ctx: CurationContext;
  beforeAll(async () => {
    ctx = await buildCurationApp({ extraFixtures: ['examplitis.yaml'] });
  });
  afterAll(() => ctx.close());
  const fact = '/v1/facts/examplitis.symptom.blue-thumbs';

  it.each(BAD)('refuses %s in a PATCH with a 400 naming /body/<field>, and changes nothing', async (_name, text, message) => {
    const before = checksum(ctx.app.db);
    const res = await ctx.send({ method: 'PATCH', url: fact, headers: { 'if-match': await ctx.etag(fact) }, payload: { name: text } });
    const body = expectProblem(res, 400);
    expect(body.errors).toEqual([{ path: '/body/name', message: expect.stringMatching(message) }]);
    expect(checksum(ctx.app.db)).toBe(before);
  });

  it('refuses a lone surrogate sent as raw JSON escapes (what the probe sent), in a nested field of a POST', async () => {
    const payload = `{"conditionId":"examplitis","section":"symptoms","id":"examplitis.symptom.odd","name":"Odd","text":"Odd \\ud800 text.","sources":["test-handbook-2020"],"confidence":"low","frequency":"rare","relatedCondition":null}`;
    const res = await ctx.send({ method: 'POST', url: '/v1/facts', headers: { 'content-type': 'application/json' }, payload });
    const body = expectProblem(res, 400);
    expect(body.errors).toEqual([{ path: '/body/text', message: expect.stringMatching(/lone surrogate/) }]);
  });

  it('stores text in NFC: the fact, its document and its revision agree', async () => {
    const res = await ctx.send({ method: 'PATCH', url: fact, headers: { 'if-match': await ctx.etag(fact) }, payload: { name: 'Blue thumbs (cafe\u0301)' } });
    expect(res.statusCode).toBe(200);
    expect(res.json<{ name: string }>().name).toBe('Blue thumbs (café)');
    const doc = await ctx.app.inject({ url: '/v1/conditions/examplitis' });
    expect(doc.body).toContain('Blue thumbs (café)');
    expect(doc.body).not.toContain('cafe\u0301');
    const revisions = await ctx.app.inject({ url: `${fact}/revisions` });
    expect(revisions.body).toContain('Blue thumbs (café)');
    expect(revisions.body).not.toContain('cafe\u0301');
  });
});
