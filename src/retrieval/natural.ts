/**
 * User text → what to search for. The default query mode of /v1/search, /v1/facts and /v1/context:
 * any text is accepted (punctuation and operator words are plain words), stop words and question
 * words are dropped, lay phrases are expanded through the consumer vocabulary, misspelt words are
 * corrected against the index's own terms, and a condition named in the question scopes it.
 *
 * The result is an FTS5 expression built from quoted prefix terms only ("diagnosed"* matches the
 * stems of diagnosis and diagnosed), so no user character reaches FTS5 as syntax.
 */
import { eng as ENGLISH_STOP_WORDS } from 'stopword';
import { distance } from 'fastest-levenshtein';
import type { Vocabulary } from './vocabulary.js';

/** Words that ask rather than say: dropped from questions along with the standard English stop words. */
const QUESTION_WORDS = [
  'what', 'whats', 'how', 'why', 'when', 'where', 'who', 'whom', 'which', 'whose', 'can', 'could', 'would', 'should', 'shall',
  'will', 'may', 'might', 'must', 'does', 'do', 'did', 'done', 'doing', 'is', 'are', 'was', 'were', 'be', 'been', 'being', 'am',
  'has', 'have', 'had', 'get', 'gets', 'got', 'getting', 'tell', 'explain', 'please', 'know', 'want', 'need', 'mean', 'means',
  'thing', 'things', 'something', 'anything', 'really', 'actually', 'much', 'many', 'lot', 'lots', 'kind', 'sort', 'type',
  'i', 'im', 'ive', 'me', 'my', 'mine', 'we', 'us', 'our', 'you', 'your', 'it', 'its', 'they', 'them', 'their', 'he', 'she',
  'him', 'her', 'his', 'someone', 'somebody', 'anyone', 'people', 'person', 'not', 'no', 'yes', 'and', 'or', 'but', 'if', 'so',
  'sure', 'think', 'usually', 'generally', 'also', 'there', 'here', 'this', 'that', 'these', 'those', 'about', 'with', 'without',
  'of', 'in', 'on', 'at', 'to', 'for', 'from', 'by', 'a', 'an', 'the', 'any', 'some', 'all', 'very', 'just', 'like', 'one',
];

/** Letters and digits runs, the pieces the index tokenizer keeps. */
const WORD = /[\p{L}\p{N}][\p{L}\p{N}\p{M}]*/gu;

export interface TermGroup {
  /** What the person wrote (a word, or a vocabulary phrase). */
  source: string;
  /** Index terms any of which stands for it (the word itself, its correction, a phrase's terms). */
  terms: string[];
  /** `phrase`: a word inside a vocabulary phrase, searched but not required (the phrase's terms stand for it). */
  origin: 'word' | 'corrected' | 'vocabulary' | 'phrase';
}

export interface NaturalQuery {
  groups: TermGroup[];
  /** OR of every group's terms; null when nothing is left to search for. */
  expression: string | null;
  /** Conditions the question names (by name or alias), in order of mention. */
  conditions: string[];
}

/** What the parser needs to know about the knowledge base. */
export interface QueryContext {
  vocabulary: Vocabulary;
  /** Lower-case condition names and aliases → condition id. */
  conditionNames: ReadonlyMap<string, string>;
  /** Whether some index term starts with this prefix. */
  hasPrefix(prefix: string): boolean;
  /** Index terms to correct a misspelt word against, with the number of rows holding each. */
  lexicon: readonly { term: string; rows: number }[];
}

