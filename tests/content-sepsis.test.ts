/**
 * Pins every figure of the sepsis content file by reading the built database: value, range, unit,
 * population, timepoint, denominator, interval, study design, primary source and certainty. A change
 * to any figure must be deliberate and show up here. Also pins the file's codes, its size and its
 * links to calciphylaxis and end-stage kidney disease.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StatementRow, StatisticRow, TreatmentCodeRow } from '../src/repositories/rowContent.js';
import type { Fact } from '../src/schemas/fact.js';
import { useBuiltContent } from './content-helpers.js';
import { collectPages, FIXTURES_DIR } from './helpers.js';

const kb = useBuiltContent();
const notAssessed: Partial<StatisticRow> = { certainty: 'not-assessed', certaintyBasis: null };
const noInterval: Partial<StatisticRow> = { intervalLevel: null, intervalLow: null, intervalHigh: null };
const ci95 = (low: number, high: number): Partial<StatisticRow> => ({ intervalLevel: 0.95, intervalLow: low, intervalHigh: high });
const gbd: Partial<StatisticRow> = { studyDesign: 'registry', primarySourceId: 'rudd-2020-gbd', events: null, sampleSize: null, timepoint: null, ...notAssessed };
const metaAnalysis: Partial<StatisticRow> = { studyDesign: 'meta-analysis', primarySourceId: 'fleischmann-struzek-2020', events: null, sampleSize: null, certainty: 'low' };
const newYork: Partial<StatisticRow> = { studyDesign: 'registry', primarySourceId: 'seymour-2017' };

const cases: [string, Partial<StatisticRow>][] = [
  ['sepsis.stat.incidence-global-2017', { measure: 'incidence', value: 48900000, unit: 'cases', estimateType: 'count', ...ci95(38900000, 62900000), ...gbd }],
  ['sepsis.stat.deaths-global-2017', { measure: 'mortality', value: 11000000, unit: 'people', estimateType: 'count', ...ci95(10100000, 12000000), ...gbd }],
  ['sepsis.stat.share-of-global-deaths-2017', { measure: 'mortality', value: 19.7, unit: '%', estimateType: 'proportion', ...ci95(18.2, 21.4), ...gbd }],
  ['sepsis.stat.incidence-hospital-treated', { measure: 'incidence', value: 189, unit: 'per-100000-person-years', estimateType: 'rate', ...ci95(133, 267), ...metaAnalysis }],
  ['sepsis.stat.mortality-hospital-treated', { measure: 'mortality', value: 26.7, unit: '%', estimateType: 'proportion', ...ci95(22.9, 30.7), ...metaAnalysis }],
  ['sepsis.stat.incidence-icu-treated', { measure: 'incidence', value: 58, unit: 'per-100000-person-years', estimateType: 'rate', ...ci95(42, 81), ...metaAnalysis }],
  [
    'sepsis.stat.mortality-icu-treated',
    { measure: 'mortality', value: 41.9, unit: '%', estimateType: 'proportion', timepoint: 'before hospital discharge', ...ci95(36.2, 47.7), ...metaAnalysis },
  ],
  [
    'sepsis.stat.incidence-us-adult-admissions-2014',
    { measure: 'incidence', value: 6.0, unit: '%', estimateType: 'proportion', events: 173690, sampleSize: 2901019, studyDesign: 'cohort', primarySourceId: 'rhee-2017', ...noInterval, ...notAssessed },
  ],
  [
    'sepsis.stat.mortality-us-in-hospital-2014',
    { measure: 'mortality', value: 15.0, unit: '%', estimateType: 'proportion', timepoint: 'in hospital', events: 26061, sampleSize: 173690, studyDesign: 'cohort', primarySourceId: 'rhee-2017', ...noInterval, ...notAssessed },
  ],
  [
    'sepsis.stat.usage-bundle-within-3-hours',
    { measure: 'usage', value: 82.5, unit: '%', estimateType: 'proportion', timepoint: 'within 3 hours', events: 40696, sampleSize: 49331, treatmentId: 'sepsis.treatment.initial-bundle', ...newYork, ...noInterval, ...notAssessed },
  ],
  [
    'sepsis.stat.mortality-odds-per-hour-bundle',
    {
      measure: 'mortality',
      value: 1.04,
      unit: 'ratio',
      estimateType: 'odds-ratio',
      timepoint: 'in hospital',
      events: null,
      sampleSize: 49331,
      comparedTreatmentId: 'sepsis.treatment.initial-bundle',
      treatmentId: 'sepsis.treatment.initial-bundle',
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
      estimateType: 'odds-ratio',
      timepoint: 'in hospital',
      events: null,
      sampleSize: 49331,
      comparedTreatmentId: 'sepsis.treatment.early-antimicrobials',
      treatmentId: 'sepsis.treatment.early-antimicrobials',
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
      estimateType: 'risk-ratio',
      timepoint: '1 year',
      timepointMonths: 12,
      events: null,
      sampleSize: null,
      comparedTreatmentId: null,
      studyDesign: 'registry',
      primarySourceId: 'sarnak-2000',
      ...noInterval,
      ...notAssessed,
    },
  ],
];

describe('sepsis figures', () => {
  it.each(cases)('%s', (id, expected) => {
    const row = kb.stat(id);
    expect(row).toMatchObject(expected);
    // The work that produced a figure is always among the works it cites.
    expect(row.sourceIds).toContain(row.primarySourceId);
  });

  it('holds no statistic that the table above does not pin', () => {
    expect(kb.statisticIds('sepsis').sort()).toEqual(cases.map((c) => c[0]).sort());
  });

  it('states a basis for every certainty it rates, and names GRADE only where a guideline gave the rating', () => {
    const rated = kb.db
      .prepare<[string], Pick<StatisticRow, 'id' | 'certaintyBasis'>>("SELECT id, certainty_basis AS certaintyBasis FROM statistics WHERE condition_id = ? AND certainty != 'not-assessed'")
      .all('sepsis');
    expect(rated.length).toBe(5);
    for (const r of rated) expect(r.certaintyBasis, r.id).toBeTruthy();
    expect(kb.stat('sepsis.stat.mortality-odds-per-hour-antibiotics').certaintyBasis).toMatch(/^GRADE: the Surviving Sepsis Campaign 2021/);
    expect(kb.stat('sepsis.stat.incidence-hospital-treated').certaintyBasis).toMatch(/^Curators' reason/);
  });

  it('keeps populations specific to each study', () => {
    expect(kb.stat('sepsis.stat.incidence-us-adult-admissions-2014').population).toMatch(/409 US/);
    expect(kb.stat('sepsis.stat.mortality-ratio-dialysis').comparedLabel).toMatch(/general population/);
    expect(kb.stat('sepsis.stat.mortality-icu-treated').population).toMatch(/intensive care/);
  });
});

describe('sepsis sources', () => {
  const src = (id: string) => kb.source(id);

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
    expect(kb.codes('sepsis')).toEqual([
      { system: 'icd10cm', code: 'A41.9', display: 'Sepsis, unspecified organism', match: 'narrower' },
      { system: 'icd10cm', code: 'R65.20', display: 'Severe sepsis without septic shock', match: 'narrower' },
      { system: 'icd10cm', code: 'R65.21', display: 'Severe sepsis with septic shock', match: 'narrower' },
    ]);
  });

  it('codes its drugs with ATC and names the jurisdiction of every approval', () => {
    const atc = kb.db
      .prepare<[string], Pick<TreatmentCodeRow, 'treatmentId' | 'code'>>(
        "SELECT tc.treatment_id AS treatmentId, tc.code FROM treatment_codes tc JOIN statements s ON s.id = tc.treatment_id WHERE s.condition_id = ? AND tc.system = 'atc' ORDER BY tc.code",
      )
      .all('sepsis');
    expect(atc).toEqual([
      { treatmentId: 'sepsis.treatment.norepinephrine', code: 'C01CA03' },
      { treatmentId: 'sepsis.treatment.vasopressin', code: 'H01BA01' },
      { treatmentId: 'sepsis.treatment.hydrocortisone', code: 'H02AB09' },
      { treatmentId: 'sepsis.treatment.early-antimicrobials', code: 'J01' },
    ]);
    const approved = kb.db
      .prepare<[string], Pick<StatementRow, 'id' | 'regulatoryNote'>>("SELECT id, regulatory_note AS regulatoryNote FROM statements WHERE condition_id = ? AND regulatory_status = 'approved'")
      .all('sepsis');
    expect(approved.map((a) => a.id).sort()).toEqual(['sepsis.treatment.norepinephrine', 'sepsis.treatment.vasopressin']);
    for (const a of approved) expect(a.regulatoryNote, a.id).toMatch(/US FDA/);
  });

  it('has at least 25 statements, every one cited, across every section', () => {
    const counts = Object.fromEntries(
      kb.db
        .prepare<[string], Pick<StatementRow, 'section'> & { n: number }>('SELECT section, count(*) AS n FROM statements WHERE condition_id = ? GROUP BY section')
        .all('sepsis')
        .map((r) => [r.section, r.n]),
    );
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(25);
    for (const section of ['symptoms', 'causes', 'riskFactors', 'complications', 'diagnosis', 'treatments', 'prognosis', 'prevention', 'whenToSeekCare', 'differentialDiagnosis']) {
      expect(counts[section], section).toBeGreaterThan(0);
    }
    const uncited = kb.db
      .prepare<[string], Pick<StatementRow, 'id'>>("SELECT id FROM statements WHERE condition_id = ? AND id NOT IN (SELECT entity_id FROM citations WHERE entity_type = 'statement')")
      .all('sepsis');
    expect(uncited).toEqual([]);
    const lab = kb.db.prepare<[string], { n: number }>("SELECT count(*) AS n FROM statements WHERE condition_id = ? AND section = 'diagnosis' AND category = 'lab'").get('sepsis');
    expect(lab?.n).toBeGreaterThan(0);
  });

  it('links back to calciphylaxis and to end-stage kidney disease, each link cited', () => {
    const related = kb.related('sepsis').map(({ relatedId, relation }) => ({ relatedId, relation }));
    expect(related).toEqual([
      { relatedId: 'calciphylaxis', relation: 'risk-factor' },
      { relatedId: 'end-stage-kidney-disease', relation: 'risk-factor' },
    ]);
    const cited = (position: number) => kb.citedBy('related', `sepsis#related-${position}`);
    expect(cited(0)).toEqual(['new-2011-cua', 'budisavljevic-1996', 'mathur-2001']);
    expect(cited(1)).toEqual(['cdc-sepsis-risk-factors', 'sarnak-2000']);
  });
});

describe('sepsis facts', () => {
  // Fact ids are a public contract (chatbots cite them): renaming or dropping one fails here.
  const pinned = readFileSync(join(FIXTURES_DIR, 'fact-ids-sepsis.txt'), 'utf8').trim().split('\n');

  it('serves exactly the pinned ids, each naming sepsis and citing a source', async () => {
    const { items } = await collectPages<Fact>(kb.app, '/v1/facts?condition=sepsis&limit=100');
    expect(items.map((f) => f.id).sort()).toEqual(pinned);
    for (const fact of items) {
      // Served alone, a fact must still say which condition it is about.
      expect(fact.text, fact.id).toMatch(/sepsis|septic/i);
      expect(fact.sources.length, fact.id).toBeGreaterThan(0);
    }
  });
});
