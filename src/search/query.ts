/**
 * The public search query language, compiled to an SQLite FTS5 MATCH expression.
 *
 * Grammar (operators are uppercase; lowercase `and`/`or`/`not` are ordinary words):
 *
 *   query   := or
 *   or      := and ( "OR" and )*
 *   and     := not ( ["AND"] not )*          adjacent terms are ANDed; `a AND NOT b` means `a NOT b`
 *   not     := operand ( "NOT" operand )*     binary, as in FTS5: `a NOT b`, never `NOT b` alone
 *   operand := "(" or ")" | '"' phrase '"' ["*"] | word ["*"]
 *
 * A word is any run of characters other than whitespace, quotes and parentheses; one made only of
 * punctuation (`-`, `&`) is skipped, as the index tokenizer would skip it.
 * Precedence is FTS5's: NOT binds tightest, then AND, then OR.
 *
 * The expression is rebuilt from scratch rather than passed through: every word and phrase is
 * reduced to its letter/digit runs and emitted as a double-quoted FTS5 string, and every operator
 * group is parenthesized. So no user character can reach FTS5 as syntax, and a word such as
 * `net-like`, `0.04` or `e83.59` becomes the phrase of its parts ("net like", "0 04", "e83 59"),
 * which is exactly how the index tokenizer split the stored text. What FTS5 syntax we do not offer
 * (column filters, `{...}` column sets, `^` initial-token matches, `NEAR(...)`) and what cannot be
 * compiled (an unbalanced quote or parenthesis, a dangling operator, nothing left to search for) is
 * a `SearchQueryError`, which routes turn into a 400 problem.
 */
import { BadRequest } from '../http/problems.js';

export class SearchQueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SearchQueryError';
  }
}

export type QueryNode =
  | { type: 'term'; parts: string[]; prefix: boolean }
  | { type: 'and'; children: QueryNode[] }
  | { type: 'or'; children: QueryNode[] }
  | { type: 'not'; include: QueryNode; exclude: QueryNode };

export interface CompiledQuery {
  /** The FTS5 MATCH expression. */
  expression: string;
  /**
   * The same terms ORed, offered only for a plain list of two or more terms (no operators, no
   * parentheses): callers may fall back to it when the AND of the terms matches nothing. A query
   * with explicit operators is taken literally.
   */
  anyExpression: string | null;
  ast: QueryNode;
}

type Operator = 'AND' | 'OR' | 'NOT';
type Token =
  | { type: 'term'; parts: string[]; prefix: boolean }
  | { type: 'op'; op: Operator }
  | { type: 'lparen' }
  | { type: 'rparen' };

/**
 * Runs of letters and digits (with any combining marks after them): the pieces the unicode61
 * tokenizer keeps. Everything else separates tokens, so dropping it loses nothing searchable.
 */
const PART = /[\p{L}\p{N}][\p{L}\p{N}\p{M}]*/gu;
const SPACE = /\s/u;
/** `title:foo`, `-body:foo`: an FTS5 column filter, not a word with a colon in it. */
const COLUMN_FILTER = /^-?[\p{L}_][\p{L}\p{N}_]*:\S/u;
/** `title: foo`: the filter and its operand written apart. Only the index's own column names. */
const COLUMN_NAME = /^-?(?:title|body|kind|entity_id|condition_id):$/iu;
const OPERATORS: ReadonlySet<string> = new Set<Operator>(['AND', 'OR', 'NOT']);

function partsOf(text: string): string[] {
  return text.match(PART) ?? [];
}

function tokenize(input: string): Token[] {
  // Typographic quotes are what a phone keyboard or a word processor inserts for `"`.
  const text = input.normalize('NFC').replace(/[\u201C\u201D\u201E\u201F\u2033]/g, '"');
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text.charAt(i);
    if (SPACE.test(ch)) {
      i += 1;
    } else if (ch === '(') {
      tokens.push({ type: 'lparen' });
      i += 1;
    } else if (ch === ')') {
      tokens.push({ type: 'rparen' });
      i += 1;
    } else if (ch === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) throw new SearchQueryError('unbalanced quote: a phrase opened with " is never closed');
      const parts = partsOf(text.slice(i + 1, end));
      if (parts.length === 0) throw new SearchQueryError('a quoted phrase needs at least one word');
      i = end + 1;
      const prefix = text.charAt(i) === '*';
      if (prefix) i += 1;
      tokens.push({ type: 'term', parts, prefix });
    } else {
      let end = i;
      while (end < text.length && !SPACE.test(text.charAt(end)) && !'"()'.includes(text.charAt(end))) end += 1;
      const word = text.slice(i, end);
      i = end;
      if (OPERATORS.has(word)) {
        tokens.push({ type: 'op', op: word as Operator });
        continue;
      }
      if (word === 'NEAR' && text.slice(i).trimStart().startsWith('(')) {
        throw new SearchQueryError('NEAR(...) groups are not supported; use a "quoted phrase" for words that belong together');
      }
      if (/[{}]/.test(word)) throw new SearchQueryError('{ } column sets are not supported; search covers names and text together');
      if (word.includes('^')) throw new SearchQueryError('^ (match at the start of a column) is not supported');
      if (COLUMN_FILTER.test(word) || COLUMN_NAME.test(word)) {
        throw new SearchQueryError(`column filters such as "${word.slice(0, word.indexOf(':') + 1)}" are not supported; search covers names and text together`);
      }
      const parts = partsOf(word);
      // Punctuation on its own (`-`, `&`, `*`) carries nothing searchable: skip it, like the tokenizer does.
      if (parts.length > 0) tokens.push({ type: 'term', parts, prefix: word.endsWith('*') });
    }
  }
  return tokens;
}

class Parser {
  private pos = 0;

