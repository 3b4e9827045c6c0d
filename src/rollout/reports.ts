import type { Draft } from './draft.js';
import { sortByName } from './sort-by-name.js';
import { isInFlight, isJudging } from './target-state.js';
import type { RolloutTarget } from './types.js';
import type { TargetReport } from './events.js';

/**
 * Takes in what hosts reported. A target not seen before joins with last known good (or nothing
 * when there is none yet); a report older than the target's last one is ignored (reports may
 * arrive out of order).
 */
export function applyReports(d: Draft, reports: readonly TargetReport[]): void {
  const judged = isJudging(d.s) ? d.s.rolling : null;
  // A report too old to keep a target would only make it join and leave.
  const unseenSince = d.now - d.options.unseenAfterMs;
  const index = new Int32Array(reports.length);
  const fresh: TargetReport[] = [];
  for (let k = 0; k < reports.length; k++) {
    const report = reports[k]!;
    const i = d.find(report.name);
    index[k] = i;
    if (i < 0 && report.at >= unseenSince) fresh.push(report);
  }
  const order = inTargetOrder(index, d.targets.length);
  for (let j = 0; j < order.length; j++) {
    const k = order[j]!;
    applyReport(d, index[k]!, reports[k]!, judged);
  }
  if (fresh.length > 0) join(d, fresh);
}

/**
 * Targets seen for the first time join, in name order: their records then lie in memory in the
 * order the steps walk them. Of several reports of one new target, the latest counts.
 */
function join(d: Draft, fresh: readonly TargetReport[]): void {
  const { names, latest } = inNameOrder(fresh);
  const added: RolloutTarget[] = new Array<RolloutTarget>(names.length);
  const seen: number[] = new Array<number>(names.length);
  for (let k = 0; k < names.length; k++) {
    const report = latest(k);
    added[k] = joined(d, report);
    seen[k] = report.at;
  }
  d.insert(added, seen);
  const lkg = d.s.lkg;
  if (lkg !== null) d.tellWhenDone(names, lkg);
  d.record({ kind: 'targets-joined', targets: names, count: names.length, assigned: lkg });
}

/**
 * The new targets' names in order, and the latest report of each (of equal times, the one that came
 * last). Reports read from a store come in name order, one per target: taken as they are; others
 * are sorted by name first (sortByName: a radix sort, stable, so one target's reports keep their
 * order).
 */
function inNameOrder(fresh: readonly TargetReport[]): {
  names: readonly string[];
  latest: (k: number) => TargetReport;
} {
  let ordered = true;
  for (let k = 1; k < fresh.length && ordered; k++) ordered = fresh[k - 1]!.name < fresh[k]!.name;
  if (ordered) return { names: fresh.map((r) => r.name), latest: (k) => fresh[k]! };
  const sorted = sortByName(fresh, (r) => r.name);
  const reports: TargetReport[] = [];
  for (const report of sorted) {
    const last = reports.length - 1;
    if (last < 0 || reports[last]!.name !== report.name) reports.push(report);
    else if (report.at >= reports[last]!.at) reports[last] = report;
  }
  return { names: reports.map((r) => r.name), latest: (k) => reports[k]! };
}

/**
 * The positions of the reports of known targets, ordered by target (a counting sort; the reports
 * of one target keep their order). Many reports arrive in an order of their own: taking them in the
 * targets' order walks the state's records in the order they lie in memory, which on a large fleet
 * is most of the step's time. A few reports are taken as they come.
 */
function inTargetOrder(index: Int32Array, targets: number): Int32Array {
  if (index.length < 1024 || index.length < targets / 8) {
    const known: number[] = [];
    for (let k = 0; k < index.length; k++) if (index[k]! >= 0) known.push(k);
    return Int32Array.from(known);
  }
  const start = new Int32Array(targets + 1);
  for (let k = 0; k < index.length; k++) if (index[k]! >= 0) start[index[k]! + 1]!++;
  for (let i = 0; i < targets; i++) start[i + 1]! += start[i]!;
  const order = new Int32Array(start[targets]!);
  for (let k = 0; k < index.length; k++) {
    const i = index[k]!;
    if (i >= 0) order[start[i]!++] = k;
  }
  return order;
}

