/**
 * Lookup by medical code: the conditions a code is mapped to (with how it matches) and, for drug
 * systems such as ATC, the treatments coded with it. Codes are read the way health records write
 * them (any case, with or without the ICD dot, `ORPHA:` prefixes), systems also by URI or OID,
 * and an ICD-10-CM code nothing is mapped to finds what is coded under it in the hierarchy.
 */
import type { Sqlite } from '../db/connection.js';
import { CODE_PATTERNS, CODE_SYSTEMS, type CODE_MATCHES, type Confidence } from '../content/schema.js';
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
  /** The code the item is coded with: the code looked up, or a narrower one under it. */
  codedWith: string;
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
  coded_with: string;
}

/** Prefixes that people write in front of the bare code of some systems (ORPHA:280062). */
const CURIE_PREFIXES: Partial<Record<CodeSystem, RegExp>> = {
  orphanet: /^ORPHA(?:NET)?:/i,
  mondo: /^MONDO:/i,
  doid: /^DOID:/i,
};

/**
 * Where the dot goes in codes of the classifications that have one, for codes written without it
 * (EHRs and claims often store `E8359` for E83.59): after the category, which is 3 characters
 * in ICD-10-CM and ICD-9-CM (4 for ICD-9-CM E codes, `E849.0`), and 4 in ICD-11 MMS.
 */
function categoryLength(system: CodeSystem, code: string): number | undefined {
  if (system === 'icd10cm') return 3;
  if (system === 'icd9cm') return code.startsWith('E') ? 4 : 3;
  if (system === 'icd11') return 4;
  return undefined;
}

/**
 * The code in its stored form: prefix stripped, upper case (every system's canonical form is upper
 * case; content validation enforces it), and for ICD codes the dot where it belongs (`e8359` →
 * `E83.59`). `wellFormed` says whether it could belong to the system.
 */
export function normalizeCode(system: CodeSystem, raw: string): { code: string; wellFormed: boolean } {
  const prefix = CURIE_PREFIXES[system];
  let code = (prefix ? raw.trim().replace(prefix, '') : raw.trim()).toUpperCase();
  const category = categoryLength(system, code);
  if (category !== undefined && !code.includes('.') && code.length > category) code = `${code.slice(0, category)}.${code.slice(category)}`;
  return { code, wellFormed: CODE_PATTERNS[system].test(code) };
}

/**
 * Code systems by the identifiers health records use for them: FHIR system URIs and HL7 OIDs
 * (bare or as `urn:oid:`), matched case-insensitively and without a trailing slash. Each was
 * checked against HL7 Terminology (THO) before it was listed here; systems without a verified
 * URI or OID are reachable by their short name only.
 * - ICD-10-CM: CodeSystem icd10CM, url http://hl7.org/fhir/sid/icd-10-cm, identifier
 *   urn:oid:2.16.840.1.113883.6.90 (THO CodeSystem-icd10CM).
 * - ICD-9-CM: CodeSystem ICD-9CM-diagnosiscodes, url http://hl7.org/fhir/sid/icd-9-cm, OID
 *   2.16.840.1.113883.6.103 (THO; the older http://terminology.hl7.org/CodeSystem/icd9cm, OID
 *   2.16.840.1.113883.6.2, is retired and also accepted, since older records carry it).
 * - SNOMED CT: NamingSystem v3-snomed-CT, URI http://snomed.info/sct, OID 2.16.840.1.113883.6.96.
 * - ATC: NamingSystem v3-WC (WHO ATC), URI http://www.whocc.no/atc, OID 2.16.840.1.113883.6.73.
 * - Orphanet: the HL7 Terminology Authority's record "Orphanet Nomenclature of Rare Diseases"
 *   endorses the URI https://www.orpha.net and lists no OID; FHIR implementation guides also
 *   use http://www.orpha.net (e.g. HL7 Czech DIGOVO), so both schemes are accepted. No OID.
 */
const SYSTEM_IDENTIFIERS: Record<string, CodeSystem> = {
  'http://hl7.org/fhir/sid/icd-10-cm': 'icd10cm',
  '2.16.840.1.113883.6.90': 'icd10cm',
  'http://hl7.org/fhir/sid/icd-9-cm': 'icd9cm',
  '2.16.840.1.113883.6.103': 'icd9cm',
  'http://terminology.hl7.org/codesystem/icd9cm': 'icd9cm',
  '2.16.840.1.113883.6.2': 'icd9cm',
  'http://snomed.info/sct': 'snomedct',
  '2.16.840.1.113883.6.96': 'snomedct',
  'http://www.whocc.no/atc': 'atc',
  '2.16.840.1.113883.6.73': 'atc',
  'https://www.orpha.net': 'orphanet',
  'http://www.orpha.net': 'orphanet',
};

/** The system URIs and OIDs accepted, for documentation and error messages. */
export const SYSTEM_IDENTIFIER_LIST = Object.keys(SYSTEM_IDENTIFIERS);

