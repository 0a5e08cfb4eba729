/**
 * schema.org JSON-LD checked by two independent tools:
 * - schema-dts: the renderer returns `WithContext<MedicalCondition>`, and the expected rendering of a
 *   small fixture document is written here as a typed object literal, so a property outside its
 *   type's domain or a value outside its range fails `npm run typecheck` (the `@ts-expect-error`
 *   lines show that it does);
 * - jsonld.js: every condition's `application/ld+json` body, as served, is expanded in safe mode
 *   (any term the context does not define, or a relative IRI, is an error) against schema.org's
 *   context, vendored in tests/fixtures/schema.org/ and served by a document loader (no network).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import jsonld, { type JsonLdDocument, type Options } from 'jsonld';
import type { MedicalCondition, WithContext } from 'schema-dts';
import { FIXTURES_DIR, buildTestApp, type TestContext } from './helpers.js';
import { conditionToJsonLd } from '../src/renderers/jsonld.js';
import { loadConfig } from '../src/config.js';
import type { Condition } from '../src/schemas/condition.js';

// jsonld.js takes `safe` (JSON-LD safe mode); @types/jsonld predates it.
declare module 'jsonld' {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Options {
    interface Expand {
      safe?: boolean;
    }
  }
}

type RemoteDocument = Awaited<ReturnType<NonNullable<Options.Expand['documentLoader']>>>;

const CONTEXT_FILE = join(FIXTURES_DIR, 'schema.org', 'jsonldcontext-30.0.jsonld');
const SCHEMA_CONTEXT: unknown = JSON.parse(readFileSync(CONTEXT_FILE, 'utf8'));
const S = 'http://schema.org/';

/** Serves the vendored schema.org context for the URLs `"@context": "https://schema.org"` resolves to; refuses anything else. */
async function documentLoader(url: string): Promise<RemoteDocument> {
  if (!/^https?:\/\/schema\.org\/?$/.test(url) && url !== 'https://schema.org/docs/jsonldcontext.jsonld') throw new Error(`no network in tests: ${url}`);
  return { contextUrl: undefined, documentUrl: url, document: SCHEMA_CONTEXT as RemoteDocument['document'] };
}

const expandSafe = (doc: unknown) => jsonld.expand(doc as JsonLdDocument, { safe: true, documentLoader });

// -------------------------------------------------------------------------------------------------
// Type check: a fixture document and its rendering as a typed literal

const ref = (id: string) => ({ id, citation: 'Doe et al., 2020, review', locator: null, doi: null, pmid: null, url: null });
const item = (id: string, name: string, text: string) => ({ id, name, text, confidence: 'high' as const, sources: [ref('doe-2020')] });

/** A fictional condition with one item of each kind the renderer maps, and codes that exercise sameAs and relevantSpecialty. */
const fixture: Condition = {
  id: 'examplitis',
  name: 'Examplitis',
  aliases: ['Example disease'],
  summary: 'A fictional condition for renderer tests.',
  summarySources: [ref('doe-2020')],
  codes: [
    { system: 'icd10cm', code: 'N18.6', display: 'End stage renal disease', match: 'exact', note: null, confidence: 'high' },
    { system: 'icd10cm', code: 'A41.9', display: 'Sepsis, unspecified organism', match: 'narrower', note: null, confidence: 'high' },
    { system: 'icd10cm', code: 'Z99.2', display: 'Dependence on renal dialysis', match: 'related', note: null, confidence: 'high' },
    { system: 'orphanet', code: '280062', display: null, match: 'exact', note: null, confidence: 'high' },
    { system: 'icd9cm', code: '275.49', display: null, match: 'broader', note: null, confidence: 'medium' },
  ],
  symptoms: [
    { ...item('examplitis.symptom.ache', 'Ache', 'It aches.'), frequency: 'common', relatedCondition: null },
    { ...item('examplitis.symptom.other', 'Other ache', 'The underlying condition aches.'), frequency: 'common', relatedCondition: 'other-condition' },
  ],
  causes: [item('examplitis.cause.germs', 'Germs', 'Germs cause it.')],
  riskFactors: [{ ...item('examplitis.risk.age', 'Age', 'Older people get it more.'), type: 'demographic' }],
  complications: [item('examplitis.complication.worse', 'Worse', 'It can get worse.')],
  diagnosis: [{ ...item('examplitis.diagnosis.biopsy', 'Biopsy', 'A skin sample shows it.'), method: 'biopsy', purpose: 'confirm', risks: null }],
  treatments: [
    {
      ...item('examplitis.treatment.pill', 'Pill', 'A pill helps.'),
      conditionId: 'examplitis',
      type: 'medication',
      route: 'oral',
      goal: null,
      regulatory: { status: 'off-label', note: null },
      codes: [{ system: 'atc', code: 'V03AB06', display: 'sodium thiosulfate' }],
      statistics: [],
    },
    {
      ...item('examplitis.treatment.surgery', 'Surgery', 'An operation helps.'),
      conditionId: 'examplitis',
      type: 'procedure',
      route: null,
      goal: null,
      regulatory: { status: 'not-applicable', note: null },
      codes: [],
      statistics: [],
    },
  ],
  prognosis: [item('examplitis.prognosis.good', 'Good', 'Most people recover.')],
  prevention: [item('examplitis.prevention.wash', 'Washing', 'Washing hands prevents it.')],
  whenToSeekCare: [],
  differentialDiagnosis: [{ ...item('examplitis.differential.rash', 'Rash', 'A rash looks similar.'), code: null }],
  statistics: [],
  statisticGroups: [],
  sources: [
    {
      id: 'doe-2020',
      kind: 'review',
      year: 2020,
      title: 'A review of examplitis',
      label: null,
      authors: ['Doe J'],
      journal: 'Journal of Examples',
      volume: null,
      pages: '1-10',
      doi: null,
      pmid: null,
      pmcid: null,
      url: null,
      citedAs: null,
      attribution: 'confirmed',
      licence: null,
      note: null,
      citation: 'Doe et al., 2020, review',
    },
  ],
  related: [],
  lastReviewed: '2026-01-02',
  version: 1,
  disclaimer: 'For information only; not medical advice.',
};

