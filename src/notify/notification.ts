import type { Deployment, FerryEvent } from '../api/types.js';
import type { RolloutStatus } from '../rollout/index.js';
import { FINAL_STATUSES } from '../engine/types.js';
import type { NotifyEvent } from './events.js';

/** One deployment or rollout event as destinations are told it. */
export interface Notification {
  /** The published event's id: unique within a daemon's run. */
  readonly id: string;
  readonly at: number;
  readonly event: NotifyEvent;
  readonly app: string;
  readonly env: string;
  /** The deployment on one host; null for a rollout across hosts (then `rollout` says it). */
  readonly deployment: {
    readonly id: string;
    readonly kind: Deployment['kind'];
    readonly from: string | null;
    readonly to: string;
    readonly status: Deployment['status'];
    readonly strategy: Deployment['strategy']['kind'];
    /** The canary step (1, 2...) and its weight; null outside a canary's steps. */
    readonly step: { readonly index: number; readonly of: number; readonly weight: number } | null;
  } | null;
  /** The rollout across the environment's hosts; null for a deployment on one host. */
  readonly rollout: {
    /** The last known good release as the event leaves it (the new one once it succeeded). */
    readonly lkg: string | null;
    readonly to: string;
    readonly status: RolloutStatus;
    /** The batch done (`step`): "batch 2 of 5 done: 2 succeeded, 0 failed". */
    readonly batch: string | null;
  } | null;
  /** Why it failed, was rolled back or aborted, with the evidence in short; null otherwise. */
  readonly reason: string | null;
  /** One line for people: "hello 1.0.1 to production: succeeded". */
  readonly message: string;
}

const KEEP_FINISHED = 1000;

interface Seen {
  readonly status: Deployment['status'];
  readonly step: number;
  readonly weight: number;
}

/**
 * Turns the published deployment states into notifications: the first state of a deployment is
 * `started`, each new canary step `step`, a final status its own event. It keeps the last state of
 * each unfinished deployment only (forgotten at its end), so it stays as small as the work under way
 * (and the ids of the last finished ones).
 */
export class NotificationMapper {
  private readonly seen = new Map<string, Seen>();
  /** The last finished deployments: a final state published again is not told again. */
  private readonly finished = new Set<string>();

  /** The notification the event makes, or null (most events make none). */
  map(event: FerryEvent): Notification | null {
    if (event.kind === 'rollout') return rolloutNotification(event);
    if (event.kind !== 'deployment') return null;
    const d = event.deployment;
    const before = this.seen.get(d.id);
    if (FINAL_STATUSES.has(d.status)) {
      if (this.finished.has(d.id)) return null;
      this.seen.delete(d.id);
      this.finished.add(d.id);
      if (this.finished.size > KEEP_FINISHED) this.finished.delete(this.finished.values().next().value!);
      return notification(event.id, event.at, finalEvent(d), d);
    }
    this.finished.delete(d.id);
    this.seen.set(d.id, { status: d.status, step: d.step, weight: d.weight });
    if (before === undefined) return notification(event.id, event.at, 'started', d);
    if (
      d.strategy.kind === 'canary' &&
      d.phase === 'shifting' &&
      (d.step !== before.step || d.weight !== before.weight)
    )
      return notification(event.id, event.at, 'step', d);
    return null;
  }
}

function finalEvent(d: Deployment): NotifyEvent {
  if (d.status === 'succeeded') return 'succeeded';
  if (d.status === 'rolled-back') return 'rolled-back';
  if (d.status === 'aborted') return 'aborted';
  return 'failed';
}

function notification(id: string, at: number, event: NotifyEvent, d: Deployment): Notification {
  const step =
    d.strategy.kind === 'canary' && d.phase === 'shifting'
      ? { index: d.step + 1, of: d.strategy.steps.length, weight: d.weight }
      : null;
  const reason = event === 'failed' || event === 'rolled-back' || event === 'aborted' ? reasonOf(d) : null;
  return {
    id,
    at,
    event,
    app: d.app,
    env: d.env,
    deployment: {
      id: d.id,
      kind: d.kind,
      from: d.from,
      to: d.to,
      status: d.status,
      strategy: d.strategy.kind,
      step,
    },
    rollout: null,
    reason,
    message: messageOf(event, d, step, reason),
  };
}

/** The failure in one line with its evidence in short (the engine has hidden its secrets already). */
function reasonOf(d: Deployment): string | null {
  if (d.failure === null) return d.revertReason === 'abort' ? 'aborted by an operator' : null;
  const evidence = d.failure.evidence;
  const parts = [`${d.failure.code}: ${d.failure.message}`];
  if (evidence?.health !== undefined) parts.push(`health: ${evidence.health}`);
  if (evidence?.traffic !== undefined)
    parts.push(`traffic: ${evidence.traffic.errors} errors in ${evidence.traffic.requests} requests`);
  return parts.join('; ');
}

function messageOf(
  event: NotifyEvent,
  d: Deployment,
  step: NonNullable<Notification['deployment']>['step'],
  reason: string | null,
): string {
  const what =
    d.kind === 'deploy' ? `${d.app} ${d.from ?? '(none)'} -> ${d.to}` : `${d.app} ${d.kind} to ${d.to}`;
  const head = `${what} in ${d.env}`;
  switch (event) {
    case 'started':
      return `${head}: started (${d.strategy.kind})`;
    case 'step':
      return `${head}: canary step ${step?.index ?? d.step + 1}/${step?.of ?? '?'} at ${d.weight}%`;
    case 'succeeded':
      return `${head}: succeeded`;
    default:
      return `${head}: ${event}${reason === null ? '' : ` (${reason})`}`;
  }
}

type RolloutEvent = Extract<FerryEvent, { kind: 'rollout' }>;

/**
 * A rollout across hosts, told as a deployment is: its start, each batch done (`step`), and its
 * end by status. The rollout's own state carries the release and the reason; each decision is
 * published once, so nothing is told twice.
 */
function rolloutNotification(e: RolloutEvent): Notification | null {
  const event = rolloutEvent(e);
  if (event === null || e.version === null) return null;
  const failed = event === 'failed' || event === 'rolled-back' || event === 'aborted';
  const reason = failed ? (e.reason ?? null) : null;
  const head = `${e.app} rollout to ${e.version} in ${e.env}`;
  const message =
    event === 'started' || event === 'step'
      ? `${head}: ${e.message}`
      : `${head}: ${event}${reason === null ? '' : ` (${reason})`}`;
  return {
    id: e.id,
    at: e.at,
    event,
    app: e.app,
    env: e.env,
    deployment: null,
    rollout: {
      lkg: e.lkg,
      to: e.version,
      status: e.status,
      batch: event === 'step' ? e.message : null,
    },
    reason,
    message,
  };
}

function rolloutEvent(e: RolloutEvent): NotifyEvent | null {
  switch (e.decision) {
    case 'rollout-started':
      return 'started';
    case 'batch-done':
      return 'step';
    case 'rollout-ended':
      if (e.status === 'succeeded') return 'succeeded';
      if (e.status === 'rolled-back') return 'rolled-back';
      if (e.status === 'aborted') return 'aborted';
      return 'failed';
    default:
      return null;
  }
}
