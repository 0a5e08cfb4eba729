/**
 * Pins every figure of the secondary hyperparathyroidism file by reading the built database:
 * value, unit, population, timepoint, denominator, interval, design, primary source and certainty.
 * A change to any figure must be deliberate and show up here, as for calciphylaxis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFromContent } from '../src/content/build.js';
import { openDatabase } from '../src/db/connection.js';
import { CONTENT_DIR } from '../src/paths.js';

const CONDITION = 'secondary-hyperparathyroidism';
const P = `${CONDITION}.stat.`;
const T = `${CONDITION}.treatment.`;

let dir: string;
let db: Database.Database;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kb-shpt-'));
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
  comparator: string | null;
  unit: string;
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

type Expected = Partial<Omit<Row, 'population'>> & { population: RegExp };
const NO_INTERVAL = { interval_level: null, interval_low: null, interval_high: null };
const ci = (low: number, high: number) => ({ interval_level: 0.95, interval_low: low, interval_high: high });

const cases: [string, Expected][] = [
  ['prevalence-ckd-global-meta-analysis', { measure: 'prevalence', value: 49.5, unit: '%', estimate_type: 'proportion', ...ci(30.2, 68.18), sample_size: 110977, events: null, timepoint: null, study_design: 'meta-analysis', primary_source_id: 'wang-2024-shpt-prevalence', certainty: 'low', treatment_id: null, population: /21 studies worldwide/ }],
  ['prevalence-dialysis-pth-over-300', { measure: 'prevalence', value: null, low: 30, high: 50, comparator: 'about', unit: '%', estimate_type: 'proportion', ...NO_INTERVAL, sample_size: null, events: null, timepoint: null, study_design: 'systematic-review', primary_source_id: 'hedgeman-2015', certainty: 'not-assessed', treatment_id: null, population: /stage 5D/ }],
  ['prevalence-high-pth-egfr-30-44', { measure: 'prevalence', value: 38.3, unit: '%', estimate_type: 'proportion', ...NO_INTERVAL, sample_size: null, events: null, timepoint: null, study_design: 'cross-sectional', primary_source_id: 'muntner-nhanes-ipth', certainty: 'not-assessed', treatment_id: null, population: /eGFR 30–44.*NHANES 2003–2004/ }],
  ['prevalence-high-pth-egfr-45-59', { measure: 'prevalence', value: 19.3, unit: '%', estimate_type: 'proportion', ...NO_INTERVAL, sample_size: null, events: null, timepoint: null, study_design: 'cross-sectional', primary_source_id: 'muntner-nhanes-ipth', certainty: 'not-assessed', treatment_id: null, population: /eGFR 45–59/ }],
  ['prevalence-high-pth-egfr-60-plus', { measure: 'prevalence', value: 8.2, unit: '%', estimate_type: 'proportion', ...NO_INTERVAL, sample_size: null, events: null, timepoint: null, study_design: 'cross-sectional', primary_source_id: 'muntner-nhanes-ipth', certainty: 'not-assessed', treatment_id: null, population: /eGFR of 60/ }],
  ['mortality-high-pth-meta-analysis', { measure: 'mortality', value: 1.11, unit: 'ratio', estimate_type: 'risk-ratio', ...ci(1.07, 1.16), sample_size: null, events: null, timepoint: null, study_design: 'meta-analysis', primary_source_id: 'natoli-2013', certainty: 'low', treatment_id: null, population: /5 observational studies/ }],
  ['mortality-ipth-over-600-aro', { measure: 'mortality', value: 2.1, unit: 'ratio', estimate_type: 'hazard-ratio', ...ci(1.62, 2.73), sample_size: 7970, events: null, timepoint: 'median follow-up 21 months', study_design: 'cohort', primary_source_id: 'floege-2011-aro', certainty: 'low', treatment_id: null, population: /European/ }],
  ['mortality-cinacalcet-cochrane', { measure: 'mortality', value: 0.97, unit: 'ratio', estimate_type: 'risk-ratio', ...ci(0.89, 1.05), sample_size: null, events: null, timepoint: null, study_design: 'meta-analysis', primary_source_id: 'ballinger-2014-cochrane', certainty: 'not-assessed', treatment_id: `${T}cinacalcet`, population: /Cochrane review of 18/ }],
  ['benefit-cinacalcet-avoids-parathyroidectomy', { measure: 'benefit-rate', value: 0.49, unit: 'ratio', estimate_type: 'risk-ratio', ...ci(0.4, 0.59), sample_size: null, events: null, timepoint: null, study_design: 'meta-analysis', primary_source_id: 'ballinger-2014-cochrane', certainty: 'not-assessed', treatment_id: `${T}cinacalcet`, population: /Cochrane review/ }],
  ['benefit-cinacalcet-evolve-composite', { measure: 'benefit-rate', value: 0.93, unit: 'ratio', estimate_type: 'hazard-ratio', ...ci(0.85, 1.02), sample_size: 3883, events: null, timepoint: 'follow-up up to 64 months', study_design: 'randomized-trial', primary_source_id: 'evolve-2012', certainty: 'not-assessed', treatment_id: `${T}cinacalcet`, population: /EVOLVE/ }],
  ['benefit-cinacalcet-severe-unremitting', { measure: 'benefit-rate', value: 0.31, unit: 'ratio', estimate_type: 'hazard-ratio', ...ci(0.26, 0.37), sample_size: 3883, events: null, timepoint: 'follow-up up to 64 months', study_design: 'randomized-trial', primary_source_id: 'parfrey-2013-evolve', certainty: 'not-assessed', treatment_id: `${T}cinacalcet`, population: /EVOLVE/ }],
  ['usage-parathyroidectomy-evolve-placebo', { measure: 'usage', value: 14, unit: '%', estimate_type: 'proportion', ...NO_INTERVAL, sample_size: 1935, events: 278, timepoint: 'follow-up up to 64 months', study_design: 'randomized-trial', primary_source_id: 'parfrey-2013-evolve', certainty: 'not-assessed', treatment_id: `${T}parathyroidectomy`, population: /Placebo group of the EVOLVE/ }],
  ['incidence-calciphylaxis-cinacalcet', { measure: 'incidence', value: 0.31, unit: 'ratio', estimate_type: 'hazard-ratio', ...ci(0.13, 0.79), sample_size: 3861, events: 24, timepoint: null, study_design: 'randomized-trial', primary_source_id: 'floege-2015-evolve-cua', certainty: 'low', treatment_id: `${T}cinacalcet`, population: /at least one dose/ }],
  ['response-etelcalcetide-trial-a', { measure: 'response-rate', value: 74, unit: '%', estimate_type: 'proportion', ...NO_INTERVAL, sample_size: 254, events: 188, timepoint: 'weeks 20–27', study_design: 'randomized-trial', primary_source_id: 'block-2017-etelcalcetide-placebo', certainty: 'not-assessed', treatment_id: `${T}etelcalcetide`, population: /trial A/ }],
  ['incidence-low-calcium-cinacalcet', { measure: 'incidence', value: 66, unit: '%', estimate_type: 'proportion', ...NO_INTERVAL, sample_size: null, events: null, timepoint: '26 weeks', timepoint_months: 6, study_design: 'randomized-trial', primary_source_id: 'fda-sensipar-safety-2014', certainty: 'not-assessed', treatment_id: `${T}cinacalcet`, population: /26-week/ }],
  ['usage-parathyroidectomy-rate-2016', { measure: 'usage', value: 6.5, unit: 'per-1000-person-years', estimate_type: 'rate', ...ci(6.2, 6.8), sample_size: null, events: null, timepoint: '2016', study_design: 'cohort', primary_source_id: 'danese-2022-ptx-rate', certainty: 'not-assessed', treatment_id: `${T}parathyroidectomy`, population: /US Renal Data System\), 2016/ }],
  ['usage-parathyroidectomy-rate-2018', { measure: 'usage', value: 5.3, unit: 'per-1000-person-years', estimate_type: 'rate', ...ci(5.0, 5.6), sample_size: null, events: null, timepoint: '2018', study_design: 'cohort', primary_source_id: 'danese-2022-ptx-rate', certainty: 'not-assessed', treatment_id: `${T}parathyroidectomy`, population: /US Renal Data System\), 2018/ }],
  ['mortality-30-days-after-parathyroidectomy', { measure: 'mortality', value: 2, unit: '%', estimate_type: 'proportion', ...NO_INTERVAL, sample_size: 4435, events: null, timepoint: 'hospital stay plus 30 days after discharge', study_design: 'cohort', primary_source_id: 'ishani-2015-ptx-outcomes', certainty: 'not-assessed', treatment_id: `${T}parathyroidectomy`, population: /2007–2009/ }],
  ['usage-phosphate-binders-medicare', { measure: 'usage', value: 64.1, unit: '%', estimate_type: 'proportion', ...NO_INTERVAL, sample_size: 379835, events: 243522, timepoint: null, study_design: 'cohort', primary_source_id: 'mathur-2022-ptx-trends', certainty: 'not-assessed', treatment_id: `${T}phosphate-binders`, population: /Medicare/ }],
  ['usage-cinacalcet-medicare', { measure: 'usage', value: 10.5, unit: '%', estimate_type: 'proportion', ...NO_INTERVAL, sample_size: 379835, events: 39835, timepoint: null, study_design: 'cohort', primary_source_id: 'mathur-2022-ptx-trends', certainty: 'not-assessed', treatment_id: `${T}cinacalcet`, population: /Medicare/ }],
  ['usage-parathyroidectomy-medicare', { measure: 'usage', value: 1.1, unit: '%', estimate_type: 'proportion', ...NO_INTERVAL, sample_size: 379835, events: 4118, timepoint: null, study_design: 'cohort', primary_source_id: 'mathur-2022-ptx-trends', certainty: 'not-assessed', treatment_id: `${T}parathyroidectomy`, population: /Medicare/ }],
];

describe('secondary hyperparathyroidism figures', () => {
  it.each(cases)('%s', (slug, { population, ...expected }) => {
    const row = stat(P + slug);
    expect(row).toMatchObject(expected);
    expect(row.population).toMatch(population);
    // The work that produced a figure is always among the works the figure cites.
    expect(row.sourceIds).toContain(row.primary_source_id);
  });

  it('holds no statistic that the table above does not pin', () => {
    const ids = db.prepare<[string], { id: string }>('SELECT id FROM statistics WHERE condition_id = ?').all(CONDITION);
    expect(ids.map((r) => r.id).sort()).toEqual(cases.map((c) => P + c[0]).sort());
  });

  it('names the comparison group of every ratio and gives a reason for every certainty rating', () => {
    const rows = db
      .prepare<[string], { id: string; estimate_type: string; compared_label: string | null; certainty: string; certainty_basis: string | null }>(
        'SELECT id, estimate_type, compared_label, certainty, certainty_basis FROM statistics WHERE condition_id = ?',
      )
      .all(CONDITION);
    for (const r of rows) {
      if (['risk-ratio', 'hazard-ratio', 'odds-ratio'].includes(r.estimate_type)) expect(r.compared_label, r.id).toMatch(/\w/);
      if (r.certainty !== 'not-assessed') expect(r.certainty_basis, r.id).toMatch(/\w/);
    }
  });
});

describe('secondary hyperparathyroidism statements and codes', () => {
  it('has at least 25 statements, every one cited', () => {
    const rows = db.prepare<[string], { id: string; n: number }>(
      `SELECT s.id, (SELECT count(*) FROM citations c WHERE c.entity_type = 'statement' AND c.entity_id = s.id) AS n FROM statements s WHERE s.condition_id = ?`,
    ).all(CONDITION);
    expect(rows.length).toBeGreaterThanOrEqual(25);
    for (const r of rows) expect(r.n, r.id).toBeGreaterThan(0);
  });

  it('maps N25.81 and E21.1 as narrower ICD-10-CM codes with their official titles, and nothing else', () => {
    const codes = db
      .prepare<[string], { system: string; code: string; display: string; match: string }>('SELECT system, code, display, match FROM condition_codes WHERE condition_id = ? ORDER BY position')
      .all(CONDITION);
    expect(codes).toEqual([
      { system: 'icd10cm', code: 'N25.81', display: 'Secondary hyperparathyroidism of renal origin', match: 'narrower' },
      { system: 'icd10cm', code: 'E21.1', display: 'Secondary hyperparathyroidism, not elsewhere classified', match: 'narrower' },
    ]);
  });

  it('codes the calcimimetics and active vitamin D with verified ATC codes only', () => {
    const atc = db
      .prepare<[string], { treatment_id: string; code: string }>("SELECT treatment_id, code FROM treatment_codes WHERE system = 'atc' AND treatment_id LIKE ? ORDER BY code")
      .all(`${T}%`);
    expect(atc).toEqual([
      { treatment_id: `${T}active-vitamin-d`, code: 'A11CC04' },
      { treatment_id: `${T}cinacalcet`, code: 'H05BX01' },
      { treatment_id: `${T}active-vitamin-d`, code: 'H05BX02' },
      { treatment_id: `${T}etelcalcetide`, code: 'H05BX04' },
    ]);
  });

  it('links calciphylaxis and end-stage kidney disease with cited sentences', () => {
    const related = db.prepare<[string], { related_id: string; relation: string }>('SELECT related_id, relation FROM related_conditions WHERE condition_id = ? ORDER BY position').all(CONDITION);
    expect(related).toEqual([
      { related_id: 'calciphylaxis', relation: 'complication' },
      { related_id: 'end-stage-kidney-disease', relation: 'underlying-cause' },
    ]);
  });
});
