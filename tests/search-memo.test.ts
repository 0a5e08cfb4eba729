/**
 * Search, /v1/facts?q= and /v1/context remember their answers for the current content epoch
 * (src/search/memo.ts), and their whole responses as bytes with their ETag (src/http/responseCache.ts).
 * A remembered answer must never outlive the content it came from: after a write, the same request
 * answers from the new content (checked by pinning the response cache to one epoch: this fails).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCurationApp, type CurationContext } from './writes/helpers.js';

const FACT = '/v1/facts/calciphylaxis.symptom.livedo-patches';
// An invented word, so that only the edited text can match it.
const WORD = 'zorblaxine';
const TEXT = `Net-like purple patches; ${WORD} marks this edit for the search test.`;

describe('remembered search answers follow writes', () => {
  let ctx: CurationContext;
  beforeAll(async () => {
    ctx = await buildCurationApp();
  });
  afterAll(() => ctx.close());

  const ids = async (url: string): Promise<string[]> => {
    const res = await ctx.app.inject({ url });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ data?: { id: string }[]; facts?: { id: string }[] }>();
    return (body.data ?? body.facts ?? []).map((h) => h.id);
  };

  it('the same request before and after a PATCH: the new text is found, in every mode', async () => {
    const urls = [`/v1/search?q=${WORD}`, `/v1/search?syntax=fts&q=${WORD}`, `/v1/facts?q=${WORD}`, `/v1/context?q=${WORD}%20patches`];
    for (const url of urls) expect(await ids(url)).not.toContain('calciphylaxis.symptom.livedo-patches');
    // Asked twice, so the first answer is the remembered one.
    for (const url of urls) expect(await ids(url)).not.toContain('calciphylaxis.symptom.livedo-patches');
    const res = await ctx.send({ method: 'PATCH', url: FACT, payload: { text: TEXT }, headers: { 'if-match': await ctx.etag(FACT) } });
    expect(res.statusCode).toBe(200);
    for (const url of urls) expect(await ids(url)).toContain('calciphylaxis.symptom.livedo-patches');
  });
});
