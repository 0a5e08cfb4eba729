/**
 * Path parameters, declared once for every route that takes them (reads, writes, revisions), with
 * the patterns of the content schema: a malformed id is a 400 before any handler runs.
 */
import { Type } from 'typebox';
import { ENTITY_ID_PATTERN, SLUG_PATTERN, SOURCE_ID_PATTERN } from '../content/schema.js';

export const ConditionIdParam = Type.String({ pattern: SLUG_PATTERN, maxLength: 80, description: 'Condition id', examples: ['calciphylaxis'] });

/** A statement or statistic id, named for the resource (`Fact id`, `Treatment id`, ...), with an example of that resource. */
export const EntityIdParam = (what: string, example: string) => Type.String({ pattern: ENTITY_ID_PATTERN, maxLength: 120, description: `${what} id`, examples: [example] });

export const SourceIdParam = (example = 'nigwekar-2018') => Type.String({ pattern: SOURCE_ID_PATTERN, maxLength: 80, description: 'Source id', examples: [example] });

export const FactIdParam = EntityIdParam('Fact', 'calciphylaxis.symptom.livedo-patches');
export const TreatmentIdParam = EntityIdParam('Treatment', 'calciphylaxis.treatment.sodium-thiosulfate');
export const StatisticIdParam = EntityIdParam('Statistic', 'calciphylaxis.stat.usage-sodium-thiosulfate');
