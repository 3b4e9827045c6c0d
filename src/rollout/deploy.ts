import type { Draft } from './draft.js';
import { beginReturn, startRollout } from './lifecycle.js';
import { ACTIVE_STATUSES, type RolloutState } from './types.js';
import type { RolloutCommand } from './events.js';

/**
 * Why a deploy cannot be taken, or null when it can (queued, started, or a no-op recorded as
 * such). The runtime answers a non-null one with its code before stepping the engine.
 */
export function deployError(
  state: Pick<RolloutState, 'app' | 'env' | 'lkb'>,
  version: string,
  force = false,
): { code: 'FERRY_E_RELEASE_BAD'; message: string } | null {
  if (force || version !== state.lkb) return null;
  return {
    code: 'FERRY_E_RELEASE_BAD',
    message: `${version} is the last known bad release of ${state.app} in ${state.env}; deploy it with force to try it again`,
  };
}

/**
 * A deploy: with no rollout running it starts at once. Behind a running one it is queued (a later
 * deploy replaces the queued one) and starts when that one ends; `force` supersedes the running
 * rollout instead: the new release rolls out from where the targets are. The superseded release is
 * not marked bad by the force (it is judged only by what happened to it).
 */
export function applyDeploy(d: Draft, version: string, force: boolean, actor: string): void {
  const s = d.s;
  const refused = deployError(s, version, force);
  if (refused !== null) {
    d.record({ kind: 'deploy-ignored', version, reason: refused.message });
    return;
  }
  if (!ACTIVE_STATUSES.has(s.status)) {
    if (version === s.lkg)
      d.record({ kind: 'deploy-ignored', version, reason: 'it is last known good already' });
    else startRollout(d, version, actor, force);
    return;
  }
  if (s.direction === 'forward' && version === s.rolling) {
    d.record({ kind: 'deploy-ignored', version, reason: 'it is rolling out already' });
    return;
  }
  if (s.direction === 'back' && version === s.lkg) {
    d.record({ kind: 'deploy-ignored', version, reason: 'every target is returning to it already' });
    return;
  }
  if (!force) {
    const replaces = s.queued?.version ?? null;
    s.queued = { version, at: d.now, actor };
    s.targetVersion = version;
    d.record({ kind: 'deploy-queued', version, behind: s.rolling ?? '', replaces });
    return;
  }
  if (s.queued !== null) {
    d.record({
      kind: 'queue-dropped',
      version: s.queued.version,
      reason: `superseded by ${version} (forced)`,
    });
    s.queued = null;
  }
  d.record({ kind: 'rollout-superseded', version: s.rolling ?? '', by: version, actor });
  startRollout(d, version, actor, true);
}

/**
 * Why an operator's command cannot apply now, or null when it can. The runtime turns a non-null
 * answer into FERRY_E_ILLEGAL_STATE; every answer says what does apply.
 */
export function commandError(
  state: Pick<RolloutState, 'app' | 'env' | 'status'>,
  command: RolloutCommand,
): string | null {
  const where = `the rollout of ${state.app} in ${state.env} is ${state.status}`;
  switch (command) {
    case 'pause':
      if (state.status === 'running') return null;
      if (state.status === 'rolling-back')
        return `${where}: a return to last known good is never paused (abort does not apply either)`;
      return `${where}: only a running rollout can be paused`;
    case 'resume':
      return state.status === 'paused' ? null : `${where}: only a paused rollout can be resumed`;
    case 'abort':
      if (state.status === 'running' || state.status === 'paused') return null;
      if (state.status === 'rolling-back')
        return `${where}: every target is returning to last known good already`;
      return `${where}: there is nothing to abort`;
  }
}

/**
 * pause: no target gets the release any more (targets in flight are still judged, and a failure
 * still rolls back); resume: batches go on; abort: every target returns to last known good, batch
 * by batch, the release unjudged, and a queued release is dropped. A command that does not apply
 * changes nothing.
 */
export function applyCommand(d: Draft, command: RolloutCommand, actor: string): void {
  const s = d.s;
  if (commandError(s, command) !== null) return;
  switch (command) {
    case 'pause':
      s.status = 'paused';
      d.record({ kind: 'paused', actor });
      return;
    case 'resume':
      s.status = 'running';
      d.record({ kind: 'resumed', actor });
      return;
    case 'abort':
      if (s.queued !== null) {
        d.record({
          kind: 'queue-dropped',
          version: s.queued.version,
          reason: `the rollout was aborted by ${actor}`,
        });
        s.queued = null;
        s.targetVersion = s.rolling;
      }
      beginReturn(d, 'abort', `aborted by ${actor}`);
      return;
  }
}
