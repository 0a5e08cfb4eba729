/**
 * Pins every figure of the end-stage kidney disease file as read from the built database: value,
 * range, unit, population, timepoint, denominator, interval, design, producing work and certainty.
 * A change to any figure must be deliberate and show up here. Also holds the file to the content
 * rules of issue 16: at least 25 cited statements, verified codes, links back to calciphylaxis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFromContent } from '../src/content/build.js';
import { openDatabase } from '../src/db/connection.js';
import { CONTENT_DIR } from '../src/paths.js';
import { buildTestApp, collectPages, type TestContext } from './helpers.js';

const CONDITION = 'end-stage-kidney-disease';

let dir: string;
let db: Database.Database;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kb-eskd-'));
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
  study_design: string;
  primary_source_id: string;
  certainty: string;
  certainty_basis: string | null;
  treatment_id: string | null;
}

function stat(id: string): Row & { sourceIds: string[] } {
  const row = db
    .prepare<[string], Row & { sources: string }>(
      `SELECT s.*, (SELECT group_concat(source_id, ',') FROM (SELECT source_id FROM citations WHERE entity_type = 'statistic' AND entity_id = s.id ORDER BY position)) AS sources
       FROM statistics s WHERE s.id = ?`,
    )
    .get(id);
  if (!row) throw new Error(`statistic ${id} is missing`);
  return { ...row, sourceIds: row.sources.split(',') };
}

const T = `${CONDITION}.treatment`;
/** Fields every figure is pinned on; `population` is matched as a pattern so rewording it stays cheap. */
type Pin = Partial<Omit<Row, 'population'>> & { population: RegExp };
const none = { interval_level: null, interval_low: null, interval_high: null, events: null, compared_label: null, certainty: 'not-assessed', certainty_basis: null };

const cases: [string, Pin][] = [
  [
    'prevalence-us-2018',
    { ...none, measure: 'prevalence', value: 2242, low: null, high: null, unit: 'per-million-population', comparator: null, population: /United States/, timepoint: '2018', sample_size: null, estimate_type: 'rate', study_design: 'registry', primary_source_id: 'usrds-2020-adr', treatment_id: null },
  ],
  [
    'prevalence-us-count',
    { ...none, measure: 'prevalence', value: 808000, unit: 'people', comparator: 'about', population: /United States/, timepoint: null, sample_size: null, estimate_type: 'count', study_design: 'registry', primary_source_id: 'usrds-adr-cited-by-niddk', treatment_id: null },
  ],
  [
    'usage-dialysis-us',
    { ...none, measure: 'usage', value: 69, unit: '%', comparator: null, population: /end-stage kidney disease in the United States/, sample_size: null, estimate_type: 'proportion', study_design: 'registry', primary_source_id: 'usrds-adr-cited-by-niddk', treatment_id: null },
  ],
  [
    'usage-transplant-us',
    { ...none, measure: 'usage', value: 31, unit: '%', population: /end-stage kidney disease in the United States/, sample_size: null, estimate_type: 'proportion', study_design: 'registry', primary_source_id: 'usrds-adr-cited-by-niddk', treatment_id: `${T}.kidney-transplant` },
  ],
  [
    'usage-krt-worldwide-2010',
    { ...none, measure: 'usage', value: 2618000, unit: 'people', comparator: null, population: /worldwide/, timepoint: '2010', sample_size: null, estimate_type: 'count', study_design: 'systematic-review', primary_source_id: 'liyanage-2015', treatment_id: null },
  ],
  [
    'need-krt-worldwide-2010',
    { ...none, measure: 'prevalence', value: 4902000, unit: 'people', population: /conservative model/, timepoint: '2010', estimate_type: 'count', interval_level: 0.95, interval_low: 4438000, interval_high: 5431000, study_design: 'systematic-review', primary_source_id: 'liyanage-2015' },
  ],
  [
    'premature-deaths-no-krt-2010',
    { ...none, measure: 'mortality', value: 2284000, unit: 'people', comparator: 'at-least', population: /could not access/, timepoint: '2010', estimate_type: 'count', study_design: 'systematic-review', primary_source_id: 'liyanage-2015' },
  ],
  [
    'mortality-rate-starting-dialysis',
    { ...none, measure: 'mortality', value: 192, unit: 'per-1000-person-years', comparator: null, population: /ERA-EDTA/, timepoint: 'mean follow-up 1.8 years', timepoint_months: null, estimate_type: 'rate', interval_level: 0.95, interval_low: 190, interval_high: 193, events: 42643, sample_size: 123407, study_design: 'registry', primary_source_id: 'de-jager-2009' },
  ],
  [
    'cardiovascular-share-of-deaths',
    { ...none, measure: 'mortality', value: 39, unit: '%', population: /Deaths among adults starting dialysis/, estimate_type: 'proportion', events: 16654, sample_size: 42643, study_design: 'registry', primary_source_id: 'de-jager-2009' },
  ],
  [
    'transplant-vs-waitlist-mortality',
    {
      measure: 'mortality',
      value: 0.32,
      unit: 'ratio',
      population: /wait/,
      timepoint: '18 months after transplantation',
      timepoint_months: 18,
      estimate_type: 'risk-ratio',
      interval_level: 0.95,
      interval_low: 0.3,
      interval_high: 0.35,
      events: null,
      sample_size: 46164,
      study_design: 'cohort',
      primary_source_id: 'wolfe-1999',
      certainty: 'low',
      treatment_id: `${T}.kidney-transplant`,
    },
  ],
  [
    'sepsis-mortality-dialysis-vs-general',
    { ...none, compared_label: 'US general population', measure: 'mortality', value: null, low: 100, high: 300, unit: 'ratio', comparator: 'about', population: /dialysis/, estimate_type: 'risk-ratio', sample_size: null, study_design: 'registry', primary_source_id: 'sarnak-2000' },
  ],
  [
    'calciphylaxis-prevalence-hemodialysis',
    { ...none, measure: 'prevalence', value: 1.24, unit: '%', population: /haemodialysis/, estimate_type: 'proportion', events: 48, sample_size: 3867, study_design: 'cross-sectional', primary_source_id: 'liu-2022-calciphylaxis-hemodialysis' },
  ],
  [
    'credence-eskd-hazard-ratio',
    { ...none, compared_label: 'Placebo', measure: 'incidence', value: 0.68, unit: 'ratio', population: /CREDENCE/, timepoint: 'median follow-up 2.62 years', estimate_type: 'hazard-ratio', interval_level: 0.95, interval_low: 0.54, interval_high: 0.86, sample_size: 4401, study_design: 'randomized-trial', primary_source_id: 'perkovic-2019-credence', treatment_id: `${T}.sglt2-inhibitors` },
  ],
  [
    'sglt2-kidney-progression-risk-ratio',
    { ...none, compared_label: 'Placebo', measure: 'incidence', value: 0.63, unit: 'ratio', population: /13 large placebo-controlled/, estimate_type: 'risk-ratio', interval_level: 0.95, interval_low: 0.58, interval_high: 0.69, sample_size: 90413, study_design: 'meta-analysis', primary_source_id: 'smart-c-2022', treatment_id: `${T}.sglt2-inhibitors` },
  ],
  [
    'usage-transplant-uk-2015',
    { ...none, measure: 'usage', value: 53.1, unit: '%', population: /UK/, timepoint: '31 December 2015', estimate_type: 'proportion', sample_size: 61256, study_design: 'registry', primary_source_id: 'ukrr-19th-annual-report', treatment_id: `${T}.kidney-transplant` },
  ],
  [
    'usage-haemodialysis-uk-2015',
    { ...none, measure: 'usage', value: 41, unit: '%', population: /UK/, timepoint: '31 December 2015', estimate_type: 'proportion', sample_size: 61256, study_design: 'registry', primary_source_id: 'ukrr-19th-annual-report', treatment_id: `${T}.hemodialysis` },
  ],
];

