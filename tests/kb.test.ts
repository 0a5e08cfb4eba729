/**
 * The knowledge-base build: validation messages that name file and path, atomic builds that never
 * damage an existing database, a lossless export, and conditions added by data alone.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { buildFromContent } from '../src/content/build.js';
import { exportCorpus } from '../src/content/export.js';
import { ContentError, formatProblem, loadContent } from '../src/content/load.js';
import { openDatabase } from '../src/db/connection.js';
import { CONTENT_DIR, PROJECT_ROOT } from '../src/paths.js';
import { FIXTURES_DIR } from './helpers.js';

let dir: string;
let contentDir: string;
let dbPath: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kb-build-'));
  contentDir = join(dir, 'content');
  // The build pipeline is exercised on calciphylaxis alone, so counts and file lists stay exact as
  // conditions are added; the canonical-form test below covers every shipped file.
  mkdirSync(contentDir);
  cpSync(join(CONTENT_DIR, 'calciphylaxis.yaml'), join(contentDir, 'calciphylaxis.yaml'));
  dbPath = join(dir, 'kb.sqlite');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const contentFile = () => join(contentDir, 'calciphylaxis.yaml');
const edit = (from: string | RegExp, to: string) => {
  const text = readFileSync(contentFile(), 'utf8');
  const next = text.replace(from, to);
  if (next === text) throw new Error(`edit did not apply: ${String(from)}`);
  writeFileSync(contentFile(), next);
};
const problemsOf = (): string[] => {
  try {
    loadContent(contentDir, dir);
  } catch (err) {
    if (err instanceof ContentError) return err.problems.map(formatProblem);
    throw err;
  }
  return [];
};

describe('kb validate', () => {
  it('accepts the shipped content', () => {
    expect(problemsOf()).toEqual([]);
  });

  it('accepts every shipped condition file together (ids and source ids unique across files)', () => {
    expect(() => loadContent(CONTENT_DIR, PROJECT_ROOT)).not.toThrow();
  });

  const broken: [string, () => void, RegExp][] = [
    ['a missing field', () => edit(/^ {4}population: Patients on dialysis\n/m, ''), /^content\/calciphylaxis\.yaml:\/statistics\/0\/population: required field is missing \(line \d+\)$/],
    ['an unknown source id', () => edit('      - kodumudi-2020\n', '      - no-such-source\n'), /^content\/calciphylaxis\.yaml:\/causes\/2\/sources\/1: unknown source id "no-such-source" \(line \d+\)$/],
    ['a duplicate id', () => edit('id: calciphylaxis.symptom.livedo-patches', 'id: calciphylaxis.symptom.skin-pain'), /^content\/calciphylaxis\.yaml:\/symptoms\/1\/id: duplicate id "calciphylaxis.symptom.skin-pain"/],
    ['a percentage out of range', () => edit('value: 50.3\n', 'value: 150.3\n'), /^content\/calciphylaxis\.yaml:\/statistics\/1\/value: 150.3 is out of range for a percentage/],
    ['a low above high', () => edit(/low: 0\.04\n(\s+)high: 4\n/, 'low: 5\n$1high: 4\n'), /\/statistics\/0\/low: low \(5\) is greater than high \(4\)/],
    ['a malformed code', () => edit('code: E83.59', 'code: E8359X'), /\/codes\/0\/code: "E8359X" is not a well-formed icd10cm code/],
    ['a bad enum value', () => edit('match: broader', 'match: sideways'), /\/codes\/0\/match: must be one of: exact, broader, narrower, related/],
    ['an unknown field', () => edit('version: 1\n', 'version: 1\nreviewer: someone\n'), /:\/reviewer: unknown field/],
    ['a wrong type', () => edit('version: 1\n', 'version: one\n'), /:\/version: must be integer/],
    ['bad YAML', () => edit('name: Calciphylaxis\n', 'name: [Calciphylaxis\n'), /^content\/calciphylaxis\.yaml:\/: invalid YAML: .+\(line \d+\)$/],
    ['an id outside its condition', () => edit('id: calciphylaxis.cause.unknown-exact-cause', 'id: other.cause.unknown-exact-cause'), /\/causes\/0\/id: id "other.cause.unknown-exact-cause" must start with the condition id/],
    ['an unknown treatment link', () => edit('treatment: calciphylaxis.treatment.sodium-thiosulfate', 'treatment: calciphylaxis.treatment.nothing'), /\/statistics\/1\/treatment: unknown treatment id/],
  ];

  it.each(broken)('reports %s with file and path', (_name, breakIt, expected) => {
    breakIt();
    const problems = problemsOf();
    expect(problems.some((p) => expected.test(p)), problems.join('\n')).toBe(true);
  });

  it.each(broken)('leaves the existing database byte-for-byte intact on %s', (_name, breakIt) => {
    buildFromContent(contentDir, dbPath);
    const before = sha256(dbPath);
    breakIt();
    expect(() => buildFromContent(contentDir, dbPath)).toThrow(ContentError);
    expect(sha256(dbPath)).toBe(before);
    expect(readdirSync(dir).sort()).toEqual(['content', 'kb.sqlite']); // no temp files left behind
  });

  it('exits 1 from the CLI with file:path: message lines', () => {
    edit('      - kodumudi-2020\n', '      - no-such-source\n');
    const r = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), join(PROJECT_ROOT, 'src/cli/kb.ts'), 'validate', '--content', contentDir], { cwd: dir, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^content\/calciphylaxis\.yaml:\/causes\/2\/sources\/1: unknown source id "no-such-source"/m);
  });
});

describe('kb build', () => {
  it('builds a second condition next to calciphylaxis from data alone', () => {
    cpSync(join(FIXTURES_DIR, 'examplitis.yaml'), join(contentDir, 'examplitis.yaml'));
    const result = buildFromContent(contentDir, dbPath);
    expect(result.conditions).toBe(2);
    const db = openDatabase(dbPath, { readonly: true });
    try {
      const ids = db.prepare<[], { id: string }>('SELECT id FROM conditions ORDER BY id').all();
      expect(ids.map((r) => r.id)).toEqual(['calciphylaxis', 'examplitis']);
      expect(db.prepare<[string], { value: number }>('SELECT value FROM statistics WHERE id = ?').get('examplitis.stat.glove-usage')?.value).toBe(12.5);
    } finally {
      db.close();
    }
  });

  it('gives the same content the same dataset version', () => {
    const a = buildFromContent(contentDir, dbPath).datasetVersion;
    const b = buildFromContent(contentDir, join(dir, 'other.sqlite')).datasetVersion;
    expect(a).toBe(b);
    edit('version: 1\n', 'version: 2\n');
    expect(buildFromContent(contentDir, dbPath).datasetVersion).not.toBe(a);
  });

  it("leaves FTS5's settings at their defaults (the build's larger term buffer is for the build only)", () => {
    buildFromContent(contentDir, dbPath);
    const db = openDatabase(dbPath, { readonly: true });
    try {
      expect(db.prepare<[], { k: string; v: unknown }>('SELECT k, v FROM search_index_config ORDER BY k').all()).toEqual([{ k: 'version', v: 4 }]);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      // And the index written with it answers.
      const found = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM search_index WHERE search_index MATCH 'calciphylaxis'").get()?.n;
      expect(found).toBeGreaterThan(0);
    } finally {
      db.close();
    }
  });

  it('replaces an existing database atomically with the new content', () => {
    buildFromContent(contentDir, dbPath);
    edit('name: Calciphylaxis\n', 'name: Calciphylaxis (edited)\n');
    buildFromContent(contentDir, dbPath);
    const db = openDatabase(dbPath, { readonly: true });
    try {
      expect(db.prepare<[], { name: string }>('SELECT name FROM conditions').get()?.name).toBe('Calciphylaxis (edited)');
    } finally {
      db.close();
    }
  });
});

describe('kb export', () => {
  const exportTo = (db: string, out: string) => {
    const sqlite = openDatabase(db, { readonly: true });
    try {
      return exportCorpus(sqlite, out);
    } finally {
      sqlite.close();
    }
  };

  it('round-trips build → export → build losslessly and byte-stably', () => {
    cpSync(join(FIXTURES_DIR, 'examplitis.yaml'), join(contentDir, 'examplitis.yaml'));
    const first = buildFromContent(contentDir, dbPath);
    const out1 = join(dir, 'export1');
    const files = exportTo(dbPath, out1);
    expect(files.map((f) => f.slice(out1.length + 1))).toEqual(['calciphylaxis.yaml', 'examplitis.yaml']);
    // Lossless: the exported data equals the source data.
    for (const name of ['calciphylaxis.yaml', 'examplitis.yaml']) {
      expect(parse(readFileSync(join(out1, name), 'utf8'))).toEqual(parse(readFileSync(join(contentDir, name), 'utf8')));
    }
    // Stable: building the export and exporting again gives identical bytes and dataset version.
    const db2 = join(dir, 'kb2.sqlite');
    const second = buildFromContent(out1, db2);
    expect(second.datasetVersion).toBe(first.datasetVersion);
    const out2 = join(dir, 'export2');
    exportTo(db2, out2);
    for (const name of ['calciphylaxis.yaml', 'examplitis.yaml']) {
      expect(readFileSync(join(out2, name), 'utf8')).toBe(readFileSync(join(out1, name), 'utf8'));
    }
  });

  it('exports every shipped content file exactly as committed (they are in canonical form)', () => {
    buildFromContent(CONTENT_DIR, dbPath);
    const out = join(dir, 'export');
    const files = exportTo(dbPath, out);
    // Condition files only: `_vocabulary.yaml` is shared data, not a condition, and is not exported.
    const shipped = readdirSync(CONTENT_DIR).filter((f) => /\.ya?ml$/.test(f) && !f.startsWith('_')).sort();
    expect(files.map((f) => f.slice(out.length + 1)).sort()).toEqual(shipped);
    for (const name of shipped) expect(readFileSync(join(out, name), 'utf8'), name).toBe(readFileSync(join(CONTENT_DIR, name), 'utf8'));
  });
});

describe('wording', () => {
  it('copies no sentence from the source article (verbatim check over db, src, README)', () => {
    const tool = join(PROJECT_ROOT, '..', 'shared', 'tools', 'verbatim-check.mjs');
    // The checker and the source article live in the shared folder beside the project, not in it.
    expect(
      existsSync(tool),
      `The verbatim check needs ${tool}: the shared folder (tools/verbatim-check.mjs and the source article) must sit beside the project, at ../shared. It is missing here, so the wording cannot be checked.`,
    ).toBe(true);
    const output = execFileSync(process.execPath, [tool, 'db', 'src', 'README.md'], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    expect(output).toMatch(/no run of 10\+ words shared/);
  });
});