export function wordsOf(text: string): string[] {
  const normalized = text
    .normalize('NFC')
    .toLowerCase()
    .replace(/[\u2018\u2019\u02BC]/g, "'")
    // "what's", "it's", "patient's": the part before the apostrophe is the word.
    .replace(/'(?:s|re|ve|ll|d|m|t)\b/g, '');
  return normalized.match(WORD) ?? [];
}

/** Phonetic-ish folding for spelling correction: ph/f, y/i, doubled letters. */
function fold(word: string): string {
  return word.replace(/ph/g, 'f').replace(/y/g, 'i').replace(/ck/g, 'k').replace(/(.)\1+/g, '$1');
}

function quote(term: string): string {
  // Terms hold only letters and digits (and single spaces in a phrase), so quoting is enough.
  return `"${term}"*`;
}

/** Longest phrase of `phrases` that starts at words[i], as [phrase, length]. */
function phraseAt(words: string[], i: number, phrases: ReadonlyMap<string, unknown>, longest: number): [string, number] | undefined {
  for (let n = Math.min(longest, words.length - i); n >= 1; n--) {
    const phrase = words.slice(i, i + n).join(' ');
    if (phrases.has(phrase)) return [phrase, n];
  }
  return undefined;
}

export function parseNaturalQuery(text: string, ctx: QueryContext): NaturalQuery {
  const words = wordsOf(text);
  const ignore = new Set([...ENGLISH_STOP_WORDS, ...QUESTION_WORDS, ...ctx.vocabulary.ignore]);
  const phraseTerms = new Map<string, string[]>();
  for (const entry of ctx.vocabulary.synonyms) for (const p of entry.phrases) phraseTerms.set(p, entry.terms);
  const longestPhrase = Math.max(1, ...[...phraseTerms.keys(), ...ctx.conditionNames.keys()].map((p) => p.split(' ').length));

  const groups: TermGroup[] = [];
  const conditions: string[] = [];
  const seen = new Set<string>();
  const add = (group: TermGroup) => {
    const key = group.terms.join('|');
    if (!seen.has(key)) groups.push(group);
    seen.add(key);
  };

  const singleNames = [...ctx.conditionNames].filter(([name]) => !name.includes(' ') && name.length >= 6).map(([name, id]) => [fold(name), id] as const);
  /** A misspelt one-word condition name ("calcifilaxis") still names the condition. */
  const fuzzyName = (word: string): string | undefined => {
    if (word.length < 6 || ctx.hasPrefix(word)) return undefined;
    const folded = fold(word);
    return singleNames.find(([name]) => distance(folded, name) <= (name.length >= 10 ? 2 : 1))?.[1];
  };

  let phraseEnd = 0;
  for (let i = 0; i < words.length; ) {
    const exact = phraseAt(words, i, ctx.conditionNames, longestPhrase);
    const fuzzy = exact ? undefined : fuzzyName(words[i] ?? '');
    const named: [string, number] | undefined = exact ?? (fuzzy === undefined ? undefined : [words[i] ?? '', 1]);
    if (named) {
      const id = ctx.conditionNames.get(named[0]) ?? fuzzy;
      if (id !== undefined && !conditions.includes(id)) conditions.push(id);
      // The first condition named scopes the question; others stay words to look for in it.
      if (conditions[0] !== id) add({ source: named[0], terms: wordsOf(named[0]).filter((w) => !ignore.has(w)), origin: 'word' });
      i += named[1];
      continue;
    }
    const phrase = phraseAt(words, i, phraseTerms, longestPhrase);
    if (phrase) {
      add({ source: phrase[0], terms: phraseTerms.get(phrase[0]) ?? [], origin: 'vocabulary' });
      // A one-word phrase ("outlook") is replaced by its terms; a longer one keeps its meaningful words.
      if (phrase[1] === 1) {
        i += 1;
        continue;
      }
      phraseEnd = i + phrase[1];
    }
    const word = words[i] ?? '';
    const inPhrase = i < phraseEnd;
    i += 1;
    if (ignore.has(word) || word.length < 2) continue;
    add(inPhrase ? { source: word, terms: [word], origin: 'phrase' } : correct(word, ctx));
  }
  const terms = [...new Set(groups.flatMap((g) => g.terms))].filter((t) => t.length > 0);
  return { groups, expression: terms.length ? terms.map((t) => quote(t)).join(' OR ') : null, conditions };
}

/**
 * A word the index knows (some term starts with its likely stem) stays as it is; otherwise the
 * closest index term by edit distance after folding, when close enough to be a slip.
 */
function correct(word: string, ctx: QueryContext): TermGroup {
  if (/\d/.test(word) || ctx.hasPrefix(word.slice(0, Math.max(4, word.length - 3)))) return { source: word, terms: [word], origin: 'word' };
  const folded = fold(word);
  // Short words have too many neighbours to guess between: only longer ones are corrected.
  const allowed = word.length >= 9 ? 2 : word.length >= 6 ? 1 : 0;
  let best: { term: string; d: number; rows: number } | undefined;
  if (allowed === 0) return { source: word, terms: [word], origin: 'word' };
  for (const { term, rows } of ctx.lexicon) {
    const t = fold(term);
    // Slips rarely touch the first letters; the index holds stems ("calciphylaxi"), up to 2 letters shorter.
    if (t.slice(0, 2) !== folded.slice(0, 2) || folded.length - t.length > 2 || t.length - folded.length > 2) continue;
    const d = Math.min(distance(folded, t), folded.length > t.length ? distance(folded.slice(0, t.length), t) : Infinity);
    if (d <= allowed && (best === undefined || d < best.d || (d === best.d && rows > best.rows))) best = { term, d, rows };
  }
  return best ? { source: word, terms: [best.term], origin: 'corrected' } : { source: word, terms: [word], origin: 'word' };
}
