import { ask, isConfigured } from './ask.js';
import type { Draft } from './draft.js';
import { endRollout } from './lifecycle.js';
import { amountOf } from './sizes.js';
import {
  effectiveVersion,
  isActive,
  isInFlight,
  isJudging,
  isServing,
  isUnavailable,
} from './target-state.js';
import {
  ACTIVE_STATUSES,
  type BatchState,
  type Gate,
  type RolloutOptions,
  type RolloutState,
  type RolloutTarget,
} from './types.js';

/** What the batch arithmetic reads: a step's draft, or a persisted state (progress, plan). */
export interface FleetView {
  readonly targets: readonly RolloutTarget[];
  readonly options: RolloutOptions;
  readonly s: Pick<RolloutState, 'direction'>;
}

/**
 * Moves the rollout on: the gate it waits for (when it is timed), the current batch (its targets
 * get the release within the max-unavailable budget; once each succeeded or failed, the gates after
 * it open), then the next batch, or the end.
 */
export function advance(d: Draft): void {
  const s = d.s;
  if (!ACTIVE_STATUSES.has(s.status)) return;
  const version = effectiveVersion(s);
  if (version === null) return;
  if (s.gate?.kind === 'canary-pause' && d.now >= s.gate.until) openNextStage(d, 'canary-pause');
  if (s.gate !== null) return;
  if (s.batch !== null) {
    if (!s.batch.done) {
      if (s.status !== 'paused') assignWithinBudget(d);
      if (!isBatchDone(d, s.batch)) return;
      finishBatch(d, s.batch);
    }
    if (s.gate !== null || s.batch !== null) return;
  }
  if (s.status === 'paused') return;
  const candidates = waitingTargets(d, version);
  if (candidates.length > 0) {
    beginBatch(d, version, candidates);
    return;
  }
  if (d.targets.some((t) => t.assigned === version && isInFlight(t))) return;
  if (s.direction === 'forward') {
    if (s.lkg === s.rolling) endRollout(d, 'succeeded');
  } else {
    endRollout(d, s.ending?.reason === 'failure' ? 'rolled-back' : 'aborted');
  }
}

/**
 * The targets still to get `version`, in batch order: by name, those serving healthily first on
 * the way forward (a host already unhealthy would blame the release), last on the way back (the
 * ones on the bad release that do not serve return first).
 */
export function waitingTargets(d: FleetView, version: string): RolloutTarget[] {
  const first: RolloutTarget[] = [];
  const last: RolloutTarget[] = [];
  const forward = d.s.direction === 'forward';
  for (const t of d.targets) {
    if (!isActive(t) || t.assigned === version) continue;
    (isServing(t) === forward ? first : last).push(t);
  }
  return first.length === 0 ? last : last.length === 0 ? first : first.concat(last);
}

/** The size of the next batch over n targets: the canary's first, then the batch option's. */
export function nextBatch(d: Draft): { kind: BatchState['kind']; size: number } {
  const n = activeCount(d);
  if (d.s.direction === 'back') return { kind: 'rollback', size: amountOf(d.options.batch, n) };
  const canary = d.options.canary;
  if (canary !== null && !d.s.canaryPassed) return { kind: 'canary', size: amountOf(canary.size, n) };
  return { kind: 'batch', size: amountOf(d.options.batch, n) };
}

function beginBatch(d: Draft, version: string, candidates: RolloutTarget[]): void {
  const { size } = nextBatch(d);
  const count = Math.min(size, candidates.length);
  if (d.s.direction === 'forward' && isConfigured(d, 'selection')) {
    const replace = d.options.mode === 'replace';
    const call = ask(d, {
      controller: 'selection',
      version,
      batch: d.s.batches + 1,
      count,
      mode: d.options.mode,
      candidates: replace ? [] : candidates.map((t) => t.name),
    });
    d.s.gate = { kind: 'selection', call };
    return;
  }
  startBatch(
    d,
    version,
    candidates.slice(0, count).map((t) => t.name),
    false,
  );
}

/** Starts a batch of these targets (in replace mode: new targets, assigned already). */
export function startBatch(d: Draft, version: string, names: string[], replace: boolean): void {
  const s = d.s;
  const { kind, size } = nextBatch(d);
  s.batches += 1;
  s.lastBatchId += 1;
  const id = s.lastBatchId;
  const members = new Set(names);
  for (let i = 0; i < d.targets.length; i++) if (members.has(d.targets[i]!.name)) d.update(i, { batch: id });
  s.batch = {
    id,
    index: s.batches,
    kind,
    version,
    targets: names,
    size,
    startedAt: d.now,
    held: false,
    done: false,
    replace,
  };
  const waiting = replace ? 0 : waitingTargets(d, version).length - names.length;
  d.record({
    kind: 'batch-started',
    batch: s.batches,
    of: s.batches + batchesFor(d, Math.max(waiting, 0)),
    batchKind: kind,
    version,
    targets: names,
    count: names.length,
  });
  // A batch that begins while paused (its selection answered meanwhile) waits for the resume.
  if (s.status !== 'paused') assignWithinBudget(d);
}

/** How many more batches `waiting` targets take (after the canary: at the batch option's size). */
export function batchesFor(d: FleetView, waiting: number): number {
  if (waiting <= 0) return 0;
  return Math.ceil(waiting / amountOf(d.options.batch, activeCount(d)));
}

/**
 * The max-unavailable budget over the active targets; null when none is configured (then only the
 * batch bounds how many targets are in flight).
 */
