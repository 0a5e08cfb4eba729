/**
 * A clearly synthetic corpus for growth measurements: N conditions = the real calciphylaxis file
 * plus N−1 generated ones (`synthetic-0002`, "Synthetic condition 0002", …), written as YAML into
 * a temporary content folder and never into db/content.
 *
 * Sizes are modelled on calciphylaxis: 25 symptoms, 20 risk factors, 10 treatments, 15
 * statistics, 15 sources, and causes/complications/diagnosis/prognosis/prevention/related as in
 * the real file; each text has the word count of a real text of the same section.
 *
 * Words follow a stated model so that a query matches a few percent of the conditions, as in a
 * real corpus where `warfarin` or `thiosulfate` belong to a handful of conditions and only words
 * like `pain` to many:
 * - English function words (the `stopword` list, weighted by their frequency in the real files)
 *   in every condition: 45% of the tokens;
 * - clinical words from all real condition files, each included in a condition with a
 *   probability that falls with its rank in the real text (12% for the most frequent, 2% at rank
 *   50, never under 0.5%): 40% of the tokens;
 * - 40 invented terms of the condition's own: the rest.
 */
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eng as ENGLISH_STOP_WORDS } from 'stopword';
import { stringify } from 'yaml';
import { loadContent } from '../src/content/load.js';
import type { ConditionContent, SourceContent, StatisticContent } from '../src/content/schema.js';
import { MEASURES, statementsOf } from '../src/content/schema.js';

/** Deterministic PRNG (mulberry32): the same N always gives the same corpus. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Weighted {
  words: string[];
  cumulative: number[];
}

function weighted(counts: Map<string, number>): Weighted {
  const words = [...counts.keys()];
  const cumulative: number[] = [];
  let sum = 0;
  for (const w of words) cumulative.push((sum += counts.get(w) ?? 0));
  return { words, cumulative };
}

function pick(w: Weighted, r: number): string {
  const target = r * (w.cumulative[w.cumulative.length - 1] ?? 0);
  let lo = 0;
  let hi = w.cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((w.cumulative[mid] ?? 0) < target) lo = mid + 1;
    else hi = mid;
  }
  return w.words[lo] ?? 'the';
}

const SYLLABLES = ['ka', 'lo', 'mi', 'ver', 'dra', 'sel', 'ton', 'qui', 'ber', 'nox', 'fal', 'rin', 'zu', 'pel', 'tas', 'gor', 'vin', 'ul'];

const wordsOf = (text: string) => text.toLowerCase().match(/[a-z][a-z'-]*/g) ?? [];
const wordCount = (text: string) => Math.max(3, text.split(/\s+/).length);
const pad = (n: number, width = 4) => String(n).padStart(width, '0');

/** Probability that a condition uses the clinical word of this frequency rank (0 = most frequent). */
export const inclusionProbability = (rank: number): number => Math.max(0.005, 0.12 / (1 + rank / 10));

const STOP_WORDS = new Set(ENGLISH_STOP_WORDS);

/**
 * Generates the synthetic conditions 2..n from the real one (n includes the real one); their
 * vocabulary comes from `vocabulary` (the real condition files; `real` alone when not given).
 */
