import type { RequestFailure } from './backend.js';

const TIMEOUT_ERRORS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

/** Errors that say the request itself is malformed, not that the backend failed. */
const REQUEST_ERRORS = new Set([
  'UND_ERR_INVALID_ARG',
  'UND_ERR_NOT_SUPPORTED',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
]);

export type FailureKind = RequestFailure | 'bad-request';

/**
 * Classifies an upstream error. `sent` tells whether the request reached a connected socket: before
 * that every transport error is a connect failure, so the request can go elsewhere unchanged.
 */
export function classifyUpstreamError(error: unknown, sent: boolean): FailureKind {
  const code = errorCode(error);
  if (code !== undefined && REQUEST_ERRORS.has(code)) return 'bad-request';
  if (!sent) return 'connect';
  if (code !== undefined && TIMEOUT_ERRORS.has(code)) return 'timeout';
  return 'reset';
}

export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const { code } = error;
  return typeof code === 'string' ? code : undefined;
}
