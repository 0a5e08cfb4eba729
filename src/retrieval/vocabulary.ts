/**
 * The consumer vocabulary: lay words and phrases mapped to the words the content uses ("survival
 * rate" → mortality, survival), applied to questions at query time. It is curated data, kept in
 * `db/content/_vocabulary.yaml` beside the condition files (files starting with `_` are shared
 * data, not conditions), validated by `kb validate`, and stored in the database by `kb build` so a
 * database file is self-contained.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { parse } from 'yaml';
import { fastParse } from '../content/fastYaml.js';

const Word = Type.String({ minLength: 1, maxLength: 60, pattern: '^[a-z0-9][a-z0-9 \'-]*$' });

export const VocabularySchema = Type.Object(
  {
    /** Words that carry no meaning in a question, beyond the standard English stop words. */
    ignore: Type.Array(Word, { maxItems: 500 }),
    /**
     * Each entry: phrases a person may use, and the content words they mean. A phrase found in a
     * question adds its terms to the search; the phrase's own words are kept too.
     */
    synonyms: Type.Array(
      Type.Object(
        {
          phrases: Type.Array(Word, { minItems: 1, maxItems: 40 }),
          terms: Type.Array(Word, { minItems: 1, maxItems: 20 }),
          note: Type.Optional(Type.String({ maxLength: 300 })),
        },
        { additionalProperties: false },
      ),
      { maxItems: 2000 },
    ),
  },
  { additionalProperties: false },
);
export type Vocabulary = Static<typeof VocabularySchema>;

export const EMPTY_VOCABULARY: Vocabulary = { ignore: [], synonyms: [] };
export const VOCABULARY_FILE = '_vocabulary.yaml';

const check = Compile(VocabularySchema);

/** Problems as `{ path, message }`, the shape content validation reports. */
export function vocabularyProblems(data: unknown): { path: string; message: string }[] {
  if (check.Check(data)) {
    const seen = new Map<string, number>();
    const problems: { path: string; message: string }[] = [];
    data.synonyms.forEach((entry, i) =>
      entry.phrases.forEach((phrase, j) => {
        const first = seen.get(phrase);
        if (first !== undefined && first !== i) problems.push({ path: `/synonyms/${i}/phrases/${j}`, message: `phrase "${phrase}" is already mapped in /synonyms/${first}` });
        seen.set(phrase, i);
      }),
    );
    return problems;
  }
  return [...check.Errors(data)].map((e) => ({ path: e.instancePath || '/', message: e.message }));
}

/** The vocabulary of a content folder; an empty one when the folder has none. Throws on an invalid file. */
export function loadVocabulary(contentDir: string): Vocabulary {
  const path = join(contentDir, VOCABULARY_FILE);
  if (!existsSync(path)) return EMPTY_VOCABULARY;
  const text = readFileSync(path, 'utf8');
  // js-yaml's fast path first, as the content files are read (src/content/fastYaml.ts; the same
  // data, tests/yaml-equivalence.test.ts compares every file of the content folder): `yaml`'s
  // parser was ~10% of a fresh clone's first start; it still reads a file js-yaml cannot.
  const data: unknown = fastParse(text)?.data ?? parse(text);
  const problems = vocabularyProblems(data);
  if (problems.length > 0 || !check.Check(data)) {
    throw new Error(`${VOCABULARY_FILE}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  }
  return data;
}

export function parseVocabulary(json: string | undefined): Vocabulary {
  if (json === undefined) return EMPTY_VOCABULARY;
  const data: unknown = JSON.parse(json);
  return check.Check(data) ? data : EMPTY_VOCABULARY;
}