describe('end-stage kidney disease figures', () => {
  it.each(cases)('%s', (slug, { population, ...expected }) => {
    const row = stat(`${CONDITION}.stat.${slug}`);
    expect(row).toMatchObject(expected);
    expect(row.population).toMatch(population);
    // The producing work is always among the works the figure cites.
    expect(row.sourceIds).toContain(expected.primary_source_id);
  });

  it('holds no statistic that the table above does not pin', () => {
    const ids = db.prepare<[string], { id: string }>('SELECT id FROM statistics WHERE condition_id = ?').all(CONDITION);
    expect(ids.map((r) => r.id).sort()).toEqual(cases.map((c) => `${CONDITION}.stat.${c[0]}`).sort());
  });

  it('has prevalence, mortality and treatment figures, and a rating basis wherever certainty is assessed', () => {
    const rows = db.prepare<[string], { measure: string; treatment_id: string | null; certainty: string; certainty_basis: string | null }>('SELECT measure, treatment_id, certainty, certainty_basis FROM statistics WHERE condition_id = ?').all(CONDITION);
    expect(rows.some((r) => r.measure === 'prevalence')).toBe(true);
    expect(rows.some((r) => r.measure === 'mortality')).toBe(true);
    expect(rows.some((r) => r.treatment_id !== null)).toBe(true);
    for (const r of rows.filter((x) => x.certainty !== 'not-assessed')) expect(r.certainty_basis).toMatch(/\S/);
  });

  it('keeps the verified identifiers of its works exactly, and unverified ones null', () => {
    const src = (id: string) => db.prepare<[string], Record<string, unknown>>('SELECT doi, pmid, pmcid, year, kind FROM sources WHERE id = ?').get(id);
    expect(src('liyanage-2015')).toMatchObject({ doi: '10.1016/S0140-6736(14)61601-9', pmid: null, year: 2015, kind: 'systematic-review' });
    expect(src('de-jager-2009')).toMatchObject({ doi: '10.1001/jama.2009.1488', pmid: '19861670', year: 2009 });
    expect(src('wolfe-1999')).toMatchObject({ doi: '10.1056/NEJM199912023412303', pmid: '10580071', year: 1999 });
    expect(src('sarnak-2000')).toMatchObject({ doi: '10.1111/j.1523-1755.2000.00337.x', pmid: '11012910' });
    expect(src('perkovic-2019-credence')).toMatchObject({ doi: '10.1056/NEJMoa1811744', pmid: '30990260', kind: 'randomized-trial' });
    expect(src('smart-c-2022')).toMatchObject({ doi: '10.1016/S0140-6736(22)02074-8', pmid: '36351458', pmcid: 'PMC7613836', kind: 'meta-analysis' });
    expect(src('kdigo-2024-ckd')).toMatchObject({ doi: '10.1016/j.kint.2023.10.018', pmid: '38490803', kind: 'guideline' });
    expect(src('usrds-2020-adr')).toMatchObject({ doi: null, pmid: null, pmcid: 'PMC8148988' });
    expect(src('usrds-adr-cited-by-niddk')).toMatchObject({ doi: null, pmid: null, year: null });
  });
});

