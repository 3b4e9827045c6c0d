import type { TargetsReportResponse, TargetsRollout, TargetsRolloutSummary } from '../../api/types.js';
import { redactUrl } from '../../lib/redact.js';
import {
  describeDecision,
  describeProgress,
  formatProgress,
  type RolloutOptions,
  type RolloutState,
} from '../../rollout/index.js';
import type { KeptVerdict } from './kv-verdicts.js';
import type { ControllerEndpoints } from './ports.js';
import { CONTROLLER_OPTIONS } from '../targets/target-options.js';

/** Where a rollout stands, as lists and report answers show it (`ids` name it: namespace and entity, or app and env). */
export function summaryOf<Ids extends object>(
  ids: Ids,
  state: RolloutState,
  now: number,
): Ids & Omit<TargetsRolloutSummary, 'namespace' | 'entity'> {
  const progress = describeProgress(state, now);
  return {
    ...ids,
    status: state.status,
    direction: state.direction,
    rolling: state.rolling,
    lkg: state.lkg,
    lkb: state.lkb,
    targetVersion: state.targetVersion,
    queued: progress.queued,
    progress: formatProgress(progress, now),
    batch: progress.batch,
    counts: progress.targets,
    budget: progress.budget,
    trigger: state.trigger,
    updatedAt: state.updatedAt,
  };
}

/** The whole rollout: its summary, gate, options, targets, decisions and verdicts. */
export function rolloutOf<Ids extends object>(
  ids: Ids,
  record: { readonly state: RolloutState; readonly endpoints: ControllerEndpoints },
  verdicts: readonly KeptVerdict[],
  now: number,
): Ids & Omit<TargetsRollout, 'namespace' | 'entity'> {
  const { state } = record;
  const gate = state.gate;
  return {
    ...summaryOf(ids, state, now),
    gate: gate === null ? null : { kind: gate.kind, until: gate.kind === 'canary-pause' ? gate.until : null },
    ending: state.ending,
    pending: state.calls.map((c) => ({
      id: c.id,
      controller: c.controller,
      deadline: c.deadline,
      target: c.target,
    })),
    options: optionsView(state.options, record.endpoints),
    targets: state.targets.map((t, i) => ({
      name: t.name,
      labels: t.labels,
      reported: t.reported,
      healthy: t.healthy,
      message: t.message,
      assigned: t.assigned,
      assignedAt: t.assignedAt,
      status: t.status,
      failure: t.failure,
      lastSeenAt: state.lastSeen[i] ?? null,
    })),
    decisions: state.log.map((entry) => ({
      at: entry.at,
      kind: entry.decision.kind,
      message: describeDecision(entry.decision, now),
    })),
    verdicts: verdicts.map(({ version, verdict, reason, at }) => ({ version, verdict, reason, at })),
  };
}

/**
 * The release each reported target should run, in the order reported: the one it is assigned
 * (last known good when it joins); null when none is decided yet or it was removed.
 */
export function assignedTo(state: RolloutState, names: readonly string[]): TargetsReportResponse['targets'] {
  const byName = new Map(state.targets.map((t) => [t.name, t]));
  return names.map((name) => {
    const t = byName.get(name);
    if (t === undefined) return { name, version: null, status: 'unassigned' as const };
    return { name, version: t.status === 'removed' ? null : t.assigned, status: t.status };
  });
}

function optionsView(options: RolloutOptions, endpoints: ControllerEndpoints): TargetsRollout['options'] {
  const shown = (kind: keyof ControllerEndpoints) => redactUrl(endpoints[kind] ?? '');
  const controllers = { ...options.controllers } as Record<string, unknown>;
  for (const [key, kind] of CONTROLLER_OPTIONS) {
    const c = options.controllers[key];
    controllers[key] = c === null ? null : { ...c, url: endpoints[kind] === undefined ? '' : shown(kind) };
  }
  return { ...options, controllers: controllers as TargetsRollout['options']['controllers'] };
}
