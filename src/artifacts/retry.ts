import { performance } from 'node:perf_hooks';
import { FerryError } from '../errors/ferry-error.js';
import { sleep, systemClock, type Clock } from '../lib/clock.js';
import { isMissingFile, isRetryable } from './sources/index.js';

export interface RetryPolicy {
  retries: number;
  /** The first pause; each next one doubles, up to maxWaitMs. */
  waitMs: number;
  /** The longest pause; equal to waitMs (or unset), every pause is waitMs. */
  maxWaitMs?: number;
  /** Retry a missing file:// artifact too (see InstallReleaseOptions.retryMissingFile). */
  retryMissingFile?: boolean;
  signal: AbortSignal;
  clock?: Clock;
}

/** The pause before retry number `retry` (1-based): waitMs, doubling, capped at maxWaitMs. */
export function retryWait(policy: Pick<RetryPolicy, 'waitMs' | 'maxWaitMs'>, retry: number): number {
  const cap = Math.max(policy.waitMs, policy.maxWaitMs ?? policy.waitMs);
  return Math.min(cap, policy.waitMs * 2 ** Math.min(retry - 1, 30));
}

/**
 * Runs attempt until it succeeds, retrying transient source failures (network errors, timeouts,
 * 5xx) `retries` times with a growing pause between; anything else (a missing file, 404, 403)
 * fails at once.
 */
export async function withRetries<T>(
  attempt: (attemptNumber: number) => Promise<T>,
  policy: RetryPolicy,
): Promise<T> {
  for (let attemptNumber = 1; ; attemptNumber++) {
    try {
      return await attempt(attemptNumber);
    } catch (error) {
      const transient = isRetryable(error) || (policy.retryMissingFile === true && isMissingFile(error));
      if (!transient || policy.signal.aborted) throw error;
      if (attemptNumber > policy.retries) throw gaveUp(error as FerryError, attemptNumber);
      await sleep(policy.clock ?? systemClock, retryWait(policy, attemptNumber), policy.signal);
    }
  }
}

function gaveUp(error: FerryError, attempts: number): FerryError {
  if (attempts === 1) return error;
  return new FerryError(
    error.code,
    `${error.message} (gave up after ${attempts} attempts)`,
    { ...error.details, attempts },
    {
      cause: error,
    },
  );
}

/**
 * One deadline for a whole fetch (attempts and waits) combined with the caller's signal, and the
 * knowledge of which of the two fired, to turn an abort into the right error.
 */
export class Deadline {
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout;
  /** When the timer fires, on performance.now()'s clock. */
  private endsAt: number;
  private readonly onParentAbort: () => void;
  private timedOut = false;

  constructor(
    private readonly parent: AbortSignal | undefined,
    private readonly timeoutMs: number,
  ) {
    this.signal = this.controller.signal;
    this.onParentAbort = () => this.controller.abort(parent?.reason);
    if (parent?.aborted) this.onParentAbort();
    else parent?.addEventListener('abort', this.onParentAbort, { once: true });
    this.endsAt = performance.now() + timeoutMs;
    this.timer = this.arm(timeoutMs);
  }

  /** Runs work with the clock stopped: the time it takes does not count toward the deadline. */
  async paused<T>(work: () => Promise<T>): Promise<T> {
    clearTimeout(this.timer);
    const remainingMs = Math.max(0, this.endsAt - performance.now());
    try {
      return await work();
    } finally {
      this.endsAt = performance.now() + remainingMs;
      this.timer = this.arm(remainingMs);
    }
  }

  private arm(ms: number): NodeJS.Timeout {
    return setTimeout(() => {
      this.timedOut = true;
      this.controller.abort(new Error(`timed out after ${this.timeoutMs}ms`));
    }, ms);
  }

  /** What to throw for an error that surfaced after (and probably because of) an abort. */
  explain(error: unknown, what: string): unknown {
    if (this.timedOut) {
      return new FerryError(
        'FERRY_E_ARTIFACT_SOURCE',
        `${what}: expected to finish within ${this.timeoutMs}ms, got no complete artifact in that time`,
        { where: what, expected: `${this.timeoutMs}ms`, retryable: false },
        { cause: error },
      );
    }
    if (this.parent?.aborted) return this.parent.reason;
    return error;
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.parent?.removeEventListener('abort', this.onParentAbort);
  }
}
