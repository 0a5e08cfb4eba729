import { SHARED_SCHEMAS } from './common.js';
import { CONDITION_SCHEMAS } from './condition.js';
import { FactSchema } from './fact.js';
import { SourceSchema } from './source.js';
import { StatisticSchema } from './statistic.js';
import { REPRESENTATION_SCHEMAS } from './representations.js';

/** Every named ($id) schema, in dependency order: a schema comes after those it references. */
export const ALL_NAMED_SCHEMAS = [...SHARED_SCHEMAS, SourceSchema, StatisticSchema, ...CONDITION_SCHEMAS, FactSchema, ...REPRESENTATION_SCHEMAS];
