/**
 * Pins every figure of the secondary hyperparathyroidism file by reading the built database:
 * value, unit, population, timepoint, denominator, interval, design, primary source and certainty.
 * A change to any figure must be deliberate and show up here, as for calciphylaxis.
 */
import { describe, expect, it } from 'vitest';
import type { StatementRow, StatisticRow, TreatmentCodeRow } from '../src/repositories/rowContent.js';
import { useBuiltContent } from './content-helpers.js';

const CONDITION = 'secondary-hyperparathyroidism';
const P = `${CONDITION}.stat.`;
const T = `${CONDITION}.treatment.`;

const kb = useBuiltContent();

type Expected = Partial<Omit<StatisticRow, 'population'>> & { population: RegExp };
const NO_INTERVAL: Partial<StatisticRow> = { intervalLevel: null, intervalLow: null, intervalHigh: null };
const ci = (low: number, high: number): Partial<StatisticRow> => ({ intervalLevel: 0.95, intervalLow: low, intervalHigh: high });

const cases: [string, Expected][] = [
  ['prevalence-ckd-global-meta-analysis', { measure: 'prevalence', value: 49.5, unit: '%', estimateType: 'proportion', ...ci(30.2, 68.18), sampleSize: 110977, events: null, timepoint: null, studyDesign: 'meta-analysis', primarySourceId: 'wang-2024-shpt-prevalence', certainty: 'low', treatmentId: null, population: /21 studies worldwide/ }],
  ['prevalence-dialysis-pth-over-300', { measure: 'prevalence', value: null, low: 30, high: 50, comparator: 'about', unit: '%', estimateType: 'proportion', ...NO_INTERVAL, sampleSize: null, events: null, timepoint: null, studyDesign: 'systematic-review', primarySourceId: 'hedgeman-2015', certainty: 'not-assessed', treatmentId: null, population: /stage 5D/ }],
  ['prevalence-high-pth-egfr-30-44', { measure: 'prevalence', value: 38.3, unit: '%', estimateType: 'proportion', ...NO_INTERVAL, sampleSize: null, events: null, timepoint: null, studyDesign: 'cross-sectional', primarySourceId: 'muntner-nhanes-ipth', certainty: 'not-assessed', treatmentId: null, population: /eGFR 30–44.*NHANES 2003–2004/ }],
  ['prevalence-high-pth-egfr-45-59', { measure: 'prevalence', value: 19.3, unit: '%', estimateType: 'proportion', ...NO_INTERVAL, sampleSize: null, events: null, timepoint: null, studyDesign: 'cross-sectional', primarySourceId: 'muntner-nhanes-ipth', certainty: 'not-assessed', treatmentId: null, population: /eGFR 45–59/ }],
  ['prevalence-high-pth-egfr-60-plus', { measure: 'prevalence', value: 8.2, unit: '%', estimateType: 'proportion', ...NO_INTERVAL, sampleSize: null, events: null, timepoint: null, studyDesign: 'cross-sectional', primarySourceId: 'muntner-nhanes-ipth', certainty: 'not-assessed', treatmentId: null, population: /eGFR of 60/ }],
  ['mortality-high-pth-meta-analysis', { measure: 'mortality', value: 1.11, unit: 'ratio', estimateType: 'risk-ratio', ...ci(1.07, 1.16), sampleSize: null, events: null, timepoint: null, studyDesign: 'meta-analysis', primarySourceId: 'natoli-2013', certainty: 'low', treatmentId: null, population: /5 observational studies/ }],
  ['mortality-ipth-over-600-aro', { measure: 'mortality', value: 2.1, unit: 'ratio', estimateType: 'hazard-ratio', ...ci(1.62, 2.73), sampleSize: 7970, events: null, timepoint: 'median follow-up 21 months', studyDesign: 'cohort', primarySourceId: 'floege-2011-aro', certainty: 'low', treatmentId: null, population: /European/ }],
  ['mortality-cinacalcet-cochrane', { measure: 'mortality', value: 0.97, unit: 'ratio', estimateType: 'risk-ratio', ...ci(0.89, 1.05), sampleSize: null, events: null, timepoint: null, studyDesign: 'meta-analysis', primarySourceId: 'ballinger-2014-cochrane', certainty: 'not-assessed', treatmentId: `${T}cinacalcet`, population: /Cochrane review of 18/ }],
  ['benefit-cinacalcet-avoids-parathyroidectomy', { measure: 'benefit-rate', value: 0.49, unit: 'ratio', estimateType: 'risk-ratio', ...ci(0.4, 0.59), sampleSize: null, events: null, timepoint: null, studyDesign: 'meta-analysis', primarySourceId: 'ballinger-2014-cochrane', certainty: 'not-assessed', treatmentId: `${T}cinacalcet`, population: /Cochrane review/ }],
  ['benefit-cinacalcet-evolve-composite', { measure: 'benefit-rate', value: 0.93, unit: 'ratio', estimateType: 'hazard-ratio', ...ci(0.85, 1.02), sampleSize: 3883, events: null, timepoint: 'follow-up up to 64 months', studyDesign: 'randomized-trial', primarySourceId: 'evolve-2012', certainty: 'not-assessed', treatmentId: `${T}cinacalcet`, population: /EVOLVE/ }],
  ['benefit-cinacalcet-severe-unremitting', { measure: 'benefit-rate', value: 0.31, unit: 'ratio', estimateType: 'hazard-ratio', ...ci(0.26, 0.37), sampleSize: 3883, events: null, timepoint: 'follow-up up to 64 months', studyDesign: 'randomized-trial', primarySourceId: 'parfrey-2013-evolve', certainty: 'not-assessed', treatmentId: `${T}cinacalcet`, population: /EVOLVE/ }],
  ['usage-parathyroidectomy-evolve-placebo', { measure: 'usage', value: 14, unit: '%', estimateType: 'proportion', ...NO_INTERVAL, sampleSize: 1935, events: 278, timepoint: 'follow-up up to 64 months', studyDesign: 'randomized-trial', primarySourceId: 'parfrey-2013-evolve', certainty: 'not-assessed', treatmentId: `${T}parathyroidectomy`, population: /Placebo group of the EVOLVE/ }],
  ['incidence-calciphylaxis-cinacalcet', { measure: 'incidence', value: 0.31, unit: 'ratio', estimateType: 'hazard-ratio', ...ci(0.13, 0.79), sampleSize: 3861, events: 24, timepoint: null, studyDesign: 'randomized-trial', primarySourceId: 'floege-2015-evolve-cua', certainty: 'low', treatmentId: `${T}cinacalcet`, population: /at least one dose/ }],
  ['response-etelcalcetide-trial-a', { measure: 'response-rate', value: 74, unit: '%', estimateType: 'proportion', ...NO_INTERVAL, sampleSize: 254, events: 188, timepoint: 'weeks 20–27', studyDesign: 'randomized-trial', primarySourceId: 'block-2017-etelcalcetide-placebo', certainty: 'not-assessed', treatmentId: `${T}etelcalcetide`, population: /trial A/ }],
  ['incidence-low-calcium-cinacalcet', { measure: 'incidence', value: 66, unit: '%', estimateType: 'proportion', ...NO_INTERVAL, sampleSize: null, events: null, timepoint: '26 weeks', timepointMonths: 6, studyDesign: 'randomized-trial', primarySourceId: 'fda-sensipar-safety-2014', certainty: 'not-assessed', treatmentId: `${T}cinacalcet`, population: /26-week/ }],
  ['usage-parathyroidectomy-rate-2016', { measure: 'usage', value: 6.5, unit: 'per-1000-person-years', estimateType: 'rate', ...ci(6.2, 6.8), sampleSize: null, events: null, timepoint: '2016', studyDesign: 'cohort', primarySourceId: 'danese-2022-ptx-rate', certainty: 'not-assessed', treatmentId: `${T}parathyroidectomy`, population: /US Renal Data System\), 2016/ }],
  ['usage-parathyroidectomy-rate-2018', { measure: 'usage', value: 5.3, unit: 'per-1000-person-years', estimateType: 'rate', ...ci(5.0, 5.6), sampleSize: null, events: null, timepoint: '2018', studyDesign: 'cohort', primarySourceId: 'danese-2022-ptx-rate', certainty: 'not-assessed', treatmentId: `${T}parathyroidectomy`, population: /US Renal Data System\), 2018/ }],
  ['mortality-30-days-after-parathyroidectomy', { measure: 'mortality', value: 2, unit: '%', estimateType: 'proportion', ...NO_INTERVAL, sampleSize: 4435, events: null, timepoint: 'hospital stay plus 30 days after discharge', studyDesign: 'cohort', primarySourceId: 'ishani-2015-ptx-outcomes', certainty: 'not-assessed', treatmentId: `${T}parathyroidectomy`, population: /2007–2009/ }],
  ['usage-phosphate-binders-medicare', { measure: 'usage', value: 64.1, unit: '%', estimateType: 'proportion', ...NO_INTERVAL, sampleSize: 379835, events: 243522, timepoint: null, studyDesign: 'cohort', primarySourceId: 'mathur-2022-ptx-trends', certainty: 'not-assessed', treatmentId: `${T}phosphate-binders`, population: /Medicare/ }],
  ['usage-cinacalcet-medicare', { measure: 'usage', value: 10.5, unit: '%', estimateType: 'proportion', ...NO_INTERVAL, sampleSize: 379835, events: 39835, timepoint: null, studyDesign: 'cohort', primarySourceId: 'mathur-2022-ptx-trends', certainty: 'not-assessed', treatmentId: `${T}cinacalcet`, population: /Medicare/ }],
  ['usage-parathyroidectomy-medicare', { measure: 'usage', value: 1.1, unit: '%', estimateType: 'proportion', ...NO_INTERVAL, sampleSize: 379835, events: 4118, timepoint: null, studyDesign: 'cohort', primarySourceId: 'mathur-2022-ptx-trends', certainty: 'not-assessed', treatmentId: `${T}parathyroidectomy`, population: /Medicare/ }],
];

