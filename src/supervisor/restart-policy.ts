import type { RestartPolicy } from './types.js';

/** The outcome of planning a restart after an unexpected exit. */
export interface RestartPlan {
  readonly delayMs: number;
  /** More than `crashLoopRestarts` restarts within the window, this one included. */
  readonly crashLoop: boolean;
  /** Times of the restarts inside the window, this one included; pass it to the next plan. */
  readonly recent: readonly number[];
}

/**
 * Pure backoff: the delay doubles with each restart inside the window, up to the maximum; a process
 * that ran for a whole window starts afresh. In a crash loop the delay is the maximum, and restarts
 * continue because the cause (a database down, a full disk) may go away.
 */
export function planRestart(
  recent: readonly number[],
  exit: { readonly at: number; readonly ranMs: number },
  policy: RestartPolicy,
): RestartPlan {
  const inWindow =
    exit.ranMs >= policy.crashLoopWindowMs
      ? []
      : recent.filter((t) => exit.at - t < policy.crashLoopWindowMs);
  const next = [...inWindow, exit.at];
  const crashLoop = next.length > policy.crashLoopRestarts;
  const backoff = policy.initialDelayMs * 2 ** inWindow.length;
  return {
    delayMs: crashLoop ? policy.maxDelayMs : Math.min(backoff, policy.maxDelayMs),
    crashLoop,
    recent: next,
  };
}
