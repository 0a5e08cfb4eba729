/**
 * Pins every figure of the end-stage kidney disease file as read from the built database: value,
 * range, unit, population, timepoint, denominator, interval, design, producing work and certainty.
 * A change to any figure must be deliberate and show up here. Also holds the file to the content
 * rules of issue 16: at least 25 cited statements, verified codes, links back to calciphylaxis.
 */
import { describe, expect, it } from 'vitest';
import type { StatementRow, StatisticRow } from '../src/repositories/rowContent.js';
import type { Condition } from '../src/schemas/condition.js';
import type { Fact } from '../src/schemas/fact.js';
import type { Statistic } from '../src/schemas/statistic.js';
import type { CodeLookup } from '../src/routes/codes.js';
import { useBuiltContent } from './content-helpers.js';
import { collectPages } from './helpers.js';

const CONDITION = 'end-stage-kidney-disease';

const kb = useBuiltContent();

const T = `${CONDITION}.treatment`;
/** Fields every figure is pinned on; `population` is matched as a pattern so rewording it stays cheap. */
type Pin = Partial<Omit<StatisticRow, 'population'>> & { population: RegExp };
const none: Partial<StatisticRow> = { intervalLevel: null, intervalLow: null, intervalHigh: null, events: null, comparedLabel: null, certainty: 'not-assessed', certaintyBasis: null };

