/**
 * `kb build` reads content files with js-yaml (src/content/fastYaml.ts) where `yaml` used to; the
 * switch must not change what any file means. Every content file and a bench corpus (its synthetic
 * files are written by `yaml`'s stringify from varied data) are parsed by both and compared deeply,
 * and so is each scalar form where js-yaml's own default schema disagrees with `yaml` (YAML 1.1
 * leftovers, timestamps, merges): either the fast path gives `yaml`'s value, or it declines and
 * `yaml` reads the file.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { fastParse } from '../src/content/fastYaml.js';
import { loadContent } from '../src/content/load.js';
import { CONTENT_DIR } from '../src/paths.js';
import { writeBenchContent } from '../bench/corpus.js';
import { contentProblemsOf } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'kb-yaml-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What the content loader gets from `yaml` (the same options as src/content/load.ts). */
function withYaml(text: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  expect(doc.errors).toEqual([]);
  return doc.toJS();
}

const yamlFiles = (folder: string) => readdirSync(folder).filter((name) => /\.ya?ml$/.test(name));

describe('js-yaml with the core schema reads content files as yaml does', () => {
  it('every file under the content folder', () => {
    const files = yamlFiles(CONTENT_DIR);
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const name of files) {
      const text = readFileSync(join(CONTENT_DIR, name), 'utf8');
      expect(fastParse(text), name).toEqual({ data: withYaml(text) });
    }
  });

  it('every file of a bench corpus', () => {
    const bench = join(dir, 'bench');
    writeBenchContent(CONTENT_DIR, bench, 40);
    const files = yamlFiles(bench);
    expect(files).toHaveLength(41);
    for (const name of files) {
      const text = readFileSync(join(bench, name), 'utf8');
      expect(fastParse(text), name).toEqual({ data: withYaml(text) });
    }
  });

  // Plain scalars js-yaml's default schema resolves differently (0b101, -0x1 and +.5 are numbers
  // there, strings in YAML 1.2's core schema; timestamps become Dates; `<<` merges), and the forms
  // both resolve, which must stay numbers, booleans and nulls with the same values.
  const scalars = [
    '0b101', '-0x1', '+0x1', '0x1F', '0o17', '-0o17', '017', '+12', '-0', '0', '1_000', '1,000',
    '+.5', '.5', '-.5', '1.', '1.50', '1e3', '1E-3', '-1.5e+3', '.inf', '-.Inf', '+.INF', '.nan', '.NaN', '.NAN', 'inf', 'nan',
    '190:20:30', '1:30', '2001-12-14', '2001-12-14t21:59:43.10-05:00', '2002-12-14',
    'true', 'True', 'TRUE', 'false', 'yes', 'no', 'on', 'off', 'y', 'n', 'tRUE',
    '~', 'null', 'Null', 'NULL', 'nULL', '', '12abc', '0x', '0o8', '=', '<<',
  ];
  it.each(scalars)('the plain scalar %j', (scalar) => {
    for (const text of [`value: ${scalar}\n`, `- ${scalar}\n- [${scalar === '' ? '~' : scalar}]\n`]) {
      expect(fastParse(text), text).toEqual({ data: withYaml(text) });
    }
  });

  it.each([
    ['a merge key', 'base: &b {x: 1}\nchild:\n  <<: *b\n  y: 2\n'],
    ['a timestamp tag', 'at: !!timestamp 2001-12-14\n'],
    ['binary', 'b: !!binary aGVsbG8=\n'],
    ['a set', 's: !!set {a, b}\n'],
    ['a complex key', '? [a, b]\n: c\n'],
    ['a duplicate key', 'a: 1\na: 2\n'],
    ['two documents', 'a: 1\n---\nb: 2\n'],
    ['an unknown tag', 'a: !thing 1\n'],
    ['an explicit str', 'a: !!str 12\nb: !!int "12"\nc: !!float "1"\n'],
    ['quoted and folded text', `a: "tab\\tand \\u00e9"\nb: 'it''s'\nc: >\n  folded\n  lines\n\n  kept\nd: |-\n  literal\n   indented\ne: plain # comment\n`],
    ['anchors and aliases', 'a: &x [1, 2]\nb: *x\n'],
  ])('%s: the same value, or left to yaml', (_what, text) => {
    const fast = fastParse(text);
    if (fast === undefined) return; // declined: src/content/load.ts reads it with yaml
    const doc = parseDocument(text, { uniqueKeys: true });
    if (doc.errors.length > 0) throw new Error(`js-yaml read what yaml rejects: ${text}`);
    expect(fast.data).toEqual(doc.toJS());
  });
});

describe('the loader with the fast path', () => {
  it('loads the content folder to the same corpus as with yaml alone', () => {
    expect(loadContent(CONTENT_DIR, CONTENT_DIR)).toEqual(loadContent(CONTENT_DIR, CONTENT_DIR, false));
  });

  it('reports a bad file exactly as yaml reads it (line numbers included)', () => {
    const bad = join(dir, 'bad');
    writeBenchContent(CONTENT_DIR, bad, 2);
    const file = join(bad, 'synthetic-0002.yaml');
    // A number where a string belongs, as YAML 1.1 would read it, and an unknown field.
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^name: .*$/m, 'name: 0b101\nnonsense: 1'));
    const fast = contentProblemsOf(() => loadContent(bad, bad));
    expect(fast).toEqual(contentProblemsOf(() => loadContent(bad, bad, false)));
    expect(fast).toContainEqual(expect.objectContaining({ file: 'synthetic-0002.yaml', path: '/nonsense', message: 'unknown field', line: expect.any(Number) }));
  });
});
