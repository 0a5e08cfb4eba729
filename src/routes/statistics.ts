/**
 * Statistics across conditions. Each statistic is shaped by the same presenter as the condition
 * document, so `/v1/statistics/{id}` and the `statistics` of its condition never disagree.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { CERTAINTY_LEVELS, CONFIDENCE_LEVELS, ENTITY_ID_PATTERN, ESTIMATE_TYPES, MEASURES, SLUG_PATTERN, SOURCE_KINDS, STUDY_DESIGNS } from '../content/schema.js';
import { DISCLAIMER } from '../content/licence.js';
import { paginate } from '../http/pagination.js';
import { BadRequest, NotFound } from '../http/problems.js';
import { CSV_TYPE, FHIR_TYPE, JSON_TYPE, alternatives, formatQuery } from '../http/media.js';
import { STATISTICS_CSV_HEADER, statisticsToCsv } from '../renderers/csv.js';
import { presentStatisticRecord } from '../repositories/statistics.js';
import { DEFAULT_LIMIT, StringEnum, listOf, pageQuery, problemResponses, ref } from '../schemas/common.js';
import { StatisticDocumentSchema, StatisticSchema } from '../schemas/statistic.js';
import { latestReviewed, sendRendered } from '../http/representations.js';
import { StatisticIdParam } from '../schemas/params.js';
import { createResponseCache, jsonResponse } from '../http/responseCache.js';

const CSV_CONTENT_TYPE = `${CSV_TYPE}; charset=utf-8; header=present`;
/** Statistics pages remembered per content epoch (src/http/responseCache.ts); one is ~10 KB. */
const REMEMBERED_RESPONSES = 256;