/** Shared by the targets that report no labels (records are never changed in place). */
const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * A new target: it gets last known good at once; one that serves it healthily already has nothing
 * to prove (nothing changed on it), so it is settled.
 */
function joined(d: Draft, r: TargetReport): RolloutTarget {
  const lkg = d.s.lkg;
  const serving = lkg !== null && r.healthy && r.version === lkg;
  return {
    name: r.name,
    labels: r.labels ? Object.fromEntries(Object.entries(r.labels)) : NO_LABELS,
    reported: r.version,
    healthy: r.healthy,
    message: r.message ?? null,
    addedAt: d.now,
    assigned: lkg,
    assignedAt: lkg === null ? null : d.now,
    healthySince: serving ? r.at : null,
    status: lkg === null ? 'unassigned' : serving ? 'settled' : 'converging',
    failure: null,
    batch: null,
  };
}

/**
 * One report about a known target. `judged` is the release being judged (null when none): a target
 * that succeeded on it and then stops serving it is in doubt again. The target is rebuilt field by
 * field (no spread): this runs for every target of a large fleet on every report.
 */
function applyReport(d: Draft, i: number, r: TargetReport, judged: string | null): void {
  const t = d.at(i);
  const lastSeen = d.seen[i] ?? null;
  if (lastSeen !== null && r.at < lastSeen) return;
  d.seen[i] = r.at;
  let healthySince = t.healthySince;
  let status = t.status;
  let failure = t.failure;
  if (status !== 'removed' && status !== 'unassigned') {
    const onIt = t.assigned !== null && r.healthy && r.version === t.assigned;
    // The streak of healthy reports on the assigned release; evidence counts from the assignment.
    healthySince = onIt ? (t.healthySince ?? Math.max(r.at, t.assignedAt ?? r.at)) : null;
    if (r.failedVersion !== undefined && r.failedVersion === t.assigned && isInFlight(t)) {
      failure = `the host's deployment of ${r.failedVersion} failed${r.message ? `: ${r.message}` : ''}`;
      status = 'failed';
      healthySince = null;
      d.record({ kind: 'target-failed', target: t.name, version: r.failedVersion, reason: failure });
    } else if (isInFlight(t)) {
      status = onIt ? (status === 'converging' ? 'soaking' : status) : 'converging';
    } else if (status === 'settled' && !onIt && t.assigned === judged) {
      status = 'converging';
    }
  }
  const message = r.message ?? null;
  // Most reports say what the last one said: then only the time moved, and the record stays.
  if (
    r.labels === undefined &&
    r.version === t.reported &&
    r.healthy === t.healthy &&
    message === t.message &&
    status === t.status &&
    healthySince === t.healthySince &&
    failure === t.failure
  )
    return;
  d.put(i, {
    name: t.name,
    labels: r.labels ? Object.fromEntries(Object.entries(r.labels)) : t.labels,
    reported: r.version,
    healthy: r.healthy,
    message,
    addedAt: t.addedAt,
    assigned: t.assigned,
    assignedAt: t.assignedAt,
    healthySince,
    status,
    failure,
    batch: t.batch,
  });
}

/** Targets that have not reported for the unseen-after time leave the rollout (and its batch). */
export function dropUnseen(d: Draft): void {
  const limit = d.now - d.options.unseenAfterMs;
  const left: string[] = [];
  let gone = false;
  for (let i = 0; i < d.targets.length; i++) {
    const t = d.targets[i]!;
    if ((d.seen[i] ?? t.addedAt) >= limit) continue;
    gone = true;
    if (t.status !== 'removed') left.push(t.name);
  }
  if (!gone) return;
  d.remove((t, lastSeen) => (lastSeen ?? t.addedAt) < limit);
  if (left.length === 0) return;
  const batch = d.s.batch;
  if (batch !== null) {
    const leaving = new Set(left);
    d.s.batch = { ...batch, targets: batch.targets.filter((name) => !leaving.has(name)) };
  }
  d.record({
    kind: 'targets-left',
    targets: left,
    count: left.length,
    unseenAfterMs: d.options.unseenAfterMs,
  });
}
