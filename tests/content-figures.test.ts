/**
 * Pins the calciphylaxis content as audited for issue 12, read back from a built database: every
 * seed figure with every evidence field (estimate type, interval, events, sample size, comparison,
 * design, primary source, certainty), each verified effect estimate with its interval, the
 * per-item citations, and each correction the audit made. A change to any of it must be
 * deliberate and show up here. The audit trail is ../notes/audit-calciphylaxis.md.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFromContent } from '../src/content/build.js';
import { openDatabase } from '../src/db/connection.js';
import { CONTENT_DIR } from '../src/paths.js';
import { createContentRepository } from '../src/repositories/content.js';
import { citationRef, statementsOf, type ConditionContent, type StatisticContent, type StatementContent } from '../src/content/schema.js';

let dir: string;
let db: Database.Database;
let content: ConditionContent;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kb-figures-'));
  buildFromContent(CONTENT_DIR, join(dir, 'kb.sqlite'));
  db = openDatabase(join(dir, 'kb.sqlite'), { readonly: true });
  const read = createContentRepository(db).get('calciphylaxis');
  if (!read) throw new Error('calciphylaxis is missing from the built database');
  content = read;
});
afterAll(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const stat = (slug: string): StatisticContent => {
  const s = content.statistics.find((x) => x.id === `calciphylaxis.stat.${slug}`);
  if (!s) throw new Error(`statistic ${slug} is missing`);
  return s;
};
const statement = (id: string): StatementContent => {
  const found = statementsOf(content).find(({ item }) => item.id === id);
  if (!found) throw new Error(`statement ${id} is missing`);
  return found.item;
};
const cited = (item: { sources: StatementContent['sources'] }) => item.sources.map((c) => citationRef(c).id);
const source = (id: string) => {
  const s = content.sources.find((x) => x.id === id);
  if (!s) throw new Error(`source ${id} is missing`);
  return s;
};

/** Required unless certainty is not-assessed: any non-empty stated reason. */
const BASIS = expect.stringMatching(/\w/);