const BASE = 'https://kb.example.org';

/** The expected rendering, as schema-dts checks it: an unknown property or a value out of range fails the type check. */
const expected: WithContext<MedicalCondition> = {
  '@context': 'https://schema.org',
  '@type': 'MedicalCondition',
  '@id': `${BASE}/v1/conditions/examplitis`,
  url: `${BASE}/v1/conditions/examplitis`,
  name: 'Examplitis',
  alternateName: ['Example disease'],
  description: 'A fictional condition for renderer tests.',
  code: [
    { '@type': 'MedicalCode', codeValue: 'N18.6', codingSystem: 'ICD-10-CM', name: 'End stage renal disease' },
    { '@type': 'MedicalCode', codeValue: 'A41.9', codingSystem: 'ICD-10-CM', name: 'Sepsis, unspecified organism' },
    { '@type': 'MedicalCode', codeValue: 'Z99.2', codingSystem: 'ICD-10-CM', name: 'Dependence on renal dialysis' },
    { '@type': 'MedicalCode', codeValue: '280062', codingSystem: 'Orphanet' },
    { '@type': 'MedicalCode', codeValue: '275.49', codingSystem: 'ICD-9-CM' },
  ],
  // Exact codes only: the narrower A41.9, the related Z99.2 and the broader ICD-9-CM code are not "the same".
  sameAs: ['http://purl.bioontology.org/ontology/ICD10CM/N18.6', 'http://www.orpha.net/ORDO/Orphanet_280062'],
  // A41.9 (A00-B99) and N18.6 (N17-N19) classify it; Z99.2 is only related.
  relevantSpecialty: [{ '@id': 'https://schema.org/Infectious' }, { '@id': 'https://schema.org/Renal' }],
  cause: [{ '@type': 'MedicalCause', name: 'Germs', description: 'Germs cause it.' }],
  signOrSymptom: [{ '@type': 'MedicalSignOrSymptom', name: 'Ache', description: 'It aches.' }],
  riskFactor: [{ '@type': 'MedicalRiskFactor', name: 'Age', description: 'Older people get it more.' }],
  possibleTreatment: [
    {
      '@type': 'Drug',
      name: 'Pill',
      description: 'A pill helps.',
      code: [{ '@type': 'MedicalCode', codeValue: 'V03AB06', codingSystem: 'ATC', name: 'sodium thiosulfate' }],
      administrationRoute: 'oral',
      legalStatus: 'Off-label use for this condition',
    },
    { '@type': 'MedicalTherapy', name: 'Surgery', description: 'An operation helps.' },
  ],
  possibleComplication: ['It can get worse.'],
  typicalTest: [{ '@type': 'PathologyTest', name: 'Biopsy', description: 'A skin sample shows it.' }],
  differentialDiagnosis: [{ '@type': 'DDxElement', description: 'A rash looks similar.', diagnosis: { '@type': 'MedicalCondition', name: 'Rash' } }],
  expectedPrognosis: 'Most people recover (Doe et al., 2020, review).',
  primaryPrevention: [{ '@type': 'MedicalTherapy', name: 'Washing', description: 'Washing hands prevents it.' }],
  subjectOf: {
    '@type': 'MedicalWebPage',
    url: `${BASE}/v1/conditions/examplitis`,
    name: 'Examplitis',
    lastReviewed: '2026-01-02',
    citation: [
      {
        '@type': 'ScholarlyArticle',
        '@id': `${BASE}/v1/sources/doe-2020`,
        name: 'A review of examplitis',
        alternateName: 'Doe et al., 2020, review',
        genre: 'review',
        author: [{ '@type': 'Person', name: 'Doe J' }],
        datePublished: '2020',
        isPartOf: { '@type': 'Periodical', name: 'Journal of Examples' },
        pagination: '1-10',
      },
    ],
    usageInfo: { '@type': 'CreativeWork', name: 'Disclaimer', text: 'For information only; not medical advice.' },
  },
};

