/**
 * Renderers: markdown for LLM context, schema.org JSON-LD and FHIR R5 Evidence + Citation, checked on
 * the real calciphylaxis document served by the app (built from db/content on a fresh database).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestContext } from './helpers.js';
import type { Condition } from '../src/schemas/condition.js';
import type { Source } from '../src/schemas/source.js';
import type { Statistic } from '../src/schemas/statistic.js';
import { conditionToMarkdown, factsToMarkdown, formatFigure, searchHitsToMarkdown, sectionToMarkdown } from '../src/renderers/markdown.js';
import { conditionToJsonLd } from '../src/renderers/jsonld.js';

/** A JSON-LD node read back as plain JSON, for assertions on its shape. */
type JsonLdObject = Record<string, unknown>;
import { statisticToFhir, toFhirId, type FhirBundle, type FhirCitation, type FhirEvidence } from '../src/renderers/fhir.js';

let ctx: TestContext;
let doc: Condition;

beforeAll(async () => {
  ctx = await buildTestApp();
  const res = await ctx.app.inject({ url: '/v1/conditions/calciphylaxis' });
  expect(res.statusCode).toBe(200);
  doc = res.json<Condition>();
});
afterAll(() => ctx.close());

const stat = (idPart: string): Statistic => {
  const s = doc.statistics.find((x) => x.id.endsWith(idPart));
  if (!s) throw new Error(`no statistic ${idPart}`);
  return s;
};
const source = (id: string): Source => {
  const s = doc.sources.find((x) => x.id === id);
  if (!s) throw new Error(`no source ${id}`);
  return s;
};
/** The full record of a statistic's primary source, as the route passes it to the FHIR renderer. */
const primarySource = (s: Statistic): Source | undefined => doc.sources.find((x) => x.id === s.primarySource);
const clone = <T>(v: T): T => structuredClone(v);

/** Every path at which a value is null or undefined (JSON-LD consumers and FHIR both reject them). */
function nullPaths(value: unknown, path = '$'): string[] {
  if (value === null || value === undefined) return [path];
  if (Array.isArray(value)) return value.flatMap((v, i) => nullPaths(v, `${path}[${i}]`));
  if (typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => nullPaths(v, `${path}.${k}`));
  return [];
}

/** Every object in a tree, with its path. */
function objects(value: unknown, path = '$'): { path: string; obj: Record<string, unknown> }[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => objects(v, `${path}[${i}]`));
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    return [{ path, obj }, ...Object.entries(obj).flatMap(([k, v]) => objects(v, `${path}.${k}`))];
  }
  return [];
}

// -------------------------------------------------------------------------------------------------
// Markdown

interface ParsedMarkdown {
  lines: string[];
  refs: Map<number, string>;
}

function parseMarkdown(md: string): ParsedMarkdown {
  const lines = md.split('\n');
  const start = lines.indexOf('## References');
  const refs = new Map<number, string>();
  if (start >= 0) {
    for (const line of lines.slice(start + 1)) {
      const m = /^(\d+)\. (.+)$/.exec(line);
      if (m) refs.set(Number(m[1]), m[2] ?? '');
      else if (line.startsWith('---')) break;
    }
  }
  return { lines: start >= 0 ? lines.slice(0, start) : lines, refs };
}

