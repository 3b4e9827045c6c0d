import { formatDuration } from '../lib/duration.js';
import { batchesFor, budgetOf, waitingTargets } from './batches.js';
import { effectiveVersion, isActive, isInFlight, isUnavailable } from './target-state.js';
import type { BatchState, Ending, Gate, RolloutState, RolloutStatus } from './types.js';

/** Where a rollout stands, as `ferry status` shows it: batch k of n, hosts done, failed, in flight. */
export interface RolloutProgress {
  readonly app: string;
  readonly env: string;
  readonly status: RolloutStatus;
  readonly direction: RolloutState['direction'];
  /** The release targets are moved to now (the rolling one, or last known good on the way back). */
  readonly version: string | null;
  readonly rolling: string | null;
  readonly lkg: string | null;
  readonly lkb: string | null;
  readonly queued: string | null;
  readonly batch: {
    readonly index: number;
    readonly of: number;
    readonly kind: BatchState['kind'];
    readonly size: number;
    readonly held: boolean;
    readonly done: boolean;
  } | null;
  readonly targets: {
    readonly total: number;
    /** Succeeded on `version`. */
    readonly done: number;
    readonly failed: number;
    readonly inFlight: number;
    /** Not yet given `version`. */
    readonly waiting: number;
    readonly unavailable: number;
    /** Not heard from for silentAfterMs (they leave after unseenAfterMs). */
    readonly silent: number;
  };
  /** The max-unavailable budget; null when none is configured. */
  readonly budget: number | null;
  readonly gate: Gate | null;
  readonly ending: Ending | null;
}

/** The rollout's progress at `now` (silence is measured from it). */
export function describeProgress(state: RolloutState, now: number): RolloutProgress {
  const version = effectiveVersion(state);
  const heardSince = now - state.options.silentAfterMs;
  let total = 0;
  let done = 0;
  let failed = 0;
  let inFlight = 0;
  let unavailable = 0;
  let silent = 0;
  for (let i = 0; i < state.targets.length; i++) {
    const t = state.targets[i]!;
    if (!isActive(t)) continue;
    total++;
    if (isUnavailable(t)) unavailable++;
    if ((state.lastSeen[i] ?? t.addedAt) < heardSince) silent++;
    if (version === null || t.assigned !== version) continue;
    if (t.status === 'settled') done++;
    else if (t.status === 'failed') failed++;
    else if (isInFlight(t)) inFlight++;
  }
  const view = { targets: state.targets, options: state.options, s: state };
  const waiting = version === null ? 0 : waitingTargets(view, version).length;
  const b = state.batch;
  return {
    app: state.app,
    env: state.env,
    status: state.status,
    direction: state.direction,
    version,
    rolling: state.rolling,
    lkg: state.lkg,
    lkb: state.lkb,
    queued: state.queued?.version ?? null,
    batch:
      b === null
        ? null
        : {
            index: b.index,
            of: b.index + batchesFor(view, waiting - unassignedIn(state, b)),
            kind: b.kind,
            size: b.size,
            held: b.held,
            done: b.done,
          },
    targets: { total, done, failed, inFlight, waiting, unavailable, silent },
    budget: budgetOf(view),
    gate: state.gate,
    ending: state.ending,
  };
}

/** Targets of the batch not given its release yet (they are counted among the waiting ones). */
function unassignedIn(state: RolloutState, b: BatchState): number {
  return state.targets.filter((t) => t.batch === b.id && isActive(t) && t.assigned !== b.version).length;
}

const BATCH_WORDS: Readonly<Record<BatchState['kind'], string>> = {
  canary: 'canary batch',
  batch: 'batch',
  rollback: 'return batch',
};

/**
 * One line for a terminal: "rolling out v2 (from v1): batch 2 of 5, 8/40 done, 1 failed, 2 in
 * flight, 3 unavailable (budget 4); v3 queued".
 */
export function formatProgress(p: RolloutProgress, now: number): string {
  const head = headline(p);
  const parts: string[] = [];
  if (p.batch !== null) parts.push(`${BATCH_WORDS[p.batch.kind]} ${p.batch.index} of ${p.batch.of}`);
  const t = p.targets;
  parts.push(`${t.done}/${t.total} done`);
  if (t.failed > 0) parts.push(`${t.failed} failed`);
  if (t.inFlight > 0) parts.push(`${t.inFlight} in flight`);
  parts.push(`${t.unavailable} unavailable${p.budget === null ? '' : ` (budget ${p.budget})`}`);
  if (t.silent > 0) parts.push(`${t.silent} silent`);
  const gate = p.gate === null ? null : describeGate(p.gate, now);
  if (gate !== null) parts.push(gate);
  if (p.batch?.held) parts.push('held by the max-unavailable budget');
  const queued = p.queued === null ? '' : `; ${p.queued} queued`;
  return `${head}: ${parts.join(', ')}${queued}`;
}

function headline(p: RolloutProgress): string {
  switch (p.status) {
    case 'idle':
      return p.lkg === null ? 'no release yet' : `idle on ${p.lkg}`;
    case 'running':
      return `rolling out ${p.rolling ?? ''} (from ${p.lkg ?? 'nothing'})`;
    case 'paused':
      return `paused rolling out ${p.rolling ?? ''} (from ${p.lkg ?? 'nothing'})`;
    case 'rolling-back':
      return `returning to ${p.lkg ?? ''} from ${p.rolling ?? ''} (${p.ending?.message ?? ''})`;
    case 'succeeded':
      return `${p.rolling ?? ''} rolled out`;
    case 'rolled-back':
    case 'aborted':
    case 'failed':
      return `${p.rolling ?? ''} ${p.status}${p.ending ? ` (${p.ending.message})` : ''}`;
  }
}

function describeGate(gate: Gate, now: number): string {
  switch (gate.kind) {
    case 'approval':
      return 'waiting for the approval';
    case 'canary-pause':
      return `canary pause, ${formatDuration(Math.max(0, gate.until - now))} left`;
    case 'analysis':
      return "waiting for the fleet monitor's verdict on the canary";
    case 'fleet-monitor':
      return `waiting for the fleet monitor's verdict on batch ${gate.batch}`;
    case 'selection':
      return 'waiting for the selection controller';
    case 'removal':
      return 'waiting for the removal controller';
  }
}
