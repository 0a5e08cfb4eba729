/**
 * Reads and validates condition content files. Every problem is reported as
 * `file:path: message` (with the YAML line where one can be found), and nothing is built
 * unless the whole corpus is valid.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { LineCounter, parseDocument, isNode } from 'yaml';
import { Compile } from 'typebox/compile';
import type { TLocalizedValidationError } from 'typebox/error';
import { ConditionContentSchema, type ConditionContent } from './schema.js';
import { referentialProblems } from './validate.js';
import { normalizeText } from './textHygiene.js';
import { fastParse } from './fastYaml.js';
import { VOCABULARY_FILE, vocabularyProblems } from '../retrieval/vocabulary.js';

export interface ContentProblem {
  file: string;
  path: string;
  message: string;
  line?: number;
}

export interface LoadedCondition {
  file: string;
  content: ConditionContent;
}

export class ContentError extends Error {
  constructor(readonly problems: ContentProblem[]) {
    super(`${problems.length} content problem(s):\n${problems.map(formatProblem).join('\n')}`);
    this.name = 'ContentError';
  }
}

export function formatProblem(p: ContentProblem): string {
  return `${p.file}:${p.path || '/'}: ${p.message}${p.line ? ` (line ${p.line})` : ''}`;
}

/** Compiled on first use (~40 ms): a server started on a built database may never check a condition. */
const compileCondition = () => Compile(ConditionContentSchema);
let compiledCondition: ReturnType<typeof compileCondition> | undefined;
const checkCondition = () => (compiledCondition ??= compileCondition());

/** Condition file names, sorted so that builds are deterministic. Files starting with `_` are shared data (the vocabulary). */
export function listContentFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name) && !name.startsWith('_'))
    .sort()
    .map((name) => join(dir, name));
}

function pointerSegments(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/**
 * TypeBox reports one error per failed branch of a union; collapse them to one line per path
 * ("must be number or null") and turn `additionalProperties: false` into "unknown field".
 */
function schemaMessages(errors: TLocalizedValidationError[]): { path: string; message: string }[] {
  const byPath = new Map<string, string[]>();
  const add = (path: string, message: string) => {
    const list = byPath.get(path) ?? [];
    if (!list.includes(message)) list.push(message);
    byPath.set(path, list);
  };
  for (const e of errors) {
    if (e.keyword === 'anyOf') continue;
    if (e.keyword === 'boolean') continue; // reported by its additionalProperties parent
    const params = e.params as Record<string, unknown>;
    if (e.keyword === 'additionalProperties') {
      for (const name of (params.additionalProperties as string[] | undefined) ?? []) add(`${e.instancePath}/${name}`, 'unknown field');
    } else if (e.keyword === 'required') {
      for (const name of (params.requiredProperties as string[] | undefined) ?? []) add(`${e.instancePath}/${name}`, 'required field is missing');
    } else if (e.keyword === 'enum') {
      add(e.instancePath, `must be one of: ${(params.allowedValues as unknown[]).join(', ')}`);
    } else {
      add(e.instancePath, e.message);
    }
  }
  return [...byPath].map(([path, messages]) => ({ path, message: messages.join(' or ') }));
}

export interface ParsedFile {
  file: string;
  data: unknown;
  problems: ContentProblem[];
  lineOf: (path: string) => number | undefined;
}

/**
 * Reads one file. With `fast` (the default) js-yaml reads it (src/content/fastYaml.ts) and `yaml`
 * only when asked for a line number, so the node tree of a valid file is never built; without it,
 * or when js-yaml cannot read the file, `yaml`'s `parseDocument` reads it and reports its errors.
 */
export function parseContentFile(path: string, label = basename(path), fast = true): ParsedFile {
  const text = readFileSync(path, 'utf8');
  // Built on first use: a valid file never needs its nodes, and keeping 1,000 node trees alive
  // (one per file, for line numbers) made garbage collection a third of `kb build`.
  let composed: { doc: ReturnType<typeof parseDocument>; lineCounter: LineCounter } | undefined;
  const compose = () => {
    if (composed) return composed;
    const lineCounter = new LineCounter();
    composed = { doc: parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true }), lineCounter };
    return composed;
  };
  const lineOf = (pointer: string): number | undefined => {
    const { doc, lineCounter } = compose();
    const segments = pointerSegments(pointer);
    // Walk up to the nearest existing node: a missing field is reported at its parent's line.
    for (let n = segments.length; n >= 0; n--) {
      const node = doc.getIn(
        segments.slice(0, n).map((s) => (/^\d+$/.test(s) ? Number(s) : s)),
        true,
      );
      if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
    }
    return undefined;
  };
  const quick = fast ? fastParse(text) : undefined;
  // Stored as NFC whatever the editor wrote (textHygiene.ts); checks run on what is stored.
  if (quick) return { file: label, data: normalizeText<unknown>(quick.data), problems: [], lineOf };
  const { doc } = compose();
  if (doc.errors.length > 0) {
    return {
      file: label,
      data: undefined,
      lineOf,
      problems: doc.errors.map((e) => ({
        file: label,
        path: '',
        message: `invalid YAML: ${e.message.split('\n')[0]}`,
        line: e.linePos?.[0].line,
      })),
    };
  }
  return { file: label, data: normalizeText<unknown>(doc.toJS()), problems: [], lineOf };
}

