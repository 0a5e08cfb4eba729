/**
 * Errors that routes throw; the errors plugin turns each into an RFC 9457 problem response.
 * Routes never build problem bodies themselves, so there is one error shape everywhere.
 */
export interface ProblemDetailItem {
  path: string;
  message: string;
}

export class HttpProblem extends Error {
  constructor(
    readonly statusCode: number,
    readonly type: string,
    readonly title: string,
    detail: string,
    readonly errors?: ProblemDetailItem[],
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail);
    this.name = 'HttpProblem';
  }
}

export class BadRequest extends HttpProblem {
  constructor(detail: string, errors?: ProblemDetailItem[]) {
    super(400, '/problems/bad-request', 'Bad Request', detail, errors);
  }
}

export class NotFound extends HttpProblem {
  constructor(detail: string) {
    super(404, '/problems/not-found', 'Not Found', detail);
  }
}

export class NotAcceptable extends HttpProblem {
  constructor(supported: readonly string[]) {
    super(406, '/problems/not-acceptable', 'Not Acceptable', `This resource is available as: ${supported.join(', ')}.`, undefined, {
      supported: [...supported],
    });
  }
}
