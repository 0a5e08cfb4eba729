/**
 * Pins every figure of the sepsis content file by reading the built database: value, range, unit,
 * population, timepoint, denominator, interval, study design, primary source and certainty. A change
 * to any figure must be deliberate and show up here. Also pins the file's codes, its size and its
 * links to calciphylaxis and end-stage kidney disease.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFromContent } from '../src/content/build.js';
import { openDatabase } from '../src/db/connection.js';
import { CONTENT_DIR } from '../src/paths.js';
import { buildTestApp, collectPages, FIXTURES_DIR } from './helpers.js';

let dir: string;
let db: Database.Database;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kb-sepsis-'));
  buildFromContent(CONTENT_DIR, join(dir, 'kb.sqlite'));
  db = openDatabase(join(dir, 'kb.sqlite'), { readonly: true });
});
afterAll(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Row {
  measure: string;
  value: number | null;
  low: number | null;
  high: number | null;
  unit: string;
  comparator: string | null;
  population: string;
  timepoint: string | null;
  timepoint_months: number | null;
  sample_size: number | null;
  events: number | null;
  estimate_type: string;
  interval_level: number | null;
  interval_low: number | null;
  interval_high: number | null;
  compared_label: string | null;
  compared_treatment_id: string | null;
  study_design: string;
  primary_source_id: string;
  certainty: string;
  certainty_basis: string | null;
  treatment_id: string | null;
  sources: string;
}

function stat(id: string): Row & { sourceIds: string[] } {
  const row = db
    .prepare<[string], Row>(
      `SELECT s.*, (SELECT group_concat(source_id, ',') FROM (SELECT source_id FROM citations WHERE entity_type = 'statistic' AND entity_id = s.id ORDER BY position)) AS sources
       FROM statistics s WHERE s.id = ?`,
    )
    .get(id);
  if (!row) throw new Error(`statistic ${id} is missing`);
  return { ...row, sourceIds: row.sources.split(',') };
}

const notAssessed = { certainty: 'not-assessed', certainty_basis: null };
const noInterval = { interval_level: null, interval_low: null, interval_high: null };
const ci95 = (low: number, high: number) => ({ interval_level: 0.95, interval_low: low, interval_high: high });
const gbd = { study_design: 'registry', primary_source_id: 'rudd-2020-gbd', events: null, sample_size: null, timepoint: null, ...notAssessed };
const metaAnalysis = { study_design: 'meta-analysis', primary_source_id: 'fleischmann-struzek-2020', events: null, sample_size: null, certainty: 'low' };
const newYork = { study_design: 'registry', primary_source_id: 'seymour-2017' };

const cases: [string, Partial<Row>][] = [
  ['sepsis.stat.incidence-global-2017', { measure: 'incidence', value: 48900000, unit: 'cases', estimate_type: 'count', ...ci95(38900000, 62900000), ...gbd }],
  ['sepsis.stat.deaths-global-2017', { measure: 'mortality', value: 11000000, unit: 'people', estimate_type: 'count', ...ci95(10100000, 12000000), ...gbd }],
  ['sepsis.stat.share-of-global-deaths-2017', { measure: 'mortality', value: 19.7, unit: '%', estimate_type: 'proportion', ...ci95(18.2, 21.4), ...gbd }],
  ['sepsis.stat.incidence-hospital-treated', { measure: 'incidence', value: 189, unit: 'per-100000-person-years', estimate_type: 'rate', ...ci95(133, 267), ...metaAnalysis }],
  ['sepsis.stat.mortality-hospital-treated', { measure: 'mortality', value: 26.7, unit: '%', estimate_type: 'proportion', ...ci95(22.9, 30.7), ...metaAnalysis }],
  ['sepsis.stat.incidence-icu-treated', { measure: 'incidence', value: 58, unit: 'per-100000-person-years', estimate_type: 'rate', ...ci95(42, 81), ...metaAnalysis }],
  [
    'sepsis.stat.mortality-icu-treated',
    { measure: 'mortality', value: 41.9, unit: '%', estimate_type: 'proportion', timepoint: 'before hospital discharge', ...ci95(36.2, 47.7), ...metaAnalysis },
  ],
  [
    'sepsis.stat.incidence-us-adult-admissions-2014',
    { measure: 'incidence', value: 6.0, unit: '%', estimate_type: 'proportion', events: 173690, sample_size: 2901019, study_design: 'cohort', primary_source_id: 'rhee-2017', ...noInterval, ...notAssessed },
  ],
  [
    'sepsis.stat.mortality-us-in-hospital-2014',
    { measure: 'mortality', value: 15.0, unit: '%', estimate_type: 'proportion', timepoint: 'in hospital', events: 26061, sample_size: 173690, study_design: 'cohort', primary_source_id: 'rhee-2017', ...noInterval, ...notAssessed },
  ],
  [
    'sepsis.stat.usage-bundle-within-3-hours',
    { measure: 'usage', value: 82.5, unit: '%', estimate_type: 'proportion', timepoint: 'within 3 hours', events: 40696, sample_size: 49331, treatment_id: 'sepsis.treatment.initial-bundle', ...newYork, ...noInterval, ...notAssessed },
  ],
  [
    'sepsis.stat.mortality-odds-per-hour-bundle',
    {
      measure: 'mortality',
      value: 1.04,
      unit: 'ratio',
      estimate_type: 'odds-ratio',
      timepoint: 'in hospital',
      events: null,
      sample_size: 49331,
      compared_treatment_id: 'sepsis.treatment.initial-bundle',
      treatment_id: 'sepsis.treatment.initial-bundle',
      ...ci95(1.02, 1.05),
      ...newYork,
      ...notAssessed,
    },
  ],
  [
    'sepsis.stat.mortality-odds-per-hour-antibiotics',
    {
      measure: 'mortality',
      value: 1.04,
      unit: 'ratio',
      estimate_type: 'odds-ratio',
      timepoint: 'in hospital',
      events: null,
      sample_size: 49331,
      compared_treatment_id: 'sepsis.treatment.early-antimicrobials',
      treatment_id: 'sepsis.treatment.early-antimicrobials',
      certainty: 'low',
      ...ci95(1.03, 1.06),
      ...newYork,
    },
  ],
  [
    'sepsis.stat.mortality-ratio-dialysis',
    {
      measure: 'mortality',
      value: null,
      low: 100,
      high: 300,
      unit: 'ratio',
      comparator: 'about',
      estimate_type: 'risk-ratio',
      timepoint: '1 year',
      timepoint_months: 12,
      events: null,
      sample_size: null,
      compared_treatment_id: null,
      study_design: 'registry',
      primary_source_id: 'sarnak-2000',
      ...noInterval,
      ...notAssessed,
    },
  ],
];

describe('sepsis figures', () => {
  it.each(cases)('%s', (id, expected) => {
    const row = stat(id);
    expect(row).toMatchObject(expected);
    // The work that produced a figure is always among the works it cites.
    expect(row.sourceIds).toContain(row.primary_source_id);
  });

  it('holds no statistic that the table above does not pin', () => {
    const ids = db.prepare<[string], { id: string }>('SELECT id FROM statistics WHERE condition_id = ?').all('sepsis');
    expect(ids.map((r) => r.id).sort()).toEqual(cases.map((c) => c[0]).sort());
  });

  it('states a basis for every certainty it rates, and names GRADE only where a guideline gave the rating', () => {
    const rated = db
      .prepare<[string], { id: string; certainty_basis: string | null }>("SELECT id, certainty_basis FROM statistics WHERE condition_id = ? AND certainty != 'not-assessed'")
      .all('sepsis');
    expect(rated.length).toBe(5);
    for (const r of rated) expect(r.certainty_basis, r.id).toBeTruthy();
    expect(stat('sepsis.stat.mortality-odds-per-hour-antibiotics').certainty_basis).toMatch(/^GRADE: the Surviving Sepsis Campaign 2021/);
    expect(stat('sepsis.stat.incidence-hospital-treated').certainty_basis).toMatch(/^Curators' reason/);
  });

  it('keeps populations specific to each study', () => {
    expect(stat('sepsis.stat.incidence-us-adult-admissions-2014').population).toMatch(/409 US/);
    expect(stat('sepsis.stat.mortality-ratio-dialysis').compared_label).toMatch(/general population/);
    expect(stat('sepsis.stat.mortality-icu-treated').population).toMatch(/intensive care/);
  });
});

describe('sepsis sources', () => {
  const src = (id: string) =>
    db.prepare<[string], Record<string, unknown>>('SELECT kind, year, journal, volume, pages, doi, pmid, pmcid, url FROM sources WHERE id = ?').get(id);

  it('keeps the verified identifiers exactly', () => {
    expect(src('singer-2016-sepsis3')).toMatchObject({ doi: '10.1001/jama.2016.0287', pmid: '26903338', pmcid: 'PMC4968574', year: 2016 });
    expect(src('evans-2021-ssc')).toMatchObject({ doi: '10.1007/s00134-021-06506-y', pmid: '34599691', pmcid: 'PMC8486643', volume: '47(11)' });
    expect(src('rudd-2020-gbd')).toMatchObject({ doi: '10.1016/S0140-6736(19)32989-7', pmid: '31954465', pmcid: 'PMC6970225' });
    expect(src('fleischmann-struzek-2020')).toMatchObject({ kind: 'meta-analysis', doi: '10.1007/s00134-020-06151-x', pmid: '32572531', pmcid: 'PMC7381468' });
    expect(src('rhee-2017')).toMatchObject({ doi: '10.1001/jama.2017.13836', pmid: '28903154', pmcid: 'PMC5710396' });
    expect(src('seymour-2017')).toMatchObject({ doi: '10.1056/NEJMoa1703058', pmid: '28528569', pmcid: 'PMC5538258' });
    expect(src('sarnak-2000')).toMatchObject({ doi: '10.1111/j.1523-1755.2000.00337.x', pmid: '11012910', pmcid: null });
    expect(src('new-2011-cua')).toMatchObject({ doi: '10.4061/2011/982854', pmid: '21748002', pmcid: 'PMC3124933' });
    expect(src('nhs-sepsis')).toMatchObject({ url: 'https://www.nhs.uk/conditions/sepsis/' });
  });

  it('leaves unverified identifiers null', () => {
    expect(src('prescott-ostermann-2023')).toMatchObject({ journal: null, volume: null, pages: null, pmid: '37286842' });
    expect(src('gildea-2024-nice')).toMatchObject({ pmid: null, pmcid: null, doi: '10.1136/bmj.q1173' });
    expect(src('mathur-2001')).toMatchObject({ pmcid: null, pmid: '11524512' });
  });
});

describe('sepsis codes, sections and links', () => {
  it('maps the ICD-10-CM codes as narrower than the condition, with their official titles', () => {
    const codes = db
      .prepare<[string], { system: string; code: string; display: string; match: string }>('SELECT system, code, display, match FROM condition_codes WHERE condition_id = ? ORDER BY position')
      .all('sepsis');
    expect(codes).toEqual([
      { system: 'icd10cm', code: 'A41.9', display: 'Sepsis, unspecified organism', match: 'narrower' },
      { system: 'icd10cm', code: 'R65.20', display: 'Severe sepsis without septic shock', match: 'narrower' },
      { system: 'icd10cm', code: 'R65.21', display: 'Severe sepsis with septic shock', match: 'narrower' },
    ]);
  });

  it('codes its drugs with ATC and names the jurisdiction of every approval', () => {
    const atc = db
      .prepare<[string], { treatment_id: string; code: string }>(
        "SELECT tc.treatment_id, tc.code FROM treatment_codes tc JOIN statements s ON s.id = tc.treatment_id WHERE s.condition_id = ? AND tc.system = 'atc' ORDER BY tc.code",
      )
      .all('sepsis');
    expect(atc).toEqual([
      { treatment_id: 'sepsis.treatment.norepinephrine', code: 'C01CA03' },
      { treatment_id: 'sepsis.treatment.vasopressin', code: 'H01BA01' },
      { treatment_id: 'sepsis.treatment.hydrocortisone', code: 'H02AB09' },
      { treatment_id: 'sepsis.treatment.early-antimicrobials', code: 'J01' },
    ]);
    const approved = db
      .prepare<[string], { id: string; regulatory_note: string }>("SELECT id, regulatory_note FROM statements WHERE condition_id = ? AND regulatory_status = 'approved'")
      .all('sepsis');
    expect(approved.map((a) => a.id).sort()).toEqual(['sepsis.treatment.norepinephrine', 'sepsis.treatment.vasopressin']);
    for (const a of approved) expect(a.regulatory_note, a.id).toMatch(/US FDA/);
  });

  it('has at least 25 statements, every one cited, across every section', () => {
    const counts = Object.fromEntries(
      db
        .prepare<[string], { section: string; n: number }>('SELECT section, count(*) AS n FROM statements WHERE condition_id = ? GROUP BY section')
        .all('sepsis')
        .map((r) => [r.section, r.n]),
    );
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(25);
    for (const section of ['symptoms', 'causes', 'riskFactors', 'complications', 'diagnosis', 'treatments', 'prognosis', 'prevention', 'whenToSeekCare', 'differentialDiagnosis']) {
      expect(counts[section], section).toBeGreaterThan(0);
    }
    const uncited = db
      .prepare<[string], { id: string }>("SELECT id FROM statements WHERE condition_id = ? AND id NOT IN (SELECT entity_id FROM citations WHERE entity_type = 'statement')")
      .all('sepsis');
    expect(uncited).toEqual([]);
    const lab = db.prepare<[string], { n: number }>("SELECT count(*) AS n FROM statements WHERE condition_id = ? AND section = 'diagnosis' AND category = 'lab'").get('sepsis');
    expect(lab?.n).toBeGreaterThan(0);
  });

  it('links back to calciphylaxis and to end-stage kidney disease, each link cited', () => {
    const related = db
      .prepare<[string], { related_id: string; relation: string }>('SELECT related_id, relation FROM related_conditions WHERE condition_id = ? ORDER BY position')
      .all('sepsis');
    expect(related).toEqual([
      { related_id: 'calciphylaxis', relation: 'risk-factor' },
      { related_id: 'end-stage-kidney-disease', relation: 'risk-factor' },
    ]);
    const cited = (position: number) =>
      db
        .prepare<[string], { source_id: string }>("SELECT source_id FROM citations WHERE entity_type = 'related' AND entity_id = ? ORDER BY position")
        .all(`sepsis#related-${position}`)
        .map((r) => r.source_id);
    expect(cited(0)).toEqual(['new-2011-cua', 'budisavljevic-1996', 'mathur-2001']);
    expect(cited(1)).toEqual(['cdc-sepsis-risk-factors', 'sarnak-2000']);
  });
});

describe('sepsis facts', () => {
  // Fact ids are a public contract (chatbots cite them): renaming or dropping one fails here.
  const pinned = readFileSync(join(FIXTURES_DIR, 'fact-ids-sepsis.txt'), 'utf8').trim().split('\n');

  it('serves exactly the pinned ids, each naming sepsis and citing a source', async () => {
    const ctx = await buildTestApp();
    try {
      const { items } = await collectPages<{ id: string; text: string; sources: { id: string }[] }>(ctx.app, '/v1/facts?condition=sepsis&limit=100');
      expect(items.map((f) => f.id).sort()).toEqual(pinned);
      for (const fact of items) {
        // Served alone, a fact must still say which condition it is about.
        expect(fact.text, fact.id).toMatch(/sepsis|septic/i);
        expect(fact.sources.length, fact.id).toBeGreaterThan(0);
      }
    } finally {
      await ctx.close();
    }
  });
});
