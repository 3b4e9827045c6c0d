import { moveTo, record, result } from './transitions.js';
import type {
  DeploymentState,
  EngineEffect,
  EngineEvent,
  Failure,
  ReleaseObservation,
  ReplaceState,
  StepResult,
} from './types.js';

/**
 * A restart replaces the instances of the release that serves, never by stopping first: each batch
 * starts `batchSize` new instances beside the old ones, waits until they are healthy (the health
 * deadline, per batch), then drains and stops as many old ones. The last batch retires every old
 * instance left, so the count ends at the desired one whether it grew or shrank. A failure (an
 * instance that fails, the deadline) stops the unfinished batch's new instances; the old ones it did
 * not replace keep serving, and the release is not judged (it did not change).
 */

/** How many batches a restart of `state.instances` instances takes. */
export function batchCount(state: DeploymentState): number {
  const size = state.replace?.batchSize ?? 1;
  return Math.max(1, Math.ceil(state.instances / size));
}

/** New instances that must be healthy at the end of batch `batch`. */
function newTarget(state: DeploymentState, replace: ReplaceState, batch: number): number {
  return Math.min(state.instances, replace.batchSize * (batch + 1));
}

/** The old instances retired by the end of batch `batch` (all of them after the last). */
function oldRetiredBy(state: DeploymentState, replace: ReplaceState, batch: number): readonly string[] {
  if (batch >= batchCount(state) - 1) return replace.old;
  return replace.old.slice(0, replace.batchSize * (batch + 1));
}

/** A restart begins (after its install when it is a deploy of the serving release): batch 1. */
export function beginReplacing(
  state: DeploymentState,
  now: number,
  effects: EngineEffect[] = [],
): StepResult {
  const replace = state.replace;
  if (!replace) return result(state);
  const running = moveTo(state, { status: 'running' }, now);
  const entered = enterBatch(running, 0, now);
  return result(
    entered.state,
    ...effects,
    record(
      `restarting ${state.app} in ${state.env}: ${replace.old.length} instance(s) of ${state.to} replaced by ${state.instances}, ${replace.batchSize} at a time, each batch healthy before old ones stop`,
    ),
    ...entered.effects,
  );
}

function enterBatch(state: DeploymentState, batch: number, now: number): StepResult {
  const replace = state.replace!;
  const next = moveTo(
    state,
    { phase: 'replacing', phaseSince: now, replace: { ...replace, batch, retiring: false } },
    now,
  );
  const target = newTarget(next, replace, batch);
  return result(
    next,
    record(
      `batch ${batch + 1}/${batchCount(next)}: starting new instances of ${state.to} (${target} of ${state.instances}); waiting for health`,
    ),
    ...replacingEffects(next),
  );
}

/** What the replacing phase needs now (also re-issued after a restart of the daemon or a failed effect). */
export function replacingEffects(state: DeploymentState): EngineEffect[] {
  const replace = state.replace;
  if (!replace) return [];
  const traffic: EngineEffect = { type: 'set-traffic', weights: { [state.to]: 100 } };
  if (state.phase === 'reverting') return [traffic, trimEffect(state, replace)];
  const ensure: EngineEffect = {
    type: 'ensure-instances',
    version: state.to,
    count: newTarget(state, replace, replace.batch),
    exclude: replace.old,
  };
  if (!replace.retiring) return [ensure, traffic];
  return [
    ensure,
    traffic,
    { type: 'retire-instances', version: state.to, ids: oldRetiredBy(state, replace, replace.batch) },
  ];
}

/** New instances a restart that ends early keeps: its finished batches'. */
function trimEffect(state: DeploymentState, replace: ReplaceState): EngineEffect {
  const finished = replace.retiring ? replace.batch + 1 : replace.batch;
  const count = finished === 0 ? 0 : newTarget(state, replace, finished - 1);
  return { type: 'trim-instances', version: state.to, exclude: replace.old, count };
}

