/**
 * The evidence model: per-figure interval, denominator, effect measure, design, primary source and
 * certainty; citations with locators and identifiers; the checks `kb validate` makes on them; the
 * CSV a researcher downloads; the filters; and the migration that upgrades an older database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { parse, stringify } from 'yaml';
import { buildFromContent } from '../src/content/build.js';
import { ContentError, formatProblem, loadContent } from '../src/content/load.js';
import { contentWarnings } from '../src/content/validate.js';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { applyMigrations, openDatabase, toDrizzle } from '../src/db/connection.js';
import { MIGRATIONS_DIR } from '../src/paths.js';
import { createContentRepository } from '../src/repositories/content.js';
import { STATISTICS_CSV_HEADER } from '../src/renderers/csv.js';
import type { Statistic } from '../src/schemas/statistic.js';
import { FIXTURES_DIR, buildTestApp, type TestContext } from './helpers.js';

const HAZARD = 'evidencitis.stat.mortality-hazard';

describe('kb validate on evidence fields', () => {
  let dir: string;
  let file: string;
  let dbPath: string;
  const original = readFileSync(join(FIXTURES_DIR, 'evidencitis.yaml'), 'utf8');
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kb-evidence-'));
    file = join(dir, 'content', 'evidencitis.yaml');
    cpSync(join(FIXTURES_DIR, 'evidencitis.yaml'), file);
    dbPath = join(dir, 'kb.sqlite');
    buildFromContent(join(dir, 'content'), dbPath);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  type Doc = { statistics: Record<string, unknown>[] } & Record<string, unknown>;
  const problemsAfter = (change: (doc: Doc) => void): string[] => {
    const doc = parse(original) as Doc;
    change(doc);
    writeFileSync(file, stringify(doc));
    const before = createHash('sha256').update(readFileSync(dbPath)).digest('hex');
    let problems: string[] = [];
    try {
      buildFromContent(join(dir, 'content'), dbPath);
    } catch (err) {
      if (!(err instanceof ContentError)) throw err;
      problems = err.problems.map(formatProblem);
    } finally {
      writeFileSync(file, original);
    }
    // A refused build leaves the database exactly as it was.
    expect(createHash('sha256').update(readFileSync(dbPath)).digest('hex')).toBe(before);
    return problems;
  };
  const hazard = (doc: Doc) => doc.statistics[0] as Record<string, unknown>;

  const cases: [string, (doc: Doc) => void, RegExp][] = [
    ['an interval without a level', (d) => void (hazard(d).interval = { low: 1.25, high: 5 }), /(?:^|\/)evidencitis\.yaml:\/statistics\/0\/interval\/level: required field is missing \(line \d+\)$/],
    ['an interval with low > high', (d) => void (hazard(d).interval = { level: 0.95, low: 6, high: 5 }), /(?:^|\/)evidencitis\.yaml:\/statistics\/0\/interval\/low: interval low \(6\) is greater than high \(5\)/],
    ['a value outside its interval', (d) => void (hazard(d).value = 9), /(?:^|\/)evidencitis\.yaml:\/statistics\/0\/value: value \(9\) lies outside its interval \(1\.25–5\)/],
    ['events > sampleSize', (d) => void (hazard(d).events = 201), /(?:^|\/)evidencitis\.yaml:\/statistics\/0\/events: events \(201\) exceed the sample size \(200\)/],
    ['events that disagree with a proportion', (d) => void ((d.statistics[1] as Record<string, unknown>).events = 60), /(?:^|\/)evidencitis\.yaml:\/statistics\/1\/events: events\/sampleSize is 30\.0%, which disagrees with the value \(20%\)/],
    ['certainty without a basis', (d) => void (hazard(d).certaintyBasis = null), /(?:^|\/)evidencitis\.yaml:\/statistics\/0\/certaintyBasis: certainty "low" needs a certaintyBasis/],
    ['a ratio estimate whose unit is not a ratio', (d) => void (hazard(d).unit = '%'), /(?:^|\/)evidencitis\.yaml:\/statistics\/0\/unit: a hazard-ratio is a ratio: its unit must be "ratio", not "%"/],
    ['an effect measure without a comparison group', (d) => void (hazard(d).comparedWith = null), /(?:^|\/)evidencitis\.yaml:\/statistics\/0\/comparedWith: a hazard-ratio needs comparedWith/],
    ['a primarySource the item does not cite', (d) => void (hazard(d).sources = ['test-relay-2023']), /(?:^|\/)evidencitis\.yaml:\/statistics\/0\/primarySource: primarySource "test-cohort-2022" is not among the sources this statistic cites/],
    // A locator lives inside the citation it qualifies, so it cannot name a work the item does not
    // cite: the nearest mistake, a locator for a work that does not exist, is refused by name.
    ['a locator on a work the item does not cite', (d) => void (hazard(d).sources = ['test-cohort-2022', { id: 'not-cited-anywhere', locator: 'Table 3' }]), /(?:^|\/)evidencitis\.yaml:\/statistics\/0\/sources\/1: unknown source id "not-cited-anywhere"/],
    ['the same work cited twice by one item', (d) => void (hazard(d).sources = ['test-cohort-2022', { id: 'test-cohort-2022', locator: 'Table 3' }]), /(?:^|\/)evidencitis\.yaml:\/statistics\/0\/sources\/1: source "test-cohort-2022" is cited twice by this item/],
    ['an unknown study design', (d) => void (hazard(d).studyDesign = 'anecdote'), /(?:^|\/)evidencitis\.yaml:\/statistics\/0\/studyDesign: must be one of: meta-analysis, systematic-review/],
  ];
  it.each(cases)('refuses %s with file:path: message, leaving the database untouched', (_name, change, expected) => {
    const problems = problemsAfter(change);
    expect(problems.some((p) => expected.test(p)), problems.join('\n')).toBe(true);
  });

  it('accepts the fixture, and warns about citation blocks and links to conditions with no file', () => {
    const corpus = loadContent(join(dir, 'content'), dir);
    expect(contentWarnings(corpus).map(formatProblem)).toEqual(['content/evidencitis.yaml:/related/0/condition: "not-in-the-knowledge-base" has no content file: the link renders with url null']);
    const doc = parse(original) as Doc;
    const item = (i: number) => ({ id: `evidencitis.cause.c${i}`, name: `Cause ${i}`, text: `Fictional cause number ${i}.`, sources: ['test-cohort-2022', 'test-relay-2023', { id: 'test-cohort-2022', locator: null }].slice(0, 2), confidence: 'low' });
    doc.causes = [1, 2, 3, 4].map(item);
    writeFileSync(file, stringify(doc));
    try {
      // Two sources per item is under the block threshold (three or more).
      expect(contentWarnings(loadContent(join(dir, 'content'), dir))).toHaveLength(1);
      doc.sources = [...(doc.sources as object[]), { ...(doc.sources as Record<string, unknown>[])[1], id: 'test-third-2024' }];
      doc.causes = [1, 2, 3, 4].map((i) => ({ ...item(i), sources: ['test-cohort-2022', 'test-relay-2023', 'test-third-2024'] }));
      writeFileSync(file, stringify(doc));
      const warnings = contentWarnings(loadContent(join(dir, 'content'), dir)).map(formatProblem);
      expect(warnings).toContain(
        'content/evidencitis.yaml:/causes: 4 items (0, 1, 2, 3) cite the identical list test-cohort-2022, test-relay-2023, test-third-2024: cite per item only the works that support it',
      );
    } finally {
      writeFileSync(file, original);
    }
  });
});

describe('the evidence model over HTTP', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await buildTestApp({ extraFixtures: ['examplitis.yaml', 'evidencitis.yaml'], conditions: ['calciphylaxis'] });
  });
  afterAll(() => ctx.close());
  const get = (url: string, headers: Record<string, string> = {}) => ctx.app.inject({ method: 'GET', url, headers });

  it('serves every evidence field of a figure, taking studyType and year from its primary source', async () => {
    const res = await get(`/v1/statistics/${HAZARD}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      estimateType: 'hazard-ratio',
      value: 2.5,
      unit: 'ratio',
      interval: { level: 0.95, low: 1.25, high: 5 },
      events: 40,
      sampleSize: 200,
      comparedWith: { label: 'fictional adults without evidencitis', treatment: null },
      studyDesign: 'cohort',
      primarySource: 'test-cohort-2022',
      certainty: 'low',
      certaintyBasis: 'Curators: one observational cohort of 200 people',
      confidence: 'medium',
      // From the primary source (a 2022 cohort), not from the review cited first (2023).
      studyType: 'cohort-study',
      year: 2022,
      sources: [
        { id: 'test-relay-2023', locator: null, doi: null, pmid: null, url: null },
        { id: 'test-cohort-2022', locator: 'Table 2', doi: '10.5555/test.2022.1', pmid: '1234567', url: 'https://doi.org/10.5555/test.2022.1' },
      ],
    });
  });

  it('filters by estimateType, studyDesign and minCertainty, and matches studyType/year on the primary source', async () => {
    const ids = async (query: string) => ((await get(`/v1/statistics?limit=100&${query}`)).json() as { data: Statistic[] }).data.map((s) => s.id);
    expect(await ids('condition=evidencitis&estimateType=hazard-ratio')).toEqual([HAZARD]);
    expect(await ids('condition=evidencitis&studyDesign=cross-sectional')).toEqual(['evidencitis.stat.share-affected']);
    expect(await ids('condition=evidencitis&minCertainty=low')).toEqual([HAZARD]);
    expect(await ids('minCertainty=moderate')).not.toContain(HAZARD);
    // Across all content the filters hold too: every hit has the asked estimate type (the shipped content has its own).
    expect((await ids('estimateType=hazard-ratio')).every((id) => id === HAZARD || id.endsWith('hazard-ratio-uk-study'))).toBe(true);
    expect(await ids('condition=evidencitis&studyType=review')).toEqual([]);
    expect(await ids('condition=evidencitis&studyType=cohort-study')).toEqual([HAZARD, 'evidencitis.stat.share-affected']);
    expect(await ids('condition=evidencitis&yearFrom=2023')).toEqual([]);
    expect(await ids('condition=evidencitis&yearTo=2022')).toHaveLength(2);
    const bad = await get('/v1/statistics?minCertainty=not-assessed');
    expect(bad.statusCode).toBe(400);
  });

  it('answers text/csv: one row per statistic, the documented header, values equal to the JSON', async () => {
    for (const request of [() => get('/v1/statistics?limit=100', { accept: 'text/csv' }), () => get('/v1/statistics?limit=100&format=csv')]) {
      const res = await request();
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/csv; charset=utf-8; header=present');
      const json = ((await get('/v1/statistics?limit=100')).json() as { data: Statistic[] }).data;
      const rows = parseCsv(res.body, { columns: true, skip_empty_lines: false }) as Record<string, string>[];
      expect(Object.keys(rows[0] ?? {})).toEqual([...STATISTICS_CSV_HEADER]);
      expect(rows.map((r) => r.id)).toEqual(json.map((s) => s.id));
      const cell = (v: string | number | null | undefined) => (v === null || v === undefined ? '' : String(v));
      for (const [i, s] of json.entries()) {
        const r = rows[i] as Record<string, string>;
        for (const key of ['id', 'conditionId', 'measure', 'estimateType', 'value', 'low', 'high', 'unit', 'events', 'sampleSize', 'population', 'studyDesign', 'certainty', 'certaintyBasis', 'confidence', 'primarySource', 'studyType', 'year', 'text'] as const) {
          expect(r[key], `${s.id} ${key}`).toBe(cell(s[key]));
        }
        expect(r.intervalLow).toBe(cell(s.interval?.low));
        expect(r.comparedWithLabel).toBe(cell(s.comparedWith?.label));
        expect(r.sources).toBe(s.sources.map((x) => x.id).join(';'));
        const primary = s.sources.find((x) => x.id === s.primarySource);
        expect(r.primarySourceDoi).toBe(cell(primary?.doi));
        expect(r.primarySourcePmid).toBe(cell(primary?.pmid));
        expect(r.disclaimer).toMatch(/not medical advice/i);
        expect(r.lastReviewed).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      }
    }
  });

  it('serves whenToSeekCare and differentialDiagnosis as sections of the document, and marks links to conditions with no file', async () => {
    const doc = (await get('/v1/conditions/evidencitis')).json() as Record<string, unknown> & { related: { url: string | null; inKnowledgeBase: boolean }[] };
    expect(doc.whenToSeekCare).toEqual([
      expect.objectContaining({ id: 'evidencitis.seek-care.green-ears', sources: [expect.objectContaining({ id: 'test-cohort-2022', locator: 'Table 1' })] }),
    ]);
    expect(doc.whenToSeekCare).toEqual([expect.not.objectContaining({ questions: expect.anything() })]);
    expect(doc.differentialDiagnosis).toEqual([expect.objectContaining({ code: { system: 'icd10cm', code: 'E83.59', display: 'Other disorders of calcium metabolism' } })]);
    expect(doc.related).toEqual([expect.objectContaining({ url: null, inKnowledgeBase: false })]);
    const section = await get('/v1/conditions/evidencitis/when-to-seek-care');
    expect(section.statusCode).toBe(200);
    const md = await get('/v1/conditions/evidencitis', { accept: 'text/markdown' });
    expect(md.body).toContain('## When to seek care');
    expect(md.body).toContain('## Conditions that look similar');
    // The interval and the design sit beside the figure.
    const ld = (await get('/v1/conditions/evidencitis', { accept: 'application/ld+json' })).json() as Record<string, unknown>;
    // The interval, denominator, design and certainty travel beside the figure in JSON-LD too.
    expect(ld.expectedPrognosis).toContain('[95% CI 1.25–5; 40 of 200; cohort study; certainty low]');
    expect(ld.differentialDiagnosis).toEqual([
      expect.objectContaining({ '@type': 'DDxElement', diagnosis: expect.objectContaining({ '@type': 'MedicalCondition', name: 'Examplitis' }) }),
    ]);
    expect(md.body).toMatch(/\*\*hazard ratio 2\.5, 95% CI 1\.25–5\*\* \(compared with: fictional adults without evidencitis;[^\n]*40 of 200; design: cohort study; certainty: low \(Curators: one observational cohort of 200 people\).*\[2\]\[1, Table 2\]$/m);
  });
});

describe('migrations 0004 (evidence model) and 0005 (search sections)', () => {
  it('upgrades a database built before it: primary source from the first citation, estimate type from the unit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-migrate-'));
    try {
      const old = join(dir, 'migrations');
      cpSync(MIGRATIONS_DIR, old, { recursive: true });
      // The release before the evidence model: migrations 0000-0003 only.
      for (const name of readdirSync(old)) if (/^000[4-9]|^00[1-9]/.test(name)) rmSync(join(old, name));
      const journal = JSON.parse(readFileSync(join(old, 'meta', '_journal.json'), 'utf8')) as { entries: { tag: string }[] };
      journal.entries = journal.entries.filter((e) => e.tag < '0004');
      writeFileSync(join(old, 'meta', '_journal.json'), JSON.stringify(journal));

      const db = openDatabase(join(dir, 'old.sqlite'));
      try {
        // The older release's migrations (the app's own migrator on its folder) and rows, in its column layout.
        migrate(toDrizzle(db), { migrationsFolder: old });
        db.exec(`INSERT INTO conditions (id, name, summary, version, last_reviewed) VALUES ('oldtitis', 'Oldtitis', 'An old condition.', 1, '2025-01-01');
          INSERT INTO sources (id, defined_in, position, kind, year, authors, attribution) VALUES ('old-review', 'oldtitis', 0, 'review', 2019, '[]', 'confirmed');
          INSERT INTO sources (id, defined_in, position, kind, year, authors, attribution) VALUES ('old-article', 'oldtitis', 1, 'article', 2021, '[]', 'confirmed');
          INSERT INTO statistics (id, condition_id, position, measure, value, unit, population, text, confidence) VALUES ('oldtitis.stat.share', 'oldtitis', 0, 'usage', 12, '%', 'old patients', 'Twelve percent.', 'high');
          INSERT INTO statistics (id, condition_id, position, measure, value, unit, population, text, confidence) VALUES ('oldtitis.stat.count', 'oldtitis', 1, 'recovery', 3, 'patients', 'old patients', 'Three patients.', 'high');
          INSERT INTO citations (entity_type, entity_id, position, source_id) VALUES ('statistic', 'oldtitis.stat.share', 0, 'old-review'), ('statistic', 'oldtitis.stat.share', 1, 'old-article'), ('statistic', 'oldtitis.stat.count', 0, 'old-article');
          INSERT INTO search_index (kind, entity_id, condition_id, title, body) VALUES ('statistic', 'oldtitis.stat.share', 'oldtitis', 'usage: old patients', 'Twelve percent.');`);
        applyMigrations(db);
        const c = createContentRepository(db).get('oldtitis');
        expect(c?.statistics.map((s) => [s.id, s.estimateType, s.primarySource, s.studyDesign, s.certainty, s.interval, s.events])).toEqual([
          ['oldtitis.stat.share', 'proportion', 'old-review', 'unknown', 'not-assessed', null, null],
          ['oldtitis.stat.count', 'count', 'old-article', 'unknown', 'not-assessed', null, null],
        ]);
        expect(c?.whenToSeekCare).toEqual([]);
        // Migration 0005 rebuilt the search index with where each row lives.
        expect(db.prepare("SELECT section, section_name AS sectionName, title FROM search_index WHERE entity_id = 'oldtitis.stat.share'").get()).toEqual({
          section: 'statistics',
          sectionName: 'statistics usage',
          title: 'usage: old patients',
        });
      } finally {
        db.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
