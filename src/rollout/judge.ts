import { formatDuration } from '../lib/duration.js';
import { ask, isConfigured } from './ask.js';
import type { Draft } from './draft.js';
import { isJudging } from './target-state.js';
import type { RolloutTarget } from './types.js';

/**
 * Judges each target on the release it is assigned. It succeeds once its reports have shown it
 * healthy on it for the soak time: the evidence is a report, so a target that stops reporting never
 * succeeds (it stays in flight until it leaves the rollout, unseen). It fails when it is not healthy
 * on it by its deadline after the assignment. While the release is judged, a target-monitor
 * controller (when configured) has the last word on each soaked target.
 */
export function judgeTargets(d: Draft): void {
  const { soakMs, deadlineMs } = d.options;
  const monitored = isJudging(d.s) && isConfigured(d, 'target-monitor');
  for (let i = 0; i < d.targets.length; i++) {
    const t = d.targets[i]!;
    if (t.status === 'converging') {
      if (t.assignedAt !== null && d.now > t.assignedAt + deadlineMs)
        failTarget(
          d,
          i,
          `not healthy on ${t.assigned ?? 'its release'} within ${formatDuration(deadlineMs)} of its assignment (${lastReport(t, d.seen[i] ?? null)})`,
        );
    } else if (t.status === 'soaking') {
      const seen = d.seen[i] ?? null;
      if (t.healthySince === null || seen === null || seen - t.healthySince < soakMs) continue;
      if (monitored && t.assigned === d.s.rolling) {
        d.update(i, { status: 'verifying' });
        ask(d, { controller: 'target-monitor', version: d.s.rolling!, target: t.name });
      } else {
        d.update(i, { status: 'settled' });
      }
    }
  }
}

export function failTarget(d: Draft, i: number, reason: string): void {
  const t = d.update(i, { status: 'failed', failure: reason, healthySince: null });
  d.record({ kind: 'target-failed', target: t.name, version: t.assigned ?? '', reason });
}

function lastReport(t: RolloutTarget, lastSeen: number | null): string {
  if (lastSeen === null) return 'it never reported';
  const running = t.reported === null ? 'no release' : t.reported;
  const health = t.healthy ? 'healthy' : `unhealthy${t.message ? `: ${t.message}` : ''}`;
  return `last report: ${running}, ${health}`;
}