  constructor(private readonly tokens: Token[]) {}

  parse(): QueryNode {
    if (this.tokens.length === 0) throw new SearchQueryError('no words to search for (letters or digits are needed)');
    const node = this.parseOr();
    const next = this.peek();
    if (next?.type === 'rparen') throw new SearchQueryError('unbalanced parenthesis: ) without a matching (');
    if (next) throw new SearchQueryError('unexpected text after the end of the query');
    return node;
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private isOp(op: Operator): boolean {
    const t = this.peek();
    return t?.type === 'op' && t.op === op;
  }

  private startsOperand(): boolean {
    const t = this.peek();
    return t?.type === 'term' || t?.type === 'lparen';
  }

  private parseOr(): QueryNode {
    const children = [this.parseAnd()];
    while (this.isOp('OR')) {
      this.pos += 1;
      children.push(this.parseAnd('OR'));
    }
    return group('or', children);
  }

  private parseAnd(after?: Operator): QueryNode {
    const children = [this.parseNot(after)];
    for (;;) {
      if (this.isOp('AND')) {
        this.pos += 1;
        if (this.isOp('NOT')) {
          // `a AND NOT b` is how people write `a NOT b`; FTS5 has no unary NOT, and the sets are equal.
          this.pos += 1;
          const last = children.pop() as QueryNode;
          children.push(this.parseNotTail({ type: 'not', include: last, exclude: this.parseOperand('NOT') }));
        } else {
          children.push(this.parseNot('AND'));
        }
      } else if (this.startsOperand()) {
        children.push(this.parseNot());
      } else {
        return group('and', children);
      }
    }
  }

  private parseNot(after?: Operator): QueryNode {
    return this.parseNotTail(this.parseOperand(after));
  }

  private parseNotTail(left: QueryNode): QueryNode {
    let node = left;
    while (this.isOp('NOT')) {
      this.pos += 1;
      node = { type: 'not', include: node, exclude: this.parseOperand('NOT') };
    }
    return node;
  }

  /** `after` names the operator just read, for a message that says what is missing. */
  private parseOperand(after?: Operator): QueryNode {
    const t = this.peek();
    if (t === undefined || t.type === 'rparen') {
      if (after) throw new SearchQueryError(`${after} needs a term after it`);
      // The query is not empty (parse() checked), so running out here means a group left open.
      throw new SearchQueryError(t ? 'unbalanced parenthesis: ) without a matching (' : 'unbalanced parenthesis: ( is never closed');
    }
    if (t.type === 'op') {
      if (after) throw new SearchQueryError(`${after} needs a term after it, not ${t.op}`);
      if (t.op === 'NOT') throw new SearchQueryError('NOT needs a term before it: write "a NOT b" (there is no NOT on its own)');
      throw new SearchQueryError(`${t.op} needs a term before it`);
    }
    this.pos += 1;
    if (t.type === 'term') return { type: 'term', parts: t.parts, prefix: t.prefix };
    if (this.peek()?.type === 'rparen') throw new SearchQueryError('empty parentheses: put at least one term inside ( )');
    const inner = this.parseOr();
    if (this.peek()?.type !== 'rparen') throw new SearchQueryError('unbalanced parenthesis: ( is never closed');
    this.pos += 1;
    return inner;
  }
}

/** Flattens `a AND (b AND c)` into one group, and a group of one into its child. */
function group(type: 'and' | 'or', children: QueryNode[]): QueryNode {
  const flat = children.flatMap((c) => (c.type === type ? c.children : [c]));
  return flat.length === 1 ? (flat[0] as QueryNode) : { type, children: flat };
}

function termToFts(parts: string[], prefix: boolean): string {
  // Parts hold only letters, digits and marks, so they need no escaping inside an FTS5 string.
  return `"${parts.join(' ')}"${prefix ? '*' : ''}`;
}

export function toFts(node: QueryNode, top = true): string {
  let text: string;
  switch (node.type) {
    case 'term':
      return termToFts(node.parts, node.prefix);
    case 'and':
      text = node.children.map((c) => toFts(c, false)).join(' AND ');
      break;
    case 'or':
      text = node.children.map((c) => toFts(c, false)).join(' OR ');
      break;
    case 'not':
      text = `${toFts(node.include, false)} NOT ${toFts(node.exclude, false)}`;
      break;
  }
  return top ? text : `(${text})`;
}

/** Compiles user input; throws `SearchQueryError` (a 400 for the client) when it cannot be searched. */
export function compileSearchQuery(input: string): CompiledQuery {
  const tokens = tokenize(input);
  const ast = new Parser(tokens).parse();
  const terms = tokens.filter((t): t is Extract<Token, { type: 'term' }> => t.type === 'term');
  const plain = terms.length >= 2 && terms.length === tokens.length;
  return {
    expression: toFts(ast),
    anyExpression: plain ? terms.map((t) => termToFts(t.parts, t.prefix)).join(' OR ') : null,
    ast,
  };
}

/**
 * SQLite's messages for a MATCH expression it cannot parse. The compiler above should never emit
 * one; this is the net under it, so that a gap in the compiler is a 400, not a 500.
 */
export function isFtsQueryError(error: unknown): boolean {
  if (!(error instanceof Error) || error.name !== 'SqliteError') return false;
  return /^(?:fts5:|unterminated string|unknown special query|malformed MATCH expression)/.test(error.message);
}

/**
 * Runs `fn` and turns a `SearchQueryError` (from compiling, or from SQLite via a repository) into
 * the 400 problem every route that takes a search query answers with.
 */
export function withQueryProblems<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof SearchQueryError) {
      throw new BadRequest(`The search query is not valid: ${error.message}.`, [{ path: '/querystring/q', message: error.message }]);
    }
    throw error;
  }
}
