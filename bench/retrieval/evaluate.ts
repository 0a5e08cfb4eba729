/**
 * The retrieval benchmark: every question of questions.yaml through the ranking that /v1/search,
 * /v1/facts and /v1/context share, scored as recall@5 and MRR over answerable questions and as the
 * rate of correct "not answerable" over the others, per user group. Used by `npm run
 * bench:retrieval` (which prints it) and tests/retrieval-benchmark.test.ts (which asserts targets).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { Retrieval } from '../../src/retrieval/engine.js';

export interface Question {
  group: 'patient' | 'carer' | 'clinician' | 'researcher';
  q: string;
  condition?: string;
  answers: string[];
}

export interface QuestionResult extends Question {
  top: { id: string; score: number }[];
  answerable: boolean;
  /** 1-based rank of the first answer, or null. */
  rank: number | null;
}

export interface Metrics {
  questions: number;
  answerable: number;
  recallAt5: number;
  mrr: number;
  unanswerable: number;
  /** Share of unanswerable questions answered `answerable: false`. */
  correctlyUnanswerable: number;
  /** Share of answerable questions wrongly answered `answerable: false`. */
  falselyUnanswerable: number;
}

export const TARGETS = { recallAt5: 0.95, mrr: 0.8, correctlyUnanswerable: 0.9 } as const;

export function loadQuestions(): Question[] {
  const file = join(dirname(fileURLToPath(import.meta.url)), 'questions.yaml');
  return (parse(readFileSync(file, 'utf8')) as { questions: Question[] }).questions;
}

export function runQuestions(retrieval: Retrieval, questions: readonly Question[]): QuestionResult[] {
  return questions.map((question) => {
    const ranking = retrieval.rank(question.q, { condition: question.condition, limit: 10 });
    const top = ranking.rows.slice(0, 5).map((r) => ({ id: r.entityId, score: Number(r.score.toFixed(2)) }));
    const index = top.findIndex((t) => question.answers.includes(t.id));
    return { ...question, top, answerable: ranking.answerable, rank: index < 0 ? null : index + 1 };
  });
}

export function metricsOf(results: readonly QuestionResult[]): Metrics {
  const answerable = results.filter((r) => r.answers.length > 0);
  const none = results.filter((r) => r.answers.length === 0);
  const share = (n: number, of: number) => (of === 0 ? 1 : Number((n / of).toFixed(3)));
  return {
    questions: results.length,
    answerable: answerable.length,
    recallAt5: share(answerable.filter((r) => r.rank !== null).length, answerable.length),
    mrr: share(answerable.reduce((sum, r) => sum + (r.rank === null ? 0 : 1 / r.rank), 0), answerable.length),
    unanswerable: none.length,
    correctlyUnanswerable: share(none.filter((r) => !r.answerable).length, none.length),
    falselyUnanswerable: share(answerable.filter((r) => !r.answerable).length, answerable.length),
  };
}

export function metricsByGroup(results: readonly QuestionResult[]): Record<string, Metrics> {
  const groups = [...new Set(results.map((r) => r.group))];
  return Object.fromEntries([['all', metricsOf(results)], ...groups.map((g) => [g, metricsOf(results.filter((r) => r.group === g))])]);
}