type Pinned = Omit<StatisticContent, 'id' | 'population' | 'outcome' | 'text' | 'sources' | 'confidence' | 'certaintyBasis'> & { certaintyBasis: unknown };
const cases: [string, Pinned][] = [
  ['incidence-dialysis', { measure: 'incidence', value: null, low: 0.04, high: 4, unit: '%', comparator: 'about', timepoint: null, timepointMonths: null, sampleSize: null, events: null, treatment: null, estimateType: 'proportion', interval: null, comparedWith: null, studyDesign: 'narrative-review', primarySource: 'kodumudi-2020', certainty: 'not-assessed', certaintyBasis: null }],
  ['usage-sodium-thiosulfate', { measure: 'usage', value: 50.3, low: null, high: null, unit: '%', comparator: null, timepoint: null, timepointMonths: null, sampleSize: 856, events: null, treatment: 'calciphylaxis.treatment.sodium-thiosulfate', estimateType: 'proportion', interval: null, comparedWith: null, studyDesign: 'systematic-review', primarySource: 'udomkarnjananun-2019', certainty: 'not-assessed', certaintyBasis: null }],
  ['usage-parathyroidectomy', { measure: 'usage', value: 28.7, low: null, high: null, unit: '%', comparator: null, timepoint: null, timepointMonths: null, sampleSize: 856, events: null, treatment: 'calciphylaxis.treatment.parathyroidectomy', estimateType: 'proportion', interval: null, comparedWith: null, studyDesign: 'systematic-review', primarySource: 'udomkarnjananun-2019', certainty: 'not-assessed', certaintyBasis: null }],
  ['usage-cinacalcet', { measure: 'usage', value: 25.3, low: null, high: null, unit: '%', comparator: null, timepoint: null, timepointMonths: null, sampleSize: 856, events: null, treatment: 'calciphylaxis.treatment.cinacalcet', estimateType: 'proportion', interval: null, comparedWith: null, studyDesign: 'systematic-review', primarySource: 'udomkarnjananun-2019', certainty: 'not-assessed', certaintyBasis: null }],
  ['usage-hyperbaric-oxygen', { measure: 'usage', value: 15.3, low: null, high: null, unit: '%', comparator: null, timepoint: null, timepointMonths: null, sampleSize: 856, events: null, treatment: 'calciphylaxis.treatment.hyperbaric-oxygen', estimateType: 'proportion', interval: null, comparedWith: null, studyDesign: 'systematic-review', primarySource: 'udomkarnjananun-2019', certainty: 'not-assessed', certaintyBasis: null }],
  ['usage-bisphosphonates', { measure: 'usage', value: 5.9, low: null, high: null, unit: '%', comparator: null, timepoint: null, timepointMonths: null, sampleSize: 856, events: null, treatment: 'calciphylaxis.treatment.bisphosphonates', estimateType: 'proportion', interval: null, comparedWith: null, studyDesign: 'systematic-review', primarySource: 'udomkarnjananun-2019', certainty: 'not-assessed', certaintyBasis: null }],
  ['mortality-6-months', { measure: 'mortality', value: 30, low: null, high: null, unit: '%', comparator: 'about', timepoint: '6 months', timepointMonths: 6, sampleSize: null, events: null, treatment: null, estimateType: 'proportion', interval: null, comparedWith: null, studyDesign: 'unknown', primarySource: 'unidentified-mortality-study', certainty: 'not-assessed', certaintyBasis: null }],
  ['mortality-12-months', { measure: 'mortality', value: 50, low: null, high: null, unit: '%', comparator: 'about', timepoint: '12 months', timepointMonths: 12, sampleSize: null, events: null, treatment: null, estimateType: 'proportion', interval: null, comparedWith: null, studyDesign: 'unknown', primarySource: 'unidentified-mortality-study', certainty: 'not-assessed', certaintyBasis: null }],
  ['survival-1-year-weenig', { measure: 'survival', value: 45.8, low: null, high: null, unit: '%', comparator: null, timepoint: '1 year', timepointMonths: 12, sampleSize: null, events: null, treatment: null, estimateType: 'proportion', interval: null, comparedWith: null, studyDesign: 'cohort', primarySource: 'weenig-2007', certainty: 'low', certaintyBasis: BASIS }],
  ['benefit-hyperbaric-oxygen-more-than-half', { measure: 'benefit-rate', value: 50, low: null, high: null, unit: '%', comparator: 'more-than', timepoint: null, timepointMonths: null, sampleSize: 34, events: null, treatment: 'calciphylaxis.treatment.hyperbaric-oxygen', estimateType: 'proportion', interval: null, comparedWith: null, studyDesign: 'case-series', primarySource: 'an-2015', certainty: 'very-low', certaintyBasis: BASIS }],
  ['benefit-hyperbaric-oxygen-completed-course', { measure: 'benefit-rate', value: 58, low: null, high: null, unit: '%', comparator: null, timepoint: null, timepointMonths: null, sampleSize: 34, events: null, treatment: 'calciphylaxis.treatment.hyperbaric-oxygen', estimateType: 'proportion', interval: null, comparedWith: null, studyDesign: 'case-series', primarySource: 'an-2015', certainty: 'very-low', certaintyBasis: BASIS }],
  ['recovery-kidney-transplant', { measure: 'recovery', value: 3, low: null, high: null, unit: 'patients', comparator: null, timepoint: null, timepointMonths: null, sampleSize: 3, events: 3, treatment: 'calciphylaxis.treatment.kidney-transplant', estimateType: 'count', interval: null, comparedWith: null, studyDesign: 'case-series', primarySource: 'nordheim-2016', certainty: 'very-low', certaintyBasis: BASIS }],
  ['response-cinacalcet-alone', { measure: 'response-rate', value: 83.4, low: null, high: null, unit: '%', comparator: null, timepoint: null, timepointMonths: null, sampleSize: null, events: null, treatment: 'calciphylaxis.treatment.cinacalcet', estimateType: 'proportion', interval: null, comparedWith: null, studyDesign: 'case-series', primarySource: 'deen-2019', certainty: 'very-low', certaintyBasis: BASIS }],
  ['response-cinacalcet-combined', { measure: 'response-rate', value: 82.8, low: null, high: null, unit: '%', comparator: null, timepoint: null, timepointMonths: null, sampleSize: null, events: null, treatment: 'calciphylaxis.treatment.cinacalcet', estimateType: 'proportion', interval: null, comparedWith: null, studyDesign: 'case-series', primarySource: 'deen-2019', certainty: 'very-low', certaintyBasis: BASIS }],
  ['complete-response-cinacalcet-alone', { measure: 'response-rate', value: 41.7, low: null, high: null, unit: '%', comparator: null, timepoint: null, timepointMonths: null, sampleSize: null, events: null, treatment: 'calciphylaxis.treatment.cinacalcet', estimateType: 'proportion', interval: null, comparedWith: null, studyDesign: 'case-series', primarySource: 'deen-2019', certainty: 'very-low', certaintyBasis: BASIS }],
  ['complete-response-cinacalcet-combined', { measure: 'response-rate', value: 62.1, low: null, high: null, unit: '%', comparator: null, timepoint: null, timepointMonths: null, sampleSize: null, events: null, treatment: 'calciphylaxis.treatment.cinacalcet', estimateType: 'proportion', interval: null, comparedWith: null, studyDesign: 'case-series', primarySource: 'deen-2019', certainty: 'very-low', certaintyBasis: BASIS }],
  ['female-share-uk-study', { measure: 'demographic-share', value: 61, low: null, high: null, unit: '%', comparator: null, timepoint: null, timepointMonths: null, sampleSize: 89, events: null, treatment: null, estimateType: 'proportion', interval: null, comparedWith: null, studyDesign: 'registry', primarySource: 'uk-calciphylaxis-study', certainty: 'very-low', certaintyBasis: BASIS }],
  ['white-share-uk-study', { measure: 'demographic-share', value: 95, low: null, high: null, unit: '%', comparator: null, timepoint: null, timepointMonths: null, sampleSize: 89, events: null, treatment: null, estimateType: 'proportion', interval: null, comparedWith: null, studyDesign: 'registry', primarySource: 'uk-calciphylaxis-study', certainty: 'very-low', certaintyBasis: BASIS }],
  ['female-share-orphanet', { measure: 'demographic-share', value: null, low: 60, high: 70, unit: '%', comparator: null, timepoint: null, timepointMonths: null, sampleSize: null, events: null, treatment: null, estimateType: 'proportion', interval: null, comparedWith: null, studyDesign: 'narrative-review', primarySource: 'orphanet-280062', certainty: 'not-assessed', certaintyBasis: null }],
  ['mortality-risk-ratio-sodium-thiosulfate', { measure: 'mortality', value: 0.89, low: null, high: null, unit: 'ratio', comparator: null, timepoint: null, timepointMonths: null, sampleSize: null, events: null, treatment: 'calciphylaxis.treatment.sodium-thiosulfate', estimateType: 'risk-ratio', interval: {level: 0.95, low: 0.71, high: 1.12}, comparedWith: {label: 'Patients in the same cohort studies who did not receive sodium thiosulfate', treatment: null}, studyDesign: 'meta-analysis', primarySource: 'udomkarnjananun-2019', certainty: 'very-low', certaintyBasis: BASIS }],
  ['mortality-risk-ratio-cinacalcet', { measure: 'mortality', value: 1.04, low: null, high: null, unit: 'ratio', comparator: null, timepoint: null, timepointMonths: null, sampleSize: null, events: null, treatment: 'calciphylaxis.treatment.cinacalcet', estimateType: 'risk-ratio', interval: {level: 0.95, low: 0.75, high: 1.42}, comparedWith: {label: 'Patients in the same cohort studies who did not receive cinacalcet', treatment: null}, studyDesign: 'meta-analysis', primarySource: 'udomkarnjananun-2019', certainty: 'very-low', certaintyBasis: BASIS }],
  ['mortality-risk-ratio-hyperbaric-oxygen', { measure: 'mortality', value: 0.89, low: null, high: null, unit: 'ratio', comparator: null, timepoint: null, timepointMonths: null, sampleSize: null, events: null, treatment: 'calciphylaxis.treatment.hyperbaric-oxygen', estimateType: 'risk-ratio', interval: {level: 0.95, low: 0.71, high: 1.12}, comparedWith: {label: 'Patients in the same cohort studies who did not receive hyperbaric oxygen therapy', treatment: null}, studyDesign: 'meta-analysis', primarySource: 'udomkarnjananun-2019', certainty: 'very-low', certaintyBasis: BASIS }],
  ['mortality-risk-ratio-bisphosphonates', { measure: 'mortality', value: 0.77, low: null, high: null, unit: 'ratio', comparator: null, timepoint: null, timepointMonths: null, sampleSize: null, events: null, treatment: 'calciphylaxis.treatment.bisphosphonates', estimateType: 'risk-ratio', interval: {level: 0.95, low: 0.44, high: 1.32}, comparedWith: {label: 'Patients in the same cohort studies who did not receive bisphosphonates', treatment: null}, studyDesign: 'meta-analysis', primarySource: 'udomkarnjananun-2019', certainty: 'very-low', certaintyBasis: BASIS }],
  ['mortality-risk-ratio-parathyroidectomy', { measure: 'mortality', value: 0.88, low: null, high: null, unit: 'ratio', comparator: null, timepoint: null, timepointMonths: null, sampleSize: null, events: null, treatment: 'calciphylaxis.treatment.parathyroidectomy', estimateType: 'risk-ratio', interval: {level: 0.95, low: 0.69, high: 1.13}, comparedWith: {label: 'Patients in the same cohort studies who did not receive surgical parathyroidectomy', treatment: null}, studyDesign: 'meta-analysis', primarySource: 'udomkarnjananun-2019', certainty: 'very-low', certaintyBasis: BASIS }],
  ['mortality-hazard-ratio-uk-study', { measure: 'mortality', value: 6.96, low: null, high: null, unit: 'ratio', comparator: null, timepoint: null, timepointMonths: null, sampleSize: null, events: null, treatment: null, estimateType: 'hazard-ratio', interval: null, comparedWith: {label: 'Propensity-score-matched haemodialysis patients without calciphylaxis (CRISIS-HD)', treatment: null}, studyDesign: 'cohort', primarySource: 'uk-calciphylaxis-study', certainty: 'low', certaintyBasis: BASIS }],
  ['mortality-annual-uk-study', { measure: 'mortality', value: 67, low: null, high: null, unit: '%', comparator: null, timepoint: 'per year', timepointMonths: null, sampleSize: 62, events: null, treatment: null, estimateType: 'rate', interval: null, comparedWith: {label: 'Propensity-score-matched haemodialysis patients without calciphylaxis (CRISIS-HD): annual mortality 10.2%', treatment: null}, studyDesign: 'cohort', primarySource: 'uk-calciphylaxis-study', certainty: 'low', certaintyBasis: BASIS }],
  ['mortality-rate-uk-study', { measure: 'mortality', value: 720, low: null, high: null, unit: 'per-1000-person-years', comparator: null, timepoint: null, timepointMonths: null, sampleSize: null, events: null, treatment: null, estimateType: 'rate', interval: null, comparedWith: null, studyDesign: 'registry', primarySource: 'uk-calciphylaxis-study', certainty: 'low', certaintyBasis: BASIS }],
  ['median-age-uk-study', { measure: 'age', value: 59, low: null, high: null, unit: 'years', comparator: null, timepoint: null, timepointMonths: null, sampleSize: 89, events: null, treatment: null, estimateType: 'median', interval: null, comparedWith: null, studyDesign: 'registry', primarySource: 'uk-calciphylaxis-study', certainty: 'not-assessed', certaintyBasis: null }],
  ['wound-healing-uk-study', { measure: 'recovery', value: 17, low: null, high: null, unit: '%', comparator: null, timepoint: null, timepointMonths: null, sampleSize: 89, events: null, treatment: null, estimateType: 'proportion', interval: null, comparedWith: null, studyDesign: 'registry', primarySource: 'uk-calciphylaxis-study', certainty: 'low', certaintyBasis: BASIS }],
  ['survival-1-year-debridement-weenig', { measure: 'survival', value: 61.6, low: null, high: null, unit: '%', comparator: null, timepoint: '1 year', timepointMonths: 12, sampleSize: 17, events: null, treatment: 'calciphylaxis.treatment.debridement', estimateType: 'proportion', interval: null, comparedWith: {label: '46 patients who did not have surgical debridement: estimated 1-year survival 27.4%', treatment: null}, studyDesign: 'cohort', primarySource: 'weenig-2007', certainty: 'very-low', certaintyBasis: BASIS }],
  ['female-odds-ratio-mazhar', { measure: 'incidence', value: 6.04, low: null, high: null, unit: 'ratio', comparator: null, timepoint: null, timepointMonths: null, sampleSize: 73, events: null, treatment: null, estimateType: 'odds-ratio', interval: {level: 0.95, low: 1.62, high: 22.6}, comparedWith: {label: 'Men in the same case-control study', treatment: null}, studyDesign: 'case-control', primarySource: 'mazhar-2001', certainty: 'low', certaintyBasis: BASIS }],
];

