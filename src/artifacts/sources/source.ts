import { FerryError } from '../../errors/ferry-error.js';

/**
 * One request to a source. Sources are one module per URL scheme; the install pipeline only sees
 * this contract.
 *
 * Resuming: a source whose body says `resumable` can be re-opened at `offset` (the bytes already
 * hashed) after a mid-stream failure; it must then deliver exactly the bytes from there on, or
 * throw a retryable error so the pipeline restarts the attempt from scratch.
 */
export interface FetchRequest {
  url: URL;
  /** Already redacted: what messages may show. */
  label: string;
  headers: Record<string, string>;
  /** Aborting it must stop the transfer and make `chunks` throw. */
  signal: AbortSignal;
  /** Start at this byte instead of 0 (only asked of a source that answered `resumable`). */
  offset?: number;
}

export interface FetchedBody {
  /** The artifact's bytes, each chunk a fresh buffer the consumer may keep. */
  chunks: AsyncIterable<Buffer>;
  /** Total size when the source knows it. */
  total: number | null;
  /** True when the source can be re-opened at an offset (http: the server sent Accept-Ranges: bytes). */
  resumable?: boolean;
}

export type Source = (request: FetchRequest) => Promise<FetchedBody>;

/**
 * A source failure. `retryable` marks transient ones (network errors, timeouts, 5xx) the pipeline
 * retries; `missing` marks an answer that the thing asked for does not exist there (no such file,
 * HTTP 404 or 410, no such object), which no retry changes. `where` is the request's label.
 */
export function sourceError(
  message: string,
  details: { where: string; retryable: boolean; missing?: boolean; [key: string]: unknown },
  cause?: unknown,
): FerryError {
  return new FerryError('FERRY_E_ARTIFACT_SOURCE', message, details, { cause });
}

/** True for a local file:// artifact that does not exist (file sources name its path). */
export function isMissingFile(error: unknown): boolean {
  return isMissing(error) && typeof error.details.path === 'string';
}

/** True for a source's answer that what it was asked for does not exist (see sourceError). */
export function isMissing(error: unknown): error is FerryError {
  return (
    error instanceof FerryError && error.code === 'FERRY_E_ARTIFACT_SOURCE' && error.details.missing === true
  );
}

export function isRetryable(error: unknown): boolean {
  return (
    error instanceof FerryError &&
    error.code === 'FERRY_E_ARTIFACT_SOURCE' &&
    error.details.retryable === true
  );
}
