/**
 * Checks that a schema cannot express: uniqueness across files, citations that resolve,
 * ids that belong to their condition and section, well-formed codes, numbers that make sense.
 */
import { basename } from 'node:path';
import { CODE_PATTERNS, RATIO_ESTIMATES, STATEMENT_SECTIONS, citationRef, citedIds, statementsOf, type CitationContent, type ConditionContent } from './schema.js';
import { textProblems } from './textHygiene.js';

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

/**
 * Every problem of the corpus, or with `only`, the problems of those conditions alone (a curated
 * write checks what it wrote). The others still define the ids and sources that the checked ones
 * must not repeat and may cite; they go first, so a duplicate is reported where it was written.
 * A write that removes a source or a treatment must check the whole corpus, since any condition
 * may refer to it.
 */
export function referentialProblems(corpus: Input[], only?: ReadonlySet<string>): Problem[] {
  const problems: Problem[] = [];
  const checked = (c: ConditionContent) => only === undefined || only.has(c.id);
  const ordered = only === undefined ? corpus : [...corpus.filter(({ content }) => !checked(content)), ...corpus.filter(({ content }) => checked(content))];
  const conditionFile = new Map<string, string>();
  const entityAt = new Map<string, string>(); // id -> "file:path" of its first definition
  const sourceAt = new Map<string, string>();
  // The sources of conditions left unchecked, by id: their location is spelled out only for a
  // duplicate (a write checks one condition against ~15 sources each of all the others).
  const sourceIn = new Map<string, Input>();
  const sourceLocation = (id: string): string | undefined => {
    const at = sourceAt.get(id);
    if (at !== undefined) return at;
    const o = sourceIn.get(id);
    return o && `${o.file}:/sources/${o.content.sources.findIndex((s) => s.id === id)}`;
  };
  const isSource = (id: string) => sourceAt.has(id) || sourceIn.has(id);
  const treatmentIds = new Set<string>();
  const others = new Map<string, Input>();
  const owner = (id: string) => others.get(id.slice(0, id.indexOf('.')));
  /** Where a condition left unchecked defines a statement or statistic id. */
  const definedElsewhere = (id: string): string | undefined => {
    const o = owner(id);
    if (!o) return undefined;
    for (const { section, item, position } of statementsOf(o.content)) if (item.id === id) return `${o.file}:/${section}/${position}`;
    const i = o.content.statistics.findIndex((s) => s.id === id);
    return i >= 0 ? `${o.file}:/statistics/${i}` : undefined;
  };
  const isTreatment = (id: string) => treatmentIds.has(id) || (owner(id)?.content.treatments.some((t) => t.id === id) ?? false);

  // Pass 1: collect every definition, reporting duplicates where the second one stands.
  for (const { file, content: c } of ordered) {
    if (!checked(c)) {
      // Already valid: only what it defines matters to the checked conditions. Its statement and
      // statistic ids start with its own id, so they are looked up there (definedElsewhere).
      conditionFile.set(c.id, file);
      const other = { file, content: c };
      others.set(c.id, other);
      for (const s of c.sources) sourceIn.set(s.id, other);
      continue;
    }
    // Lone surrogates, control and bidi characters, in any string (textHygiene.ts).
    for (const p of textProblems(c)) problems.push({ file, ...p });
    const expected = `${c.id}.yaml`;
    if (basename(file) !== expected && basename(file) !== `${c.id}.yml`) {
      problems.push({ file, path: '/id', message: `condition id "${c.id}" must match the file name (expected ${expected})` });
    }
    if (conditionFile.has(c.id)) problems.push({ file, path: '/id', message: `duplicate condition id "${c.id}" (also in ${conditionFile.get(c.id)})` });
    conditionFile.set(c.id, file);
    if (!isRealDate(c.lastReviewed)) problems.push({ file, path: '/lastReviewed', message: `"${c.lastReviewed}" is not a calendar date` });

    c.sources.forEach((s, i) => {
      const at = `${file}:/sources/${i}`;
      if (isSource(s.id)) problems.push({ file, path: `/sources/${i}/id`, message: `duplicate source id "${s.id}" (first defined at ${sourceLocation(s.id)})` });
      else sourceAt.set(s.id, at);
    });

    const define = (id: string, path: string, kind: string) => {
      const [conditionPart, kindPart] = id.split('.');
      if (conditionPart !== c.id) problems.push({ file, path: `${path}/id`, message: `id "${id}" must start with the condition id "${c.id}."` });
      if (kindPart !== kind) problems.push({ file, path: `${path}/id`, message: `id "${id}" must have "${kind}" as its middle part in this section` });
      const first = entityAt.get(id) ?? definedElsewhere(id);
      if (first !== undefined) problems.push({ file, path: `${path}/id`, message: `duplicate id "${id}" (first defined at ${first})` });
      else entityAt.set(id, `${file}:${path}`);
    };
    const idKinds = new Map(STATEMENT_SECTIONS.map((s) => [s.key, s.idKind]));
    for (const { section, item, position } of statementsOf(c)) define(item.id, `/${section}/${position}`, idKinds.get(section) ?? section);
    c.treatments.forEach((t) => treatmentIds.add(t.id));
    c.statistics.forEach((s, i) => define(s.id, `/statistics/${i}`, 'stat'));
  }

  // Pass 2: references and values.
  for (const { file, content: c } of ordered) {
    if (!checked(c)) continue;
    const citeAt = (list: readonly CitationContent[], path: string) => {
      const seen = new Set<string>();
      list.forEach((entry, i) => {
        const { id } = citationRef(entry);
        // A locator lives inside its citation, so it can only ever point at a work the item cites.
        if (!isSource(id)) problems.push({ file, path: `${path}/${i}`, message: `unknown source id "${id}"` });
        if (seen.has(id)) problems.push({ file, path: `${path}/${i}`, message: `source "${id}" is cited twice by this item` });
        seen.add(id);
      });
    };
    const cite = (list: readonly CitationContent[], path: string) => citeAt(list, `${path}/sources`);
    citeAt(c.summarySources, '/summarySources');
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
      // Only a count of people can be checked against the people counted; a rate or a ratio cannot.
      if (s.sampleSize !== null && COUNT_UNITS.has(s.unit) && s.value !== null && s.value > s.sampleSize) {
        problems.push({ file, path: `${path}/value`, message: `value (${s.value}) is greater than the sample size (${s.sampleSize})` });
      }
      if (s.treatment !== null && !isTreatment(s.treatment)) problems.push({ file, path: `${path}/treatment`, message: `unknown treatment id "${s.treatment}"` });
      problems.push(...evidenceProblems(s, path, isTreatment).map((p) => ({ file, ...p })));
    });
  }
  return problems;
}

