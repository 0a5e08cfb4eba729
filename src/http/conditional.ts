/**
 * Preconditions on entity tags, as RFC 9110 defines them (§8.8.3 entity tags, §13.1.1 If-Match,
 * §13.1.2 If-None-Match, §13.2 evaluation). Pure functions: plugins/http-caching.ts applies them
 * to GET and HEAD, the write service to writes.
 *
 * - If-None-Match uses the weak comparison (§13.1.2: "A recipient MUST use the weak comparison
 *   function when comparing entity tags for If-None-Match"): `W/"x"` matches `"x"`.
 * - If-Match uses the strong comparison (§13.1.1): a weak tag never matches.
 * - `*` is the whole field value, never a list member: it asks whether a current representation
 *   exists. For If-None-Match that makes the condition false on any existing resource (§13.1.2),
 *   so a GET gets 304.
 * - If-Modified-Since and If-Unmodified-Since are ignored: this API sends no Last-Modified, and a
 *   recipient MUST ignore them when the resource has no modification date (§13.1.3, §13.1.4).
 */

/** One entity tag as sent: `W/"abc"` → { weak: true, opaque: 'abc' }. */
export interface EntityTag {
  weak: boolean;
  opaque: string;
}

// entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; etagc = %x21 / %x23-7E / obs-text (§8.8.3). A comma
// is a legal etagc, so a list cannot be split on commas; this reads one tag at a time.
const TAG = /[ \t]*(W\/)?"([\x21\x23-\x7E\x80-\xFF]*)"[ \t]*(?:,|$)/y;

/**
 * The field value as `*` or a list of tags; null when it is not valid syntax. Empty list members
 * (`"a", , "b"`) are allowed, as for every list field (§5.6.1).
 */
export function parseEntityTags(value: string): '*' | EntityTag[] | null {
  if (value.trim() === '*') return '*';
  const tags: EntityTag[] = [];
  let at = 0;
  while (at < value.length) {
    // Skip empty list members.
    const empty = /[ \t]*,/y;
    empty.lastIndex = at;
    if (empty.exec(value)) {
      at = empty.lastIndex;
      continue;
    }
    if (value.slice(at).trim() === '') break;
    TAG.lastIndex = at;
    const match = TAG.exec(value);
    if (!match) return null;
    tags.push({ weak: match[1] !== undefined, opaque: match[2] ?? '' });
    at = TAG.lastIndex;
  }
  return tags.length > 0 ? tags : null;
}

function parseOwn(etag: string): EntityTag {
  const parsed = parseEntityTags(etag);
  if (parsed === null || parsed === '*' || parsed.length !== 1 || !parsed[0]) throw new Error(`not a single entity tag: ${etag}`);
  return parsed[0];
}

/**
 * Whether If-None-Match lets the method proceed (true) or the condition is false (a GET or HEAD
 * then gets 304, any other method 412). `current` is the ETag of the selected representation.
 * A field that is not valid syntax is ignored: the client then simply gets the full response.
 */
export function ifNoneMatchPasses(field: string, current: string): boolean {
  const tags = parseEntityTags(field);
  if (tags === null) return true;
  if (tags === '*') return false;
  const own = parseOwn(current);
  return !tags.some((t) => t.opaque === own.opaque);
}

/**
 * Whether If-Match lets the method proceed: `*` passes on any existing resource; otherwise one
 * listed tag must match strongly (both strong, same opaque tag). Invalid syntax matches nothing.
 */
export function ifMatchPasses(field: string, current: string): boolean {
  const tags = parseEntityTags(field);
  if (tags === '*') return true;
  if (tags === null) return false;
  const own = parseOwn(current);
  return !own.weak && tags.some((t) => !t.weak && t.opaque === own.opaque);
}