describe('secondary hyperparathyroidism figures', () => {
  it.each(cases)('%s', (slug, { population, ...expected }) => {
    const row = kb.stat(P + slug);
    expect(row).toMatchObject(expected);
    expect(row.population).toMatch(population);
    // The work that produced a figure is always among the works the figure cites.
    expect(row.sourceIds).toContain(row.primarySourceId);
  });

  it('holds no statistic that the table above does not pin', () => {
    expect(kb.statisticIds(CONDITION).sort()).toEqual(cases.map((c) => P + c[0]).sort());
  });

  it('names the comparison group of every ratio and gives a reason for every certainty rating', () => {
    const rows = kb.db
      .prepare<[string], Pick<StatisticRow, 'id' | 'estimateType' | 'comparedLabel' | 'certainty' | 'certaintyBasis'>>(
        'SELECT id, estimate_type AS estimateType, compared_label AS comparedLabel, certainty, certainty_basis AS certaintyBasis FROM statistics WHERE condition_id = ?',
      )
      .all(CONDITION);
    for (const r of rows) {
      if (['risk-ratio', 'hazard-ratio', 'odds-ratio'].includes(r.estimateType)) expect(r.comparedLabel, r.id).toMatch(/\w/);
      if (r.certainty !== 'not-assessed') expect(r.certaintyBasis, r.id).toMatch(/\w/);
    }
  });
});