/** The `[n]` markers at the end of a line; a marker may carry a locator, as in `[3, Table 2]`. */
function markersOf(line: string): number[] {
  const tail = /((?:\[\d+(?:, [^\]]+)?\])+)(?:\s\(fact `[^`]+`\))?$/.exec(line)?.[1] ?? '';
  return [...tail.matchAll(/\[(\d+)(?:, [^\]]+)?\]/g)].map((m) => Number(m[1]));
}

describe('conditionToMarkdown', () => {
  let md: string;
  let parsed: ParsedMarkdown;
  beforeAll(() => {
    md = conditionToMarkdown(doc);
    parsed = parseMarkdown(md);
  });

  it('has the title, aliases, summary and a heading per non-empty section', () => {
    expect(md.startsWith('# Calciphylaxis\n')).toBe(true);
    expect(md).toContain('_Also known as: Calcific uremic arteriolopathy, CUA_');
    expect(md).toContain(doc.summary);
    const headings = parsed.lines.filter((l) => l.startsWith('## '));
    expect(headings).toEqual([
      '## Symptoms',
      '## Causes',
      '## Risk factors',
      '## Complications',
      '## Diagnosis',
      '## Conditions that look similar',
      '## Treatments',
      '## Prognosis',
      '## Prevention',
      '## When to seek care',
      '## Statistics',
      '## Related conditions',
    ]);
    expect(md).toContain('\n## References\n');
  });

  // Each seed figure, the pattern that finds its line, and the source its citation must resolve to.
  const SEEDS: [string, RegExp, string][] = [
    ['0.04', /(?<![\d.])0\.04%/, 'Kodumudi et al., 2020'],
    ['4%', /(?<![\d.])0\.04%–4%/, 'Kodumudi et al., 2020'],
    ['50.3%', /(?<![\d.])50\.3%/, 'Udomkarnjananun et al., 2019'],
    ['30%', /(?<![\d.])30%/, 'Medical News Today'],
    ['50% (12-month mortality)', /\*\*about 50%\*\*/, 'Medical News Today'],
    ['50% (more than half benefit)', /\*\*more than 50%\*\*/, 'An et al., 2015'],
    ['45.8%', /(?<![\d.])45\.8%/, 'Weenig et al., 2007'],
    ['58%', /(?<![\d.])58%/, 'An et al., 2015'],
    ['83.4%', /(?<![\d.])83\.4%/, 'Deen and Schaider, 2019'],
    ['82.8%', /(?<![\d.])82\.8%/, 'Deen and Schaider, 2019'],
    ['3', /\*\*3 patients\*\*/, 'Nordheim et al., 2016'],
  ];

  it.each(SEEDS)('shows %s on a line whose citation marker resolves to the right reference', (_label, pattern, expected) => {
    const lines = parsed.lines.filter((l) => pattern.test(l) && markersOf(l).length > 0);
    expect(lines.length, `no cited line matches ${pattern}`).toBeGreaterThan(0);
    const resolved = lines.flatMap((l) => markersOf(l).map((n) => parsed.refs.get(n)));
    for (const r of resolved) expect(r, 'every marker resolves to a reference').toBeDefined();
    expect(resolved.some((r) => r?.includes(expected))).toBe(true);
  });

  it('puts the 50.3% figure in the statistics section, cited to the 2019 systematic review', () => {
    const line = parsed.lines.find((l) => l.startsWith('- **50.3%**'));
    expect(line).toBeDefined();
    const refs = markersOf(line ?? '').map((n) => parsed.refs.get(n) ?? '');
    expect(refs[0]).toContain('Udomkarnjananun et al., 2019, meta-analysis');
    expect(refs[0]).toContain('Treatment of Calciphylaxis in CKD');
  });

  it('numbers references in order of first use, each used and each resolvable', () => {
    const order: number[] = [];
    for (const line of parsed.lines) for (const n of markersOf(line)) if (!order.includes(n)) order.push(n);
    expect(order).toEqual([...Array(parsed.refs.size).keys()].map((i) => i + 1));
    expect(parsed.refs.size).toBeGreaterThan(5);
  });

  it('lists only known bibliographic details: nothing invented for unknown fields', () => {
    const refLine = (id: string) => [...parsed.refs.values()].find((r) => r.includes(`(id: ${id})`)) ?? '';
    expect(refLine('an-2015')).toContain('DOI: 10.1111/nep.12433');
    expect(refLine('an-2015')).toContain('PMID: 25707425');
    expect(refLine('an-2015')).toContain('_Nephrology (Carlton)_');
    expect(refLine('udomkarnjananun-2019')).not.toMatch(/DOI|PMID|_/);
    expect(refLine('mnt-calciphylaxis-article')).toBe('Medical News Today, article (id: mnt-calciphylaxis-article)');
  });

  it('ends with the last-reviewed date and the disclaimer', () => {
    expect(md).toContain('_Last reviewed: 2026-11-26. For information only; not medical advice');
    expect(md.trimEnd().endsWith(`${doc.disclaimer}_`)).toBe(true);
  });

  it('is deterministic', () => {
    expect(conditionToMarkdown(doc)).toBe(md);
    expect(conditionToMarkdown(clone(doc))).toBe(md);
  });

  it('keeps underlying-condition symptoms apart from the condition’s own', () => {
    expect(md).toContain('### Symptoms of the underlying condition: End-stage kidney disease');
  });

  it('groups estimates of the same measure side by side', () => {
    const i = parsed.lines.indexOf('### Mortality: Calciphylaxis');
    expect(i).toBeGreaterThan(0);
    expect(parsed.lines[i + 2]).toMatch(/^- \*\*about 30%\*\*/);
    expect(parsed.lines[i + 3]).toMatch(/^- \*\*about 50%\*\*/);
  });

  it('cannot be broken by content: no injected heading or list item', () => {
    const evil = clone(doc);
    evil.summary = '# Injected heading\n- injected item\n\n## Another';
    const first = evil.symptoms[0];
    if (first) first.text = 'line one\n# injected symptom heading\n1. injected';
    const out = conditionToMarkdown(evil);
    const lines = out.split('\n');
    expect(lines.some((l) => /^#+ [Ii]njected|^#+ Another|^- injected|^1\. injected/.test(l))).toBe(false);
    expect(out).toContain('\\# Injected heading - injected item ## Another');
    for (const l of lines.filter((x) => x.startsWith('#'))) expect(l).toMatch(/^(# Calciphylaxis|## |### )/);
  });
});

describe('sectionToMarkdown', () => {
  it('renders one section with its own reference list', () => {
    const md = sectionToMarkdown(doc, 'statistics', 'Statistics');
    const { lines, refs } = parseMarkdown(md);
    expect(md.startsWith('# Calciphylaxis: Statistics\n')).toBe(true);
    const line = lines.find((l) => l.startsWith('- **50.3%**')) ?? '';
    expect(markersOf(line)[0]).toBe(4); // numbering restarts: only the incidence group (three sources) comes first
    expect(refs.get(markersOf(line)[0] ?? 0)).toContain('Udomkarnjananun et al., 2019');
    expect(md).toContain('Last reviewed: 2026-11-26');
  });

  it('renders sections by document key, and an empty one without failing', () => {
    expect(sectionToMarkdown(doc, 'riskFactors', 'Risk factors')).toContain('- **Female sex** (demographic):');
    const empty = clone(doc);
    empty.prevention = [];
    const md = sectionToMarkdown(empty, 'prevention', 'Prevention');
    expect(md).toContain('_No entries in this section._');
    expect(md).not.toContain('## References');
  });
});

describe('factsToMarkdown and searchHitsToMarkdown', () => {
  const meta = () => ({ lastReviewed: doc.lastReviewed, disclaimer: doc.disclaimer });

  it('renders facts with markers that resolve to "citation (id: …)" references', () => {
    const facts = [...doc.symptoms.slice(0, 2), ...doc.prognosis.slice(0, 1)].map((s) => ({
      id: s.id,
      conditionName: doc.name,
      section: s.id.split('.')[1] ?? 'fact',
      text: s.text,
      sources: s.sources,
    }));
    const md = factsToMarkdown(facts, meta());
    const { lines, refs } = parseMarkdown(md);
    const factLines = lines.filter((l) => l.startsWith('- '));
    expect(factLines).toHaveLength(3);
    for (const line of factLines) {
      expect(markersOf(line).length).toBeGreaterThan(0);
      for (const n of markersOf(line)) expect(refs.get(n)).toMatch(/ \(id: [a-z0-9-]+\)$/);
      expect(line).toMatch(/\(fact `calciphylaxis\.[a-z-]+\.[a-z0-9-]+`\)$/);
    }
    // Each entry repeats the identifiers the source ref carries (DOI, PMID, URL), so a reader can
    // follow it without a second request; a source with none is the citation and id alone.
    expect(refs.get(1)).toBe('Orphanet, database. <https://www.orpha.net/consor/cgi-bin/OC_Exp.php?lng=en&Expert=280062> (id: orphanet-280062)');
    expect(refs.get(3)).toBe('Sprague, 2014, review. DOI: 10.2215/CJN.00320113. PMID: 24202137 (id: sprague-2013)');
    expect(refs.get(5)).toBe('Medical News Today, article (id: mnt-calciphylaxis-article)');
    // The locator says where in the work the item is supported, inside its marker.
    expect(factLines[0]).toContain('[1, Clinical description][2, History][3, Summary]');
    expect(md).toContain(`_Last reviewed: 2026-11-26. ${doc.disclaimer.replace(/_/g, '\\_')}_`);
    expect(factsToMarkdown(facts, meta())).toBe(md);
  });

  it('omits the date when there is none, and says so when there are no facts', () => {
    const md = factsToMarkdown([], { lastReviewed: null, disclaimer: 'Not advice.' });
    expect(md).toContain('_No facts matched._');
    expect(md).toContain('_Not advice._');
    expect(md).not.toContain('Last reviewed');
  });

  it('renders search hits with <mark> turned to bold and cited snippets', () => {
    const s = stat('usage-sodium-thiosulfate');
    const md = searchHitsToMarkdown(
      [{ kind: 'statistic', id: s.id, title: 'Sodium thiosulfate usage', snippet: '…<mark>sodium</mark> <mark>thiosulfate</mark> in 50.3%…', sources: s.sources }],
      'sodium thiosulfate',
      meta(),
    );
    expect(md).toContain('# Search results for "sodium thiosulfate"');
    expect(md).toContain('**sodium** **thiosulfate** in 50.3%');
    expect(md).not.toContain('<mark>');
    const { lines, refs } = parseMarkdown(md);
    const hit = lines.find((l) => l.startsWith('- **Sodium thiosulfate usage**')) ?? '';
    expect(refs.get(markersOf(hit)[0] ?? 0)).toBe('Udomkarnjananun et al., 2019, meta-analysis (id: udomkarnjananun-2019)');
  });

  it('keeps a hostile query on its heading line', () => {
    const md = searchHitsToMarkdown([], 'x\n# y "z"', { lastReviewed: null, disclaimer: 'Not advice.' });
    expect(md.split('\n')[0]).toBe('# Search results for "x # y \\"z\\""');
    expect(md).toContain('_The knowledge base has no cited answer for this query._');
  });
});

describe('formatFigure', () => {
  it('writes values, ranges, comparators and units as the content gives them', () => {
    expect(formatFigure(stat('usage-sodium-thiosulfate'))).toBe('50.3%');
    expect(formatFigure(stat('incidence-dialysis'))).toBe('about 0.04%–4%');
    expect(formatFigure(stat('benefit-hyperbaric-oxygen-more-than-half'))).toBe('more than 50%');
    expect(formatFigure(stat('recovery-kidney-transplant'))).toBe('3 patients');
  });
});

// -------------------------------------------------------------------------------------------------
// JSON-LD

/** schema.org types the renderer may emit. */
const SCHEMA_TYPES = new Set([
  'MedicalCondition',
  'MedicalCode',
  'MedicalSignOrSymptom',
  'MedicalRiskFactor',
  'Drug',
  'MedicalTherapy',
  'MedicalCause',
  'MedicalTest',
  'ImagingTest',
  'PathologyTest',
  'ScholarlyArticle',
  'CreativeWork',
  'Person',
  'Organization',
  'Periodical',
  'PropertyValue',
  'MedicalWebPage',
  // schema.org DDxElement (health-lifesci extension: Thing > MedicalEntity > MedicalIntangible): one
  // condition of a differential diagnosis, under MedicalCondition.differentialDiagnosis.
  'DDxElement',
]);

describe('conditionToJsonLd', () => {
  const BASE = 'https://api.example.org';
  let ld: JsonLdObject;
  beforeAll(() => {
    ld = JSON.parse(JSON.stringify(conditionToJsonLd(doc, BASE))) as JsonLdObject;
  });
  const list = (key: string): JsonLdObject[] => {
    const v = ld[key];
    expect(Array.isArray(v), `${key} is an array`).toBe(true);
    return v as JsonLdObject[];
  };

  it('is a schema.org MedicalCondition with an offline-safe plain context', () => {
    expect(ld['@context']).toBe('https://schema.org');
    expect(ld['@type']).toBe('MedicalCondition');
    expect(ld['@id']).toBe('https://api.example.org/v1/conditions/calciphylaxis');
    expect(ld.url).toBe('https://api.example.org/v1/conditions/calciphylaxis');
    expect(ld.name).toBe('Calciphylaxis');
    expect(ld.alternateName).toEqual(['Calcific uremic arteriolopathy', 'CUA']);
    expect(ld.description).toBe(doc.summary);
    // lastReviewed and citation are WebPage/CreativeWork properties: on the page, not on the condition.
    expect(ld).not.toHaveProperty('lastReviewed');
    expect(ld).not.toHaveProperty('citation');
  });

  it('builds absolute identifiers from the base URL, with or without a trailing slash', () => {
    const abs = conditionToJsonLd(doc, 'https://api.example.org/kb/');
    expect(abs['@id']).toBe('https://api.example.org/kb/v1/conditions/calciphylaxis');
    const page = abs.subjectOf as JsonLdObject;
    expect((page.citation as JsonLdObject[])[0]?.['@id']).toMatch(/^https:\/\/api\.example\.org\/kb\/v1\/sources\//);
  });

  it('gives sameAs only for exact codes, and no specialty for calciphylaxis’s mixed ICD-10-CM block', () => {
    // Orphanet 280062 is exact; E83.59 and the ICD-9-CM code are broader, so they are not "the same".
    expect(ld.sameAs).toEqual(['http://www.orpha.net/ORDO/Orphanet_280062']);
    expect(ld).not.toHaveProperty('relevantSpecialty');
  });

  it('lists the causes as MedicalCause', () => {
    const causes = list('cause');
    expect(causes).toHaveLength(doc.causes.length);
    expect(causes[0]).toEqual({ '@type': 'MedicalCause', name: doc.causes[0]?.name, description: doc.causes[0]?.text });
  });

  it('carries the codes as MedicalCode with a named coding system', () => {
    const codes = list('code');
    expect(codes).toContainEqual(expect.objectContaining({ '@type': 'MedicalCode', codingSystem: 'ICD-10-CM', codeValue: 'E83.59' }));
    expect(codes).toContainEqual(expect.objectContaining({ '@type': 'MedicalCode', codingSystem: 'Orphanet', codeValue: '280062' }));
    expect(codes).toContainEqual(expect.objectContaining({ codingSystem: 'ICD-9-CM', codeValue: '275.49' }));
  });

  it('lists the condition’s own signs and symptoms, typed, without those of the underlying condition', () => {
    const signs = list('signOrSymptom');
    expect(signs.length).toBe(doc.symptoms.filter((s) => s.relatedCondition === null).length);
    expect(signs.length).toBeGreaterThan(0);
    for (const s of signs) {
      expect(s['@type']).toBe('MedicalSignOrSymptom');
      expect(typeof s.name).toBe('string');
      expect(typeof s.description).toBe('string');
    }
    expect(signs.map((s) => s.name)).not.toContain(expect.stringMatching(/late-stage kidney disease/));
  });

  it('types treatments: sodium thiosulfate is a Drug with its ATC code and off-label status', () => {
    const treatments = list('possibleTreatment');
    expect(treatments).toHaveLength(doc.treatments.length);
    // possibleTreatment's range: Drug, DrugClass, LifestyleModification, MedicalTherapy.
    for (const t of treatments) expect(['Drug', 'MedicalTherapy']).toContain(t['@type']);
    const sts = treatments.find((t) => t['@type'] === 'Drug' && String(t.name).toLowerCase() === 'sodium thiosulfate');
    expect(sts).toBeDefined();
    expect(sts?.code).toEqual([{ '@type': 'MedicalCode', codeValue: 'V03AB06', codingSystem: 'ATC', name: 'sodium thiosulfate' }]);
    expect(String(sts?.legalStatus)).toMatch(/off-label/i);
    expect(sts?.administrationRoute).toBe('intravenous');
    expect(treatments.find((t) => t.name === 'Parathyroidectomy')?.['@type']).toBe('MedicalTherapy');
    expect(treatments.find((t) => t.name === 'Urgent kidney transplant')?.['@type']).toBe('MedicalTherapy');
    expect(treatments.find((t) => t.name === 'Hyperbaric oxygen therapy')?.['@type']).toBe('MedicalTherapy');
  });

  it('has risk factors, complications, tests, epidemiology, prognosis and prevention', () => {
    expect(list('riskFactor').every((r) => r['@type'] === 'MedicalRiskFactor' && typeof r.name === 'string')).toBe(true);
    expect((ld.possibleComplication as string[]).length).toBe(doc.complications.length);
    const tests = list('typicalTest');
    expect(tests.length).toBe(doc.diagnosis.length);
    for (const t of tests) expect(['MedicalTest', 'ImagingTest', 'PathologyTest']).toContain(t['@type']);
    expect(ld.epidemiology).toContain('0.04% to 4%');
    expect(ld.epidemiology).toContain('Kodumudi et al., 2020, review');
    expect(ld.expectedPrognosis).toContain('45.8%');
    expect(list('primaryPrevention').every((p) => p['@type'] === 'MedicalTherapy')).toBe(true);
  });

  it('cites every source on the web page, with identifiers only where known', () => {
    const cites = (ld.subjectOf as JsonLdObject).citation as JsonLdObject[];
    expect(cites).toHaveLength(doc.sources.length);
    for (const c of cites) {
      expect(['ScholarlyArticle', 'CreativeWork']).toContain(c['@type']);
      expect(typeof c.name).toBe('string');
    }
    const an = cites.find((c) => c['@id'] === `${BASE}/v1/sources/an-2015`);
    expect(an).toMatchObject({
      '@type': 'ScholarlyArticle',
      name: 'Hyperbaric oxygen in the treatment of calciphylaxis: a case series and literature review',
      datePublished: '2015',
      isPartOf: { '@type': 'Periodical', name: 'Nephrology (Carlton)' },
      url: 'https://doi.org/10.1111/nep.12433',
    });
    expect(an?.identifier).toEqual([
      { '@type': 'PropertyValue', propertyID: 'DOI', value: '10.1111/nep.12433' },
      { '@type': 'PropertyValue', propertyID: 'PMID', value: '25707425' },
    ]);
    expect((an?.author as JsonLdObject[])[0]).toEqual({ '@type': 'Person', name: 'An J' });
    const udom = cites.find((c) => c['@id'] === `${BASE}/v1/sources/udomkarnjananun-2019`);
    expect(udom).toBeDefined();
    expect(udom).not.toHaveProperty('identifier');
    expect(udom).not.toHaveProperty('isPartOf');
    expect(udom).not.toHaveProperty('url');
    const mnt = cites.find((c) => c['@id'] === `${BASE}/v1/sources/mnt-calciphylaxis-article`);
    expect(mnt).toEqual({
      '@type': 'CreativeWork',
      '@id': `${BASE}/v1/sources/mnt-calciphylaxis-article`,
      name: 'Medical News Today, article',
      genre: 'article',
      publisher: { '@type': 'Organization', name: 'Medical News Today' },
    });
  });

  it('carries the review date, citations and disclaimer on the document’s web page', () => {
    expect(ld.subjectOf).toEqual({
      '@type': 'MedicalWebPage',
      url: `${BASE}/v1/conditions/calciphylaxis`,
      name: 'Calciphylaxis',
      lastReviewed: '2026-11-26',
      citation: expect.any(Array),
      usageInfo: { '@type': 'CreativeWork', name: 'Disclaimer', text: doc.disclaimer },
    });
  });

  it('never contains null, undefined or an empty value, and every node is a known schema.org type', () => {
    // The renderer's own object, not the JSON copy: undefined values must be gone before serialization.
    const raw = conditionToJsonLd(doc, BASE);
    expect(nullPaths(raw)).toEqual([]);
    expect(JSON.parse(JSON.stringify(raw))).toStrictEqual(raw);
    for (const { path, obj } of objects(raw)) {
      // A node reference (an enumeration member) has only its IRI.
      if (Object.keys(obj).length === 1 && typeof obj['@id'] === 'string') continue;
      expect(SCHEMA_TYPES.has(String(obj['@type'])), `${path} has @type ${String(obj['@type'])}`).toBe(true);
      for (const [k, v] of Object.entries(obj)) {
        expect(v === '' || (Array.isArray(v) && v.length === 0), `${path}.${k} is empty`).toBe(false);
      }
    }
  });

  it('is deterministic', () => {
    expect(JSON.stringify(conditionToJsonLd(clone(doc), BASE))).toBe(JSON.stringify(ld));
  });
});

// -------------------------------------------------------------------------------------------------
// FHIR R5

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/** R5 element names (plus the Resource/Element basics) per backbone: anything else is a spelling error. */
const BASE = ['resourceType', 'id', 'meta', 'implicitRules', 'language', 'text', 'contained', 'extension', 'modifierExtension'];
const R5 = {
  Bundle: ['resourceType', 'id', 'meta', 'implicitRules', 'language', 'identifier', 'type', 'timestamp', 'total', 'link', 'entry', 'signature', 'issues'],
  'Bundle.entry': ['id', 'extension', 'modifierExtension', 'link', 'fullUrl', 'resource', 'search', 'request', 'response'],
  Evidence: [
    ...BASE,
    'url',
    'identifier',
    'version',
    'versionAlgorithmString',
    'versionAlgorithmCoding',
    'name',
    'title',
    'citeAsReference',
    'citeAsMarkdown',
    'status',
    'experimental',
    'date',
    'approvalDate',
    'lastReviewDate',
    'publisher',
    'contact',
    'author',
    'editor',
    'reviewer',
    'endorser',
    'useContext',
    'purpose',
    'copyright',
    'copyrightLabel',
    'relatedArtifact',
    'description',
    'assertion',
    'note',
    'variableDefinition',
    'synthesisType',
    'studyDesign',
    'statistic',
    'certainty',
  ],
  'Evidence.variableDefinition': ['id', 'extension', 'modifierExtension', 'description', 'note', 'variableRole', 'observed', 'intended', 'directnessMatch'],
  'Evidence.statistic': ['id', 'extension', 'modifierExtension', 'description', 'note', 'statisticType', 'category', 'quantity', 'numberOfEvents', 'numberAffected', 'sampleSize', 'attributeEstimate', 'modelCharacteristic'],
  'Evidence.statistic.sampleSize': ['id', 'extension', 'modifierExtension', 'description', 'note', 'numberOfStudies', 'numberOfParticipants', 'knownDataCount'],
  'Evidence.statistic.attributeEstimate': ['id', 'extension', 'modifierExtension', 'description', 'note', 'type', 'quantity', 'level', 'range', 'attributeEstimate'],
  'Evidence.certainty': ['id', 'extension', 'modifierExtension', 'description', 'note', 'type', 'rating', 'rater', 'subcomponent'],
  Citation: [
    ...BASE,
    'url',
    'identifier',
    'version',
    'versionAlgorithmString',
    'versionAlgorithmCoding',
    'name',
    'title',
    'status',
    'experimental',
    'date',
    'publisher',
    'contact',
    'description',
    'useContext',
    'jurisdiction',
    'purpose',
    'copyright',
    'copyrightLabel',
    'approvalDate',
    'lastReviewDate',
    'effectivePeriod',
    'author',
    'editor',
    'reviewer',
    'endorser',
    'summary',
    'classification',
    'note',
    'currentState',
    'statusDate',
    'relatesTo',
    'citedArtifact',
  ],
  'Citation.citedArtifact': ['id', 'extension', 'modifierExtension', 'identifier', 'relatedIdentifier', 'dateAccessed', 'version', 'currentState', 'statusDate', 'title', 'abstract', 'part', 'relatesTo', 'publicationForm', 'webLocation', 'classification', 'contributorship', 'note'],
  'Citation.citedArtifact.publicationForm': ['id', 'extension', 'modifierExtension', 'publishedIn', 'citedMedium', 'volume', 'issue', 'articleDate', 'publicationDateText', 'publicationDateSeason', 'lastRevisionDate', 'language', 'accessionNumber', 'pageString', 'firstPage', 'lastPage', 'pageCount', 'copyright'],
  'Citation.citedArtifact.publicationForm.publishedIn': ['id', 'extension', 'modifierExtension', 'type', 'identifier', 'title', 'publisher', 'publisherLocation'],
  'Citation.citedArtifact.title': ['id', 'extension', 'modifierExtension', 'type', 'language', 'text'],
  'Citation.citedArtifact.contributorship.entry': ['id', 'extension', 'modifierExtension', 'contributor', 'forenameInitials', 'affiliation', 'contributionType', 'role', 'contributionInstance', 'correspondingContact', 'rankingOrder'],
} as const;

function expectKeys(obj: object, element: keyof typeof R5): void {
  const allowed: readonly string[] = R5[element];
  for (const key of Object.keys(obj)) expect(allowed, `${element}.${key} is not an R5 element`).toContain(key);
}

/** The bundle's resources in entry order (every entry of ours has one). */
function resourcesOf(bundle: FhirBundle): (FhirEvidence | FhirCitation)[] {
  return (bundle.entry ?? []).map((e) => {
    if (!e.resource) throw new Error(`entry ${e.fullUrl ?? '?'} has no resource`);
    return e.resource;
  });
}
function evidenceOf(bundle: FhirBundle): FhirEvidence {
  const e = resourcesOf(bundle).find((r) => r.resourceType === 'Evidence');
  if (!e || e.resourceType !== 'Evidence') throw new Error('no Evidence');
  return e;
}
function citationOf(bundle: FhirBundle): FhirCitation | undefined {
  const c = resourcesOf(bundle).find((r) => r.resourceType === 'Citation');
  return c?.resourceType === 'Citation' ? c : undefined;
}

/** R5 structure and cardinality checks that hold for every bundle this renderer makes. */
function checkBundle(bundle: FhirBundle): void {
  expect(nullPaths(bundle)).toEqual([]);
  expect(JSON.parse(JSON.stringify(bundle))).toEqual(bundle);
  expectKeys(bundle, 'Bundle');
  expect(bundle.resourceType).toBe('Bundle');
  expect(bundle.type).toBe('collection');
  const entries = bundle.entry ?? [];
  const fullUrls = entries.map((e) => e.fullUrl);
  expect(new Set(fullUrls).size).toBe(fullUrls.length);
  for (const e of entries) {
    expectKeys(e, 'Bundle.entry');
    expect(e.fullUrl).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(e.resource?.id).toMatch(FHIR_ID);
    expect(e.resource?.status).toBe('active');
  }
  const ev = evidenceOf(bundle);
  expectKeys(ev, 'Evidence');
  expect(ev.variableDefinition.length).toBeGreaterThanOrEqual(1);
  for (const v of ev.variableDefinition) {
    expectKeys(v, 'Evidence.variableDefinition');
    expect(v.variableRole.coding?.[0]?.system).toBe('http://terminology.hl7.org/CodeSystem/variable-role');
    expect(['population', 'subpopulation', 'exposure', 'referenceExposure', 'measuredVariable', 'confounder']).toContain(v.variableRole.coding?.[0]?.code);
  }
  for (const s of ev.statistic ?? []) {
    expectKeys(s, 'Evidence.statistic');
    if (s.sampleSize) expectKeys(s.sampleSize, 'Evidence.statistic.sampleSize');
    for (const a of s.attributeEstimate ?? []) expectKeys(a, 'Evidence.statistic.attributeEstimate');
    if (s.quantity?.code) expect(s.quantity.system).toBe('http://unitsofmeasure.org');
  }
  for (const c of ev.certainty ?? []) expectKeys(c, 'Evidence.certainty');
  const citation = citationOf(bundle);
  if (ev.citeAsReference) {
    expect(citation).toBeDefined();
    expect(fullUrls).toContain(ev.citeAsReference.reference);
    expect(entries.find((e) => e.fullUrl === ev.citeAsReference?.reference)?.resource?.resourceType).toBe('Citation');
  }
  if (citation) {
    expectKeys(citation, 'Citation');
    const art = citation.citedArtifact;
    if (art) {
      expectKeys(art, 'Citation.citedArtifact');
      for (const t of art.title ?? []) {
        expectKeys(t, 'Citation.citedArtifact.title');
        expect(t.text.length).toBeGreaterThan(0);
      }
      for (const f of art.publicationForm ?? []) {
        expectKeys(f, 'Citation.citedArtifact.publicationForm');
        if (f.publishedIn) expectKeys(f.publishedIn, 'Citation.citedArtifact.publicationForm.publishedIn');
      }
      for (const e of art.contributorship?.entry ?? []) {
        expectKeys(e, 'Citation.citedArtifact.contributorship.entry');
        expect(e.contributor.display).toBeTruthy();
      }
      expect(art.identifier?.length ?? 1).toBeGreaterThan(0);
    }
  }
  for (const { path, obj } of objects(bundle)) {
    for (const [k, v] of Object.entries(obj)) expect(v === '' || (Array.isArray(v) && v.length === 0), `${path}.${k} is empty`).toBe(false);
  }
}

describe('statisticToFhir', () => {
  const fhirOf = (s: Statistic, baseUrl?: string) => statisticToFhir(s, primarySource(s), doc.name, baseUrl);

  it('renders the 50.3% figure as R5 Evidence with value, unit, no unassessed certainty, and its Citation', () => {
    const s = stat('usage-sodium-thiosulfate');
    const bundle = fhirOf(s);
    checkBundle(bundle);
    expect(resourcesOf(bundle).map((r) => r.resourceType)).toEqual(['Evidence', 'Citation']);
    const ev = evidenceOf(bundle);
    expect(ev.id).toBe('calciphylaxis.stat.usage-sodium-thiosulfate');
    expect(ev.status).toBe('active');
    expect(ev.description).toBe(s.text);
    const q = ev.statistic?.[0]?.quantity;
    expect(q).toEqual({ value: 50.3, unit: '%', system: 'http://unitsofmeasure.org', code: '%' });
    expect(ev.statistic?.[0]?.statisticType?.coding?.[0]).toEqual({ system: 'http://terminology.hl7.org/CodeSystem/statistic-type', code: 'C44256', display: 'Proportion' });
    expect(ev.variableDefinition.map((v) => v.variableRole.coding?.[0]?.code)).toEqual(['population', 'exposure', 'measuredVariable']);
    expect(ev.variableDefinition[0]?.description).toBe(s.population);
    expect(ev.variableDefinition[1]?.description).toBe('Sodium thiosulfate');
    // Certainty not assessed: no rating at all, whatever the curators' confidence (high here).
    expect(s.confidence).toBe('high');
    expect(ev.certainty).toBeUndefined();
    // The usage figures pool every study the 2019 review found: a systematic review (R5 has no term, so text only).
    expect(ev.studyDesign).toEqual([{ text: 'systematic review' }]);
    expect(ev.relatedArtifact).toEqual([{ type: 'citation', display: 'Medical News Today, article', citation: 'Medical News Today, article' }]);

    const citation = citationOf(bundle);
    expect(citation?.id).toBe('udomkarnjananun-2019');
    expect(citation?.status).toBe('active');
    expect(citation?.title).toBe('Treatment of Calciphylaxis in CKD: A Systematic Review and Meta-analysis');
    expect(citation?.summary).toEqual([{ text: 'Udomkarnjananun et al., 2019, meta-analysis' }]);
    expect(citation?.citedArtifact?.title).toEqual([{ text: 'Treatment of Calciphylaxis in CKD: A Systematic Review and Meta-analysis' }]);
    expect(citation?.citedArtifact?.classification?.[0]?.classifier).toEqual([{ text: 'meta-analysis' }]);
    expect(citation?.citedArtifact?.publicationForm).toEqual([{ articleDate: '2019' }]);
    expect(citation?.citedArtifact?.contributorship?.entry?.[0]).toEqual({ contributor: { display: 'Udomkarnjananun S' }, rankingOrder: 1 });
    expect(ev.citeAsReference?.display).toBe('Udomkarnjananun et al., 2019, meta-analysis');
  });

  it('gives a source without DOI or PMID no identifier at all', () => {
    const s = stat('response-cinacalcet-alone');
    const deen = source('deen-2019');
    expect([deen.doi, deen.pmid, deen.pmcid]).toEqual([null, null, null]);
    const bundle = statisticToFhir(s, deen, doc.name);
    checkBundle(bundle);
    const citation = citationOf(bundle);
    expect(citation?.citedArtifact).toBeDefined();
    expect(citation?.citedArtifact).not.toHaveProperty('identifier');
    expect(citation).not.toHaveProperty('identifier');
    expect(JSON.stringify(bundle)).not.toMatch(/doi\.org|pubmed|\/pmc/);
    // Title unknown: the short citation stands in, marked as such rather than passed off as a title.
    expect(citation?.citedArtifact?.title).toEqual([{ type: [{ text: 'Short citation (title not recorded)' }], text: 'Deen and Schaider, 2019, review' }]);
    expect(citation?.citedArtifact?.publicationForm).toEqual([{ publishedIn: { title: 'Australasian Journal of Dermatology' }, articleDate: '2019' }]);
    // Certainty rated by the curators (case reports only): the rating comes from certainty, with its basis.
    expect(evidenceOf(bundle).certainty?.[0]?.rating?.coding?.[0]?.code).toBe('very-low');
    expect(evidenceOf(bundle).certainty?.[0]?.description).toBe(s.certaintyBasis);
    // A subgroup of the 41 patients whose size the source does not give: no sample size rather than the whole review's.
    expect(evidenceOf(bundle).statistic?.[0]?.sampleSize).toBeUndefined();
  });

  it('gives DOI and PMID identifiers exactly when the source has them', () => {
    const bundle = fhirOf(stat('benefit-hyperbaric-oxygen-completed-course'));
    checkBundle(bundle);
    expect(citationOf(bundle)?.citedArtifact?.identifier).toEqual([
      { system: 'https://doi.org', value: '10.1111/nep.12433' },
      { system: 'https://pubmed.ncbi.nlm.nih.gov', value: '25707425' },
    ]);
    expect(citationOf(bundle)?.citedArtifact?.webLocation).toEqual([{ url: 'https://doi.org/10.1111/nep.12433' }]);
  });

  it('renders the 0.04–4% figure as a range', () => {
    const bundle = fhirOf(stat('incidence-dialysis'));
    checkBundle(bundle);
    const st = evidenceOf(bundle).statistic?.[0];
    expect(st?.quantity).toBeUndefined();
    expect(st?.statisticType?.coding?.[0]?.code).toBe('C16726');
    const est = st?.attributeEstimate?.[0];
    expect(est?.type?.coding?.[0]).toEqual({ system: 'http://terminology.hl7.org/CodeSystem/attribute-estimate-type', code: 'C38013', display: 'Range' });
    expect(est?.range?.low).toMatchObject({ value: 0.04, unit: '%' });
    expect(est?.range?.high).toMatchObject({ value: 4, unit: '%' });
  });

  it('records timepoints, comparators and counts', () => {
    const mortality = evidenceOf(fhirOf(stat('mortality-12-months')));
    expect(mortality.variableDefinition.at(-1)?.note).toEqual([{ text: 'Timepoint: 12 months' }]);
    expect(mortality.statistic?.[0]?.description).toBe('about 50% at 12 months');
    const more = evidenceOf(fhirOf(stat('benefit-hyperbaric-oxygen-more-than-half')));
    expect(more.statistic?.[0]?.quantity).toMatchObject({ value: 50, comparator: '>' });
    const count = evidenceOf(fhirOf(stat('recovery-kidney-transplant')));
    expect(count.statistic?.[0]?.statisticType?.coding?.[0]?.code).toBe('C25463');
    expect(count.statistic?.[0]?.quantity).toEqual({ value: 3, unit: 'patients' });
  });

  it('is valid for every statistic, with and without a base URL', () => {
    expect(doc.statistics.length).toBeGreaterThan(10);
    for (const s of doc.statistics) {
      checkBundle(fhirOf(s));
      const abs = fhirOf(s, 'https://api.example.org');
      checkBundle(abs);
      expect(evidenceOf(abs).url).toBe(`https://api.example.org/v1/statistics/${s.id}`);
      expect(citationOf(abs)?.url).toBe(`https://api.example.org/v1/sources/${s.primarySource}`);
    }
  });

  it('builds the Citation from the citation ref, identifiers included, without a source record', () => {
    const s = clone(stat('benefit-hyperbaric-oxygen-completed-course'));
    const ref = s.sources.find((r) => r.id === s.primarySource);
    const bundle = statisticToFhir(s, undefined, doc.name);
    checkBundle(bundle);
    const citation = citationOf(bundle);
    expect(citation).toMatchObject({ id: s.primarySource, title: ref?.citation, citedArtifact: { title: [{ type: [{ text: 'Short citation (title not recorded)' }] }] } });
    const expected = [
      ...(ref?.doi ? [{ system: 'https://doi.org', value: ref.doi }] : []),
      ...(ref?.pmid ? [{ system: 'https://pubmed.ncbi.nlm.nih.gov', value: ref.pmid }] : []),
    ];
    expect(expected.length).toBeGreaterThan(0);
    expect(citation?.citedArtifact?.identifier).toEqual(expected);
    expect(citation?.citedArtifact?.webLocation).toEqual(ref?.url ? [{ url: ref.url }] : undefined);
  });

  it("rates certainty from certainty alone: never from the curators' confidence, with a rater only when the basis names one", () => {
    const base = clone(stat('usage-sodium-thiosulfate'));
    // High curator confidence, certainty not assessed: no certainty element at all.
    expect(base.confidence).toBe('high');
    expect(evidenceOf(fhirOf({ ...base, certainty: 'not-assessed', certaintyBasis: null })).certainty).toBeUndefined();
    // A rating reported by a named source: rated, described by its basis, no guessed rater.
    const graded = evidenceOf(fhirOf({ ...base, confidence: 'low', certainty: 'very-low', certaintyBasis: 'GRADE very low, as reported by the review' }));
    expect(graded.certainty).toEqual([
      {
        description: 'GRADE very low, as reported by the review',
        type: { coding: [{ system: 'http://hl7.org/fhir/certainty-type', code: 'Overall', display: 'Overall certainty' }], text: 'Overall certainty' },
        rating: { coding: [{ system: 'http://hl7.org/fhir/certainty-rating', code: 'very-low', display: 'Very low quality' }], text: 'Very low quality' },
      },
    ]);
    const curated = evidenceOf(fhirOf({ ...base, certainty: 'moderate', certaintyBasis: "Curators' reading: two concordant cohorts" }));
    expect(curated.certainty?.[0]).toMatchObject({ rater: 'Knowledge base curators', rating: { coding: [{ code: 'moderate', display: 'Moderate quality' }] } });
  });

  it('codes each estimate type, and a ratio as UCUM unity with no %', () => {
    const base = clone(stat('usage-sodium-thiosulfate'));
    const typeOf = (patch: Partial<Statistic>) => evidenceOf(fhirOf({ ...base, ...patch })).statistic?.[0];
    const ratio = { unit: 'ratio', comparedWith: { label: 'no treatment', treatment: null } } as const;
    expect(typeOf({ ...ratio, estimateType: 'odds-ratio' })?.statisticType?.coding?.[0]).toEqual({ system: 'http://terminology.hl7.org/CodeSystem/statistic-type', code: 'C16932', display: 'Odds Ratio' });
    expect(typeOf({ ...ratio, estimateType: 'risk-ratio' })?.statisticType?.coding?.[0]?.code).toBe('C93152');
    expect(typeOf({ ...ratio, estimateType: 'risk-ratio' })?.quantity).toEqual({ value: base.value, system: 'http://unitsofmeasure.org', code: '1' });
    expect(typeOf({ estimateType: 'risk-difference' })?.statisticType?.coding?.[0]).toMatchObject({ code: '0000424', display: 'Risk Difference' });
    expect(typeOf({ estimateType: 'mean', unit: 'years', measure: 'age' })?.statisticType?.coding?.[0]).toMatchObject({ code: 'C53319', display: 'Mean' });
    expect(typeOf({ estimateType: 'median', unit: 'years', measure: 'age' })?.quantity).toEqual({ value: base.value, unit: 'years', system: 'http://unitsofmeasure.org', code: 'a' });
    expect(typeOf({ estimateType: 'rate', measure: 'incidence', unit: 'per-1000-person-years' })?.statisticType?.coding?.[0]?.code).toBe('C16726');
    // No R5 code for a rate of anything else, nor for "other": text only, never a guessed code.
    expect(typeOf({ estimateType: 'rate', measure: 'mortality', unit: 'per-1000-person-years' })?.statisticType).toEqual({ text: 'Rate' });
    expect(typeOf({ estimateType: 'rate', measure: 'mortality', unit: 'per-1000-person-years' })?.quantity).toEqual({ value: base.value, unit: 'per-1000-person-years' });
    expect(typeOf({ estimateType: 'other' })?.statisticType).toEqual({ text: 'Treatment usage' });
  });

  it('codes the study design per design, text only where R5 has no term', () => {
    const base = clone(stat('usage-sodium-thiosulfate'));
    const designOf = (studyDesign: Statistic['studyDesign']) => evidenceOf(fhirOf({ ...base, studyDesign })).studyDesign;
    const sd = (code: string, display: string, text = display) => ({ coding: [{ system: 'http://hl7.org/fhir/study-design', code, display }], text });
    const observational = sd('SEVCO:01002', 'Observational research');
    expect(designOf('randomized-trial')).toEqual([sd('SEVCO:01003', 'randomized assignment', 'randomized trial')]);
    expect(designOf('case-control')).toEqual([sd('SEVCO:01013', 'Case control design', 'case-control study'), observational]);
    expect(designOf('cross-sectional')).toEqual([sd('SEVCO:01027', 'Cross sectional data collection', 'cross-sectional study'), observational]);
    expect(designOf('case-series')).toEqual([sd('SEVCO:01016', 'Uncontrolled cohort design', 'case series'), observational]);
    expect(designOf('case-report')).toEqual([sd('SEVCO:01017', 'Case report', 'case report')]);
    expect(designOf('cohort')).toEqual([{ text: 'cohort study' }, observational, sd('SEVCO:01028', 'Longitudinal data collection')]);
    expect(designOf('registry')).toEqual([{ text: 'registry' }, observational]);
    expect(designOf('meta-analysis')).toEqual([{ text: 'meta-analysis' }]);
    expect(designOf('systematic-review')).toEqual([{ text: 'systematic review' }]);
    expect(designOf('narrative-review')).toEqual([{ text: 'narrative review' }]);
    expect(designOf('expert-opinion')).toEqual([{ text: 'expert opinion' }]);
    expect(designOf('unknown')).toBeUndefined();
  });

  it('is deterministic', () => {
    const s = stat('usage-sodium-thiosulfate');
    expect(JSON.stringify(fhirOf(clone(s)))).toBe(JSON.stringify(fhirOf(s)));
  });

  it('makes valid FHIR ids from any id', () => {
    expect(toFhirId('calciphylaxis.stat.usage-sodium-thiosulfate')).toBe('calciphylaxis.stat.usage-sodium-thiosulfate');
    expect(toFhirId('a b/c')).toBe('a-b-c');
    const long = toFhirId(`x${'y'.repeat(100)}`);
    expect(long).toMatch(FHIR_ID);
    expect(toFhirId(`x${'y'.repeat(100)}`)).toBe(long);
    expect(toFhirId(`x${'y'.repeat(101)}`)).not.toBe(long);
  });
});