const cases: [string, Pin][] = [
  [
    'prevalence-us-2018',
    { ...none, measure: 'prevalence', value: 2242, low: null, high: null, unit: 'per-million-population', comparator: null, population: /United States/, timepoint: '2018', sampleSize: null, estimateType: 'rate', studyDesign: 'registry', primarySourceId: 'usrds-2020-adr', treatmentId: null },
  ],
  [
    'prevalence-us-count',
    { ...none, measure: 'prevalence', value: 808000, unit: 'people', comparator: 'about', population: /United States/, timepoint: null, sampleSize: null, estimateType: 'count', studyDesign: 'registry', primarySourceId: 'usrds-adr-cited-by-niddk', treatmentId: null },
  ],
  [
    'usage-dialysis-us',
    { ...none, measure: 'usage', value: 69, unit: '%', comparator: null, population: /end-stage kidney disease in the United States/, sampleSize: null, estimateType: 'proportion', studyDesign: 'registry', primarySourceId: 'usrds-adr-cited-by-niddk', treatmentId: null },
  ],
  [
    'usage-transplant-us',
    { ...none, measure: 'usage', value: 31, unit: '%', population: /end-stage kidney disease in the United States/, sampleSize: null, estimateType: 'proportion', studyDesign: 'registry', primarySourceId: 'usrds-adr-cited-by-niddk', treatmentId: `${T}.kidney-transplant` },
  ],
  [
    'usage-krt-worldwide-2010',
    { ...none, measure: 'usage', value: 2618000, unit: 'people', comparator: null, population: /worldwide/, timepoint: '2010', sampleSize: null, estimateType: 'count', studyDesign: 'systematic-review', primarySourceId: 'liyanage-2015', treatmentId: null },
  ],
  [
    'need-krt-worldwide-2010',
    { ...none, measure: 'prevalence', value: 4902000, unit: 'people', population: /conservative model/, timepoint: '2010', estimateType: 'count', intervalLevel: 0.95, intervalLow: 4438000, intervalHigh: 5431000, studyDesign: 'systematic-review', primarySourceId: 'liyanage-2015' },
  ],
  [
    'premature-deaths-no-krt-2010',
    { ...none, measure: 'mortality', value: 2284000, unit: 'people', comparator: 'at-least', population: /could not access/, timepoint: '2010', estimateType: 'count', studyDesign: 'systematic-review', primarySourceId: 'liyanage-2015' },
  ],
  [
    'mortality-rate-starting-dialysis',
    { ...none, measure: 'mortality', value: 192, unit: 'per-1000-person-years', comparator: null, population: /ERA-EDTA/, timepoint: 'mean follow-up 1.8 years', timepointMonths: null, estimateType: 'rate', intervalLevel: 0.95, intervalLow: 190, intervalHigh: 193, events: 42643, sampleSize: 123407, studyDesign: 'registry', primarySourceId: 'de-jager-2009' },
  ],
  [
    'cardiovascular-share-of-deaths',
    { ...none, measure: 'mortality', value: 39, unit: '%', population: /Deaths among adults starting dialysis/, estimateType: 'proportion', events: 16654, sampleSize: 42643, studyDesign: 'registry', primarySourceId: 'de-jager-2009' },
  ],
  [
    'transplant-vs-waitlist-mortality',
    {
      measure: 'mortality',
      value: 0.32,
      unit: 'ratio',
      population: /wait/,
      timepoint: '18 months after transplantation',
      timepointMonths: 18,
      estimateType: 'risk-ratio',
      intervalLevel: 0.95,
      intervalLow: 0.3,
      intervalHigh: 0.35,
      events: null,
      sampleSize: 46164,
      studyDesign: 'cohort',
      primarySourceId: 'wolfe-1999',
      certainty: 'low',
      treatmentId: `${T}.kidney-transplant`,
    },
  ],
  [
    'sepsis-mortality-dialysis-vs-general',
    { ...none, comparedLabel: 'US general population', measure: 'mortality', value: null, low: 100, high: 300, unit: 'ratio', comparator: 'about', population: /dialysis/, estimateType: 'risk-ratio', sampleSize: null, studyDesign: 'registry', primarySourceId: 'sarnak-2000' },
  ],
  [
    'calciphylaxis-prevalence-hemodialysis',
    { ...none, measure: 'prevalence', value: 1.24, unit: '%', population: /haemodialysis/, estimateType: 'proportion', events: 48, sampleSize: 3867, studyDesign: 'cross-sectional', primarySourceId: 'liu-2022-calciphylaxis-hemodialysis' },
  ],
  [
    'credence-eskd-hazard-ratio',
    { ...none, comparedLabel: 'Placebo', measure: 'incidence', value: 0.68, unit: 'ratio', population: /CREDENCE/, timepoint: 'median follow-up 2.62 years', estimateType: 'hazard-ratio', intervalLevel: 0.95, intervalLow: 0.54, intervalHigh: 0.86, sampleSize: 4401, studyDesign: 'randomized-trial', primarySourceId: 'perkovic-2019-credence', treatmentId: `${T}.sglt2-inhibitors` },
  ],
  [
    'sglt2-kidney-progression-risk-ratio',
    { ...none, comparedLabel: 'Placebo', measure: 'incidence', value: 0.63, unit: 'ratio', population: /13 large placebo-controlled/, estimateType: 'risk-ratio', intervalLevel: 0.95, intervalLow: 0.58, intervalHigh: 0.69, sampleSize: 90413, studyDesign: 'meta-analysis', primarySourceId: 'smart-c-2022', treatmentId: `${T}.sglt2-inhibitors` },
  ],
  [
    'usage-transplant-uk-2015',
    { ...none, measure: 'usage', value: 53.1, unit: '%', population: /UK/, timepoint: '31 December 2015', estimateType: 'proportion', sampleSize: 61256, studyDesign: 'registry', primarySourceId: 'ukrr-19th-annual-report', treatmentId: `${T}.kidney-transplant` },
  ],
  [
    'usage-haemodialysis-uk-2015',
    { ...none, measure: 'usage', value: 41, unit: '%', population: /UK/, timepoint: '31 December 2015', estimateType: 'proportion', sampleSize: 61256, studyDesign: 'registry', primarySourceId: 'ukrr-19th-annual-report', treatmentId: `${T}.hemodialysis` },
  ],
];

