import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { BadRequest } from '../src/http/problems.js';
import { SearchQueryError, compileSearchQuery, isFtsQueryError, withQueryProblems } from '../src/search/query.js';

const fts = (q: string) => compileSearchQuery(q).expression;
const error = (q: string): string => {
  try {
    compileSearchQuery(q);
  } catch (e) {
    if (e instanceof SearchQueryError) return e.message;
    throw e;
  }
  throw new Error(`expected ${JSON.stringify(q)} to be rejected`);
};

describe('compileSearchQuery: accepted queries', () => {
  it.each([
    ['thiosulfate', '"thiosulfate"'],
    ['  Sodium   thiosulfate ', '"Sodium" AND "thiosulfate"'],
    ['"skin biopsy"', '"skin biopsy"'],
    ['thio*', '"thio"*'],
    ['"skin bio"*', '"skin bio"*'],
    ['sodium AND thiosulfate', '"sodium" AND "thiosulfate"'],
    ['sepsis OR gangrene', '"sepsis" OR "gangrene"'],
    ['ulcer NOT sepsis', '"ulcer" NOT "sepsis"'],
    ['ulcer AND NOT sepsis', '"ulcer" NOT "sepsis"'],
    ['(sepsis OR gangrene) NOT wound', '("sepsis" OR "gangrene") NOT "wound"'],
    ['a OR b NOT c', '"a" OR ("b" NOT "c")'],
    ['a b OR c', '("a" AND "b") OR "c"'],
    ['a (b OR c) d', '"a" AND ("b" OR "c") AND "d"'],
    ['((a))', '"a"'],
    ['a NOT b NOT c', '("a" NOT "b") NOT "c"'],
  ])('%s → %s', (q, expected) => {
    expect(fts(q)).toBe(expected);
  });

  it('turns words with punctuation into phrases of their parts, as the index tokenizer split them', () => {
    expect(fts('net-like')).toBe('"net like"');
    expect(fts('0.04')).toBe('"0 04"');
    expect(fts('e83.59')).toBe('"e83 59"');
    expect(fts('net-li*')).toBe('"net li"*');
    expect(fts('"title:foo"')).toBe('"title foo"');
    expect(fts('10:30')).toBe('"10 30"');
    expect(fts('Treatment: thiosulfate')).toBe('"Treatment" AND "thiosulfate"');
  });

  it('treats lowercase and/or/not and a NEAR without a group as words', () => {
    expect(fts('and or not')).toBe('"and" AND "or" AND "not"');
    expect(fts('NEAR sodium')).toBe('"NEAR" AND "sodium"');
    expect(fts('"sodium AND"')).toBe('"sodium AND"');
  });

  it('skips punctuation that stands alone and never lets a quote or operator through unquoted', () => {
    expect(fts("'; DROP TABLE statements; --")).toBe('"DROP" AND "TABLE" AND "statements"');
    expect(fts('sodium & thiosulfate')).toBe('"sodium" AND "thiosulfate"');
    expect(fts('a+b')).toBe('"a b"');
    expect(fts('foo"bar baz"')).toBe('"foo" AND "bar baz"');
  });

  it('keeps letters of any script and accepts typographic quotes', () => {
    expect(fts('café 日本語')).toBe('"café" AND "日本語"');
    expect(fts('\u201Cskin biopsy\u201D')).toBe('"skin biopsy"');
  });

  it('offers an any-term expression only for a plain list of two or more terms', () => {
    expect(compileSearchQuery('dialysis mortality').anyExpression).toBe('"dialysis" OR "mortality"');
    expect(compileSearchQuery('"skin biopsy" thio*').anyExpression).toBe('"skin biopsy" OR "thio"*');
    expect(compileSearchQuery('dialysis').anyExpression).toBeNull();
    expect(compileSearchQuery('net-like').anyExpression).toBeNull();
    expect(compileSearchQuery('dialysis AND mortality').anyExpression).toBeNull();
    expect(compileSearchQuery('(dialysis mortality)').anyExpression).toBeNull();
  });
});

