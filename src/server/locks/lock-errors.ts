import { FerryError } from '../../errors/ferry-error.js';
import { describeTarget, isoSecond, unlockCommand, type Lock, type LockTarget } from './lock.js';

/**
 * FERRY_E_LOCKED: what was refused, and the lock that refused it (owner, reason, expiry) with the
 * way out. `refused` says what was asked ("cannot deploy 1.1.0 of hello to production"); `then`
 * what the asker may do besides waiting (default: release it).
 */
export function lockedError(lock: Lock, refused: string, then?: string): FerryError {
  return new FerryError(
    'FERRY_E_LOCKED',
    `${refused}: ${describeLock(lock)}; ${then ?? `release it with: ${unlockCommand(lock)}`}`,
    { where: describeTarget(lock), expected: 'no lock', got: `locked by ${lock.owner}`, lock: { ...lock } },
  );
}

/** "production is locked by alice until 2026-11-28T12:00:00Z: release freeze" */
export function describeLock(lock: Lock): string {
  return `${describeTarget(lock)} is locked by ${lock.owner} until ${isoSecond(lock.expiresAt)}: ${lock.reason}`;
}

/**
 * FERRY_E_LOCK_UNKNOWN: nothing to unlock. `expired` is the lock that was there until it expired;
 * `others` the locks that do hold in the environment (an app's, when the environment was named).
 */
export function notLockedError(
  target: LockTarget,
  expired: Lock | null,
  others: readonly Lock[],
): FerryError {
  const why =
    expired === null ? '' : ` (its lock by ${expired.owner} expired at ${isoSecond(expired.expiresAt)})`;
  const held = others.map((lock) => `${describeTarget(lock)} (${unlockCommand(lock)})`);
  const hint = held.length === 0 ? '' : `; locked there: ${held.join(', ')}`;
  return new FerryError('FERRY_E_LOCK_UNKNOWN', `${describeTarget(target)} is not locked${why}${hint}`, {
    where: describeTarget(target),
    expected: 'a lock',
    got: 'none',
  });
}