/** A short name (`icd10cm`), a system URI or an OID → the code system; undefined when unknown. */
export function resolveSystem(raw: string): CodeSystem | undefined {
  const given = raw.trim();
  const short = CODE_SYSTEMS.find((s) => s === given.toLowerCase());
  if (short) return short;
  const key = given.toLowerCase().replace(/^urn:oid:/, '').replace(/\/+$/, '');
  return SYSTEM_IDENTIFIERS[key];
}

/** A code without its dot, for prefix matching in the hierarchy (E83.5 → E835). */
const bare = (code: string) => code.replace('.', '');

// Treatment codes are always exact: a drug code names the drug itself. Keyset order is
// kind then id; `kind || ':' || id` sorts the same way because the two kinds differ in their
// first letter.
const MAPPINGS = `SELECT * FROM (
    SELECT 'condition' AS kind, c.id AS id, c.id AS condition_id, c.name, k.match, k.note, k.display, k.confidence, c.last_reviewed, upper(k.code) AS coded_with
      FROM condition_codes k JOIN conditions c ON c.id = k.condition_id
     WHERE k.system = @system AND upper(k.code) = @code
    UNION ALL
    SELECT 'treatment', t.id, t.condition_id, t.name, 'exact', NULL, min(k.display), NULL, c.last_reviewed, upper(min(k.code))
      FROM treatment_codes k JOIN statements t ON t.id = k.treatment_id JOIN conditions c ON c.id = t.condition_id
     WHERE k.system = @system AND upper(k.code) = @code
     GROUP BY t.id
  )`;

// ICD-10-CM writes its hierarchy into the codes: E83.59 is under E83.5, which is under E83. The
// conditions coded strictly under a code, each once (its lowest code under it; SQLite takes the
// other columns from that row). The looked-up code is wider than that child code, so a child
// mapped exact or broader is, from the parent, broader; a related or narrower child mapping says
// nothing precise about the parent, which is then only related.
const DESCENDANTS = `SELECT * FROM (
    SELECT 'condition' AS kind, c.id AS id, c.id AS condition_id, c.name,
           CASE WHEN k.match IN ('exact', 'broader') THEN 'broader' ELSE 'related' END AS match,
           k.note, k.display, k.confidence, c.last_reviewed, min(upper(k.code)) AS coded_with
      FROM condition_codes k JOIN conditions c ON c.id = k.condition_id
     WHERE k.system = 'icd10cm' AND replace(upper(k.code), '.', '') LIKE @prefix || '_%'
     GROUP BY c.id
  )`;

export function createCodesRepository(db: Sqlite) {
  const mappings = db.prepare<[{ system: string; code: string; after: string | null; limit: number }], Row>(
    `${MAPPINGS} WHERE @after IS NULL OR kind || ':' || id > @after ORDER BY kind || ':' || id LIMIT @limit`,
  );
  const descendants = db.prepare<[{ prefix: string; after: string | null; limit: number }], Row>(
    `${DESCENDANTS} WHERE @after IS NULL OR kind || ':' || id > @after ORDER BY kind || ':' || id LIMIT @limit`,
  );
  const known = db.prepare<[{ system: string; code: string }], { known: number }>(
    `SELECT EXISTS (SELECT 1 FROM condition_codes WHERE system = @system AND upper(code) = @code)
         OR EXISTS (SELECT 1 FROM treatment_codes WHERE system = @system AND upper(code) = @code) AS known`,
  );
  const knownBelow = db.prepare<[{ prefix: string }], { known: number }>(
    `SELECT EXISTS (SELECT 1 FROM condition_codes WHERE system = 'icd10cm' AND replace(upper(code), '.', '') LIKE @prefix || '_%') AS known`,
  );

  /** Whether the lookup of this code goes down the hierarchy: ICD-10-CM, and nothing carries the code itself. */
  const viaHierarchy = (system: CodeSystem, code: string) => system === 'icd10cm' && known.get({ system, code })?.known !== 1;

  return {
    /**
     * Mappings of a normalized code, ordered by kind then id; `after` is a `kind:id` key. When
     * nothing carries an ICD-10-CM code itself, the conditions coded under it (see DESCENDANTS).
     */
    mappings(system: CodeSystem, code: string, page: { after?: string; limit: number }): CodeMapping[] {
      const after = page.after ?? null;
      const rows = viaHierarchy(system, code)
        ? descendants.all({ prefix: bare(code), after, limit: page.limit })
        : mappings.all({ system, code, after, limit: page.limit });
      return rows.map((r) => ({
        kind: r.kind,
        id: r.id,
        conditionId: r.condition_id,
        name: r.name,
        match: r.match as CodeMapping['match'],
        note: r.note,
        display: r.display,
        confidence: r.confidence as Confidence | null,
        url: links.item(r.kind, r.id),
        codedWith: r.coded_with,
        lastReviewed: r.last_reviewed,
      }));
    },
    /** Whether anything at all carries this normalized code (or, for ICD-10-CM, a code under it). */
    isKnown(system: CodeSystem, code: string): boolean {
      if (known.get({ system, code })?.known === 1) return true;
      return system === 'icd10cm' && knownBelow.get({ prefix: bare(code) })?.known === 1;
    },
  };
}

export type CodesRepository = ReturnType<typeof createCodesRepository>;
