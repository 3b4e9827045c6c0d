import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { FerryError } from '../errors/ferry-error.js';
import type { Logger } from '../lib/logger.js';
import type { ErrorResponse } from './types.js';

/**
 * Errors become HTTP statuses here, at the edge, and nowhere else. Every error the API answers,
 * those raised before authentication and routing included, is Ferry's envelope with a catalog code.
 */

/** The longest path parameter (an app name, a deployment id) a route accepts. */
export const MAX_PARAM_LENGTH = 100;

/** The envelope of one error. */
export function errorBody(error: FerryError): ErrorResponse {
  return { error: { code: error.code, message: error.message, details: { ...error.details } } };
}

/** The error handler of every route (and of the not-found handler). */
export function errorHandler(logger: Logger) {
  return (error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const ferry = toFerryError(error);
    if (ferry.httpStatus >= 500 && ferry.code === 'FERRY_E_INTERNAL')
      logger.error({ err: error, url: request.url }, 'internal error');
    return reply.status(ferry.httpStatus).send(errorBody(ferry));
  };
}

function toFerryError(error: FastifyError | Error): FerryError {
  if (error instanceof FerryError) return error;
  const fastify = error as FastifyError;
  switch (fastify.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new FerryError(
        'FERRY_E_BODY_TOO_LARGE',
        'request body is larger than the API accepts (64 KiB; 1 MiB for a configuration, 2 MiB for a targets report)',
        { expected: 'at most 64 KiB (1 MiB for a configuration, 2 MiB for a targets report)' },
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new FerryError(
        'FERRY_E_UNSUPPORTED_MEDIA_TYPE',
        'request body: expected Content-Type application/json',
        { expected: 'application/json' },
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new FerryError(
        'FERRY_E_USAGE',
        'request body: expected a JSON object, got an empty body with Content-Type application/json',
        { expected: 'a JSON object', got: 'an empty body' },
      );
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new FerryError(
        'FERRY_E_USAGE',
        'request body: expected a JSON object, got text that is not valid JSON (or has a __proto__ or constructor key)',
        { expected: 'a JSON object', got: 'invalid JSON' },
      );
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new FerryError('FERRY_E_USAGE', 'request body: its size does not match Content-Length');
  }
  if (fastify.statusCode !== undefined && fastify.statusCode >= 400 && fastify.statusCode < 500)
    return new FerryError('FERRY_E_USAGE', `bad request: ${error.message}`);
  // Internal details stay in the daemon's log; the client gets a stable code.
  return new FerryError('FERRY_E_INTERNAL', 'internal error; see the daemon log');
}

/**
 * Fastify's own errors before routing: a path parameter over MAX_PARAM_LENGTH, a path that is not
 * valid percent-encoding. The path is not quoted back: it may be anything.
 */
export function frameworkErrors(
  error: FastifyError,
  _request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const ferry =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new FerryError(
          'FERRY_E_URL_TOO_LONG',
          `request path: expected path parameters of at most ${MAX_PARAM_LENGTH} characters, got a longer one`,
          { expected: `at most ${MAX_PARAM_LENGTH} characters` },
        )
      : new FerryError(
          'FERRY_E_USAGE',
          'request path: expected a valid URL path (percent-encoding), got one that is not',
        );
  return reply.status(ferry.httpStatus).send(errorBody(ferry));
}

/**
 * What Node's HTTP parser refuses before there is a request: headers (the URL included) over its
 * limit, a request not sent in time, bytes that are not HTTP. Answered on the socket, which is
 * then closed, as Node does.
 */
export function clientErrorHandler(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const ferry =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? new FerryError(
          'FERRY_E_HEADERS_TOO_LARGE',
          `request: expected a URL and headers of at most ${maxHeaderSize / 1024} KiB, got more`,
          { expected: `at most ${maxHeaderSize} bytes` },
        )
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new FerryError('FERRY_E_REQUEST_TIMEOUT', 'request: not received in time')
        : new FerryError(
            'FERRY_E_USAGE',
            'request: expected an HTTP/1.1 request, got bytes that are not one',
          );
  const body = JSON.stringify(errorBody(ferry));
  if (socket.writable) {
    const status = ferry.httpStatus;
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