const routes: FastifyPluginAsyncTypebox = async (app) => {
  const { statistics, conditions } = app.repos;
  const responses = createResponseCache(app.db, REMEMBERED_RESPONSES);

  app.get(
    '/statistics',
    {
      config: { produces: [JSON_TYPE, CSV_TYPE] },
      schema: {
        operationId: 'listStatistics',
        tags: ['evidence'],
        summary: 'List statistics across conditions',
        description:
          'Typed, cited figures from every condition, ordered by id. Filters combine with AND. `studyType`, `yearFrom` and ' +
          '`yearTo` match the primary source (the work that produced the figure; one without a year never matches a year ' +
          'filter). `minConfidence` keeps that level and the better ones: high > medium > low > unknown. `minCertainty` ' +
          'does the same for the certainty of the evidence (high > moderate > low > very-low); figures not assessed never match it.\n\n' +
          '`Accept: text/csv` (or `?format=csv`) gives the same page as RFC 4180 CSV, one row per figure, with a header row: ' +
          STATISTICS_CSV_HEADER.map((h) => `\`${h}\``).join(', ') +
          '. Nested fields are flattened (`intervalLow`, `comparedWithLabel`, …), `sources` lists the cited ids separated by `;`, ' +
          'and an empty cell is null. Pagination is the same as for JSON: follow the `Link: rel="next"` header.',
        querystring: Type.Object(
          {
            ...pageQuery,
            ...formatQuery,
            condition: Type.Optional(Type.String({ pattern: SLUG_PATTERN, maxLength: 80, description: 'Condition id', examples: ['calciphylaxis'] })),
            treatment: Type.Optional(
              Type.String({
                pattern: ENTITY_ID_PATTERN,
                maxLength: 120,
                description: 'Treatment id: figures about that treatment',
                examples: ['calciphylaxis.treatment.sodium-thiosulfate'],
              }),
            ),
            measure: Type.Optional(
              StringEnum(MEASURES, {
                description: 'What the figure measures. `mortality` and `survival` are one outcome seen from two sides: either returns both, so conflicting or complementary estimates come together.',
                examples: ['mortality'],
              }),
            ),
            estimateType: Type.Optional(StringEnum(ESTIMATE_TYPES, { description: 'Kind of estimate, e.g. hazard-ratio for effect measures', examples: ['hazard-ratio'] })),
            studyDesign: Type.Optional(StringEnum(STUDY_DESIGNS, { description: 'Design of the study that produced the figure', examples: ['meta-analysis'] })),
            minCertainty: Type.Optional(
              StringEnum(
                CERTAINTY_LEVELS.filter((c) => c !== 'not-assessed'),
                { description: 'Lowest certainty of the evidence to include (high > moderate > low > very-low); not-assessed figures are excluded', examples: ['low'] },
              ),
            ),
            studyType: Type.Optional(StringEnum(SOURCE_KINDS, { description: 'Kind of the primary source', examples: ['meta-analysis'] })),
            yearFrom: Type.Optional(Type.Integer({ format: 'int32', minimum: 1000, maximum: 9999, description: 'The primary source was published in or after this year', examples: [2015] })),
            yearTo: Type.Optional(Type.Integer({ format: 'int32', minimum: 1000, maximum: 9999, description: 'The primary source was published in or before this year', examples: [2020] })),
            minConfidence: Type.Optional(
              StringEnum(CONFIDENCE_LEVELS, { description: 'Lowest curator confidence to include (high > medium > low > unknown)', examples: ['medium'] }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: alternatives(listOf(ref(StatisticSchema), { title: 'StatisticList' }), { csv: 'RFC 4180 CSV: a header row, then one row per statistic' }),
          ...problemResponses,
        },
      },
    },
    async (request, reply) => {
      const { limit = DEFAULT_LIMIT, cursor, yearFrom, yearTo, format: _format, ...filters } = request.query;
      if (yearFrom !== undefined && yearTo !== undefined && yearFrom > yearTo) {
        throw new BadRequest(`yearFrom (${yearFrom}) is after yearTo (${yearTo}); no source can match.`, [
          { path: '/querystring/yearFrom', message: 'must be <= yearTo' },
        ]);
      }
      // The whole response (bytes, ETag, Link) per URL and representation for the content epoch:
      // a page is one query, twenty presented figures, serialization and a hash (~0.6 ms), where
      // sending the remembered bytes costs what a cached document's section does.
      return responses.send(request, reply, () => {
        const page = paginate(request, reply, { cursor, limit }, (after, n) => statistics.list({ ...filters, yearFrom, yearTo, after, limit: n }), (r) => r.content.id);
        if (request.representation === CSV_TYPE) {
          const rows = page.data.map((r) => {
            const statistic = presentStatisticRecord(conditions, r);
            const primary = app.repos.sources.refs([statistic.primarySource])[0];
            return { statistic, context: { primary, lastReviewed: r.lastReviewed, disclaimer: DISCLAIMER } };
          });
          return { body: statisticsToCsv(rows), contentType: CSV_CONTENT_TYPE };
        }
        return jsonResponse(reply, {
          data: page.data.map((r) => presentStatisticRecord(conditions, r)),
          page: page.page,
          lastReviewed: latestReviewed(page.data.map((r) => r.lastReviewed)),
          disclaimer: DISCLAIMER,
        });
      });
    },
  );

  app.get(
    '/statistics/:id',
    {
      config: { produces: [JSON_TYPE, FHIR_TYPE] },
      schema: {
        operationId: 'getStatistic',
        tags: ['evidence'],
        summary: 'Get one statistic',
        description:
          'One typed, cited figure exactly as it appears in its condition document, with `lastReviewed` and a `disclaimer`. ' +
          '`Accept: application/fhir+json` (or `?format=fhir`) gives a FHIR R5 Bundle holding an `Evidence` and the `Citation` of its primary source: ' +
          'the statistic type, the value, its confidence interval (`attributeEstimate` with `level`), events (`numberAffected`) and sample size, ' +
          'the exposure and reference exposure of a comparison, the study design coded from the R5 study-design value set, and a certainty rating only when the certainty was assessed.',
        params: Type.Object({ id: StatisticIdParam }),
        querystring: Type.Object(formatQuery, { additionalProperties: false }),
        response: { 200: alternatives(StatisticDocumentSchema, { fhir: true }), ...problemResponses },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const rendered = app.representations.statistic(id, request.representation);
      if (!rendered) throw new NotFound(`No statistic with id "${id}".`);
      return sendRendered(reply, rendered);
    },
  );
};

export default routes;
