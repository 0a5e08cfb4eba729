/**
 * Pins every seed figure of the calciphylaxis content spec by reading the built database:
 * value, range, unit, comparator, timepoint, sample size and source. A change to any figure must
 * be deliberate and show up here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFromContent } from '../src/content/build.js';
import { openDatabase } from '../src/db/connection.js';
import { CONTENT_DIR } from '../src/paths.js';

let dir: string;
let db: Database.Database;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kb-figures-'));
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
  timepoint: string | null;
  timepoint_months: number | null;
  sample_size: number | null;
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

const cases: [string, Partial<Row>, string][] = [
  ['calciphylaxis.stat.incidence-dialysis', { measure: 'incidence', value: null, low: 0.04, high: 4, unit: '%', comparator: 'about' }, 'kodumudi-2020'],
  ['calciphylaxis.stat.usage-sodium-thiosulfate', { measure: 'usage', value: 50.3, unit: '%', treatment_id: 'calciphylaxis.treatment.sodium-thiosulfate' }, 'udomkarnjananun-2019'],
  ['calciphylaxis.stat.usage-parathyroidectomy', { measure: 'usage', value: 28.7, unit: '%', treatment_id: 'calciphylaxis.treatment.parathyroidectomy' }, 'udomkarnjananun-2019'],
  ['calciphylaxis.stat.usage-cinacalcet', { measure: 'usage', value: 25.3, unit: '%', treatment_id: 'calciphylaxis.treatment.cinacalcet' }, 'udomkarnjananun-2019'],
  ['calciphylaxis.stat.usage-hyperbaric-oxygen', { measure: 'usage', value: 15.3, unit: '%', treatment_id: 'calciphylaxis.treatment.hyperbaric-oxygen' }, 'udomkarnjananun-2019'],
  ['calciphylaxis.stat.usage-bisphosphonates', { measure: 'usage', value: 5.9, unit: '%', treatment_id: 'calciphylaxis.treatment.bisphosphonates' }, 'udomkarnjananun-2019'],
  ['calciphylaxis.stat.mortality-6-months', { measure: 'mortality', value: 30, unit: '%', comparator: 'about', timepoint: '6 months', timepoint_months: 6 }, 'mnt-calciphylaxis-article'],
  ['calciphylaxis.stat.mortality-12-months', { measure: 'mortality', value: 50, unit: '%', comparator: 'about', timepoint: '12 months', timepoint_months: 12 }, 'mnt-calciphylaxis-article'],
  ['calciphylaxis.stat.survival-1-year-weenig', { measure: 'survival', value: 45.8, unit: '%', timepoint_months: 12 }, 'weenig-2007'],
  ['calciphylaxis.stat.benefit-hyperbaric-oxygen-more-than-half', { measure: 'benefit-rate', value: 50, unit: '%', comparator: 'more-than' }, 'an-2015'],
  ['calciphylaxis.stat.benefit-hyperbaric-oxygen-completed-course', { measure: 'benefit-rate', value: 58, unit: '%', sample_size: 34 }, 'an-2015'],
  ['calciphylaxis.stat.recovery-kidney-transplant', { measure: 'recovery', value: 3, unit: 'patients', sample_size: 3, treatment_id: 'calciphylaxis.treatment.kidney-transplant' }, 'nordheim-2016'],
  ['calciphylaxis.stat.response-cinacalcet-alone', { measure: 'response-rate', value: 83.4, unit: '%', sample_size: 41 }, 'deen-2019'],
  ['calciphylaxis.stat.response-cinacalcet-combined', { measure: 'response-rate', value: 82.8, unit: '%', sample_size: 41 }, 'deen-2019'],
  ['calciphylaxis.stat.female-share-uk-study', { measure: 'demographic-share', value: 61, unit: '%' }, 'uk-calciphylaxis-study'],
  ['calciphylaxis.stat.white-share-uk-study', { measure: 'demographic-share', value: 95, unit: '%' }, 'uk-calciphylaxis-study'],
  ['calciphylaxis.stat.female-share-orphanet', { measure: 'demographic-share', value: null, low: 60, high: 70, unit: '%' }, 'orphanet-280062'],
];

describe('seed figures', () => {
  it.each(cases)('%s', (id, expected, source) => {
    const row = stat(id);
    expect(row).toMatchObject(expected);
    expect(row.sourceIds).toContain(source);
  });

  it('holds no statistic that the table above does not pin', () => {
    const ids = db.prepare<[string], { id: string }>('SELECT id FROM statistics WHERE condition_id = ?').all('calciphylaxis');
    expect(ids.map((r) => r.id).sort()).toEqual(cases.map((c) => c[0]).sort());
  });

  it('cites the article and an unidentified study for the mortality figures (original study unknown)', () => {
    for (const id of ['calciphylaxis.stat.mortality-6-months', 'calciphylaxis.stat.mortality-12-months']) {
      expect(stat(id).sourceIds).toEqual(expect.arrayContaining(['mnt-calciphylaxis-article', 'unidentified-mortality-study']));
    }
    const src = db.prepare<[string], { attribution: string; title: string | null; doi: string | null; pmid: string | null }>('SELECT * FROM sources WHERE id = ?').get('unidentified-mortality-study');
    expect(src).toMatchObject({ attribution: 'unknown', title: null, doi: null, pmid: null });
  });

  it('keeps the known identifiers of sources exactly and unknown ones null', () => {
    const src = (id: string) => db.prepare<[string], Record<string, unknown>>('SELECT doi, pmid, pmcid, journal, year, kind, attribution FROM sources WHERE id = ?').get(id);
    expect(src('an-2015')).toMatchObject({ doi: '10.1111/nep.12433', pmid: '25707425', year: 2015, attribution: 'confirmed' });
    expect(src('nordheim-2016')).toMatchObject({ doi: '10.1097/TXD.0000000000000627', pmid: '27826606', year: 2016 });
    expect(src('kodumudi-2020')).toMatchObject({ doi: '10.1007/s12325-020-01504-w', pmid: '32997277', year: 2020 });
    expect(src('nigwekar-2018')).toMatchObject({ doi: '10.1056/NEJMra1505292', pmid: null, year: 2018 });
    expect(src('udomkarnjananun-2019')).toMatchObject({ kind: 'systematic-review', year: 2019, journal: null, doi: null, pmid: null, attribution: 'probable' });
    expect(src('deen-2019')).toMatchObject({ year: 2019, doi: null, pmid: null });
    expect(src('weenig-2007')).toMatchObject({ pmid: '17141359', year: 2007 });
    expect(src('uk-calciphylaxis-study')).toMatchObject({ pmcid: 'PMC8494680' });
  });
});

describe('codes', () => {
  const codes = () => db.prepare<[], { system: string; code: string; match: string }>("SELECT system, code, match FROM condition_codes WHERE condition_id = 'calciphylaxis' ORDER BY position").all();

  it('maps ICD-10-CM E83.59 as broader and ORPHA:280062 as exact', () => {
    expect(codes()).toEqual(
      expect.arrayContaining([
        { system: 'icd10cm', code: 'E83.59', match: 'broader' },
        { system: 'orphanet', code: '280062', match: 'exact' },
        { system: 'icd9cm', code: '275.49', match: 'broader' },
      ]),
    );
  });

  it('never holds E88.81 or codes the spec marks unknown', () => {
    expect(codes().map((c) => c.code)).not.toContain('E88.81');
    expect(codes().map((c) => c.system).filter((s) => ['icd11', 'snomedct', 'mesh', 'umls', 'mondo', 'doid'].includes(s))).toEqual([]);
  });

  it('codes the two drugs with ATC and records sodium thiosulfate as off-label', () => {
    const atc = db.prepare<[], { treatment_id: string; code: string }>("SELECT treatment_id, code FROM treatment_codes WHERE system = 'atc' AND treatment_id LIKE 'calciphylaxis.%' ORDER BY code").all();
    expect(atc).toEqual([
      { treatment_id: 'calciphylaxis.treatment.cinacalcet', code: 'H05BX01' },
      { treatment_id: 'calciphylaxis.treatment.sodium-thiosulfate', code: 'V03AB06' },
    ]);
    const sts = db.prepare<[string], { regulatory_status: string; route: string }>('SELECT regulatory_status, route FROM statements WHERE id = ?').get('calciphylaxis.treatment.sodium-thiosulfate');
    expect(sts).toEqual({ regulatory_status: 'off-label', route: 'intravenous' });
  });
});

describe('sections', () => {
  it('holds every section of the spec with sources on every statement', () => {
    const counts = Object.fromEntries(
      db.prepare<[], { section: string; n: number }>("SELECT section, count(*) AS n FROM statements WHERE condition_id = 'calciphylaxis' GROUP BY section").all().map((r) => [r.section, r.n]),
    );
    for (const section of ['symptoms', 'causes', 'riskFactors', 'complications', 'diagnosis', 'treatments', 'prognosis', 'prevention']) {
      expect(counts[section], section).toBeGreaterThan(0);
    }
    const uncited = db.prepare("SELECT id FROM statements WHERE id NOT IN (SELECT entity_id FROM citations WHERE entity_type = 'statement')").all();
    expect(uncited).toEqual([]);
  });

  it('types risk factors and notes the biopsy risk', () => {
    const types = db.prepare<[], { category: string }>("SELECT DISTINCT category FROM statements WHERE condition_id = 'calciphylaxis' AND section = 'riskFactors' ORDER BY category").all();
    expect(types.map((t) => t.category)).toEqual(['condition', 'demographic', 'lab', 'medication']);
    const biopsy = db.prepare<[], { risks: string }>("SELECT risks FROM statements WHERE condition_id = 'calciphylaxis' AND section = 'diagnosis' AND category = 'biopsy'").get();
    expect(biopsy?.risks).toMatch(/ulcer/i);
  });

  it('links the related conditions', () => {
    const related = db.prepare<[], { related_id: string; relation: string }>("SELECT related_id, relation FROM related_conditions WHERE condition_id = 'calciphylaxis' ORDER BY position").all();
    expect(related.map((r) => r.related_id).sort()).toEqual(['end-stage-kidney-disease', 'hyperparathyroidism', 'sepsis']);
  });
});
