import type {
  LockResponse,
  LocksResponse,
  LockView,
  QueuedDeployView,
  QueuedResponse,
  UnlockResponse,
} from '../api/types.js';
import { formatDateTime, formatUptime } from './format.js';

/** "production", or "hello in production". */
function targetOf(lock: { env: string; app: string | null }): string {
  return lock.app === null ? lock.env : `${lock.app} in ${lock.env}`;
}

function unlockOf(lock: LockView): string {
  return lock.app === null ? `ferry unlock ${lock.env}` : `ferry unlock ${lock.env} ${lock.app}`;
}

/** "locked by alice until 2026-11-28 12:00:00 UTC (in 1h59m): release freeze" */
function heldLine(lock: LockView, now: number): string {
  return `locked by ${lock.owner} until ${formatDateTime(lock.expiresAt)} UTC (in ${formatUptime(Math.max(0, lock.expiresAt - now))}): ${lock.reason}`;
}

/** `ferry lock`: what is locked now, until when, and how it ends. */
export function renderLockTaken(response: LockResponse, now: number): string {
  const { lock, replaced } = response;
  const renewed =
    replaced === null ? '' : ` (renews its lock until ${formatDateTime(replaced.expiresAt)} UTC)`;
  const covers = lock.app === null ? `every app in ${lock.env}` : `${lock.app} in ${lock.env}`;
  return [
    `${targetOf(lock)} ${heldLine(lock, now)}${renewed}`,
    `deploys and restarts of ${covers} are refused (or queued with ferry deploy --queue) until ${unlockOf(lock)} or its expiry`,
  ].join('\n');
}

/** `ferry unlock` */
export function renderUnlocked(response: UnlockResponse): string {
  const { lock } = response;
  return `${targetOf(lock)} unlocked (it was locked by ${lock.owner} since ${formatDateTime(lock.createdAt)} UTC: ${lock.reason}); a deploy queued behind it starts now`;
}

/** `ferry locks`: one line per lock, then the deploys queued. */
export function renderLocks(response: LocksResponse, now: number): string {
  const lines =
    response.locks.length === 0
      ? ['no locks']
      : response.locks.map((lock) => `${targetOf(lock).padEnd(24)} ${heldLine(lock, now)}`);
  if (response.queued.length > 0)
    lines.push('', 'queued deploys:', ...response.queued.map((q) => renderQueued(q, now)));
  return lines.join('\n');
}

/** One queued deploy: waiting behind its lock, or why it could not start. */
export function renderQueued(queued: QueuedDeployView, now: number): string {
  const what = `  ${queued.app} ${queued.version} in ${queued.env} (queued by ${queued.actor} ${formatUptime(Math.max(0, now - queued.queuedAt))} ago)`;
  return queued.failure === null
    ? `${what}: waits for the lock of ${targetOf(queued.heldBy)} (${queued.heldBy.reason}); starts once it is released or expires`
    : `${what}: could not start once the lock went: ${queued.failure.code}: ${queued.failure.message}`;
}

/** Lines of `ferry status` for one app: the locks that hold it, its queued deploy. */
export function renderStatusLocks(
  app: { readonly locks?: readonly LockView[]; readonly queued?: QueuedDeployView | null },
  now: number,
): string[] {
  const lines = (app.locks ?? []).map((lock) => `  LOCKED (${targetOf(lock)}) ${heldLine(lock, now)}`);
  const queued = app.queued;
  if (queued)
    lines.push(
      queued.failure === null
        ? `  queued: deploy of ${queued.version} by ${queued.actor}, starts once no lock holds it`
        : `  queued deploy of ${queued.version} could not start: ${queued.failure.code}: ${queued.failure.message}`,
    );
  return lines;
}

/** `ferry deploy --queue` when a lock holds the app: what waits, behind which lock. */
export function renderQueuedDeploy(response: QueuedResponse): string {
  const { queued, replaced } = response;
  const lock = queued.heldBy;
  const instead =
    replaced === null ? '' : ` (instead of ${replaced.version}, queued by ${replaced.actor} before)`;
  return [
    `queued: ${queued.app} ${queued.version} in ${queued.env}${instead}`,
    `  ${targetOf(lock)} is locked by ${lock.owner} until ${formatDateTime(lock.expiresAt)} UTC: ${lock.reason}`,
    '  it starts once no lock holds the app (released or expired); ferry status shows it meanwhile',
  ].join('\n');
}
