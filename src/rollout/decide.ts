import { isConfigured } from './ask.js';
import type { Draft } from './draft.js';
import { failRelease, markGood } from './lifecycle.js';
import { failureThreshold, successThreshold } from './sizes.js';
import { isActive, isJudging } from './target-state.js';

/**
 * nixmade/orchestrator's thresholds over the n targets of the rollout: the release fails when
 * failed >= max(n - floor(success% x n / 100), 1); it is last known good when succeeded >=
 * floor(success% x n / 100). Ferry adds: a failure in the canary batch fails it; it is not good
 * while a gate is open or before the canary passed, nor with no target to judge it on (unless the
 * success percent is 0), nor before a fleet monitor passed the batch under way; a target that
 * succeeded but has been silent for silentAfterMs does not count.
 */
export function decide(d: Draft): void {
  const s = d.s;
  if (!isJudging(s)) return;
  const rolling = s.rolling!;
  const pct = d.options.successPercent;
  // A silent target's success is not evidence any more (nixmade counted it until it expired).
  const heardSince = d.now - d.options.silentAfterMs;
  let n = 0;
  let succeeded = 0;
  let failed = 0;
  for (let i = 0; i < d.targets.length; i++) {
    const t = d.targets[i]!;
    if (!isActive(t)) continue;
    n++;
    if (t.assigned !== rolling) continue;
    if (t.status === 'settled') {
      if ((d.seen[i] ?? -Infinity) >= heardSince) succeeded++;
    } else if (t.status === 'failed') failed++;
  }
  const success = successThreshold(pct, n);
  const failure = failureThreshold(pct, n);
  if (failed >= failure) {
    failRelease(d, `${failed} of ${n} target(s) failed on ${rolling}, the threshold is ${failure}`);
    return;
  }
  if (s.batch?.kind === 'canary' && failed > 0) {
    failRelease(d, `the canary failed: ${failed} target(s) failed on ${rolling}`);
    return;
  }
  if (s.gate !== null || !s.canaryPassed || (n === 0 && pct > 0)) return;
  // A fleet monitor judges every batch, the one that reaches the threshold included.
  if (s.batch !== null && isConfigured(d, 'fleet-monitor')) return;
  if (succeeded >= success) markGood(d, succeeded, success, n);
}
