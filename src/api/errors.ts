import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { FerryError } from '../errors/ferry-error.js';
import type { Logger } from '../lib/logger.js';
import type { ErrorResponse } from './types.js';

/** Errors become HTTP statuses here, at the edge, and nowhere else. */
export function errorHandler(logger: Logger) {
  return (error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const ferry = toFerryError(error);
    if (ferry.httpStatus >= 500 && ferry.code === 'FERRY_E_INTERNAL')
      logger.error({ err: error, url: request.url }, 'internal error');
    const body: ErrorResponse = {
      error: { code: ferry.code, message: ferry.message, details: safeDetails(ferry) },
    };
    return reply.status(ferry.httpStatus).send(body);
  };
}

function toFerryError(error: FastifyError | Error): FerryError {
  if (error instanceof FerryError) return error;
  const fastify = error as FastifyError;
  if (fastify.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return new FerryError(
      'FERRY_E_BODY_TOO_LARGE',
      'request body is larger than the API accepts (64 KiB; 1 MiB for a configuration)',
    );
  if (fastify.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
    return new FerryError('FERRY_E_USAGE', 'request body: expected application/json');
  if (fastify.statusCode === 400) return new FerryError('FERRY_E_USAGE', `bad request: ${error.message}`);
  if (fastify.statusCode === 404) return new FerryError('FERRY_E_USAGE', error.message);
  // Internal details stay in the daemon's log; the client gets a stable code.
  return new FerryError('FERRY_E_INTERNAL', 'internal error; see the daemon log');
}

function safeDetails(error: FerryError): Record<string, unknown> {
  const { ...details } = error.details;
  return details;
}
