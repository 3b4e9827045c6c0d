import type { Clock } from '../lib/clock.js';

/** Longest wait for a rate limit's reset or a Retry-After: a bad header never silences a source for long. */
export const MAX_RATE_LIMIT_WAIT_MS = 60 * 60_000;

/** One poll of a source: found what was new and offered it, or saw nothing changed. */
export interface PollResult {
  /** Set when the source asked to wait (its rate limit is spent): no poll before then (ms since the epoch). */
  readonly notBefore: number | null;
}

/** A watcher of one app's releases at one source (GitHub releases, an HTTP document). */
export interface ReleaseSource {
  /** `github:owner/name`, `http:<url without credentials>`: in logs. */
  readonly label: string;
  /** Reads the source once and offers what is new; throws when the source failed (it is retried with backoff). */
  poll(signal: AbortSignal): Promise<PollResult>;
}

/** The source answered that its rate limit is spent: no request before `notBefore`. */
export class RateLimited extends Error {
  constructor(
    message: string,
    readonly notBefore: number,
  ) {
    super(message);
  }
}

/**
 * When a rate-limited source may be asked again: Retry-After (seconds) wins, else a reset time
 * (epoch seconds, GitHub's x-ratelimit-reset); capped at MAX_RATE_LIMIT_WAIT_MS from now.
 */
export function notBeforeOf(
  clock: Clock,
  headers: { retryAfter?: string | null; reset?: string | null },
  fallbackMs: number,
): number {
  const now = clock.now();
  let wait = fallbackMs;
  const retryAfter = headers.retryAfter == null ? NaN : Number(headers.retryAfter);
  const reset = headers.reset == null ? NaN : Number(headers.reset);
  if (Number.isFinite(retryAfter) && retryAfter >= 0) wait = retryAfter * 1000;
  else if (Number.isFinite(reset)) wait = reset * 1000 - now;
  return now + Math.min(Math.max(wait, 1000), MAX_RATE_LIMIT_WAIT_MS);
}
