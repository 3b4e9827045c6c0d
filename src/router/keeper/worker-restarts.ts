import { planRestart, type RestartPlan } from '../../supervisor/restart-policy.js';
import type { RestartPolicy } from '../../supervisor/types.js';

/** Router workers: 250 ms doubling to 30 s, and a crash loop beyond 5 restarts a minute. */
export const WORKER_RESTARTS: RestartPolicy = {
  initialDelayMs: 250,
  maxDelayMs: 30_000,
  crashLoopRestarts: 5,
  crashLoopWindowMs: 60_000,
};

/**
 * When to restart a router worker that died. The first death in a while is restarted at once (the
 * other workers carry the traffic meanwhile, one fewer); one that keeps dying backs off as the
 * supervisor's instances do, so a worker that crashes on start cannot spin a core.
 */
export function planWorkerRestart(
  recent: readonly number[],
  exit: { readonly at: number; readonly ranMs: number },
  policy: RestartPolicy = WORKER_RESTARTS,
): RestartPlan {
  const plan = planRestart(recent, exit, policy);
  const firstInWindow = plan.recent.length === 1;
  return firstInWindow ? { ...plan, delayMs: 0 } : plan;
}