// What the issue found, written as literals: schema-dts refuses each (tsc fails if it did not).
export const refused: WithContext<MedicalCondition>[] = [
  // @ts-expect-error citation's domain is CreativeWork, not MedicalCondition
  { '@context': 'https://schema.org', '@type': 'MedicalCondition', citation: 'Doe et al., 2020' },
  // @ts-expect-error lastReviewed's domain is WebPage
  { '@context': 'https://schema.org', '@type': 'MedicalCondition', lastReviewed: '2026-01-02' },
  // @ts-expect-error possibleTreatment's range is Drug, DrugClass, LifestyleModification, MedicalTherapy
  { '@context': 'https://schema.org', '@type': 'MedicalCondition', possibleTreatment: { '@type': 'MedicalProcedure', name: 'Surgery' } },
  // @ts-expect-error relevantSpecialty takes MedicalSpecialty enumeration members only
  { '@context': 'https://schema.org', '@type': 'MedicalCondition', relevantSpecialty: 'Nephrology' },
];

describe('JSON-LD type check (schema-dts)', () => {
  it('renders the fixture exactly as the typed literal', () => {
    expect(conditionToJsonLd(fixture, BASE)).toStrictEqual(expected);
  });

  it('the typed literal itself expands in safe mode', async () => {
    await expect(expandSafe(expected)).resolves.toHaveLength(1);
  });
});

// -------------------------------------------------------------------------------------------------
// Safe-mode expansion of what the API serves

type Expanded = Record<string, unknown>;
const values = (node: Expanded, property: string): Expanded[] => (node[`${S}${property}`] as Expanded[] | undefined) ?? [];

