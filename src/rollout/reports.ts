import type { Draft } from './draft.js';
import { isInFlight, isJudging } from './target-state.js';
import type { RolloutTarget, TargetReport } from './types.js';

/**
 * Takes in what hosts reported. A target not seen before joins with last known good (or nothing
 * when there is none yet); a report older than the target's last one is ignored (reports may
 * arrive out of order).
 */
export function applyReports(d: Draft, reports: readonly TargetReport[]): void {
  const added: RolloutTarget[] = [];
  const addedAt = new Map<string, number>();
  for (const report of reports) {
    const i = d.find(report.name);
    if (i >= 0) {
      applyReport(d, i, report);
      continue;
    }
    const j = addedAt.get(report.name);
    if (j === undefined) {
      addedAt.set(report.name, added.length);
      added.push(joined(d, report));
    } else if (report.at >= (added[j]!.lastSeen ?? 0)) {
      added[j] = joined(d, report);
    }
  }
  if (added.length === 0) return;
  d.insert(added);
  const lkg = d.s.lkg;
  if (lkg !== null) for (const t of added) d.emit({ type: 'assign', target: t.name, version: lkg });
  d.record({ kind: 'targets-joined', targets: added.map((t) => t.name), assigned: lkg });
}

/**
 * A new target: it gets last known good at once; one that serves it healthily already has nothing
 * to prove (nothing changed on it), so it is settled.
 */
function joined(d: Draft, r: TargetReport): RolloutTarget {
  const lkg = d.s.lkg;
  const serving = lkg !== null && r.healthy && r.version === lkg;
  return {
    name: r.name,
    labels: r.labels ? Object.fromEntries(Object.entries(r.labels)) : {},
    reported: r.version,
    healthy: r.healthy,
    message: r.message ?? null,
    lastSeen: r.at,
    addedAt: d.now,
    assigned: lkg,
    assignedAt: lkg === null ? null : d.now,
    healthySince: serving ? r.at : null,
    status: lkg === null ? 'unassigned' : serving ? 'settled' : 'converging',
    failure: null,
  };
}

function applyReport(d: Draft, i: number, r: TargetReport): void {
  const t = d.at(i);
  if (t.lastSeen !== null && r.at < t.lastSeen) return;
  const seen: Partial<RolloutTarget> = {
    reported: r.version,
    healthy: r.healthy,
    message: r.message ?? null,
    lastSeen: r.at,
    ...(r.labels ? { labels: Object.fromEntries(Object.entries(r.labels)) } : {}),
  };
  if (t.status === 'removed' || t.status === 'unassigned') {
    d.update(i, seen);
    return;
  }
  const onIt = t.assigned !== null && r.healthy && r.version === t.assigned;
  // The streak of healthy reports on the assigned release; evidence counts from the assignment.
  const healthySince = onIt ? (t.healthySince ?? Math.max(r.at, t.assignedAt ?? r.at)) : null;
  if (r.failedVersion !== undefined && r.failedVersion === t.assigned && isInFlight(t)) {
    const reason = `the host's deployment of ${r.failedVersion} failed${r.message ? `: ${r.message}` : ''}`;
    d.update(i, { ...seen, healthySince: null, status: 'failed', failure: reason });
    d.record({ kind: 'target-failed', target: t.name, version: r.failedVersion, reason });
    return;
  }
  let status = t.status;
  if (isInFlight(t)) status = onIt ? (t.status === 'converging' ? 'soaking' : t.status) : 'converging';
  // A target that succeeded and then stops serving the release being judged is in doubt again.
  else if (t.status === 'settled' && !onIt && isJudging(d.s) && t.assigned === d.s.rolling)
    status = 'converging';
  d.update(i, { ...seen, healthySince, status });
}

/** Targets that have not reported for the unseen-after time leave the rollout (and its batch). */
export function dropUnseen(d: Draft): void {
  const limit = d.now - d.options.unseenAfterMs;
  const left: string[] = [];
  let gone = false;
  for (const t of d.targets) {
    if ((t.lastSeen ?? t.addedAt) >= limit) continue;
    gone = true;
    if (t.status !== 'removed') left.push(t.name);
  }
  if (!gone) return;
  d.remove((t) => (t.lastSeen ?? t.addedAt) < limit);
  if (left.length === 0) return;
  const batch = d.s.batch;
  if (batch !== null) {
    const leaving = new Set(left);
    d.s.batch = { ...batch, targets: batch.targets.filter((name) => !leaving.has(name)) };
  }
  d.record({ kind: 'targets-left', targets: left, unseenAfterMs: d.options.unseenAfterMs });
}
