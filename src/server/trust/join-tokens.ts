import { FerryError } from '../../errors/ferry-error.js';
import { parseLabels, type Labels } from '../../lib/labels.js';
import type { Clock } from '../../lib/clock.js';
import type { KvStore } from '../../store/kv/kv.js';
import type { HostRecordCache } from './host-record-cache.js';
import {
  newSecretId,
  newSecretToken,
  SECRET_ID_PATTERN,
  secretMatches,
  type SecretToken,
} from './secret-token.js';
import { parseJoinTokenRecord, trustKeys, type JoinTokenRecord } from './trust-records.js';

/** What enrollment works on: the control plane's store and its clock. */
export interface TrustContext {
  readonly kv: KvStore;
  readonly clock: Clock;
  /** The hosts' records kept in memory for authentication (without it, each check reads the store). */
  readonly hostRecords?: HostRecordCache;
}

export interface CreateJoinTokenOptions {
  /** How long the token enrolls agents, in ms. */
  readonly ttlMs: number;
  /** Labels every host enrolled with it gets; an agent may add others, never change these. */
  readonly labels?: unknown;
  /** How many agents it enrolls (default 1). */
  readonly uses?: number;
}

/** A join token as `ferry hosts` and the API list it: never its secret. */
export interface JoinTokenSummary {
  readonly id: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly uses: number;
  readonly usesLeft: number;
  readonly labels: Labels;
  readonly state: 'active' | 'expired' | 'used-up';
}

export const MIN_JOIN_TOKEN_TTL_MS = 1000;
export const MAX_JOIN_TOKEN_TTL_MS = 365 * 24 * 60 * 60 * 1000;
export const MAX_JOIN_TOKEN_USES = 10_000;

/**
 * Creates a join token. The token string is returned here once and never again: the store keeps
 * only its hash. Bad options are FERRY_E_USAGE, and nothing is created.
 */
export async function createJoinToken(
  ctx: TrustContext,
  options: CreateJoinTokenOptions,
): Promise<{ readonly token: string; readonly joinToken: JoinTokenSummary }> {
  const { ttlMs, uses = 1 } = options;
  if (!Number.isInteger(ttlMs) || ttlMs < MIN_JOIN_TOKEN_TTL_MS || ttlMs > MAX_JOIN_TOKEN_TTL_MS) {
    throw usage('ttl', 'a duration from 1s to 365d', `${String(ttlMs)} ms`);
  }
  if (!Number.isInteger(uses) || uses < 1 || uses > MAX_JOIN_TOKEN_USES) {
    throw usage('uses', `a whole number from 1 to ${MAX_JOIN_TOKEN_USES}`, String(uses));
  }
  const labels = parseLabels(options.labels, 'labels');
  const now = ctx.clock.now();
  for (;;) {
    const id = newSecretId();
    const { token, hash } = newSecretToken('ferry-join', id);
    const record: JoinTokenRecord = {
      id,
      secretSha256: hash,
      createdAt: now,
      expiresAt: now + ttlMs,
      uses,
      usesLeft: uses,
      labels,
    };
    const key = trustKeys.joinToken(id);
    const created = await ctx.kv.txn({
      compare: [{ key, modRevision: 0 }],
      success: [{ type: 'put', key, value: JSON.stringify(record) }],
    });
    // An id taken already (one chance in 2^64): draw another.
    if (created.succeeded) return { token, joinToken: summarizeJoinToken(record, now) };
  }
}

/** Every join token, oldest first, without secrets; expired and used-up ones until revoked. */
export async function listJoinTokens(ctx: TrustContext): Promise<JoinTokenSummary[]> {
  const { entries } = await ctx.kv.range(trustKeys.joinTokens);
  const now = ctx.clock.now();
  return entries
    .map((entry) => summarizeJoinToken(parseJoinTokenRecord(entry), now))
    .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
}

/** Revokes (deletes) a join token: it enrolls no one after this. FERRY_E_JOIN_TOKEN_UNKNOWN if none. */
export async function revokeJoinToken(ctx: TrustContext, id: string): Promise<JoinTokenSummary> {
  const entry = SECRET_ID_PATTERN.test(id) ? await ctx.kv.get(trustKeys.joinToken(id)) : undefined;
  if (entry === undefined) {
    throw new FerryError(
      'FERRY_E_JOIN_TOKEN_UNKNOWN',
      `no join token has the id ${JSON.stringify(id.slice(0, 80))}`,
      {
        where: 'join token id',
        got: id.slice(0, 80),
      },
    );
  }
  // Unconditionally: an enrollment racing the revocation happened before it, and the token is gone.
  await ctx.kv.delete(entry.key);
  return summarizeJoinToken(parseJoinTokenRecord(entry), ctx.clock.now());
}

/**
 * Checks a presented token against its record: the secret first (constant time), and only then
 * whether it expired or is used up, so only a holder of the secret learns that.
 * FERRY_E_JOIN_TOKEN_REFUSED with `details.reason` otherwise.
 */
export function checkJoinToken(
  presented: SecretToken,
  record: JoinTokenRecord | undefined,
  now: number,
): JoinTokenRecord {
  if (!secretMatches(presented.secret, record?.secretSha256) || record === undefined) {
    throw joinTokenRefused('wrong', 'the join token is wrong (unknown, revoked, or another secret)');
  }
  if (now >= record.expiresAt) {
    throw joinTokenRefused(
      'expired',
      `the join token ${record.id} expired at ${new Date(record.expiresAt).toISOString()}`,
    );
  }
  if (record.usesLeft <= 0) {
    throw joinTokenRefused(
      'used-up',
      `the join token ${record.id} is used up (it enrolled ${record.uses} host${record.uses === 1 ? '' : 's'})`,
    );
  }
  return record;
}

export function joinTokenRefused(
  reason: 'malformed' | 'wrong' | 'expired' | 'used-up',
  message: string,
): FerryError {
  return new FerryError('FERRY_E_JOIN_TOKEN_REFUSED', message, { reason });
}

function summarizeJoinToken(record: JoinTokenRecord, now: number): JoinTokenSummary {
  const state = record.usesLeft <= 0 ? 'used-up' : now >= record.expiresAt ? 'expired' : 'active';
  const { id, createdAt, expiresAt, uses, usesLeft, labels } = record;
  return { id, createdAt, expiresAt, uses, usesLeft, labels, state };
}

function usage(where: string, expected: string, got: string): FerryError {
  return new FerryError('FERRY_E_USAGE', `join token ${where}: expected ${expected}, got ${got}`, {
    where,
    expected,
    got,
  });
}
