/**
 * Lookup by medical code: the conditions a code is mapped to (with how it matches) and, for drug
 * systems such as ATC, the treatments coded with it.
 */
import type { Sqlite } from '../db/connection.js';
import { CODE_PATTERNS, type CODE_MATCHES, type CODE_SYSTEMS, type Confidence } from '../content/schema.js';
import { links } from '../http/links.js';

export type CodeSystem = (typeof CODE_SYSTEMS)[number];

export interface CodeMapping {
  kind: 'condition' | 'treatment';
  id: string;
  conditionId: string;
  name: string;
  match: (typeof CODE_MATCHES)[number];
  note: string | null;
  display: string | null;
  confidence: Confidence | null;
  url: string;
  lastReviewed: string;
}

interface Row {
  kind: 'condition' | 'treatment';
  id: string;
  condition_id: string;
  name: string;
  match: string;
  note: string | null;
  display: string | null;
  confidence: string | null;
  last_reviewed: string;
}

/** Prefixes that people write in front of the bare code of some systems (ORPHA:280062). */
const CURIE_PREFIXES: Partial<Record<CodeSystem, RegExp>> = {
  orphanet: /^ORPHA(?:NET)?:/i,
  mondo: /^MONDO:/i,
  doid: /^DOID:/i,
};

/**
 * The code in its stored form: prefix stripped, upper case (every system's canonical form is upper
 * case; content validation enforces it). `wellFormed` says whether it could belong to the system.
 */
export function normalizeCode(system: CodeSystem, raw: string): { code: string; wellFormed: boolean } {
  const prefix = CURIE_PREFIXES[system];
  const code = (prefix ? raw.trim().replace(prefix, '') : raw.trim()).toUpperCase();
  return { code, wellFormed: CODE_PATTERNS[system].test(code) };
}

// Treatment codes are always exact: a drug code names the drug itself. Keyset order is
// kind then id; `kind || ':' || id` sorts the same way because the two kinds differ in their
// first letter.
const MAPPINGS = `SELECT * FROM (
    SELECT 'condition' AS kind, c.id AS id, c.id AS condition_id, c.name, k.match, k.note, k.display, k.confidence, c.last_reviewed
      FROM condition_codes k JOIN conditions c ON c.id = k.condition_id
     WHERE k.system = @system AND upper(k.code) = @code
    UNION ALL
    SELECT 'treatment', t.id, t.condition_id, t.name, 'exact', NULL, min(k.display), NULL, c.last_reviewed
      FROM treatment_codes k JOIN statements t ON t.id = k.treatment_id JOIN conditions c ON c.id = t.condition_id
     WHERE k.system = @system AND upper(k.code) = @code
     GROUP BY t.id
  )`;

export function createCodesRepository(db: Sqlite) {
  const mappings = db.prepare<[{ system: string; code: string; after: string | null; limit: number }], Row>(
    `${MAPPINGS} WHERE @after IS NULL OR kind || ':' || id > @after ORDER BY kind || ':' || id LIMIT @limit`,
  );
  const known = db.prepare<[{ system: string; code: string }], { known: number }>(
    `SELECT EXISTS (SELECT 1 FROM condition_codes WHERE system = @system AND upper(code) = @code)
         OR EXISTS (SELECT 1 FROM treatment_codes WHERE system = @system AND upper(code) = @code) AS known`,
  );

  return {
    /** Mappings of a normalized code, ordered by kind then id; `after` is a `kind:id` key. */
    mappings(system: CodeSystem, code: string, page: { after?: string; limit: number }): CodeMapping[] {
      return mappings.all({ system, code, after: page.after ?? null, limit: page.limit }).map((r) => ({
        kind: r.kind,
        id: r.id,
        conditionId: r.condition_id,
        name: r.name,
        match: r.match as CodeMapping['match'],
        note: r.note,
        display: r.display,
        confidence: r.confidence as Confidence | null,
        url: links.item(r.kind, r.id),
        lastReviewed: r.last_reviewed,
      }));
    },
    /** Whether anything at all carries this normalized code. */
    isKnown(system: CodeSystem, code: string): boolean {
      return known.get({ system, code })?.known === 1;
    },
  };
}

export type CodesRepository = ReturnType<typeof createCodesRepository>;
