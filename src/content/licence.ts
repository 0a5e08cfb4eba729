/** Served by /v1/meta and stored with every build so that copies of the database carry it. */
export const LICENCE_TEXT =
  'Content text: CC BY 4.0, written by the project contributors. Facts and figures belong to the works cited with them; ' +
  'no source text is reproduced. Code: Apache-2.0.';

export const ATTRIBUTION_TEXT =
  'Condition Knowledge API contributors. When you show this content, keep each statement with its citation and show the ' +
  'last-reviewed date and the disclaimer.';

export const DISCLAIMER =
  'For information only; not medical advice, diagnosis or treatment. Ask a qualified clinician about any health concern.';