describe('JSON-LD safe-mode expansion (jsonld.js) of every condition as served', () => {
  let ctx: TestContext;
  const served = new Map<string, unknown>();
  beforeAll(async () => {
    ctx = await buildTestApp({ env: { PUBLIC_BASE_URL: `${BASE}/` } });
    const list = await ctx.app.inject({ url: '/v1/conditions?limit=100' });
    const ids = list.json<{ data: { id: string }[] }>().data.map((c) => c.id);
    expect(ids.length).toBeGreaterThanOrEqual(4);
    for (const id of ids) {
      const res = await ctx.app.inject({ url: `/v1/conditions/${id}`, headers: { accept: 'application/ld+json' } });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/ld\+json/);
      served.set(id, res.json());
    }
  });
  afterAll(() => ctx.close());

  async function expandedCondition(id: string): Promise<Expanded> {
    const out = (await expandSafe(served.get(id))) as Expanded[];
    expect(out).toHaveLength(1);
    const node = out[0];
    if (!node) throw new Error('nothing expanded');
    return node;
  }

  it('expands every condition without a dropped term or a relative IRI', async () => {
    for (const id of served.keys()) {
      const node = await expandedCondition(id);
      expect(node['@id']).toBe(`${BASE}/v1/conditions/${id}`);
      expect(node['@type']).toEqual([`${S}MedicalCondition`]);
    }
  });

  it('puts citations and the review date on the MedicalWebPage that is subjectOf the condition', async () => {
    const node = await expandedCondition('calciphylaxis');
    expect(node).not.toHaveProperty(`${S}citation`);
    expect(node).not.toHaveProperty(`${S}lastReviewed`);
    const [page] = values(node, 'subjectOf');
    expect(page?.['@type']).toEqual([`${S}MedicalWebPage`]);
    expect(page?.[`${S}lastReviewed`]).toEqual([{ '@type': `${S}Date`, '@value': '2026-11-26' }]);
    const cited = values(page ?? {}, 'citation');
    expect(cited.length).toBeGreaterThan(10);
    for (const c of cited) expect(String(c['@id'])).toMatch(new RegExp(`^${BASE}/v1/sources/`));
  });

  it('types every treatment within possibleTreatment’s range', async () => {
    for (const id of served.keys()) {
      const node = await expandedCondition(id);
      for (const t of values(node, 'possibleTreatment')) expect([[`${S}Drug`], [`${S}MedicalTherapy`]]).toContainEqual(t['@type']);
    }
  });

  it('has causes, sameAs IRIs for exact codes and specialties as enumeration IRIs', async () => {
    const eskd = await expandedCondition('end-stage-kidney-disease');
    expect(values(eskd, 'cause').length).toBeGreaterThan(0);
    expect(values(eskd, 'cause').every((c) => JSON.stringify(c['@type']) === JSON.stringify([`${S}MedicalCause`]))).toBe(true);
    expect(eskd[`${S}sameAs`]).toEqual([{ '@id': 'http://purl.bioontology.org/ontology/ICD10CM/N18.6' }]);
    expect(eskd[`${S}relevantSpecialty`]).toEqual([{ '@id': 'https://schema.org/Renal' }]);
    const sepsis = await expandedCondition('sepsis');
    expect(sepsis[`${S}relevantSpecialty`]).toEqual([{ '@id': 'https://schema.org/Infectious' }]);
    expect(sepsis).not.toHaveProperty(`${S}sameAs`);
    const shpt = await expandedCondition('secondary-hyperparathyroidism');
    expect(shpt[`${S}relevantSpecialty`]).toEqual([{ '@id': 'https://schema.org/Endocrine' }, { '@id': 'https://schema.org/Renal' }]);
    const calci = await expandedCondition('calciphylaxis');
    expect(calci[`${S}sameAs`]).toEqual([{ '@id': 'http://www.orpha.net/ORDO/Orphanet_280062' }]);
  });

  it('uses only properties and types schema.org defines, and only absolute IRIs (the context maps any other word through its @vocab, and safe mode lets a relative url through)', async () => {
    const defined = new Set(Object.keys((SCHEMA_CONTEXT as { '@context': Record<string, unknown> })['@context']).map((term) => `${S}${term}`));
    const unknown = new Set<string>();
    const visit = (value: unknown): void => {
      if (Array.isArray(value)) return value.forEach(visit);
      if (value === null || typeof value !== 'object') return;
      for (const [key, v] of Object.entries(value)) {
        // Node types are lists; a value object's type (a Date) is one IRI.
        if (key === '@type') for (const t of [v].flat() as string[]) if (!defined.has(t)) unknown.add(t);
        if (key === '@id' && !/^https?:\/\//.test(String(v))) unknown.add(`relative ${String(v)}`);
        if (!key.startsWith('@') && !defined.has(key)) unknown.add(key);
        visit(v);
      }
    };
    for (const id of served.keys()) visit(await expandedCondition(id));
    expect([...unknown]).toEqual([]);
  });

  it('safe mode does fail on what the old rendering had: a relative @id', async () => {
    await expect(expandSafe({ '@context': 'https://schema.org', '@type': 'MedicalCondition', '@id': '/v1/conditions/calciphylaxis', name: 'x' })).rejects.toThrow(/Safe mode/);
  });
});

describe('PUBLIC_BASE_URL', () => {
  it('defaults to http://localhost:<PORT> and loses a trailing slash', () => {
    expect(loadConfig({ PORT: '8080' }).publicBaseUrl).toBe('http://localhost:8080');
    expect(loadConfig({ PUBLIC_BASE_URL: 'https://api.example.org/kb/' }).publicBaseUrl).toBe('https://api.example.org/kb');
  });

  it.each(['api.example.org', 'ftp://api.example.org', 'https://api.example.org/?q=1', 'https://api.example.org/#x'])('refuses %s with a message naming it', (value) => {
    expect(() => loadConfig({ PUBLIC_BASE_URL: value })).toThrow(/PUBLIC_BASE_URL/);
  });
});
