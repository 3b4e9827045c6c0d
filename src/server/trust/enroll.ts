import { FerryError } from '../../errors/ferry-error.js';
import { isHostName } from '../../lib/host-name.js';
import { labelsOf, MAX_LABELS, parseLabels, type Labels } from '../../lib/labels.js';
import type { KvCompare } from '../../store/kv/kv.js';
import { CAS_ATTEMPTS, summarizeHost, type HostSummary } from './hosts.js';
import { checkJoinToken, joinTokenRefused, type TrustContext } from './join-tokens.js';
import { newSecretId, newSecretToken, parseSecretToken } from './secret-token.js';
import {
  parseHostRecord,
  parseJoinTokenRecord,
  trustKeys,
  type HostRecord,
  type JoinTokenRecord,
} from './trust-records.js';

/** What an agent asks to enroll as. */
export interface EnrollRequest {
  /** The host's name (by default its hostname); unique among enrolled hosts. */
  readonly name: unknown;
  /** Labels beside the join token's own. */
  readonly labels?: unknown;
}

export interface Enrollment {
  readonly host: HostSummary;
  /** The agent's credential, `ferry-agent.<host id>.<secret>`: returned here once, stored only hashed. */
  readonly credential: string;
}

/**
 * Enrolls a host with a join token: checks the token (FERRY_E_JOIN_TOKEN_REFUSED), the name
 * (FERRY_E_USAGE, or FERRY_E_HOST_NAME_TAKEN) and the labels (the token's merged with the agent's,
 * which may add labels but not change the token's), then in one compare-and-swap takes a use of
 * the token and writes the host with its credential's hash. Refused, it changes nothing.
 */
export async function enroll(
  ctx: TrustContext,
  joinToken: unknown,
  request: EnrollRequest,
): Promise<Enrollment> {
  const presented = parseSecretToken('ferry-join', joinToken);
  if (presented === null) {
    throw joinTokenRefused('malformed', 'the join token is malformed: expected ferry-join.<id>.<secret>');
  }
  const name = checkHostName(request.name);
  const asked = parseLabels(request.labels, 'labels');

  for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
    const now = ctx.clock.now();
    const tokenEntry = await ctx.kv.get(trustKeys.joinToken(presented.id));
    const token = checkJoinToken(presented, tokenEntry && parseJoinTokenRecord(tokenEntry), now);
    const labels = mergeLabels(token, asked);
    const nameKey = trustKeys.hostName(name);
    const nameCompare = await nameIsFree(ctx, nameKey, name);

    const hostId = newSecretId();
    const { token: credential, hash } = newSecretToken('ferry-agent', hostId);
    const host: HostRecord = {
      id: hostId,
      name,
      labels,
      enrolledAt: now,
      credentialSha256: hash,
      joinTokenId: token.id,
      revokedAt: null,
    };
    const used: JoinTokenRecord = { ...token, usesLeft: token.usesLeft - 1 };
    const written = await ctx.kv.txn({
      compare: [
        { key: trustKeys.joinToken(token.id), modRevision: tokenEntry?.modRevision ?? 0 },
        nameCompare,
        { key: trustKeys.host(hostId), modRevision: 0 },
      ],
      success: [
        { type: 'put', key: trustKeys.joinToken(token.id), value: JSON.stringify(used) },
        { type: 'put', key: trustKeys.host(hostId), value: JSON.stringify(host) },
        { type: 'put', key: nameKey, value: hostId },
      ],
    });
    // Lost a race (another enrollment with the token or the name): read again and decide anew.
    if (written.succeeded) return { host: summarizeHost(host), credential };
  }
  throw new FerryError('FERRY_E_STORE', 'the enrollment kept conflicting with others; try again');
}

/**
 * The compare that keeps the name free until the write: no index entry, or one left pointing at
 * a host that is revoked or gone (a revocation interrupted between its two writes).
 */
async function nameIsFree(ctx: TrustContext, nameKey: string, name: string): Promise<KvCompare> {
  const entry = await ctx.kv.get(nameKey);
  if (entry === undefined) return { key: nameKey, modRevision: 0 };
  const holderEntry = await ctx.kv.get(trustKeys.host(entry.value));
  const holder = holderEntry && parseHostRecord(holderEntry);
  if (holder !== undefined && holder.revokedAt === null) {
    throw new FerryError(
      'FERRY_E_HOST_NAME_TAKEN',
      `a host named ${JSON.stringify(holder.name)} is enrolled already (${holder.id}); revoke it to enroll another as ${JSON.stringify(name)}`,
      { where: 'name', got: name, hostId: holder.id },
    );
  }
  return { key: nameKey, modRevision: entry.modRevision };
}

function checkHostName(name: unknown): string {
  if (isHostName(name)) return name;
  const got = typeof name === 'string' ? JSON.stringify(name.slice(0, 80)) : typeof name;
  throw new FerryError(
    'FERRY_E_USAGE',
    `name: expected a host name of 1 to 253 letters, digits, '.', '_', '-' (not starting with '.' or '-'), got ${got}`,
    { where: 'name', expected: 'a host name', got },
  );
}

/** The token's labels with the agent's added; an agent may not change a label the token sets. */
function mergeLabels(token: JoinTokenRecord, asked: Labels): Labels {
  const merged = new Map(Object.entries(token.labels));
  for (const [key, value] of Object.entries(asked)) {
    const preset = merged.get(key);
    if (preset !== undefined && preset !== value) {
      throw new FerryError(
        'FERRY_E_USAGE',
        `labels.${key}: expected ${JSON.stringify(preset)} (set by the join token), got ${JSON.stringify(value)}`,
        { where: `labels.${key}`, expected: preset, got: value },
      );
    }
    merged.set(key, value);
  }
  if (merged.size > MAX_LABELS) {
    const got = `${merged.size} with the join token's`;
    throw new FerryError('FERRY_E_USAGE', `labels: expected at most ${MAX_LABELS} labels, got ${got}`, {
      where: 'labels',
      expected: `at most ${MAX_LABELS}`,
      got,
    });
  }
  return labelsOf(merged);
}
