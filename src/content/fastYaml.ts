/**
 * A fast path for reading content files. `yaml`'s `parseDocument` (which keeps every node and its
 * position, for line numbers in error messages) took ~35 ms per condition file, most of `kb build`
 * at 1,000 conditions; js-yaml builds plain objects 6–9× faster. The two must never disagree on
 * what a file means, so:
 *
 * - js-yaml runs with a schema that resolves plain scalars exactly as `yaml`'s default YAML 1.2
 *   core schema does (the same regular expressions and conversions, copied from
 *   yaml/dist/schema/core and common/null), and nothing else: no timestamps, no `<<` merges, no
 *   binary, sets or ordered maps, no YAML 1.1 forms (`0b101`, `-0x1`, `1_000`, `yes`), all of
 *   which js-yaml's own default schema would turn into something `yaml` does not;
 * - anything js-yaml rejects, and anything that is not a valid condition afterwards, is read again
 *   by `yaml` (src/content/load.ts), whose results and messages are the ones reported;
 * - tests/yaml-equivalence.test.ts parses every content file and the bench corpus with both and
 *   asserts deep equality, along with the scalar forms where js-yaml's defaults differ.
 */
import { FAILSAFE_SCHEMA, Type, load } from 'js-yaml';

const nullType = new Type('tag:yaml.org,2002:null', {
  kind: 'scalar',
  resolve: (data: string | null) => data === null || /^(?:~|[Nn]ull|NULL)?$/.test(data),
  construct: () => null,
});

const boolType = new Type('tag:yaml.org,2002:bool', {
  kind: 'scalar',
  resolve: (data: string | null) => data !== null && /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/.test(data),
  construct: (data: string) => data[0] === 't' || data[0] === 'T',
});

// yaml: intOct /^0o[0-7]+$/, int /^[-+]?[0-9]+$/, intHex /^0x[0-9a-fA-F]+$/, each parseInt(str.substring(offset), radix).
const intForms: [RegExp, number, number][] = [
  [/^0o[0-7]+$/, 2, 8],
  [/^[-+]?[0-9]+$/, 0, 10],
  [/^0x[0-9a-fA-F]+$/, 2, 16],
];
const intType = new Type('tag:yaml.org,2002:int', {
  kind: 'scalar',
  resolve: (data: string | null) => data !== null && intForms.some(([re]) => re.test(data)),
  construct: (data: string) => {
    const form = intForms.find(([re]) => re.test(data));
    return form ? parseInt(data.substring(form[1]), form[2]) : NaN;
  },
});

const floatNaN = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const floatExp = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const floatPlain = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;
const floatType = new Type('tag:yaml.org,2002:float', {
  kind: 'scalar',
  resolve: (data: string | null) => data !== null && (floatNaN.test(data) || floatExp.test(data) || floatPlain.test(data)),
  construct: (data: string) =>
    floatNaN.test(data) ? (data.slice(-3).toLowerCase() === 'nan' ? NaN : data[0] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY) : parseFloat(data),
});

/** `yaml`'s core schema: strings, sequences and maps (failsafe) plus null, bool, int and float, in its order. */
export const CORE_SCHEMA = FAILSAFE_SCHEMA.extend({ implicit: [nullType, boolType, intType, floatType] });

/**
 * A collection as a mapping key (`? [a, b]`, `[a, b]: c`): js-yaml makes it `"a,b"`, `yaml` makes
 * it `"[ a, b ]"`. No content file has one (every key is a fixed name), but those are left to
 * `yaml` anyway. The test is loose: a text that merely looks like one is only read more slowly.
 */
const COMPLEX_KEY = /^[ \t-]*\?(?:[ \t]|$)|[\]}][ \t]*:(?:[ \t]|$)/m;

/** The file's data as `yaml` would give it, or undefined when js-yaml cannot read it (let `yaml` say why). */
export function fastParse(text: string): { data: unknown } | undefined {
  if (COMPLEX_KEY.test(text)) return undefined;
  try {
    return { data: load(text, { schema: CORE_SCHEMA, json: false }) };
  } catch {
    return undefined;
  }
}