describe('compileSearchQuery: rejected queries', () => {
  it.each([
    ['sodium AND', /AND needs a term after it/],
    ['sodium OR', /OR needs a term after it/],
    ['sodium NOT', /NOT needs a term after it/],
    ['OR sodium', /OR needs a term before it/],
    ['AND sodium', /AND needs a term before it/],
    ['NOT x', /NOT needs a term before it/],
    ['a AND OR b', /AND needs a term after it, not OR/],
    ['a OR NOT b', /OR needs a term after it, not NOT/],
    ['"unbalanced', /unbalanced quote/],
    ['"', /unbalanced quote/],
    ['""', /quoted phrase needs at least one word/],
    ['"-" a', /quoted phrase needs at least one word/],
    ['(a', /\( is never closed/],
    ['a OR (b', /\( is never closed/],
    ['a)', /\) without a matching \(/],
    [')', /\) without a matching \(/],
    ['()', /empty parentheses/],
    ['', /no words to search for/],
    ['   ', /no words to search for/],
    ['*', /no words to search for/],
    ['- & ;', /no words to search for/],
    ['\u0000', /no words to search for/],
    ['🙂', /no words to search for/],
    ['title:x', /column filters/],
    ['-body:x', /column filters/],
    ['title: x', /column filters/],
    ['{title body}: x', /column sets/],
    ['^sodium', /\^/],
    ['NEAR(a b)', /NEAR/],
    ['NEAR (a b, 3)', /NEAR/],
  ])('%j is rejected', (q, message) => {
    expect(error(q)).toMatch(message);
  });
});

describe('compiled expressions are valid FTS5', () => {
  const db = new Database(':memory:');
  db.exec("CREATE VIRTUAL TABLE t USING fts5(title, body, tokenize = 'porter unicode61 remove_diacritics 2')");
  db.prepare('INSERT INTO t (title, body) VALUES (?, ?)').run('Purple net-like patches', 'A skin biopsy of 0.04% of cases, E83.59 coded; café');
  const match = db.prepare<[string], { title: string }>('SELECT title FROM t WHERE t MATCH ?');

  it.each([
    'net-like',
    '"skin biopsy"',
    'bio*',
    'e83.59',
    '0.04',
    'cafe',
    'café',
    "'; DROP TABLE t; --",
    'purple OR (skin NOT nothing)',
    'a+b 10:30 e.f "g-h"* i\'j',
    'NEAR sodium',
  ])('%j runs without an SQLite error', (q) => {
    expect(() => match.all(fts(q))).not.toThrow();
  });

  it('never compiles a random string into an expression SQLite rejects', () => {
    // A fixed-seed generator over the characters that mean something to FTS5, so failures reproduce.
    const alphabet = ['a', 'b', 'é', '1', ' ', ' ', '"', '(', ')', '*', ':', '^', '{', '}', '-', '+', '.', "'", 'AND', 'OR', 'NOT', 'NEAR', ','];
    let seed = 42;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let compiled = 0;
    for (let i = 0; i < 3000; i++) {
      const q = Array.from({ length: 1 + Math.floor(next() * 10) }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
      let expression: string;
      try {
        expression = fts(q);
      } catch (e) {
        expect(e, q).toBeInstanceOf(SearchQueryError);
        continue;
      }
      compiled++;
      expect(() => match.all(expression), `${q} → ${expression}`).not.toThrow();
    }
    expect(compiled).toBeGreaterThan(300);
  });

  it('matches what the words mean', () => {
    expect(match.all(fts('net-like'))).toHaveLength(1);
    expect(match.all(fts('e83.59'))).toHaveLength(1);
    expect(match.all(fts('biopsies'))).toHaveLength(1);
    expect(match.all(fts('cafe'))).toHaveLength(1);
    expect(match.all(fts('"biopsy skin"'))).toHaveLength(0);
  });

  it('recognises SQLite FTS syntax errors, and only those', () => {
    const caught = (q: string): unknown => {
      try {
        match.all(q);
      } catch (e) {
        return e;
      }
      return undefined;
    };
    for (const raw of ['sodium AND', '"unbalanced', 'NOT x', '*']) expect(isFtsQueryError(caught(raw)), raw).toBe(true);
    expect(isFtsQueryError(new Error('fts5: syntax error'))).toBe(false);
    let other: unknown;
    try {
      db.prepare('SELECT nope FROM t').all();
    } catch (e) {
      other = e;
    }
    expect(isFtsQueryError(other)).toBe(false);
  });
});

describe('withQueryProblems', () => {
  it('turns a query error into a 400 problem naming /querystring/q', () => {
    let thrown: unknown;
    try {
      withQueryProblems(() => compileSearchQuery('sodium AND'));
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(BadRequest);
    expect((thrown as BadRequest).errors).toEqual([{ path: '/querystring/q', message: 'AND needs a term after it' }]);
  });

  it('lets other errors through unchanged', () => {
    const boom = new TypeError('boom');
    expect(() =>
      withQueryProblems(() => {
        throw boom;
      }),
    ).toThrow(boom);
  });
});
