/**
 * Short citations for display next to a statement: "Udomkarnjananun et al., 2019, systematic review".
 * Built only from what the source record holds, so an unknown author or year is simply absent.
 */
import type { SourceContent } from './schema.js';

const KIND_LABEL: Record<SourceContent['kind'], string> = {
  'meta-analysis': 'meta-analysis',
  'systematic-review': 'systematic review',
  'randomized-trial': 'randomized trial',
  'cross-sectional-study': 'cross-sectional study',
  registry: 'registry',
  review: 'review',
  'case-series': 'case series',
  'cohort-study': 'cohort study',
  'case-report': 'case report',
  guideline: 'guideline',
  article: 'article',
  'reference-website': 'website',
  database: 'database',
  unknown: 'study not identified',
};

function surname(author: string): string {
  // Authors are stored as "Surname Initials"; keep the surname only.
  return author.split(' ')[0] ?? author;
}

export function shortCitation(s: Pick<SourceContent, 'authors' | 'label' | 'title' | 'year' | 'kind'>): string {
  let who: string;
  if (s.authors.length >= 3) who = `${surname(s.authors[0] ?? '')} et al.`;
  else if (s.authors.length === 2) who = `${surname(s.authors[0] ?? '')} and ${surname(s.authors[1] ?? '')}`;
  else if (s.authors.length === 1) who = surname(s.authors[0] ?? '');
  else who = s.label ?? s.title ?? 'Unidentified source';
  return [who, s.year === null ? null : String(s.year), KIND_LABEL[s.kind]].filter((p) => p !== null).join(', ');
}

/** A link a reader can follow: the recorded URL, else the DOI resolver; never a guessed address. */
export function sourceUrl(s: Pick<SourceContent, 'url' | 'doi'>): string | null {
  return s.url ?? (s.doi ? `https://doi.org/${s.doi}` : null);
}