type Statistic = ConditionContent['statistics'][number];

const COUNT_UNITS: ReadonlySet<string> = new Set(['patients', 'cases', 'people', 'studies']);

/** The evidence fields of one figure: interval, denominator, effect measure, source, certainty. */
function evidenceProblems(s: Statistic, path: string, isTreatment: (id: string) => boolean): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  const at = (field: string, message: string) => out.push({ path: `${path}/${field}`, message });
  const { interval } = s;
  if (interval !== null) {
    if (interval.low > interval.high) at('interval/low', `interval low (${interval.low}) is greater than high (${interval.high})`);
    if (s.value !== null && (s.value < interval.low || s.value > interval.high)) at('value', `value (${s.value}) lies outside its interval (${interval.low}–${interval.high})`);
    if (s.unit === '%' && (interval.low < 0 || interval.high > 100)) at('interval', 'a percentage interval must lie within 0-100');
  }
  if (s.events !== null) {
    if (s.sampleSize === null) at('events', 'events need the sampleSize they are counted in');
    else if (s.events > s.sampleSize) at('events', `events (${s.events}) exceed the sample size (${s.sampleSize})`);
    else if (s.estimateType === 'proportion' && s.unit === '%' && s.value !== null) {
      // Reported percentages are rounded; more than one point away means population and figure disagree.
      const computed = (100 * s.events) / s.sampleSize;
      if (Math.abs(computed - s.value) > 1) at('events', `events/sampleSize is ${computed.toFixed(1)}%, which disagrees with the value (${s.value}%)`);
    }
  }
  if (s.certainty !== 'not-assessed' && s.certaintyBasis === null) at('certaintyBasis', `certainty "${s.certainty}" needs a certaintyBasis (a rating reported by a named source, or the curators' reason)`);
  if (s.certainty === 'not-assessed' && s.certaintyBasis !== null) at('certaintyBasis', 'a certaintyBasis needs a certainty other than not-assessed');
  const ratio = RATIO_ESTIMATES.includes(s.estimateType);
  if (ratio && s.unit !== 'ratio') at('unit', `a ${s.estimateType} is a ratio: its unit must be "ratio", not "${s.unit}"`);
  if (!ratio && s.unit === 'ratio') at('unit', `unit "ratio" is only for risk-ratio, odds-ratio or hazard-ratio estimates, not ${s.estimateType}`);
  if ((ratio || s.estimateType === 'risk-difference') && s.comparedWith === null) at('comparedWith', `a ${s.estimateType} needs comparedWith (the comparison group)`);
  if (s.comparedWith?.treatment && !isTreatment(s.comparedWith.treatment)) at('comparedWith/treatment', `unknown treatment id "${s.comparedWith.treatment}"`);
  if (!citedIds(s.sources).includes(s.primarySource)) at('primarySource', `primarySource "${s.primarySource}" is not among the sources this statistic cites`);
  return out;
}


/** Sections whose items cite in blocks, and links to conditions with no file: worth a look, not an error. */
export function contentWarnings(corpus: Input[]): Problem[] {
  const warnings: Problem[] = [];
  const known = new Set(corpus.map((c) => c.content.id));
  for (const { file, content: c } of corpus) {
    const lists: { section: string; items: { sources: readonly CitationContent[] }[] }[] = [
      ...STATEMENT_SECTIONS.map(({ key }) => ({ section: key, items: c[key] })),
      { section: 'statistics', items: c.statistics },
    ];
    for (const { section, items } of lists) {
      const groups = new Map<string, number[]>();
      items.forEach((item, i) => {
        const ids = citedIds(item.sources);
        if (ids.length < BLOCK_MIN_SOURCES) return;
        const key = [...ids].sort().join(',');
        groups.set(key, [...(groups.get(key) ?? []), i]);
      });
      for (const [key, positions] of groups) {
        if (positions.length < BLOCK_MIN_ITEMS) continue;
        warnings.push({
          file,
          path: `/${section}`,
          message: `${positions.length} items (${positions.join(', ')}) cite the identical list ${key.split(',').join(', ')}: cite per item only the works that support it`,
        });
      }
    }
    c.related.forEach((r, i) => {
      if (!known.has(r.condition)) warnings.push({ file, path: `/related/${i}/condition`, message: `"${r.condition}" has no content file: the link renders with url null` });
    });
  }
  return warnings;
}

/** Four or more items of one section with the same three or more sources look like a citation block. */
const BLOCK_MIN_ITEMS = 4;
const BLOCK_MIN_SOURCES = 3;