/** One condition file read and checked against the schema: its content, or what is wrong with it. */
export interface CheckedFile {
  file: string;
  lineOf: (path: string) => number | undefined;
  problems: ContentProblem[];
  content?: ConditionContent;
}

/** Reads one condition file and checks its shape (the per-file half of loadContent; `kb build` runs it in a worker). */
export function checkContentFile(path: string, label: string, fast = true): CheckedFile {
  const parsed = parseContentFile(path, label, fast);
  if (parsed.problems.length > 0) return { file: parsed.file, lineOf: parsed.lineOf, problems: parsed.problems };
  if (!checkCondition().Check(parsed.data)) {
    const problems = schemaMessages(checkCondition().Errors(parsed.data)).map(({ path: p, message }) => ({ file: parsed.file, path: p, message, line: parsed.lineOf(p) }));
    return { file: parsed.file, lineOf: parsed.lineOf, problems };
  }
  return { file: parsed.file, lineOf: parsed.lineOf, problems: [], content: parsed.data };
}

/** The label a problem in `path` is reported under. */
export const fileLabel = (path: string, labelBase = process.cwd()): string => relative(labelBase, path) || basename(path);

/**
 * The checks that need the whole corpus (the corpus-wide half of loadContent): the shared
 * vocabulary file, and cross-references between conditions.
 */
export function corpusProblems(dir: string, loaded: LoadedCondition[], lineOfByFile: ReadonlyMap<string, (path: string) => number | undefined>, labelBase = process.cwd(), fast = true): ContentProblem[] {
  const problems: ContentProblem[] = [];
  const vocabularyPath = join(dir, VOCABULARY_FILE);
  if (existsSync(vocabularyPath)) {
    const parsed = parseContentFile(vocabularyPath, fileLabel(vocabularyPath, labelBase), fast);
    problems.push(...parsed.problems);
    if (parsed.problems.length === 0) {
      for (const p of vocabularyProblems(parsed.data)) problems.push({ file: parsed.file, path: p.path, message: p.message, line: parsed.lineOf(p.path) });
    }
  }
  if (problems.length === 0) {
    for (const p of referentialProblems(loaded)) {
      problems.push({ ...p, line: lineOfByFile.get(p.file)?.(p.path) });
    }
  }
  return problems;
}

/**
 * Loads every content file of `dir`, checks shapes and cross-references, and returns the corpus
 * or throws a ContentError listing every problem found.
 */
export function loadContent(dir: string, labelBase = process.cwd(), fast = true): LoadedCondition[] {
  const problems: ContentProblem[] = [];
  const loaded: LoadedCondition[] = [];
  const lineOfByFile = new Map<string, (path: string) => number | undefined>();
  for (const path of listContentFiles(dir)) {
    const checked = checkContentFile(path, fileLabel(path, labelBase), fast);
    lineOfByFile.set(checked.file, checked.lineOf);
    if (checked.content) loaded.push({ file: checked.file, content: checked.content });
    else problems.push(...checked.problems);
  }
  // The vocabulary is checked whatever the condition files hold; cross-references only when they are all valid.
  const vocabularyOnly = problems.length > 0;
  for (const p of corpusProblems(dir, vocabularyOnly ? [] : loaded, lineOfByFile, labelBase, fast)) problems.push(p);
  // Every problem is reported as `yaml` reads the files: the fast path only ever decides that a
  // corpus is valid (the same data, tests/yaml-equivalence.test.ts), never what is wrong with it.
  if (problems.length > 0 && fast) return loadContent(dir, labelBase, false);
  if (problems.length > 0) throw new ContentError(problems);
  return loaded;
}
