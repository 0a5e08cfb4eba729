/**
 * One error shape everywhere: RFC 9457 `application/problem+json`. Validation failures list each
 * problem in `errors[]`; 5xx details are logged and never sent.
 */
import fp from 'fastify-plugin';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { HttpProblem, type ProblemDetailItem } from '../http/problems.js';
import type { Problem } from '../schemas/common.js';
import { storageProblemFor } from './storage.js';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  507: 'Insufficient Storage',
};

function slug(title: string): string {
  return title.toLowerCase().replace(/[^a-z]+/g, '-');
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, problem: Omit<Problem, 'instance' | 'requestId'>): FastifyReply {
  const body: Problem = { ...problem, instance: request.url.split('?')[0], requestId: request.id };
  // X-Request-Id here too: router failures (414, a malformed URL) are answered before the
  // onRequest hook that sets it on every other response.
  return reply.code(problem.status).type('application/problem+json').header('cache-control', 'no-store').header('x-request-id', request.id).send(body);
}

/** Fastify's `frameworkErrors`: router-level failures (malformed URL, over-long parameter) as problems too. */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendProblem(request, reply, {
    type: error.statusCode === 414 ? '/problems/uri-too-long' : '/problems/bad-request',
    title: error.statusCode === 414 ? 'URI Too Long' : 'Bad Request',
    status: error.statusCode ?? 400,
    detail: error.statusCode === 414 ? 'A path parameter is longer than 200 characters.' : 'The request URL is malformed.',
  });
}

/** Ajv errors → `{ path, message }` with the request part first: `/querystring/limit`. */
function validationItems(error: FastifyError): ProblemDetailItem[] {
  const context = error.validationContext ?? 'request';
  return (error.validation ?? []).map((v) => {
    const params = v.params as Record<string, unknown>;
    if (v.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
      return { path: `/${context}${v.instancePath}/${params.additionalProperty}`, message: 'unknown parameter' };
    }
    if (v.keyword === 'required' && typeof params.missingProperty === 'string') {
      return { path: `/${context}${v.instancePath}/${params.missingProperty}`, message: 'is required' };
    }
    if (v.keyword === 'enum' && Array.isArray(params.allowedValues)) {
      return { path: `/${context}${v.instancePath}`, message: `must be one of: ${params.allowedValues.join(', ')}` };
    }
    return { path: `/${context}${v.instancePath}`, message: v.message ?? 'is invalid' };
  });
}

export default fp(
  async (app) => {
    app.setErrorHandler((thrown: FastifyError, request, reply) => {
      // A storage failure (full disk, read-only or damaged file) is a 503/507 that says so, never a 500.
      const error = storageProblemFor(request.server, thrown) ?? thrown;
      if (error instanceof HttpProblem) {
        return sendProblem(request, reply, {
          type: error.type,
          title: error.title,
          status: error.statusCode,
          detail: error.message,
          ...(error.errors ? { errors: error.errors } : {}),
          ...error.extra,
        });
      }
      if (error.validation) {
        const errors = validationItems(error);
        return sendProblem(request, reply, {
          type: '/problems/validation-error',
          title: 'Bad Request',
          status: 400,
          detail: `The request is not valid: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}.`,
          errors,
        });
      }
      const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
      if (status >= 500) {
        request.log.error({ err: error }, 'unhandled error');
        return sendProblem(request, reply, {
          type: '/problems/internal-error',
          title: TITLES[500] ?? 'Internal Server Error',
          status: 500,
          detail: 'Something went wrong on our side. The request id identifies it in our logs.',
        });
      }
      // Fastify's own 4xx errors (bad JSON, body too large, bad media type): their messages are safe.
      const title = TITLES[status] ?? 'Client Error';
      return sendProblem(request, reply, { type: `/problems/${slug(title)}`, title, status, detail: error.message });
    });
  },
  { name: 'errors' },
);