export function syntheticConditions(real: ConditionContent, n: number, vocabulary: ConditionContent[] = [real]): ConditionContent[] {
  const realNames = new Set(vocabulary.flatMap((c) => wordsOf(`${c.name} ${c.aliases.join(' ')} ${c.id}`)));
  const counts = new Map<string, number>();
  const allText = vocabulary.flatMap((c) => [c.summary, ...statementsOf(c).map(({ item }) => `${item.name} ${item.text}`), ...c.statistics.map((s) => s.text)]);
  for (const t of allText) for (const w of wordsOf(t)) if (!realNames.has(w)) counts.set(w, (counts.get(w) ?? 0) + 1);
  const ranked = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const functionWords = weighted(new Map(ranked.filter(([w]) => STOP_WORDS.has(w))));
  const clinical = ranked.filter(([w]) => !STOP_WORDS.has(w) && w.length > 2);

  const out: ConditionContent[] = [];
  for (let k = 2; k <= n; k++) {
    const r = rng(k * 7919);
    const id = `synthetic-${pad(k)}`;
    const name = `Synthetic condition ${pad(k)}`;
    const topic = weighted(new Map(clinical.filter((_, rank) => r() < inclusionProbability(rank))));
    const own = Array.from({ length: 40 }, () => Array.from({ length: 2 + Math.floor(r() * 2) }, () => SYLLABLES[Math.floor(r() * SYLLABLES.length)]).join(''));
    const text = (words: number, lead = name) => {
      const tokens = [lead];
      for (let i = 1; i < words; i++) {
        const x = r();
        tokens.push(x < 0.45 ? pick(functionWords, r()) : x < 0.85 && topic.words.length > 0 ? pick(topic, r()) : (own[Math.floor(r() * own.length)] ?? 'synthetic'));
      }
      return `${tokens.join(' ')}.`;
    };
    // A text like a real one: its word count, and never longer than it (the real one is within
    // the schema's length limit; invented words can be longer than the words they stand for).
    const like = (model: string) => {
      const t = text(wordCount(model));
      if (t.length <= model.length) return t;
      const cut = t.slice(0, Math.max(1, model.length - 1));
      return `${cut.slice(0, cut.lastIndexOf(' ') > 0 ? cut.lastIndexOf(' ') : cut.length)}.`;
    };
    const title = (words: number) => {
      const t = text(Math.max(2, words), '').trim().replace(/\.$/, '');
      return t.charAt(0).toUpperCase() + t.slice(1);
    };

    const sourceIds = Array.from({ length: 15 }, (_, i) => `${id}-source-${pad(i + 1, 2)}`);
    const cite = () => {
      const count = 1 + Math.floor(r() * 3);
      return [...new Set(Array.from({ length: count }, () => sourceIds[Math.floor(r() * sourceIds.length)] ?? sourceIds[0] ?? ''))];
    };
    const sources: SourceContent[] = sourceIds.map((sid, i) => {
      const model = real.sources[i % real.sources.length];
      return {
        id: sid,
        kind: model?.kind ?? 'review',
        year: 2000 + Math.floor(r() * 25),
        title: `Synthetic source ${pad(i + 1, 2)} of ${name}`,
        label: null,
        authors: Array.from({ length: 1 + Math.floor(r() * 5) }, (_, a) => `Synthetic${String.fromCharCode(65 + a)} ${String.fromCharCode(65 + Math.floor(r() * 26))}`),
        journal: 'Journal of Synthetic Benchmarks',
        volume: String(1 + Math.floor(r() * 60)),
        pages: `${1 + i}-${10 + i}`,
        doi: null,
        pmid: null,
        pmcid: null,
        url: null,
        citedAs: null,
        attribution: 'confirmed',
        licence: null,
        note: 'Synthetic benchmark data: this source does not exist.',
      };
    });

    // Item sizes follow the real item at the same position (cycling) in the same section.
    const sized = <T extends { name: string; text: string }>(section: readonly T[], count: number, kind: string, extra: (i: number, model: T | undefined) => object) =>
      Array.from({ length: count }, (_, i) => {
        const model = section[i % Math.max(1, section.length)];
        return {
          id: `${id}.${kind}.item-${pad(i + 1, 2)}`,
          name: title(model ? wordCount(model.name) : 3),
          text: model ? like(model.text) : text(25),
          sources: cite(),
          confidence: (['high', 'medium', 'low'] as const)[Math.floor(r() * 3)] ?? 'medium',
          ...extra(i, model),
        };
      });

    const treatments = sized(real.treatments, 10, 'treatment', (_i, m) => ({
      type: m?.type ?? 'medication',
      route: m?.route ?? null,
      goal: m?.goal ? like(m.goal) : null,
      regulatoryStatus: m?.regulatoryStatus ?? 'unknown',
      regulatoryNote: m?.regulatoryNote ? like(m.regulatoryNote) : null,
      codes: [],
    })) as ConditionContent['treatments'];

    const statistics: StatisticContent[] = Array.from({ length: 15 }, (_, i) => {
      const model = real.statistics[i % real.statistics.length];
      const value = Math.round(r() * 9000) / 100;
      const treatment = i % 3 === 0 ? (treatments[i % treatments.length]?.id ?? null) : null;
      const sources = cite();
      return {
        id: `${id}.stat.figure-${pad(i + 1, 2)}`,
        measure: MEASURES[Math.floor(r() * MEASURES.length)] ?? 'usage',
        value,
        low: i % 2 === 0 ? Math.round(value * 80) / 100 : null,
        high: i % 2 === 0 ? Math.min(100, Math.round(value * 120) / 100) : null,
        unit: '%',
        comparator: 'about',
        population: title(model ? wordCount(model.population) : 4),
        outcome: model?.outcome ? title(wordCount(model.outcome)) : null,
        timepoint: model?.timepoint ?? null,
        timepointMonths: model?.timepointMonths ?? null,
        estimateType: 'proportion',
        interval: null,
        events: null,
        sampleSize: 20 + Math.floor(r() * 2000),
        comparedWith: null,
        studyDesign: 'cohort',
        primarySource: sources[0] ?? '',
        certainty: 'not-assessed',
        certaintyBasis: null,
        treatment,
        text: model ? like(model.text) : text(25),
        sources,
        confidence: 'medium',
      };
    });

    const neighbour = (d: number) => `synthetic-${pad(((k - 2 + d + (n - 1)) % Math.max(1, n - 1)) + 2)}`;
    out.push({
      id,
      name,
      aliases: [`SC-${pad(k)}`, `Benchmark condition ${pad(k)}`],
      summary: text(Math.min(140, wordCount(real.summary))).slice(0, 1000),
      summarySources: [sourceIds[0] ?? ''],
      version: 1,
      lastReviewed: '2026-01-01',
      codes: [
        { system: 'icd10cm', code: `Z99.${pad(k % 10000)}`, display: null, match: 'related', note: 'Synthetic code for benchmarking.', confidence: 'low' },
        { system: 'orphanet', code: String(9_000_000 + k), display: null, match: 'exact', note: null, confidence: 'low' },
      ],
      sources,
      symptoms: sized(real.symptoms, 25, 'symptom', () => ({ frequency: (['common', 'occasional', 'rare'] as const)[Math.floor(r() * 3)] ?? 'common', relatedCondition: null })) as ConditionContent['symptoms'],
      causes: sized(real.causes, real.causes.length, 'cause', () => ({})),
      riskFactors: sized(real.riskFactors, 20, 'risk', (_i, m) => ({ type: m?.type ?? 'condition' })) as ConditionContent['riskFactors'],
      complications: sized(real.complications, real.complications.length, 'complication', () => ({})),
      diagnosis: sized(real.diagnosis, real.diagnosis.length, 'diagnosis', (_i, m) => ({
        method: m?.method ?? 'clinical',
        purpose: m ? like(m.purpose) : text(12),
        risks: m?.risks ? like(m.risks) : null,
      })) as ConditionContent['diagnosis'],
      treatments,
      prognosis: sized(real.prognosis, real.prognosis.length, 'prognosis', () => ({})),
      prevention: sized(real.prevention, real.prevention.length, 'prevention', () => ({})),
      whenToSeekCare: sized(real.whenToSeekCare, real.whenToSeekCare.length, 'seek-care', () => ({})),
      differentialDiagnosis: sized(real.differentialDiagnosis, real.differentialDiagnosis.length, 'differential', () => ({ code: null })) as ConditionContent['differentialDiagnosis'],
      statistics,
      related:
        n > 2
          ? [
              { condition: neighbour(1), name: `Synthetic condition (neighbour)`, relation: 'associated', text: text(30), sources: cite() },
              { condition: 'not-in-this-corpus', name: 'A condition outside the corpus', relation: 'differential', text: text(30), sources: cite() },
            ]
          : [],
    });
  }
  return out;
}

