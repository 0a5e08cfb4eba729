/**
 * The retrieval benchmark at its targets (bench/retrieval/questions.yaml; figures printed by
 * `npm run bench:retrieval`). Quality, not speed: no timing is asserted here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TARGETS, loadQuestions, metricsByGroup, runQuestions } from '../bench/retrieval/evaluate.js';
import { buildTestApp, type TestContext } from './helpers.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await buildTestApp();
});
afterAll(() => ctx.close());

describe('retrieval benchmark', () => {
  it('has at least 60 questions from every user group, answerable and not, labelled with ids that exist', async () => {
    const questions = loadQuestions();
    expect(questions.length).toBeGreaterThanOrEqual(60);
    expect(new Set(questions.map((q) => q.group))).toEqual(new Set(['patient', 'carer', 'clinician', 'researcher']));
    expect(questions.filter((q) => q.answers.length === 0).length).toBeGreaterThanOrEqual(10);
    for (const id of new Set(questions.flatMap((q) => q.answers))) {
      const exists = ctx.app.repos.facts.get(id) ?? ctx.app.repos.facts.condition(id);
      expect(exists, id).toBeDefined();
    }
  });

  it('meets recall@5, MRR and "not answerable" targets', () => {
    const results = runQuestions(ctx.app.repos.retrieval, loadQuestions());
    const all = metricsByGroup(results).all;
    const misses = results.filter((r) => (r.answers.length ? r.rank === null : r.answerable)).map((r) => r.q);
    expect(all?.recallAt5, `missed: ${misses.join(' | ')}`).toBeGreaterThanOrEqual(TARGETS.recallAt5);
    expect(all?.mrr).toBeGreaterThanOrEqual(TARGETS.mrr);
    expect(all?.correctlyUnanswerable, `wrongly answerable: ${misses.join(' | ')}`).toBeGreaterThanOrEqual(TARGETS.correctlyUnanswerable);
  });
});