/** Each observation of the batch's new instances: failed, healthy (its old ones retire), or overdue. */
export function observeReplacing(
  state: DeploymentState,
  event: Extract<EngineEvent, { type: 'observed' }>,
  now: number,
): StepResult {
  const replace = state.replace;
  if (!replace || state.phase !== 'replacing') return result(state);
  const { target } = event;
  if (target.failed > 0) return failRestart(state, now, unhealthy(target));
  if (replace.retiring) return result(state);
  const wanted = newTarget(state, replace, replace.batch);
  if (target.healthy >= wanted) {
    const next = moveTo(state, { replace: { ...replace, retiring: true } }, now);
    const leaving =
      oldRetiredBy(state, replace, replace.batch).length -
      oldRetiredBy(state, replace, replace.batch - 1).length;
    return result(
      next,
      record(
        `batch ${replace.batch + 1}/${batchCount(state)}: ${target.healthy} new instance(s) healthy; ${Math.max(0, leaving)} old one(s) draining`,
      ),
      { type: 'retire-instances', version: state.to, ids: oldRetiredBy(state, replace, replace.batch) },
    );
  }
  if (now - state.phaseSince > state.strategy.healthDeadlineMs) {
    return failRestart(state, now, {
      code: 'FERRY_E_HEALTH_TIMEOUT',
      message: `the new instances of ${state.to} were not healthy within ${state.strategy.healthDeadlineMs}ms: ${target.healthy}/${wanted} healthy (batch ${replace.batch + 1})`,
      ...(target.evidence ? { evidence: target.evidence } : {}),
    });
  }
  return result(state);
}

/** The batch's old instances are gone (replacing), or the unfinished batch's new ones (reverting). */
export function retiredReplacing(state: DeploymentState, now: number): StepResult {
  const replace = state.replace;
  if (!replace) return result(state);
  if (state.phase === 'reverting') return endRestart(state, now);
  if (state.phase !== 'replacing' || !replace.retiring) return result(state);
  if (replace.batch + 1 < batchCount(state)) return enterBatch(state, replace.batch + 1, now);
  const next = moveTo(
    state,
    { status: 'succeeded', phase: 'done', phaseSince: now, weight: 100, retry: null },
    now,
  );
  return result(
    next,
    record(
      `restart succeeded: ${state.instances} new instance(s) of ${state.to} serve ${state.app} in ${state.env}`,
    ),
  );
}

/**
 * A failure or an abort: the unfinished batch's new instances stop; the old instances not replaced yet
 * keep serving (they never stopped), and so do the finished batches' new ones.
 */
export function failRestart(
  state: DeploymentState,
  now: number,
  failure: Failure | null,
  actor?: string,
): StepResult {
  const next = moveTo(
    state,
    {
      status: 'rolling-back',
      phase: 'reverting',
      phaseSince: now,
      failure: failure ?? state.failure,
      revertReason: failure ? 'failure' : 'abort',
    },
    now,
  );
  const why = failure
    ? record(`${failure.code}: ${failure.message}`, { failure })
    : record(`aborted by ${actor ?? 'request'}`);
  return result(
    next,
    why,
    record(`stopping the unfinished batch's new instances; the instances not replaced yet keep serving`),
    ...replacingEffects(next),
  );
}

function endRestart(state: DeploymentState, now: number): StepResult {
  const status = state.revertReason === 'abort' ? 'aborted' : 'failed';
  const next = moveTo(state, { status, phase: 'done', phaseSince: now, retry: null }, now);
  return result(next, record(`restart ${status}: ${state.to} keeps serving ${state.app} in ${state.env}`));
}

/** `abort --force`: the restart ends at once; the unfinished batch's new instances stop in the background. */
export function endRestartAtOnce(state: DeploymentState, now: number, actor: string): StepResult {
  const replace = state.replace!;
  const next = moveTo(
    state,
    { status: 'aborted', phase: 'done', phaseSince: now, retry: null, revertReason: 'abort' },
    now,
  );
  return result(
    next,
    record(
      `ended at once by ${actor} (forced): ${state.to} keeps serving; the unfinished batch's new instances stop`,
    ),
    trimEffect(state, replace),
  );
}

function unhealthy(target: ReleaseObservation): Failure {
  return {
    code: 'FERRY_E_UNHEALTHY',
    message: `${target.failed} new instance(s) of ${target.version} failed (unhealthy or crash-looping)`,
    ...(target.evidence ? { evidence: target.evidence } : {}),
  };
}
