/**
 * A curated write validates only the conditions it wrote (src/content/validate.ts, `only`): the
 * others are known valid, but still define the ids a written condition must not repeat and the
 * sources and treatments it may refer to. Scoped and whole-corpus validation must find the same
 * problems in the written condition.
 */
import { describe, expect, it } from 'vitest';
import { loadContent } from '../src/content/load.js';
import { referentialProblems } from '../src/content/validate.js';
import { CONTENT_DIR } from '../src/paths.js';

const loaded = loadContent(CONTENT_DIR);
const corpus = loaded.map(({ file, content }) => ({ file, content: structuredClone(content) }));
const real = corpus.find((c) => c.content.id === 'calciphylaxis')?.content;
const edited = corpus.find((c) => c.content.id === 'sepsis');

describe('scoped validation', () => {
  it('finds in the written condition exactly what whole-corpus validation finds there', () => {
    if (!real || !edited) throw new Error('content lacks calciphylaxis or sepsis');
    const c = edited.content;
    const [source] = real.sources;
    const [symptom] = real.symptoms;
    const treatment = real.treatments[0]?.id;
    const [figure] = c.statistics;
    if (!source || !symptom || !treatment || !figure) throw new Error('content lacks the items this test edits');
    // Another condition's source id and statement id, a cross-condition treatment, and an unknown one.
    c.sources.push({ ...source });
    c.symptoms.push({ ...symptom });
    c.statistics.push({ ...figure, id: `${c.id}.stat.about-theirs`, treatment });
    c.statistics.push({ ...figure, id: `${c.id}.stat.about-nothing`, treatment: `${real.id}.treatment.no-such-thing` });

    const whole = referentialProblems(corpus).filter((p) => p.file === edited.file);
    const scoped = referentialProblems(corpus, new Set([c.id]));
    expect(scoped.map((p) => p.message).join('\n')).toMatch(/duplicate source id .* \(first defined at \S*calciphylaxis\.yaml:\/sources\/0\)/);
    expect(scoped.map((p) => p.message).join('\n')).toMatch(/duplicate id .* \(first defined at \S*calciphylaxis\.yaml:\/symptoms\/0\)/);
    expect(scoped.map((p) => p.message).join('\n')).toContain('unknown treatment id "calciphylaxis.treatment.no-such-thing"');
    expect(scoped.map((p) => p.message).join('\n')).not.toContain(`unknown treatment id "${treatment}"`);
    expect(scoped).toEqual(whole);
  });

  it('passes the shipped content, whichever condition is checked', () => {
    for (const { content } of loaded) expect(referentialProblems(loaded, new Set([content.id]))).toEqual([]);
  });
});