describe('seed figures with every evidence field', () => {
  it.each(cases)('%s', (slug, expected) => {
    const s = stat(slug);
    expect(s).toMatchObject(expected);
    // The work that produced the figure is among those the figure cites.
    expect(cited(s)).toContain(s.primarySource);
  });

  it('holds no statistic that the table above does not pin', () => {
    expect(content.statistics.map((s) => s.id).sort()).toEqual(cases.map(([slug]) => `calciphylaxis.stat.${slug}`).sort());
  });

  it('keeps a certainty basis exactly where certainty is assessed', () => {
    for (const s of content.statistics) expect(s.certaintyBasis === null, s.id).toBe(s.certainty === 'not-assessed');
  });

  it('gives every ratio estimate the unit ratio and a comparison group', () => {
    for (const s of content.statistics.filter((x) => ['risk-ratio', 'odds-ratio', 'hazard-ratio'].includes(x.estimateType))) {
      expect(s.unit, s.id).toBe('ratio');
      expect(s.comparedWith, s.id).not.toBeNull();
    }
  });
});

describe('verified effect estimates', () => {
  it('stores the five pooled mortality risk ratios of the 2019 meta-analysis with their 95% intervals', () => {
    const rr = (slug: string) => {
      const s = stat(`mortality-risk-ratio-${slug}`);
      return [s.value, s.interval?.level, s.interval?.low, s.interval?.high, s.treatment];
    };
    expect(rr('sodium-thiosulfate')).toEqual([0.89, 0.95, 0.71, 1.12, 'calciphylaxis.treatment.sodium-thiosulfate']);
    expect(rr('cinacalcet')).toEqual([1.04, 0.95, 0.75, 1.42, 'calciphylaxis.treatment.cinacalcet']);
    expect(rr('hyperbaric-oxygen')).toEqual([0.89, 0.95, 0.71, 1.12, 'calciphylaxis.treatment.hyperbaric-oxygen']);
    expect(rr('bisphosphonates')).toEqual([0.77, 0.95, 0.44, 1.32, 'calciphylaxis.treatment.bisphosphonates']);
    expect(rr('parathyroidectomy')).toEqual([0.88, 0.95, 0.69, 1.13, 'calciphylaxis.treatment.parathyroidectomy']);
    // No interval excludes 1: none of the five lowered mortality significantly.
    for (const slug of ['sodium-thiosulfate', 'cinacalcet', 'hyperbaric-oxygen', 'bisphosphonates', 'parathyroidectomy']) {
      const i = stat(`mortality-risk-ratio-${slug}`).interval;
      expect(i && i.low < 1 && i.high > 1, slug).toBe(true);
    }
    // The abstract prints the same numbers for hyperbaric oxygen as for sodium thiosulfate: kept, flagged.
    expect(stat('mortality-risk-ratio-hyperbaric-oxygen').confidence).toBe('medium');
  });

  it('stores the UK Calciphylaxis Study comparison with matched haemodialysis patients', () => {
    expect(stat('mortality-hazard-ratio-uk-study')).toMatchObject({ value: 6.96, unit: 'ratio', estimateType: 'hazard-ratio', interval: null });
    expect(stat('mortality-hazard-ratio-uk-study').comparedWith?.label).toMatch(/matched haemodialysis patients without calciphylaxis/);
    expect(stat('mortality-annual-uk-study')).toMatchObject({ value: 67, sampleSize: 62, estimateType: 'rate' });
    expect(stat('mortality-annual-uk-study').comparedWith?.label).toMatch(/10\.2%/);
    expect(stat('median-age-uk-study')).toMatchObject({ measure: 'age', value: 59, unit: 'years', estimateType: 'median', sampleSize: 89 });
  });

  it('stores the case-control odds ratio for female sex with its interval', () => {
    expect(stat('female-odds-ratio-mazhar')).toMatchObject({ value: 6.04, interval: { level: 0.95, low: 1.62, high: 22.6 }, sampleSize: 73, studyDesign: 'case-control' });
  });

  it('stores the debridement survival comparison with both group sizes', () => {
    expect(stat('survival-1-year-debridement-weenig')).toMatchObject({ value: 61.6, sampleSize: 17, treatment: 'calciphylaxis.treatment.debridement' });
    expect(stat('survival-1-year-debridement-weenig').comparedWith?.label).toMatch(/^46 patients .*27\.4%$/);
  });
});

