/**
 * FHIR R5 Evidence for every statistic of the knowledge base (db/content plus the evidencitis
 * fixture, which has a hazard ratio with its 95% CI, events, a comparison group and a rating), read
 * through `GET /v1/statistics/{id}` with `Accept: application/fhir+json`.
 *
 * Type checks: the renderer builds each Bundle from @types/fhir's R5 types, and the expected bundle
 * below is an object literal of those types, so a misspelt or non-R5 element fails `npm run typecheck`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, Citation, Coding, Evidence, EvidenceStatistic, Quantity } from 'fhir/r5.js';
import { buildTestApp, collectPages, type TestContext } from './helpers.js';
import type { Statistic } from '../src/schemas/statistic.js';
import type { FhirBundle } from '../src/renderers/fhir.js';

let ctx: TestContext;
let statistics: Statistic[];
const bundles = new Map<string, FhirBundle>();

beforeAll(async () => {
  ctx = await buildTestApp({ extraFixtures: ['evidencitis.yaml'] });
  statistics = (await collectPages<Statistic>(ctx.app, '/v1/statistics?limit=100')).items;
  for (const s of statistics) {
    const res = await ctx.app.inject({ url: `/v1/statistics/${encodeURIComponent(s.id)}`, headers: { accept: 'application/fhir+json' } });
    expect(res.statusCode, s.id).toBe(200);
    expect(res.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
    bundles.set(s.id, res.json<FhirBundle>());
  }
});
afterAll(() => ctx.close());

const HAZARD = 'evidencitis.stat.mortality-hazard';

function evidenceOf(id: string): Evidence {
  const r = bundles.get(id)?.entry?.[0]?.resource;
  if (r?.resourceType !== 'Evidence') throw new Error(`no Evidence for ${id}`);
  return r;
}
function statisticOf(id: string): EvidenceStatistic {
  const st = evidenceOf(id).statistic;
  expect(st).toHaveLength(1);
  const first = st?.[0];
  if (!first) throw new Error(`no statistic for ${id}`);
  return first;
}
function codings(value: unknown): Coding[] {
  if (Array.isArray(value)) return value.flatMap(codings);
  if (value === null || typeof value !== 'object') return [];
  const obj = value as Record<string, unknown>;
  // A Coding is any {system, code} except a Quantity's UCUM unit.
  const own = typeof obj.system === 'string' && typeof obj.code === 'string' && obj.system !== 'http://unitsofmeasure.org' ? [obj as Coding] : [];
  return [...own, ...Object.values(obj).flatMap(codings)];
}
function quantities(st: EvidenceStatistic): Quantity[] {
  const out: Quantity[] = st.quantity ? [st.quantity] : [];
  for (const a of st.attributeEstimate ?? []) out.push(...[a.range?.low, a.range?.high].filter((q): q is Quantity => q !== undefined));
  return out;
}

/** Every code the renderer may emit, with the display the R5 code system gives it (see src/renderers/fhir.ts). */
const VERIFIED: Record<string, Record<string, string>> = {
  'http://terminology.hl7.org/CodeSystem/statistic-type': {
    C93150: 'Hazard Ratio',
    C16932: 'Odds Ratio',
    C93152: 'Relative Risk',
    '0000424': 'Risk Difference',
    C53319: 'Mean',
    C28007: 'Median',
    C25463: 'Count',
    C44256: 'Proportion',
    C16726: 'Incidence',
    C17010: 'Prevalence',
  },
  'http://terminology.hl7.org/CodeSystem/attribute-estimate-type': { C53324: 'Confidence interval', C38013: 'Range' },
  'http://terminology.hl7.org/CodeSystem/variable-role': {
    population: 'population',
    exposure: 'exposure',
    referenceExposure: 'reference exposure',
    measuredVariable: 'measured variable',
  },
  'http://hl7.org/fhir/study-design': {
    'SEVCO:01002': 'Observational research',
    'SEVCO:01003': 'randomized assignment',
    'SEVCO:01013': 'Case control design',
    'SEVCO:01016': 'Uncontrolled cohort design',
    'SEVCO:01017': 'Case report',
    'SEVCO:01027': 'Cross sectional data collection',
    'SEVCO:01028': 'Longitudinal data collection',
  },
  'http://hl7.org/fhir/certainty-rating': { high: 'High quality', moderate: 'Moderate quality', low: 'Low quality', 'very-low': 'Very low quality' },
  'http://hl7.org/fhir/certainty-type': { Overall: 'Overall certainty' },
  'http://hl7.org/fhir/cited-artifact-classification-type': { 'publication-type': 'Publication type' },
};

