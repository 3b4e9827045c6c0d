import { FerryError } from '../../errors/ferry-error.js';

/**
 * One request to a source. Sources are one module per URL scheme; the install pipeline only sees
 * this contract.
 *
 * Seam for resuming (Range requests): add `offset?: number` here, have each source start at that
 * byte (http: `Range: bytes=offset-` and insist on 206 with a matching Content-Range), and let the
 * install pipeline re-open at the bytes already hashed instead of restarting the attempt.
 */
export interface FetchRequest {
  url: URL;
  /** Already redacted: what messages may show. */
  label: string;
  headers: Record<string, string>;
  /** Aborting it must stop the transfer and make `chunks` throw. */
  signal: AbortSignal;
}

export interface FetchedBody {
  /** The artifact's bytes, each chunk a fresh buffer the consumer may keep. */
  chunks: AsyncIterable<Buffer>;
  /** Total size when the source knows it. */
  total: number | null;
}

export type Source = (request: FetchRequest) => Promise<FetchedBody>;

/** A source failure; `retryable` marks transient ones (network errors, 5xx) the pipeline retries. */
export function sourceError(
  message: string,
  details: { where: string; retryable: boolean; [key: string]: unknown },
  cause?: unknown,
): FerryError {
  return new FerryError('FERRY_E_ARTIFACT_SOURCE', message, details, { cause });
}

export function isRetryable(error: unknown): boolean {
  return (
    error instanceof FerryError &&
    error.code === 'FERRY_E_ARTIFACT_SOURCE' &&
    error.details.retryable === true
  );
}
