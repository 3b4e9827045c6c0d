import {
  EtcdAuthenticationFailedError,
  EtcdInvalidAuthTokenError,
  EtcdLeaseInvalidError,
  EtcdPermissionDeniedError,
  GRPCCancelledError,
  GRPCDeadlineExceededError,
  GRPCInvalidArgumentError,
  GRPCUnauthenticatedError,
  GRPCUnavailableError,
  ClientClosedError,
} from 'etcd3';
import { FerryError, messageOf } from '../../../errors/ferry-error.js';

/** Which etcd a store talks to, as errors name it: endpoints and key prefix, never credentials. */
export interface EtcdPlace {
  /** host:port, comma-separated. */
  readonly endpoints: string;
  readonly prefix: string;
  readonly timeoutMs: number;
}

/** The client failed to reach etcd, or etcd did not answer in time. */
export function isUnreachable(error: unknown): boolean {
  return (
    error instanceof GRPCUnavailableError ||
    error instanceof GRPCDeadlineExceededError ||
    error instanceof GRPCCancelledError ||
    error instanceof ClientClosedError ||
    // cockatiel's BrokenCircuitError: the client stopped calling an etcd that kept failing.
    (error instanceof Error && (error as { isBrokenCircuitError?: unknown }).isBrokenCircuitError === true)
  );
}

/**
 * Unavailable before the call was sent (no connection to any endpoint): a write can be retried on
 * another endpoint without risk of applying it twice. Any other failure of a write is ambiguous.
 */
export function isUnsent(error: unknown): boolean {
  return error instanceof GRPCUnavailableError && error.message.includes('No connection established');
}

export function isLeaseNotFound(error: unknown): boolean {
  return error instanceof EtcdLeaseInvalidError;
}

/**
 * How an etcd failure of `operation` reads to users: every one a FerryError with a catalog code.
 * `write`: the operation changes keys, so a lost answer leaves its outcome unknown.
 */
export function toEtcdStoreError(
  error: unknown,
  place: EtcdPlace,
  operation: string,
  write = false,
): FerryError {
  if (error instanceof FerryError) return error;
  const where = `etcd at ${place.endpoints}`;
  const details = { where: place.endpoints, prefix: place.prefix };
  const reason = shortReason(error);
  if (isUnreachable(error)) {
    return new FerryError(
      'FERRY_E_STORE_UNREACHABLE',
      `cannot ${operation}: ${where} cannot be reached or did not answer within ${place.timeoutMs}ms ` +
        `(${reason})${write ? '; the write may or may not have been applied: read to find out' : ''}`,
      { ...details, expected: 'an etcd that answers', got: reason },
      { cause: error },
    );
  }
  if (
    error instanceof EtcdAuthenticationFailedError ||
    error instanceof EtcdInvalidAuthTokenError ||
    error instanceof EtcdPermissionDeniedError ||
    error instanceof GRPCUnauthenticatedError
  ) {
    return new FerryError(
      'FERRY_E_STORE',
      `cannot ${operation}: ${where} refused the store's credentials (${reason}); check the user and ` +
        `password of the store URL and that the user may read and write keys under ${place.prefix || '/'}`,
      details,
      { cause: error },
    );
  }
  if (error instanceof GRPCInvalidArgumentError) {
    return new FerryError(
      'FERRY_E_STORE_REQUEST_INVALID',
      `cannot ${operation}: ${where} refused the request (${reason})`,
      { ...details, got: reason },
      { cause: error },
    );
  }
  return new FerryError('FERRY_E_STORE', `cannot ${operation}: ${where} failed: ${reason}`, details, {
    cause: error,
  });
}

/** gRPC's message without its status prefix ("14 UNAVAILABLE: ") and empty trailers. */
function shortReason(error: unknown): string {
  return messageOf(error)
    .replace(/^\d+ [A-Z_]+: /, '')
    .replace(/\s*Resolution note:\s*$/, '')
    .replace(/\s*Last error: null\.?/, '')
    .trim();
}