const STATISTIC_TYPE: Record<Statistic['estimateType'], string | null> = {
  'hazard-ratio': 'C93150',
  'odds-ratio': 'C16932',
  'risk-ratio': 'C93152',
  'risk-difference': '0000424',
  mean: 'C53319',
  median: 'C28007',
  count: 'C25463',
  proportion: 'C44256',
  rate: null,
  other: null,
};
const DESIGN_CODES: Record<Statistic['studyDesign'], string[]> = {
  'meta-analysis': [],
  'systematic-review': [],
  'randomized-trial': ['SEVCO:01003'],
  cohort: ['SEVCO:01002', 'SEVCO:01028'],
  'case-control': ['SEVCO:01013', 'SEVCO:01002'],
  'cross-sectional': ['SEVCO:01027', 'SEVCO:01002'],
  registry: ['SEVCO:01002'],
  'case-series': ['SEVCO:01016', 'SEVCO:01002'],
  'case-report': ['SEVCO:01017'],
  'narrative-review': [],
  'expert-opinion': [],
  unknown: [],
};

describe('FHIR R5 Evidence for every statistic', () => {
  it('covers the whole knowledge base and the evidencitis fixture', () => {
    expect(statistics.length).toBeGreaterThan(15);
    expect(statistics.map((s) => s.id)).toContain(HAZARD);
    expect(statistics.some((s) => s.conditionId === 'calciphylaxis')).toBe(true);
    expect(bundles.size).toBe(statistics.length);
  });

  it('uses only verified codes, each with its R5 display', () => {
    for (const s of statistics) {
      for (const c of codings(bundles.get(s.id))) {
        const known = VERIFIED[c.system ?? ''];
        expect(known, `${s.id}: unverified system ${c.system ?? ''}`).toBeDefined();
        expect(known?.[c.code ?? ''], `${s.id}: ${c.system ?? ''}#${c.code ?? ''}`).toBe(c.display);
      }
    }
  });

  it('has no certainty rating where certainty is not assessed, and the assessed one with its basis', () => {
    let assessed = 0;
    for (const s of statistics) {
      const ev = evidenceOf(s.id);
      if (s.certainty === 'not-assessed') {
        expect(ev.certainty, s.id).toBeUndefined();
        expect(JSON.stringify(bundles.get(s.id))).not.toContain('certainty-rating');
        continue;
      }
      assessed++;
      expect(ev.certainty, s.id).toHaveLength(1);
      const c = ev.certainty?.[0];
      expect(c?.rating?.coding).toEqual([{ system: 'http://hl7.org/fhir/certainty-rating', code: s.certainty, display: VERIFIED['http://hl7.org/fhir/certainty-rating']?.[s.certainty] }]);
      expect(c?.type?.coding?.[0]?.code).toBe('Overall');
      expect(c?.description).toBe(s.certaintyBasis);
    }
    expect(assessed).toBeGreaterThan(0);
  });

  it('gives every interval as a confidence interval with its level, and only intervals', () => {
    let intervals = 0;
    for (const s of statistics) {
      const cis = (statisticOf(s.id).attributeEstimate ?? []).filter((a) => a.type?.coding?.[0]?.code === 'C53324');
      if (!s.interval) {
        expect(cis, s.id).toEqual([]);
        continue;
      }
      intervals++;
      expect(cis, s.id).toHaveLength(1);
      expect(cis[0]?.level).toBe(s.interval.level);
      expect(cis[0]?.range?.low?.value).toBe(s.interval.low);
      expect(cis[0]?.range?.high?.value).toBe(s.interval.high);
    }
    expect(intervals).toBeGreaterThan(0);
  });

  it('keeps a reported range apart from the interval', () => {
    for (const s of statistics) {
      const ranges = (statisticOf(s.id).attributeEstimate ?? []).filter((a) => a.type?.coding?.[0]?.code === 'C38013');
      if (s.low !== null && s.high !== null) {
        expect(ranges, s.id).toHaveLength(1);
        expect([ranges[0]?.range?.low?.value, ranges[0]?.range?.high?.value]).toEqual([s.low, s.high]);
        expect(ranges[0]).not.toHaveProperty('level');
      } else expect(ranges, s.id).toEqual([]);
    }
  });

  it('codes the study design from the R5 study-design value set, with the design as text', () => {
    for (const s of statistics) {
      const design = evidenceOf(s.id).studyDesign;
      if (s.studyDesign === 'unknown') {
        expect(design, s.id).toBeUndefined();
        continue;
      }
      expect(design?.[0]?.text, s.id).toBeTruthy();
      const codes = (design ?? []).flatMap((d) => d.coding ?? []);
      expect(codes.every((c) => c.system === 'http://hl7.org/fhir/study-design')).toBe(true);
      expect(codes.map((c) => c.code), s.id).toEqual(DESIGN_CODES[s.studyDesign]);
    }
    // The seed content has coded designs (cohort, case series), not only text.
    expect(statistics.filter((s) => DESIGN_CODES[s.studyDesign].length > 0).length).toBeGreaterThan(2);
  });

  it('types each statistic from its estimate type, counts participants, and never puts % on a ratio', () => {
    for (const s of statistics) {
      const st = statisticOf(s.id);
      const code = st.statisticType?.coding?.[0]?.code;
      if ((s.estimateType === 'proportion' || s.estimateType === 'rate') && (s.measure === 'incidence' || s.measure === 'prevalence'))
        expect(code, s.id).toBe(s.measure === 'incidence' ? 'C16726' : 'C17010');
      else expect(code, s.id).toBe(STATISTIC_TYPE[s.estimateType] ?? undefined);
      expect(st.numberAffected, s.id).toBe(s.events ?? undefined);
      expect(st).not.toHaveProperty('numberOfEvents');
      expect(st.sampleSize?.numberOfParticipants, s.id).toBe(s.sampleSize ?? undefined);
      for (const q of quantities(st)) {
        if (s.unit === 'ratio') expect(q, s.id).toMatchObject({ system: 'http://unitsofmeasure.org', code: '1' });
        else if (s.unit === '%') expect(q, s.id).toMatchObject({ unit: '%', system: 'http://unitsofmeasure.org', code: '%' });
        if (q.code !== undefined) expect(q.system).toBe('http://unitsofmeasure.org');
      }
      if (s.unit === 'ratio') expect(JSON.stringify(st)).not.toContain('"%"');
    }
  });

  it('gives a comparison its exposure and reference exposure, and no reference without one', () => {
    for (const s of statistics) {
      const roles = evidenceOf(s.id).variableDefinition.map((v) => v.variableRole.coding?.[0]?.code);
      expect(roles[0], s.id).toBe('population');
      expect(roles.at(-1), s.id).toBe('measuredVariable');
      const ref = evidenceOf(s.id).variableDefinition.filter((v) => v.variableRole.coding?.[0]?.code === 'referenceExposure');
      if (s.comparedWith) {
        expect(ref.map((v) => v.description), s.id).toEqual([s.comparedWith.label]);
        expect(roles, s.id).toContain('exposure');
      } else expect(ref, s.id).toEqual([]);
    }
  });

  it('renders the evidencitis hazard ratio with its type, 95% CI, 40 of 200 and the reference exposure', () => {
    const st = statisticOf(HAZARD);
    expect(st.statisticType).toEqual({ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/statistic-type', code: 'C93150', display: 'Hazard Ratio' }], text: 'Hazard Ratio' });
    expect(st.quantity).toEqual({ value: 2.5, system: 'http://unitsofmeasure.org', code: '1' });
    expect(st.attributeEstimate).toEqual([
      {
        description: '95% CI 1.25–5',
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/attribute-estimate-type', code: 'C53324', display: 'Confidence interval' }], text: 'Confidence interval' },
        level: 0.95,
        range: { low: { value: 1.25, system: 'http://unitsofmeasure.org', code: '1' }, high: { value: 5, system: 'http://unitsofmeasure.org', code: '1' } },
      },
    ]);
    expect([st.numberAffected, st.sampleSize?.numberOfParticipants]).toEqual([40, 200]);
    const ev = evidenceOf(HAZARD);
    expect(ev.variableDefinition.map((v) => [v.variableRole.coding?.[0]?.code, v.description])).toEqual([
      ['population', 'fictional adults with evidencitis'],
      ['exposure', 'fictional adults with evidencitis'],
      ['referenceExposure', 'fictional adults without evidencitis'],
      ['measuredVariable', 'death from any cause'],
    ]);
    // Rated low by the curators, who say so in the basis: the only case with a rater.
    expect(ev.certainty?.[0]).toMatchObject({ rater: 'Knowledge base curators', rating: { coding: [{ code: 'low' }] } });
    expect(bundles.get(HAZARD)).toEqual(EXPECTED_HAZARD);
  });

  it('names no rater for a statistic whose basis does not name the curators', () => {
    for (const s of statistics) {
      const rater = evidenceOf(s.id).certainty?.[0]?.rater;
      if (s.certaintyBasis !== null && /^curators\b/i.test(s.certaintyBasis)) expect(rater, s.id).toBe('Knowledge base curators');
      else expect(rater, s.id).toBeUndefined();
    }
  });

  it('rejects non-R5 element names at type-check time', () => {
    // Each line below must fail `tsc`; if the R5 types ever stopped catching them, typecheck fails here.
    // @ts-expect-error R5 has no Evidence.statistic.numberOfParticipants (it is statistic.sampleSize.numberOfParticipants)
    const misplaced: EvidenceStatistic = { numberOfParticipants: 200 };
    // @ts-expect-error R5 Evidence has no timeFrame
    const noTimeFrame: Evidence = { resourceType: 'Evidence', status: 'active', variableDefinition: [], timeFrame: [] };
    // @ts-expect-error R5 attributeEstimate.level is a decimal, not a string
    const stringLevel: EvidenceStatistic = { attributeEstimate: [{ level: '95%' }] };
    expect([misplaced, noTimeFrame, stringLevel]).toHaveLength(3);
  });
});

/** The whole bundle for the hazard ratio, as an R5 object literal (fullUrls are UUID v5 of type and id). */
const EXPECTED_HAZARD: Bundle<Evidence | Citation> = {
  resourceType: 'Bundle',
  type: 'collection',
  entry: [
    {
      fullUrl: 'urn:uuid:4a10aea1-6eac-5c2b-9b79-ece83fa8bb0f',
      resource: {
        resourceType: 'Evidence',
        id: 'evidencitis.stat.mortality-hazard',
        title: 'Evidencitis: mortality (hazard ratio), 2.5',
        citeAsReference: { reference: 'urn:uuid:1c05a3f3-b734-5e1d-b474-e9db231d92b6', type: 'Citation', display: 'Cohort, 2022, cohort study' },
        status: 'active',
        description: 'In the fictional cohort, people with evidencitis died at 2.5 times the rate of those without it over one year.',
        relatedArtifact: [
          {
            type: 'citation',
            display: "A fictional review that relays the cohort's figures, 2023, review",
            citation: "A fictional review that relays the cohort's figures, 2023, review",
          },
        ],
        variableDefinition: [
          {
            description: 'fictional adults with evidencitis',
            variableRole: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/variable-role', code: 'population', display: 'population' }], text: 'population' },
          },
          {
            description: 'fictional adults with evidencitis',
            variableRole: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/variable-role', code: 'exposure', display: 'exposure' }], text: 'exposure' },
          },
          {
            description: 'fictional adults without evidencitis',
            variableRole: {
              coding: [{ system: 'http://terminology.hl7.org/CodeSystem/variable-role', code: 'referenceExposure', display: 'reference exposure' }],
              text: 'reference exposure',
            },
          },
          {
            description: 'death from any cause',
            note: [{ text: 'Timepoint: 1 year' }],
            variableRole: {
              coding: [{ system: 'http://terminology.hl7.org/CodeSystem/variable-role', code: 'measuredVariable', display: 'measured variable' }],
              text: 'measured variable',
            },
          },
        ],
        studyDesign: [
          { text: 'cohort study' },
          { coding: [{ system: 'http://hl7.org/fhir/study-design', code: 'SEVCO:01002', display: 'Observational research' }], text: 'Observational research' },
          { coding: [{ system: 'http://hl7.org/fhir/study-design', code: 'SEVCO:01028', display: 'Longitudinal data collection' }], text: 'Longitudinal data collection' },
        ],
        statistic: [
          {
            description: '2.5 (95% CI 1.25–5) at 1 year',
            note: [{ text: 'Timepoint: 1 year' }],
            statisticType: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/statistic-type', code: 'C93150', display: 'Hazard Ratio' }], text: 'Hazard Ratio' },
            quantity: { value: 2.5, system: 'http://unitsofmeasure.org', code: '1' },
            numberAffected: 40,
            sampleSize: { numberOfParticipants: 200 },
            attributeEstimate: [
              {
                description: '95% CI 1.25–5',
                type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/attribute-estimate-type', code: 'C53324', display: 'Confidence interval' }], text: 'Confidence interval' },
                level: 0.95,
                range: { low: { value: 1.25, system: 'http://unitsofmeasure.org', code: '1' }, high: { value: 5, system: 'http://unitsofmeasure.org', code: '1' } },
              },
            ],
          },
        ],
        certainty: [
          {
            description: 'Curators: one observational cohort of 200 people',
            type: { coding: [{ system: 'http://hl7.org/fhir/certainty-type', code: 'Overall', display: 'Overall certainty' }], text: 'Overall certainty' },
            rating: { coding: [{ system: 'http://hl7.org/fhir/certainty-rating', code: 'low', display: 'Low quality' }], text: 'Low quality' },
            rater: 'Knowledge base curators',
          },
        ],
      },
    },
    {
      fullUrl: 'urn:uuid:1c05a3f3-b734-5e1d-b474-e9db231d92b6',
      resource: {
        resourceType: 'Citation',
        id: 'test-cohort-2022',
        title: 'A fictional cohort for tests',
        status: 'active',
        summary: [{ text: 'Cohort, 2022, cohort study' }],
        note: [{ text: 'Attribution: confirmed (this is the work the citing article refers to).' }, { text: 'Fictional source for the test suite.' }],
        citedArtifact: {
          identifier: [
            { system: 'https://doi.org', value: '10.5555/test.2022.1' },
            { system: 'https://pubmed.ncbi.nlm.nih.gov', value: '1234567' },
          ],
          title: [{ text: 'A fictional cohort for tests' }],
          publicationForm: [{ publishedIn: { title: 'Journal of Test Fixtures' }, articleDate: '2022' }],
          webLocation: [{ url: 'https://doi.org/10.5555/test.2022.1' }],
          classification: [
            {
              type: { coding: [{ system: 'http://hl7.org/fhir/cited-artifact-classification-type', code: 'publication-type', display: 'Publication type' }], text: 'Publication type' },
              classifier: [{ text: 'cohort study' }],
            },
          ],
          contributorship: { entry: [{ contributor: { display: 'Cohort A' }, rankingOrder: 1 }] },
        },
      },
    },
  ],
};