export function budgetOf(d: FleetView): number | null {
  const max = d.options.maxUnavailable;
  return max === null ? null : amountOf(max, activeCount(d));
}

/**
 * Gives the batch's targets their release. With a max-unavailable budget, only as long as the
 * unavailable targets stay within it; a target unavailable already (failed, unhealthy, without a
 * release) costs nothing.
 */
function assignWithinBudget(d: Draft): void {
  const b = d.s.batch!;
  const todo: number[] = [];
  for (let i = 0; i < d.targets.length; i++) {
    const t = d.targets[i]!;
    if (t.batch === b.id && isActive(t) && t.assigned !== b.version) todo.push(i);
  }
  if (todo.length === 0) return;
  const budget = budgetOf(d);
  let unavailable = 0;
  for (const t of d.targets) if (isActive(t) && isUnavailable(t)) unavailable++;
  const assigned: string[] = [];
  let held = false;
  for (const i of todo) {
    const costs = !isUnavailable(d.at(i));
    if (costs && budget !== null && unavailable + 1 > budget) {
      held = true;
      continue;
    }
    d.assign(i, b.version);
    assigned.push(d.at(i).name);
    if (costs) unavailable++;
  }
  if (assigned.length > 0)
    d.record({
      kind: 'assigned',
      batch: b.index,
      version: b.version,
      targets: assigned,
      count: assigned.length,
      unavailable,
      budget,
    });
  if (held !== b.held) {
    d.s.batch = { ...b, held };
    if (held && budget !== null) d.record({ kind: 'batch-held', batch: b.index, unavailable, budget });
  }
}

/** Every target of the batch (still in the rollout) succeeded or failed on its release. */
function isBatchDone(d: Draft, b: BatchState): boolean {
  for (const t of d.targets) {
    if (t.batch !== b.id || !isActive(t)) continue;
    if (t.assigned !== b.version || (t.status !== 'settled' && t.status !== 'failed')) return false;
  }
  return true;
}

function finishBatch(d: Draft, b: BatchState): void {
  let succeeded = 0;
  let failed = 0;
  for (const t of d.targets) {
    if (t.batch !== b.id) continue;
    if (t.status === 'settled') succeeded++;
    else if (t.status === 'failed') failed++;
  }
  d.s.batch = { ...b, done: true, held: false };
  d.record({ kind: 'batch-done', batch: b.index, succeeded, failed });
  openNextStage(d, null);
}

type Stage = Exclude<Gate['kind'], 'selection'> | 'approval';

/** The gates after a finished batch, in order. */
function stagesAfter(d: Draft, b: BatchState): Stage[] {
  const stages: Stage[] = [];
  if (b.replace && d.s.direction === 'forward') stages.push('removal');
  if (!isJudging(d.s)) return stages;
  const canary = d.options.canary;
  if (b.kind === 'canary' && canary !== null) {
    if (canary.pauseMs > 0) stages.push('canary-pause');
    if (canary.analysis) stages.push('analysis');
    if (d.options.controllers.approval?.at === 'after-canary') stages.push('approval');
  } else if (b.kind === 'batch' && isConfigured(d, 'fleet-monitor')) {
    stages.push('fleet-monitor');
  }
  return stages;
}

/**
 * Opens the gate after `passed` for the finished batch (removal, then the canary's pause, analysis
 * and approval, or the fleet monitor); with none left the batch is over.
 */
export function openNextStage(d: Draft, passed: Stage | null): void {
  const b = d.s.batch;
  d.s.gate = null;
  if (b === null) return;
  const stages = stagesAfter(d, b);
  const next = passed === null ? stages[0] : stages[stages.indexOf(passed) + 1];
  switch (next) {
    case undefined:
      d.s.batch = null;
      if (b.kind === 'canary' && !d.s.canaryPassed) {
        d.s.canaryPassed = true;
        d.record({ kind: 'canary-passed' });
      }
      return;
    case 'removal': {
      const count = d.targets.filter((t) => t.batch === b.id && t.status === 'settled').length;
      if (count === 0) return openNextStage(d, 'removal');
      const call = ask(d, {
        controller: 'removal',
        version: b.version,
        count,
        candidates: removalCandidates(d, b).map((t) => t.name),
      });
      d.s.gate = { kind: 'removal', call };
      return;
    }
    case 'canary-pause': {
      const until = d.now + d.options.canary!.pauseMs;
      d.s.gate = { kind: 'canary-pause', until };
      d.record({ kind: 'canary-paused', until });
      return;
    }
    case 'analysis':
    case 'fleet-monitor': {
      const call = ask(d, {
        controller: 'fleet-monitor',
        version: b.version,
        purpose: next === 'analysis' ? 'canary' : 'batch',
        batch: b.index,
        targets: b.targets,
      });
      d.s.gate =
        next === 'analysis' ? { kind: 'analysis', call } : { kind: 'fleet-monitor', batch: b.index, call };
      return;
    }
    case 'approval': {
      const call = ask(d, { controller: 'approval', version: b.version, at: 'after-canary' });
      d.s.gate = { kind: 'approval', at: 'after-canary', call };
      return;
    }
  }
}

/** Replace mode: the old targets a finished batch may remove (not on its release, not its own). */
export function removalCandidates(d: Draft, b: BatchState): RolloutTarget[] {
  return d.targets.filter((t) => isActive(t) && t.assigned !== b.version && t.batch !== b.id);
}

export function activeCount(d: Pick<FleetView, 'targets'>): number {
  let n = 0;
  for (const t of d.targets) if (isActive(t)) n++;
  return n;
}