describe('end-stage kidney disease statements and links', () => {
  it('has at least 25 statements, every one cited', () => {
    const { n } = db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM statements WHERE condition_id = ?').get(CONDITION) ?? { n: 0 };
    expect(n).toBeGreaterThanOrEqual(25);
    const uncited = db
      .prepare<[string], { id: string }>("SELECT id FROM statements WHERE condition_id = ? AND id NOT IN (SELECT entity_id FROM citations WHERE entity_type = 'statement')")
      .all(CONDITION);
    expect(uncited).toEqual([]);
  });

  it('codes ESRD as N18.6 (exact) and the stage 5 and dialysis-status codes as related, with their official titles', () => {
    const codes = db.prepare<[string], { system: string; code: string; display: string; match: string }>('SELECT system, code, display, match FROM condition_codes WHERE condition_id = ? ORDER BY position').all(CONDITION);
    expect(codes).toEqual([
      { system: 'icd10cm', code: 'N18.6', display: 'End stage renal disease', match: 'exact' },
      { system: 'icd10cm', code: 'N18.5', display: 'Chronic kidney disease, stage 5', match: 'related' },
      { system: 'icd10cm', code: 'Z99.2', display: 'Dependence on renal dialysis', match: 'related' },
    ]);
  });

  it('links calciphylaxis, secondary hyperparathyroidism and sepsis, each with a cited sentence', () => {
    const related = db.prepare<[string], { related_id: string; relation: string; text: string }>('SELECT related_id, relation, text FROM related_conditions WHERE condition_id = ? ORDER BY position').all(CONDITION);
    expect(related.map((r) => r.related_id)).toEqual(['calciphylaxis', 'secondary-hyperparathyroidism', 'sepsis']);
    for (const r of related) expect(r.text.length).toBeGreaterThan(40);
  });
});

describe('end-stage kidney disease over HTTP', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await buildTestApp();
  });
  afterAll(() => ctx.close());

  it('answers the N18.6 code lookup with this condition as an exact match', async () => {
    const res = await ctx.app.inject({ url: '/v1/codes/icd10cm/N18.6' });
    expect(res.statusCode, res.body).toBe(200);
    const { data } = res.json<{ data: { kind: string; id: string; match: string; display: string | null }[] }>();
    expect(data).toContainEqual(expect.objectContaining({ kind: 'condition', id: CONDITION, match: 'exact', display: 'End stage renal disease' }));
  });

  it('answers the SGLT2 inhibitor ATC codes with its treatment', async () => {
    const res = await ctx.app.inject({ url: '/v1/codes/atc/A10BK02' });
    expect(res.statusCode, res.body).toBe(200);
    const { data } = res.json<{ data: { kind: string; id: string }[] }>();
    expect(data).toContainEqual(expect.objectContaining({ kind: 'treatment', id: `${CONDITION}.treatment.sglt2-inhibitors` }));
  });

  it('keeps every fact self-standing: each names the condition or one of its aliases', async () => {
    const doc = (await ctx.app.inject({ url: `/v1/conditions/${CONDITION}` })).json<{ name: string; aliases: string[] }>();
    const names = [doc.name, ...doc.aliases].map((n) => n.toLowerCase());
    const { items } = await collectPages<{ id: string; text: string }>(ctx.app, `/v1/facts?condition=${CONDITION}&limit=100`);
    expect(items.length).toBeGreaterThanOrEqual(25 + cases.length);
    for (const fact of items) expect(names.some((n) => fact.text.toLowerCase().includes(n)), `${fact.id}: ${fact.text}`).toBe(true);
  });

  it('serves its mortality figures in the cross-condition statistics list', async () => {
    const res = await ctx.app.inject({ url: `/v1/statistics?measure=mortality&condition=${CONDITION}&limit=100` });
    expect(res.statusCode, res.body).toBe(200);
    const ids = res.json<{ data: { id: string; conditionId: string }[] }>().data.map((s) => s.id);
    expect(ids).toContain(`${CONDITION}.stat.mortality-rate-starting-dialysis`);
    expect(ids).toContain(`${CONDITION}.stat.transplant-vs-waitlist-mortality`);
  });
});
