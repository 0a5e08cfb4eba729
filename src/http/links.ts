/**
 * Every URL the API emits, built here from the route prefix: resource links in bodies (`url`,
 * `related[].url`, `citedBy[].url`, search hits, the change feed), `Location` and
 * `Content-Location` of writes, and the `@id`s and `url`s of the JSON-LD and FHIR renderings.
 * Repositories return plain data (ids, kinds, sections); the presenters add links from here, so
 * moving a route or the prefix is a change to one file.
 */
import type { EntityType } from '../content/schema.js';

/** The prefix every content route is registered under (src/app.ts). */
export const API_PREFIX = '/v1';

const segment = (value: string) => encodeURIComponent(value);
/** Stored section keys (camelCase) → URL section names (kebab-case). */
const sectionSegment = (key: string) => key.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`);

export const links = {
  condition: (id: string) => `${API_PREFIX}/conditions/${segment(id)}`,
  /** One section of a condition document; `section` as stored (`riskFactors`) or as in URLs (`risk-factors`). */
  section: (conditionId: string, section: string) => `${API_PREFIX}/conditions/${segment(conditionId)}/${sectionSegment(section)}`,
  conditionCode: (conditionId: string, system: string, code: string) => `${API_PREFIX}/conditions/${segment(conditionId)}/codes/${system}/${segment(code)}`,
  fact: (id: string) => `${API_PREFIX}/facts/${segment(id)}`,
  treatment: (id: string) => `${API_PREFIX}/treatments/${segment(id)}`,
  statistic: (id: string) => `${API_PREFIX}/statistics/${segment(id)}`,
  source: (id: string) => `${API_PREFIX}/sources/${segment(id)}`,
  /** The path form of a code lookup; `code` as stored (upper case, with the ICD dot). */
  code: (system: string, code: string) => `${API_PREFIX}/codes/${segment(system)}/${segment(code)}`,

  /**
   * The resource that serves an item in full. Treatments and statistics have their own endpoints
   * with more fields; every other statement is served as a fact.
   */
  item: (kind: 'condition' | 'treatment' | 'statistic' | 'statement', id: string): string => {
    switch (kind) {
      case 'condition':
        return links.condition(id);
      case 'treatment':
        return links.treatment(id);
      case 'statistic':
        return links.statistic(id);
      case 'statement':
        return links.fact(id);
    }
  },

  /** The resource of a change-feed entity (a statement that is a treatment is served as one). */
  entity: (type: EntityType, id: string): string => {
    switch (type) {
      case 'condition':
        return links.condition(id);
      case 'statistic':
        return links.statistic(id);
      case 'source':
        return links.source(id);
      case 'statement':
        return links.item(id.split('.')[1] === 'treatment' ? 'treatment' : 'statement', id);
    }
  },

  /** Where a citing entity of a source is served (see SourcesRepository.citedBy). */
  citing: (type: 'statement' | 'statistic' | 'summary' | 'related', id: string, conditionId: string, section: string | null): string => {
    if (type === 'statistic') return links.statistic(id);
    if (type === 'statement' && section === 'treatments') return links.treatment(id);
    // Other statements are served in their section.
    if (type === 'statement' && section !== null) return links.section(conditionId, section);
    return links.condition(conditionId);
  },

  /** An absolute URL when a base is configured (JSON-LD, FHIR); the path alone otherwise. */
  absolute: (baseUrl: string | undefined, path: string): string => (baseUrl ? `${baseUrl.replace(/\/+$/, '')}${path}` : path),
};