describe('secondary hyperparathyroidism statements and codes', () => {
  it('has at least 25 statements, every one cited', () => {
    const rows = kb.db.prepare<[string], Pick<StatementRow, 'id'> & { n: number }>(
      `SELECT s.id, (SELECT count(*) FROM citations c WHERE c.entity_type = 'statement' AND c.entity_id = s.id) AS n FROM statements s WHERE s.condition_id = ?`,
    ).all(CONDITION);
    expect(rows.length).toBeGreaterThanOrEqual(25);
    for (const r of rows) expect(r.n, r.id).toBeGreaterThan(0);
  });

  it('maps N25.81 and E21.1 as narrower ICD-10-CM codes with their official titles, and nothing else', () => {
    expect(kb.codes(CONDITION)).toEqual([
      { system: 'icd10cm', code: 'N25.81', display: 'Secondary hyperparathyroidism of renal origin', match: 'narrower' },
      { system: 'icd10cm', code: 'E21.1', display: 'Secondary hyperparathyroidism, not elsewhere classified', match: 'narrower' },
    ]);
  });

  it('codes the calcimimetics and active vitamin D with verified ATC codes only', () => {
    const atc = kb.db
      .prepare<[string], Pick<TreatmentCodeRow, 'treatmentId' | 'code'>>("SELECT treatment_id AS treatmentId, code FROM treatment_codes WHERE system = 'atc' AND treatment_id LIKE ? ORDER BY code")
      .all(`${T}%`);
    expect(atc).toEqual([
      { treatmentId: `${T}active-vitamin-d`, code: 'A11CC04' },
      { treatmentId: `${T}cinacalcet`, code: 'H05BX01' },
      { treatmentId: `${T}active-vitamin-d`, code: 'H05BX02' },
      { treatmentId: `${T}etelcalcetide`, code: 'H05BX04' },
    ]);
  });

  it('links calciphylaxis and end-stage kidney disease with cited sentences', () => {
    const related = kb.related(CONDITION).map(({ relatedId, relation }) => ({ relatedId, relation }));
    expect(related).toEqual([
      { relatedId: 'calciphylaxis', relation: 'complication' },
      { relatedId: 'end-stage-kidney-disease', relation: 'underlying-cause' },
    ]);
  });
});
