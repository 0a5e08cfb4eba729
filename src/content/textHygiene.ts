/**
 * Text that content may hold, checked in every string of a condition (kb validate and the write
 * API both reach it through validate.ts), and the one normal form it is stored in.
 *
 * Refused, each with the JSON pointer of the string and the character's position:
 * - lone surrogates (a UTF-16 half without its pair): not Unicode, so SQLite stores them as
 *   invalid UTF-8 and they come back as replacement characters, while the revision history kept
 *   the original; what was written and what is read would differ;
 * - NUL and the other C0 and C1 control characters (and DEL), except tab and newline: invisible,
 *   and raw in Markdown and terminals (an ESC starts a terminal escape sequence);
 * - the bidirectional embedding, override and isolate controls (the "Trojan Source" set): they
 *   make a name or a dose read differently from what it is. The plain direction marks (LRM, RLM,
 *   ALM) that right-to-left text needs are allowed.
 *
 * Stored in Unicode NFC, so that the same text typed on two systems (é as one code point, or as
 * e + combining accent) is the same bytes, the same ETag and the same search hit.
 */

export interface TextProblem {
  path: string;
  message: string;
}

const BIDI_CONTROLS: Record<number, string> = {
  0x202a: 'LEFT-TO-RIGHT EMBEDDING',
  0x202b: 'RIGHT-TO-LEFT EMBEDDING',
  0x202c: 'POP DIRECTIONAL FORMATTING',
  0x202d: 'LEFT-TO-RIGHT OVERRIDE',
  0x202e: 'RIGHT-TO-LEFT OVERRIDE',
  0x2066: 'LEFT-TO-RIGHT ISOLATE',
  0x2067: 'RIGHT-TO-LEFT ISOLATE',
  0x2068: 'FIRST STRONG ISOLATE',
  0x2069: 'POP DIRECTIONAL ISOLATE',
};

const hex = (cp: number) => `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;

/** JSON pointer segment escaping (RFC 6901). */
const segment = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/** The first forbidden character of `text` as a message, or undefined when the text is clean. */
export function textProblem(text: string): string | undefined {
  let position = 0;
  for (let i = 0; i < text.length; i++, position++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++; // a well-formed pair: one character
        continue;
      }
      return `contains a lone surrogate (${hex(unit)}) at character ${position + 1}: not valid Unicode text`;
    }
    if (unit >= 0xdc00 && unit <= 0xdfff) return `contains a lone surrogate (${hex(unit)}) at character ${position + 1}: not valid Unicode text`;
    if ((unit < 0x20 && unit !== 0x09 && unit !== 0x0a) || (unit >= 0x7f && unit <= 0x9f)) {
      return `contains the control character ${hex(unit)} at character ${position + 1} (only tab and newline are allowed)`;
    }
    const bidi = BIDI_CONTROLS[unit];
    if (bidi) return `contains the bidirectional control ${hex(unit)} (${bidi}) at character ${position + 1}, which makes text display differently from what it is`;
  }
  return undefined;
}

/**
 * Every code unit `textProblem` may refuse: the controls, the bidi set and every surrogate (a
 * well-formed pair matches too; `textProblem` then decides). A string without one is clean.
 */
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const SUSPECT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\ud800-\udfff]/;

/** Whether some string or key in `value` has a code unit worth a closer look (no paths built, nothing allocated). */
function hasSuspect(value: unknown): boolean {
  if (typeof value === 'string') return SUSPECT.test(value);
  if (Array.isArray(value)) {
    for (const item of value) if (hasSuspect(item)) return true;
    return false;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) if (SUSPECT.test(key) || hasSuspect(item)) return true;
  }
  return false;
}

/**
 * Every string in `value` (objects, arrays, nested) with a forbidden character, by JSON pointer.
 * Clean content (nearly all of it) is recognized by one regular expression per string; only
 * content with a suspect code unit is walked again building the pointers (`kb build` at 1,000
 * conditions: ~2 s of building pointers for nothing).
 */
export function textProblems(value: unknown, path = ''): TextProblem[] {
  return hasSuspect(value) ? problemsAt(value, path) : [];
}

function problemsAt(value: unknown, path: string): TextProblem[] {
  if (typeof value === 'string') {
    const message = textProblem(value);
    return message ? [{ path, message }] : [];
  }
  if (Array.isArray(value)) return value.flatMap((item, i) => problemsAt(item, `${path}/${i}`));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) => {
      const keyMessage = textProblem(key);
      return [...(keyMessage ? [{ path: `${path}/${segment(key)}`, message: `field name ${keyMessage}` }] : []), ...problemsAt(item, `${path}/${segment(key)}`)];
    });
  }
  return [];
}

/** Printable ASCII text (with tabs and line breaks) is NFC already: only the rest is handed to ICU. */
const NON_ASCII = /[^\x20-\x7e\t\n\r]/;
const nfc = (text: string) => (NON_ASCII.test(text) ? text.normalize('NFC') : text);

/**
 * `value` with every string (and key) in NFC; anything else is kept as it is. An object or array
 * whose strings are all NFC already (nearly all content) is returned itself, not copied: a copy
 * of every condition was ~1 s of `kb build` at 1,000 conditions, most of it garbage collection.
 * Only what changes is copied, key by key, `__proto__` staying an own key.
 */
export function normalizeText<T>(value: T): T;
export function normalizeText(value: unknown): unknown {
  if (typeof value === 'string') return nfc(value);
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const normalized = normalizeText(item);
      if (normalized !== item && out === undefined) out = value.slice(0, i);
      out?.push(normalized);
    }
    return out ?? value;
  }
  if (value !== null && typeof value === 'object') {
    const input = value as Record<string, unknown>;
    const keys = Object.keys(input);
    let out: Record<string, unknown> | undefined;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      const item = input[key];
      const normalized = normalizeText(item);
      const k = nfc(key);
      if ((normalized !== item || k !== key) && out === undefined) {
        out = {};
        for (let j = 0; j < i; j++) ownSet(out, keys[j] as string, input[keys[j] as string]);
      }
      if (out) ownSet(out, k, normalized);
    }
    return out ?? value;
  }
  return value;
}

/** `out[key] = item`, as an own property even for `__proto__` (as Object.fromEntries would). */
function ownSet(out: Record<string, unknown>, key: string, item: unknown): void {
  if (key === '__proto__') Object.defineProperty(out, key, { value: item, enumerable: true, writable: true, configurable: true });
  else out[key] = item;
}
