/**
 * Answers for requests that never reach Fastify's router: Node's HTTP parser refused them (bad
 * method, CR/LF/NUL or obs-fold in a header, a bad or doubled Content-Length, Content-Length with
 * Transfer-Encoding, raw non-ASCII bytes in the target, headers over 16 KB) or the client did not
 * send them in time. Node and Fastify answer those with an empty body or a JSON one of their own;
 * here they get the same RFC 9457 problem as every other error, a request id, and
 * `Connection: close` (after a parse error nothing more on the connection can be trusted).
 */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';

interface ClientErrorAnswer {
  status: number;
  title: string;
  type: string;
  detail: string;
}

const BAD = { status: 400, title: 'Bad Request', type: '/problems/bad-request' } as const;

/** What each llhttp / Node error code means for the client, in words. */
function answerFor(code: string, limits: { requestTimeoutMs: number; headersTimeoutMs: number }): ClientErrorAnswer {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: 408,
        title: 'Request Timeout',
        type: '/problems/request-timeout',
        detail: `The request was not received in time: headers must arrive within ${limits.headersTimeoutMs / 1000} s and the whole request within ${limits.requestTimeoutMs / 1000} s.`,
      };
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, title: 'Request Header Fields Too Large', type: '/problems/request-header-fields-too-large', detail: 'The request headers are larger than 16 KB in all.' };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, title: 'Content Too Large', type: '/problems/content-too-large', detail: 'The chunk extensions of the request body are too large.' };
    case 'HPE_INVALID_METHOD':
      return { ...BAD, detail: 'The request line is malformed or names a method this server does not know.' };
    case 'HPE_INVALID_URL':
      return { ...BAD, detail: 'The request target is malformed: bytes outside printable ASCII must be percent-encoded.' };
    case 'HPE_INVALID_VERSION':
      return { ...BAD, detail: 'The request line does not end with a valid HTTP version.' };
    case 'HPE_INVALID_HEADER_TOKEN':
    case 'HPE_INVALID_CHARACTER':
    case 'HPE_LF_EXPECTED':
    case 'HPE_CR_EXPECTED':
    case 'HPE_UNEXPECTED_SPACE':
      return { ...BAD, detail: 'A header holds a character HTTP does not allow there (a bare CR or LF, NUL, a control character, or a folded line).' };
    case 'HPE_INVALID_CONTENT_LENGTH':
      return { ...BAD, detail: 'Content-Length must be one non-negative integer.' };
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
    case 'HPE_INVALID_TRANSFER_ENCODING':
      return { ...BAD, detail: 'A request may carry Content-Length or Transfer-Encoding: chunked, not both, and no other transfer coding.' };
    case 'HPE_INVALID_CHUNK_SIZE':
      return { ...BAD, detail: 'The chunked request body is malformed.' };
    default:
      return { ...BAD, detail: 'The request is not valid HTTP/1.1.' };
  }
}

/** Whether a response on this socket has already started: then nothing more may be written. */
function responseStarted(socket: Socket): boolean {
  const inFlight: unknown = '_httpMessage' in socket ? socket._httpMessage : undefined;
  return inFlight !== null && typeof inFlight === 'object' && 'headersSent' in inFlight && inFlight.headersSent === true;
}

function codeOf(error: Error): string {
  return 'code' in error && typeof error.code === 'string' ? error.code : '';
}

/** The listener for the HTTP server's `clientError` event (plugins/client-errors.ts). */
export function createClientErrorHandler(limits: { requestTimeoutMs: number; headersTimeoutMs: number }, log: { debug: (obj: object, msg: string) => void }) {
  return (error: Error, socket: Socket): void => {
    const code = codeOf(error);
    if (code === 'ECONNRESET' || code === 'EPIPE' || socket.destroyed) return;
    const answer = answerFor(code, limits);
    const requestId = randomUUID();
    log.debug({ code, requestId, status: answer.status }, 'client error before routing');
    if (!socket.writable || responseStarted(socket)) {
      socket.destroy();
      return;
    }
    const detail = `${answer.detail}${code.startsWith('HPE_') ? ` (${code})` : ''}`;
    const body = JSON.stringify({ type: answer.type, title: answer.title, status: answer.status, detail, requestId });
    const head = [
      `HTTP/1.1 ${answer.status} ${answer.title}`,
      'Content-Type: application/problem+json',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Cache-Control: no-store',
      `X-Request-Id: ${requestId}`,
      'Connection: close',
    ].join('\r\n');
    // Flushed, then closed: a client that keeps the connection open cannot hold it.
    socket.end(`${head}\r\n\r\n${body}`, () => socket.destroy());
  };
}