describe('corrections of the audit', () => {
  it('says what cinacalcet treats: secondary hyperparathyroidism on dialysis, not high calcium from it', () => {
    const c = statement('calciphylaxis.treatment.cinacalcet');
    expect(c.text).toMatch(/secondary hyperparathyroidism/);
    expect(c.text).not.toMatch(/high calcium caused by hyperparathyroidism/i);
    expect(c).toMatchObject({ regulatoryStatus: 'off-label' });
    expect('regulatoryNote' in c && c.regulatoryNote).toMatch(/^US FDA: .*parathyroid carcinoma.*calciphylaxis is not an approved indication/);
    expect(cited(c)).toEqual(expect.arrayContaining(['fda-sensipar-label', 'deen-2019', 'udomkarnjananun-2019']));
    const link = content.related.find((r) => r.condition === 'secondary-hyperparathyroidism');
    expect(link?.text).toMatch(/treats secondary hyperparathyroidism/);
    expect(link?.text).not.toMatch(/high calcium/i);
  });

  it('cites each Medscape section on the page that holds it: History on the clinical presentation page, Pathophysiology on the overview', () => {
    expect(source('medscape').url).toBe('https://emedicine.medscape.com/article/1095481-clinical');
    expect(source('medscape-overview')).toMatchObject({ url: 'https://emedicine.medscape.com/article/1095481-overview', title: 'Calciphylaxis', authors: ['Nunley JR'] });
    const items = [...statementsOf(content).map(({ item }) => item), ...content.related];
    const locators = (id: string) => new Set(items.flatMap((item) => item.sources.map(citationRef).filter((c) => c.id === id).map((c) => c.locator)));
    expect(locators('medscape-overview')).toEqual(new Set(['Pathophysiology']));
    expect(locators('medscape')).not.toContain('Pathophysiology');
    const link = content.related.find((r) => r.condition === 'secondary-hyperparathyroidism');
    expect(link?.sources.map(citationRef)).toContainEqual({ id: 'medscape-overview', locator: 'Pathophysiology' });
    expect(cited(statement('calciphylaxis.risk.hyperparathyroidism'))).toContain('medscape-overview');
  });

  it('gives both hyperbaric oxygen figures the 34 who completed a course as population and sample size', () => {
    for (const slug of ['benefit-hyperbaric-oxygen-more-than-half', 'benefit-hyperbaric-oxygen-completed-course']) {
      const s = stat(slug);
      expect(s.population, slug).toMatch(/full course/);
      expect(s.population, slug).toMatch(/34/);
      expect(s.population, slug).not.toMatch(/evaluated/);
      expect([s.sampleSize, s.events], slug).toEqual([34, null]);
    }
  });

  it('records the Deen and Schaider figures as subgroup figures of unknown size', () => {
    for (const slug of ['response-cinacalcet-alone', 'response-cinacalcet-combined', 'complete-response-cinacalcet-alone', 'complete-response-cinacalcet-combined']) {
      expect(stat(slug).sampleSize, slug).toBeNull();
      expect(stat(slug).population, slug).toMatch(/subgroup of the 41 patients/);
    }
  });

  it('calls septicaemia the leading cause of death, not the cause of most deaths', () => {
    for (const id of ['calciphylaxis.prognosis.leading-cause-of-death', 'calciphylaxis.complication.fatal-septicemia']) {
      expect(statement(id).text, id).toMatch(/leading cause of death/);
      expect(statement(id).text, id).not.toMatch(/most deaths/i);
      expect(cited(statement(id)), id).toContain('orphanet-280062');
    }
  });

  it('lets skin ulcers in end-stage renal disease prompt the diagnosis without settling it', () => {
    const d = statement('calciphylaxis.diagnosis.skin-ulcers-in-esrd');
    expect(d.text).toMatch(/prompt/);
    expect(d.text).toMatch(/do not settle it/);
    expect(d.text).not.toMatch(/sufficient|enough for/i);
  });

  it('treats the UK 95% white share as a description of that cohort, not a risk estimate', () => {
    const s = stat('white-share-uk-study');
    expect(s.text).toMatch(/does not measure/);
    expect(s).toMatchObject({ certainty: 'very-low', studyDesign: 'registry', sampleSize: 89 });
    expect(statement('calciphylaxis.risk.white-ethnicity').text).toMatch(/not a measured risk/);
  });

  it('links each treatment with its evidence: no treatment in the 2019 meta-analysis lowered mortality', () => {
    for (const slug of ['sodium-thiosulfate', 'cinacalcet', 'hyperbaric-oxygen', 'parathyroidectomy', 'bisphosphonates']) {
      const t = statement(`calciphylaxis.treatment.${slug}`);
      expect(cited(t), slug).toContain('udomkarnjananun-2019');
      expect(t.text, slug).toMatch(/no significant difference in mortality|nor a Mayo\s+Clinic cohort found better survival/);
      expect(content.statistics.filter((s) => s.treatment === t.id && s.estimateType === 'risk-ratio'), slug).toHaveLength(1);
    }
    expect(statement('calciphylaxis.prognosis.no-treatment-lowered-mortality').text).toMatch(/none of the five most\s+used therapies significantly reduced mortality/);
    expect(statement('calciphylaxis.treatment.multidisciplinary-care').text).toMatch(/No standard treatment has been proven/);
  });

  it('names the jurisdiction of every regulatory status', () => {
    for (const { item } of statementsOf(content)) {
      if ('regulatoryStatus' in item && (item.regulatoryStatus === 'off-label' || item.regulatoryStatus === 'approved')) {
        expect(item.regulatoryNote, item.id).toMatch(/^US FDA: /);
      }
    }
  });

  it('records Sprague by its print year and says when it appeared online', () => {
    expect(source('sprague-2013')).toMatchObject({ year: 2014, title: 'Painful Skin Ulcers in a Hemodialysis Patient', doi: '10.2215/CJN.00320113', pmid: '24202137', pmcid: 'PMC3878687', volume: '9(1)' });
    expect(source('sprague-2013').note).toMatch(/online 7 November 2013.*print issue \(January 2014/);
  });

  it('gives Weenig 2007 its full title and author list, and cites it only for the five factors its abstract names', () => {
    expect(source('weenig-2007')).toMatchObject({
      title: 'Calciphylaxis: natural history, risk factor analysis, and outcome',
      authors: ['Weenig RH', 'Sewell LD', 'Davis MDP', 'McCarthy JT', 'Pittelkow MR'],
      doi: '10.1016/j.jaad.2006.08.065',
      pmid: '17141359',
    });
    const citing = content.riskFactors.filter((r) => cited(r).includes('weenig-2007')).map((r) => r.id);
    expect(citing.sort()).toEqual(
      ['obesity', 'liver-disease', 'corticosteroids', 'calcium-phosphate-product', 'aluminium'].map((s) => `calciphylaxis.risk.${s}`).sort(),
    );
  });

  it('confirms the Udomkarnjananun attribution on the exact 50.3% match and keeps unverified identifiers null', () => {
    expect(source('udomkarnjananun-2019')).toMatchObject({ kind: 'meta-analysis', attribution: 'confirmed', journal: null, doi: null, pmid: null });
  });

  it('gives the Orphanet code its display name and leaves the unverified ICD-9-CM title null', () => {
    expect(content.codes.find((c) => c.system === 'orphanet')).toMatchObject({ code: '280062', display: 'Calciphylaxis', match: 'exact' });
    expect(content.codes.find((c) => c.system === 'icd9cm')).toMatchObject({ code: '275.49', display: null });
  });

  it('keeps the symptoms of the underlying kidney disease apart from those of calciphylaxis', () => {
    const kidney = content.symptoms.filter((s) => s.id.startsWith('calciphylaxis.symptom.kidney-'));
    expect(kidney).toHaveLength(12);
    for (const s of content.symptoms) {
      expect(s.relatedCondition, s.id).toBe(s.id.startsWith('calciphylaxis.symptom.kidney-') ? 'end-stage-kidney-disease' : null);
    }
  });
});

describe('per-item citations', () => {
  it('never cites the same list of three or more works on four or more items of a section', () => {
    const sections = [...new Set(statementsOf(content).map((s) => s.section))];
    for (const section of sections) {
      const lists = statementsOf(content).filter((s) => s.section === section).map(({ item }) => cited(item).sort().join(','));
      const counts = new Map<string, number>();
      for (const l of lists.filter((x) => x.split(',').length >= 3)) counts.set(l, (counts.get(l) ?? 0) + 1);
      for (const [list, n] of counts) expect(n, `${section}: ${list}`).toBeLessThan(4);
    }
  });

  it('drops Cleveland Clinic from the risk factors and symptoms its checked overview does not support', () => {
    expect(content.riskFactors.filter((r) => cited(r).includes('cleveland-clinic'))).toEqual([]);
    expect(content.symptoms.filter((s) => cited(s).includes('cleveland-clinic')).map((s) => s.id).sort()).toEqual(
      ['calciphylaxis.symptom.internal-calcification', 'calciphylaxis.symptom.sepsis'],
    );
  });

  it('says where in the work a figure is supported', () => {
    expect(stat('benefit-hyperbaric-oxygen-completed-course').sources).toEqual([{ id: 'an-2015', locator: 'abstract' }]);
    expect(stat('female-share-orphanet').sources).toEqual([{ id: 'orphanet-280062', locator: 'Epidemiology' }]);
    const loc = db.prepare<[string], { locator: string | null }>("SELECT locator FROM citations WHERE entity_type = 'statistic' AND entity_id = ? AND source_id = 'udomkarnjananun-2019'").get('calciphylaxis.stat.usage-sodium-thiosulfate');
    expect(loc?.locator).toBe('abstract');
  });
});

describe('sources', () => {
  it('keeps the known identifiers of sources exactly and unknown ones null', () => {
    expect(source('an-2015')).toMatchObject({ doi: '10.1111/nep.12433', pmid: '25707425', year: 2015, attribution: 'confirmed' });
    expect(source('nordheim-2016')).toMatchObject({ doi: '10.1097/TXD.0000000000000627', pmid: '27826606', pmcid: 'PMC5096440', year: 2016 });
    expect(source('kodumudi-2020')).toMatchObject({ doi: '10.1007/s12325-020-01504-w', pmid: '32997277', pmcid: 'PMC7595979', year: 2020 });
    expect(source('nigwekar-2018')).toMatchObject({ doi: '10.1056/NEJMra1505292', pmid: null, year: 2018 });
    expect(source('nigwekar-2015')).toMatchObject({ doi: '10.1053/j.ajkd.2015.01.034', pmid: '25960299', pmcid: 'PMC4696752' });
    expect(source('dobry-2018')).toMatchObject({ doi: '10.1001/jamadermatol.2017.4920', pmid: '29238798', pmcid: 'PMC5839276' });
    expect(source('deen-2019')).toMatchObject({ year: 2019, title: null, doi: null, pmid: null });
    expect(source('uk-calciphylaxis-study')).toMatchObject({ kind: 'registry', pmcid: 'PMC8494680', journal: null, doi: null, pmid: null });
    expect(source('unidentified-mortality-study')).toMatchObject({ attribution: 'unknown', title: null, doi: null, pmid: null });
    // Authors and year read from a copy of the article; its PMID was not seen.
    expect(source('int-arch-med-ulcers-case-report')).toMatchObject({ authors: ['Pujar T', 'Spinello IM'], year: 2009, doi: '10.1186/1755-7682-2-22', pmid: null });
  });
});

describe('codes', () => {
  it('maps ICD-10-CM E83.59 as broader and ORPHA:280062 as exact, and never holds E88.81 or codes marked unknown', () => {
    const codes = content.codes.map((c) => `${c.system}:${c.code}:${c.match}`);
    expect(codes).toEqual(['icd10cm:E83.59:broader', 'orphanet:280062:exact', 'icd9cm:275.49:broader']);
  });

  it('codes the two drugs with ATC', () => {
    const atc = content.treatments.flatMap((t) => t.codes.map((c) => [t.id, c.system, c.code]));
    expect(atc).toEqual([
      ['calciphylaxis.treatment.cinacalcet', 'atc', 'H05BX01'],
      ['calciphylaxis.treatment.sodium-thiosulfate', 'atc', 'V03AB06'],
    ]);
    expect(statement('calciphylaxis.treatment.sodium-thiosulfate')).toMatchObject({ regulatoryStatus: 'off-label', route: 'intravenous' });
  });

  it('codes each differential diagnosis only where an ICD-10-CM table was checked', () => {
    expect(content.differentialDiagnosis.map((d) => [d.id.replace('calciphylaxis.differential.', ''), d.code?.code ?? null, d.code?.display ?? null])).toEqual([
      ['warfarin-induced-skin-necrosis', null, null],
      ['cholesterol-embolism', 'I75.0', 'Atheroembolism of extremities'],
      ['vasculitis', 'L95.9', 'Vasculitis limited to the skin, unspecified'],
      ['pyoderma-gangrenosum', 'L88', 'Pyoderma gangrenosum'],
      ['necrotising-fasciitis', 'M72.6', 'Necrotizing fasciitis'],
      ['cellulitis', null, null],
    ]);
    for (const d of content.differentialDiagnosis) if (d.code) expect(d.code.system, d.id).toBe('icd10cm');
  });
});

describe('sections', () => {
  it('holds every section, the new ones included, with sources on every statement', () => {
    for (const key of ['symptoms', 'causes', 'riskFactors', 'complications', 'diagnosis', 'treatments', 'prognosis', 'prevention', 'whenToSeekCare', 'differentialDiagnosis'] as const) {
      expect(content[key].length, key).toBeGreaterThan(0);
      for (const item of content[key]) expect(item.sources.length, item.id).toBeGreaterThan(0);
    }
    expect(content.whenToSeekCare.map((s) => s.id)).toEqual([
      'calciphylaxis.seek-care.suspected-calciphylaxis',
      'calciphylaxis.seek-care.new-painful-skin-lesion',
      'calciphylaxis.seek-care.wound-infection',
    ]);
  });

  it('lists the laboratory tests as diagnosis items, each cited', () => {
    const labs = content.diagnosis.filter((d) => d.method === 'lab').map((d) => d.id.replace('calciphylaxis.diagnosis.', ''));
    expect(labs).toEqual(['blood-calcium', 'blood-phosphate', 'parathyroid-hormone', 'kidney-function-tests', 'blood-albumin', 'blood-aluminium', 'clotting-tests']);
  });

  it('types risk factors and notes the biopsy risk', () => {
    expect([...new Set(content.riskFactors.map((r) => r.type))].sort()).toEqual(['condition', 'demographic', 'lab', 'medication']);
    expect(content.diagnosis.find((d) => d.method === 'biopsy')?.risks).toMatch(/ulcer/i);
  });

  it('links the three related conditions, each with a cited sentence', () => {
    expect(content.related.map((r) => [r.condition, r.relation])).toEqual([
      ['end-stage-kidney-disease', 'underlying-cause'],
      ['secondary-hyperparathyroidism', 'risk-factor'],
      ['sepsis', 'complication'],
    ]);
    for (const r of content.related) expect(r.sources.length, r.condition).toBeGreaterThan(1);
  });
});