describe('end-stage kidney disease figures', () => {
  it.each(cases)('%s', (slug, { population, ...expected }) => {
    const row = kb.stat(`${CONDITION}.stat.${slug}`);
    expect(row).toMatchObject(expected);
    expect(row.population).toMatch(population);
    // The producing work is always among the works the figure cites.
    expect(row.sourceIds).toContain(expected.primarySourceId);
  });

  it('holds no statistic that the table above does not pin', () => {
    expect(kb.statisticIds(CONDITION).sort()).toEqual(cases.map((c) => `${CONDITION}.stat.${c[0]}`).sort());
  });

  it('has prevalence, mortality and treatment figures, and a rating basis wherever certainty is assessed', () => {
    const rows = kb.db
      .prepare<[string], Pick<StatisticRow, 'measure' | 'treatmentId' | 'certainty' | 'certaintyBasis'>>('SELECT measure, treatment_id AS treatmentId, certainty, certainty_basis AS certaintyBasis FROM statistics WHERE condition_id = ?')
      .all(CONDITION);
    expect(rows.some((r) => r.measure === 'prevalence')).toBe(true);
    expect(rows.some((r) => r.measure === 'mortality')).toBe(true);
    expect(rows.some((r) => r.treatmentId !== null)).toBe(true);
    for (const r of rows.filter((x) => x.certainty !== 'not-assessed')) expect(r.certaintyBasis).toMatch(/\S/);
  });

  it('keeps the verified identifiers of its works exactly, and unverified ones null', () => {
    const src = (id: string) => kb.source(id);
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
    const { n } = kb.db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM statements WHERE condition_id = ?').get(CONDITION) ?? { n: 0 };
    expect(n).toBeGreaterThanOrEqual(25);
    const uncited = kb.db
      .prepare<[string], Pick<StatementRow, 'id'>>("SELECT id FROM statements WHERE condition_id = ? AND id NOT IN (SELECT entity_id FROM citations WHERE entity_type = 'statement')")
      .all(CONDITION);
    expect(uncited).toEqual([]);
  });

  it('codes ESRD as N18.6 (exact) and the stage 5 and dialysis-status codes as related, with their official titles', () => {
    expect(kb.codes(CONDITION)).toEqual([
      { system: 'icd10cm', code: 'N18.6', display: 'End stage renal disease', match: 'exact' },
      { system: 'icd10cm', code: 'N18.5', display: 'Chronic kidney disease, stage 5', match: 'related' },
      { system: 'icd10cm', code: 'Z99.2', display: 'Dependence on renal dialysis', match: 'related' },
    ]);
  });

  it('links calciphylaxis, secondary hyperparathyroidism and sepsis, each with a cited sentence', () => {
    const related = kb.related(CONDITION);
    expect(related.map((r) => r.relatedId)).toEqual(['calciphylaxis', 'secondary-hyperparathyroidism', 'sepsis']);
    for (const r of related) expect(r.text.length).toBeGreaterThan(40);
  });
});

describe('end-stage kidney disease over HTTP', () => {
  it('answers the N18.6 code lookup with this condition as an exact match', async () => {
    const res = await kb.app.inject({ url: '/v1/codes/icd10cm/N18.6' });
    expect(res.statusCode, res.body).toBe(200);
    const { data } = res.json<CodeLookup>();
    expect(data).toContainEqual(expect.objectContaining({ kind: 'condition', id: CONDITION, match: 'exact', display: 'End stage renal disease' }));
  });

  it('answers the SGLT2 inhibitor ATC codes with its treatment', async () => {
    const res = await kb.app.inject({ url: '/v1/codes/atc/A10BK02' });
    expect(res.statusCode, res.body).toBe(200);
    const { data } = res.json<CodeLookup>();
    expect(data).toContainEqual(expect.objectContaining({ kind: 'treatment', id: `${CONDITION}.treatment.sglt2-inhibitors` }));
  });

  it('keeps every fact self-standing: each names the condition or one of its aliases', async () => {
    const doc = (await kb.app.inject({ url: `/v1/conditions/${CONDITION}` })).json<Condition>();
    const names = [doc.name, ...doc.aliases].map((n) => n.toLowerCase());
    const { items } = await collectPages<Fact>(kb.app, `/v1/facts?condition=${CONDITION}&limit=100`);
    expect(items.length).toBeGreaterThanOrEqual(25 + cases.length);
    for (const fact of items) expect(names.some((n) => fact.text.toLowerCase().includes(n)), `${fact.id}: ${fact.text}`).toBe(true);
  });

  it('serves its mortality figures in the cross-condition statistics list', async () => {
    const res = await kb.app.inject({ url: `/v1/statistics?measure=mortality&condition=${CONDITION}&limit=100` });
    expect(res.statusCode, res.body).toBe(200);
    const ids = res.json<{ data: Statistic[] }>().data.map((s) => s.id);
    expect(ids).toContain(`${CONDITION}.stat.mortality-rate-starting-dialysis`);
    expect(ids).toContain(`${CONDITION}.stat.transplant-vs-waitlist-mortality`);
  });
});