/** Writes the synthetic conditions as `<id>.yaml` into `dir` (which must already hold the real file). */
export function writeSyntheticCorpus(dir: string, real: ConditionContent, n: number, vocabulary: ConditionContent[] = [real]): number {
  mkdirSync(dir, { recursive: true });
  const generated = syntheticConditions(real, n, vocabulary);
  const header = '# SYNTHETIC benchmark data generated by bench/corpus.ts: not medical content, never served by default.\n';
  for (const c of generated) writeFileSync(join(dir, `${c.id}.yaml`), header + stringify(c, { lineWidth: 0 }));
  return generated.length;
}

/** The real condition the corpus is modelled on, and the one every scenario reads. */
export const MODEL_CONDITION = 'calciphylaxis';

/**
 * The bench's content folder at `contentDir`: calciphylaxis and the consumer vocabulary copied
 * from `realContentDir`, plus n−1 synthetic conditions whose words come from every real file.
 * At n = 1 it is calciphylaxis alone, so both corpora serve the same model document.
 */
export function writeBenchContent(realContentDir: string, contentDir: string, n: number): void {
  const all = loadContent(realContentDir).map((c) => c.content);
  const real = all.find((c) => c.id === MODEL_CONDITION);
  if (!real) throw new Error(`the bench corpus is modelled on ${MODEL_CONDITION}, which is missing from ${realContentDir}`);
  mkdirSync(contentDir, { recursive: true });
  cpSync(join(realContentDir, `${MODEL_CONDITION}.yaml`), join(contentDir, `${MODEL_CONDITION}.yaml`));
  const vocabularyFile = join(realContentDir, '_vocabulary.yaml');
  if (existsSync(vocabularyFile)) cpSync(vocabularyFile, join(contentDir, '_vocabulary.yaml'));
  writeSyntheticCorpus(contentDir, real, n, all);
}
