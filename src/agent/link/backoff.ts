/** How a link waits between failed attempts: doubling from `initialMs`, capped at `maxMs`. */
export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1_000, maxMs: 30_000 };

/**
 * The wait before retry `attempt` (0: after the first failure): its ceiling doubles from
 * `initialMs` up to `maxMs`, and the wait is a random point in the upper half of it ("equal
 * jitter"): a thousand agents that lost the server together do not come back together, and none
 * retries sooner than half the ceiling. `random` returns [0, 1), as Math.random.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(Math.max(attempt, 0), 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
