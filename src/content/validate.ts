/**
 * Checks that a schema cannot express: uniqueness across files, citations that resolve,
 * ids that belong to their condition and section, well-formed codes, numbers that make sense.
 */
import { basename } from 'node:path';
import { CODE_PATTERNS, STATEMENT_SECTIONS, statementsOf, type ConditionContent } from './schema.js';

interface Problem {
  file: string;
  path: string;
  message: string;
}

interface Input {
  file: string;
  content: ConditionContent;
}

function isRealDate(value: string): boolean {
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(value);
}

export function referentialProblems(corpus: Input[]): Problem[] {
  const problems: Problem[] = [];
  const conditionFile = new Map<string, string>();
  const entityAt = new Map<string, string>(); // id -> "file:path" of its first definition
  const sourceAt = new Map<string, string>();
  const treatmentIds = new Set<string>();

  // Pass 1: collect every definition, reporting duplicates where the second one stands.
  for (const { file, content: c } of corpus) {
    const expected = `${c.id}.yaml`;
    if (basename(file) !== expected && basename(file) !== `${c.id}.yml`) {
      problems.push({ file, path: '/id', message: `condition id "${c.id}" must match the file name (expected ${expected})` });
    }
    if (conditionFile.has(c.id)) problems.push({ file, path: '/id', message: `duplicate condition id "${c.id}" (also in ${conditionFile.get(c.id)})` });
    conditionFile.set(c.id, file);
    if (!isRealDate(c.lastReviewed)) problems.push({ file, path: '/lastReviewed', message: `"${c.lastReviewed}" is not a calendar date` });

    c.sources.forEach((s, i) => {
      const at = `${file}:/sources/${i}`;
      if (sourceAt.has(s.id)) problems.push({ file, path: `/sources/${i}/id`, message: `duplicate source id "${s.id}" (first defined at ${sourceAt.get(s.id)})` });
      else sourceAt.set(s.id, at);
    });

    const define = (id: string, path: string, kind: string) => {
      const [conditionPart, kindPart] = id.split('.');
      if (conditionPart !== c.id) problems.push({ file, path: `${path}/id`, message: `id "${id}" must start with the condition id "${c.id}."` });
      if (kindPart !== kind) problems.push({ file, path: `${path}/id`, message: `id "${id}" must have "${kind}" as its middle part in this section` });
      if (entityAt.has(id)) problems.push({ file, path: `${path}/id`, message: `duplicate id "${id}" (first defined at ${entityAt.get(id)})` });
      else entityAt.set(id, `${file}:${path}`);
    };
    const idKinds = new Map(STATEMENT_SECTIONS.map((s) => [s.key, s.idKind]));
    for (const { section, item, position } of statementsOf(c)) define(item.id, `/${section}/${position}`, idKinds.get(section) ?? section);
    c.treatments.forEach((t) => treatmentIds.add(t.id));
    c.statistics.forEach((s, i) => define(s.id, `/statistics/${i}`, 'stat'));
  }

  // Pass 2: references and values.
  for (const { file, content: c } of corpus) {
    const cite = (ids: string[], path: string) =>
      ids.forEach((id, i) => {
        if (!sourceAt.has(id)) problems.push({ file, path: `${path}/sources/${i}`, message: `unknown source id "${id}"` });
      });
    c.summarySources.forEach((id, i) => {
      if (!sourceAt.has(id)) problems.push({ file, path: `/summarySources/${i}`, message: `unknown source id "${id}"` });
    });
    for (const { section, item, position } of statementsOf(c)) cite(item.sources, `/${section}/${position}`);
    c.related.forEach((r, i) => {
      cite(r.sources, `/related/${i}`);
      if (r.condition === c.id) problems.push({ file, path: `/related/${i}/condition`, message: 'a condition cannot be related to itself' });
    });

    const seenCodes = new Set<string>();
    c.codes.forEach((code, i) => {
      if (!CODE_PATTERNS[code.system].test(code.code)) problems.push({ file, path: `/codes/${i}/code`, message: `"${code.code}" is not a well-formed ${code.system} code` });
      const key = `${code.system}:${code.code}`;
      if (seenCodes.has(key)) problems.push({ file, path: `/codes/${i}`, message: `duplicate code ${key}` });
      seenCodes.add(key);
    });
    c.treatments.forEach((t, i) =>
      t.codes.forEach((code, j) => {
        if (!CODE_PATTERNS[code.system].test(code.code)) problems.push({ file, path: `/treatments/${i}/codes/${j}/code`, message: `"${code.code}" is not a well-formed ${code.system} code` });
      }),
    );

    c.statistics.forEach((s, i) => {
      const path = `/statistics/${i}`;
      cite(s.sources, path);
      if (s.value === null && (s.low === null || s.high === null)) problems.push({ file, path: `${path}/value`, message: 'a statistic needs a value, or both low and high' });
      if (s.low !== null && s.high !== null && s.low > s.high) problems.push({ file, path: `${path}/low`, message: `low (${s.low}) is greater than high (${s.high})` });
      if (s.value !== null && s.low !== null && s.value < s.low) problems.push({ file, path: `${path}/value`, message: `value (${s.value}) is below low (${s.low})` });
      if (s.value !== null && s.high !== null && s.value > s.high) problems.push({ file, path: `${path}/value`, message: `value (${s.value}) is above high (${s.high})` });
      if (s.unit === '%') {
        for (const field of ['value', 'low', 'high'] as const) {
          const v = s[field];
          if (v !== null && v > 100) problems.push({ file, path: `${path}/${field}`, message: `${v} is out of range for a percentage (0-100)` });
        }
      }
      if (s.sampleSize !== null && s.unit !== '%' && s.value !== null && s.value > s.sampleSize) {
        problems.push({ file, path: `${path}/value`, message: `value (${s.value}) is greater than the sample size (${s.sampleSize})` });
      }
      if (s.treatment !== null && !treatmentIds.has(s.treatment)) problems.push({ file, path: `${path}/treatment`, message: `unknown treatment id "${s.treatment}"` });
    });
  }
  return problems;
}
