import { z } from 'zod';
import { FerryError, messageOf } from '../../errors/ferry-error.js';
import { isName } from '../../lib/names.js';
import type { KvEntry } from '../../store/kv/kv.js';

/**
 * A lock on an environment (every app of it) or on one app in an environment: while it holds,
 * deployments and restarts there are refused (or queued). It is a key of the control plane's store
 * attached to a lease whose TTL is the lock's: a lock nobody releases ends at its expiry, and a
 * server that goes away leaves nothing locked for ever.
 */
export interface Lock {
  readonly env: string;
  /** null: the whole environment. */
  readonly app: string | null;
  /** Who took it: the actor of the request (the API's). */
  readonly owner: string;
  readonly reason: string;
  /** ms since the epoch, the server's clock. */
  readonly createdAt: number;
  readonly expiresAt: number;
}

/** What a lock is on: an environment, or an app in it. */
export interface LockTarget {
  readonly env: string;
  readonly app: string | null;
}

/** How long a lock holds when no TTL is given. */
export const DEFAULT_LOCK_TTL_MS = 24 * 60 * 60 * 1000;
/** The longest TTL a lock takes: a longer freeze is locked again (renewed) by its owner. */
export const MAX_LOCK_TTL_MS = 7 * 24 * 60 * 60 * 1000;
export const MIN_LOCK_TTL_MS = 1000;
/** A reason is one line shown in every refusal: long enough to say why, short enough to read. */
export const MAX_REASON_LENGTH = 500;

export const LOCKS_PREFIX = '/locks/';

/**
 * `/locks/<env>` for an environment, `/locks/<env>/<app>` for an app in it. Names are checked
 * (NAME_PATTERN: no `/`), so a key names exactly one target.
 */
export function lockKey(target: LockTarget): string {
  assertTargetNames(target);
  return target.app === null ? `${LOCKS_PREFIX}${target.env}` : `${LOCKS_PREFIX}${target.env}/${target.app}`;
}

/** The target a key of /locks/ names; undefined for a key that is not a lock's. */
export function targetOfKey(key: string): LockTarget | undefined {
  if (!key.startsWith(LOCKS_PREFIX)) return undefined;
  const [env, app, ...rest] = key.slice(LOCKS_PREFIX.length).split('/');
  if (!isName(env) || rest.length > 0 || (app !== undefined && !isName(app))) return undefined;
  return { env, app: app ?? null };
}

/** "production", or "hello in production": how messages name a target. */
export function describeTarget(target: LockTarget): string {
  return target.app === null ? target.env : `${target.app} in ${target.env}`;
}

/** The command that releases a lock on the target. */
export function unlockCommand(target: LockTarget): string {
  return target.app === null ? `ferry unlock ${target.env}` : `ferry unlock ${target.env} ${target.app}`;
}

/** A moment as ISO 8601 in UTC, to the second: 2026-11-28T12:00:00Z. */
export function isoSecond(at: number): string {
  return new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Names that cannot be an environment's or an app's never reach a key: FERRY_E_USAGE. */
export function assertTargetNames(target: LockTarget): void {
  for (const [field, value] of [
    ['env', target.env],
    ['app', target.app],
  ] as const) {
    if (value === null || isName(value)) continue;
    throw new FerryError(
      'FERRY_E_USAGE',
      `${field}: expected a name of lowercase letters, digits, "-" and "_" (at most 63), got ${JSON.stringify(String(value).slice(0, 80))}`,
      { where: field, expected: 'a name', got: String(value).slice(0, 80) },
    );
  }
}

/** Checks a lock's reason: required, one line, at most MAX_REASON_LENGTH characters. Returns it trimmed. */
export function checkReason(reason: unknown): string {
  const text = typeof reason === 'string' ? reason.trim() : '';
  const problem =
    text === ''
      ? 'a reason is required (it is shown to everyone the lock refuses)'
      : text.length > MAX_REASON_LENGTH
        ? `at most ${MAX_REASON_LENGTH} characters, got ${text.length}`
        : // eslint-disable-next-line no-control-regex
          /[\u0000-\u001f\u007f]/.test(text)
          ? 'one line of text, without control characters'
          : null;
  if (problem === null) return text;
  throw new FerryError('FERRY_E_USAGE', `reason: ${problem}`, {
    where: 'reason',
    expected: `one line of 1 to ${MAX_REASON_LENGTH} characters`,
  });
}

/** Checks a lock's TTL in ms: a whole number from MIN_LOCK_TTL_MS to MAX_LOCK_TTL_MS. */
export function checkTtl(ttlMs: number | undefined): number {
  const ttl = ttlMs ?? DEFAULT_LOCK_TTL_MS;
  if (Number.isSafeInteger(ttl) && ttl >= MIN_LOCK_TTL_MS && ttl <= MAX_LOCK_TTL_MS) return ttl;
  throw new FerryError(
    'FERRY_E_USAGE',
    `ttl: expected a duration from 1s to 7d (like "2h" or "3d"), got ${String(ttl)} ms`,
    { where: 'ttl', expected: 'a duration from 1s to 7d', got: `${String(ttl)} ms` },
  );
}

/** A lock as stored (the value of its key). */
export const lockSchema = z.object({
  env: z.string(),
  app: z.string().nullable(),
  owner: z.string(),
  reason: z.string(),
  createdAt: z.number(),
  expiresAt: z.number(),
});

/** The lock a key of /locks/ holds; FERRY_E_STORE when its value is not one. */
export function parseLock(entry: Pick<KvEntry, 'key' | 'value'>): Lock {
  try {
    return lockSchema.parse(JSON.parse(entry.value));
  } catch (error) {
    throw new FerryError('FERRY_E_STORE', `the lock at ${entry.key} is damaged: ${messageOf(error)}`, {
      where: entry.key,
    });
  }
}
