import { FerryError } from '../../errors/ferry-error.js';
import type { Labels } from '../../lib/labels.js';
import type { TrustContext } from './join-tokens.js';
import { parseSecretToken, SECRET_ID_PATTERN, secretMatches } from './secret-token.js';
import { parseHostRecord, trustKeys, type HostRecord } from './trust-records.js';

/** An enrolled host as `ferry hosts` and the API list it: never its credential. */
export interface HostSummary {
  readonly id: string;
  readonly name: string;
  readonly labels: Labels;
  readonly enrolledAt: number;
  /** The join token that enrolled it (its id). */
  readonly joinTokenId: string;
  readonly revoked: boolean;
  readonly revokedAt: number | null;
}

/** Who an agent request comes from, once its credential is checked. */
export interface AgentIdentity {
  readonly hostId: string;
  readonly name: string;
  readonly labels: Labels;
}

/** How many times a write that lost a compare-and-swap race is tried again before giving up. */
export const CAS_ATTEMPTS = 20;

/**
 * The host an agent credential belongs to. FERRY_E_AGENT_CREDENTIAL_REFUSED when it is malformed,
 * unknown or wrong (one answer for both; the secret is compared in constant time, even when no
 * host has the id), or when the host was revoked. The host's record comes from the context's
 * HostRecordCache when it has one (kept current by a watch of the store: a revocation holds from
 * the next request on at the server that made it, and as soon as the store's watch delivers it at
 * the others), else from the store on every call.
 */
export async function authenticateAgent(ctx: TrustContext, credential: unknown): Promise<AgentIdentity> {
  const presented = parseSecretToken('ferry-agent', credential);
  if (presented === null) {
    throw credentialRefused(
      'malformed',
      'the agent credential is malformed: expected ferry-agent.<host id>.<secret>',
    );
  }
  const host = await readHost(ctx, presented.id);
  if (!secretMatches(presented.secret, host?.credentialSha256) || host === undefined) {
    throw credentialRefused('wrong', 'the agent credential is wrong (unknown host, or another secret)');
  }
  if (host.revokedAt !== null) {
    throw credentialRefused(
      'revoked',
      `the host ${host.name} (${host.id}) was revoked at ${new Date(host.revokedAt).toISOString()}; enroll it again with a new join token`,
      { hostId: host.id },
    );
  }
  return { hostId: host.id, name: host.name, labels: host.labels };
}

async function readHost(ctx: TrustContext, hostId: string): Promise<HostRecord | undefined> {
  if (ctx.hostRecords !== undefined) return ctx.hostRecords.get(hostId);
  const entry = await ctx.kv.get(trustKeys.host(hostId));
  return entry === undefined ? undefined : parseHostRecord(entry);
}

/**
 * Refuses an agent's request about another host: an agent reads and reports only for itself.
 * The agent API calls it with the authenticated identity and the host a request names.
 */
export function assertSelf(agent: AgentIdentity, requestedHostId: string): void {
  if (agent.hostId === requestedHostId) return;
  throw new FerryError(
    'FERRY_E_FORBIDDEN',
    `the agent of host ${agent.hostId} may read and report only for itself, not for ${JSON.stringify(requestedHostId.slice(0, 80))}`,
    { where: 'host', expected: agent.hostId, got: requestedHostId.slice(0, 80) },
  );
}

/**
 * Revokes a host: its credential fails from now on, its name is free for a new enrollment, and it
 * stays listed as revoked. Revoking a revoked host changes nothing. FERRY_E_HOST_UNKNOWN if none.
 */
export async function revokeHost(ctx: TrustContext, hostId: string): Promise<HostSummary> {
  for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
    const entry = SECRET_ID_PATTERN.test(hostId) ? await ctx.kv.get(trustKeys.host(hostId)) : undefined;
    if (entry === undefined) {
      throw new FerryError(
        'FERRY_E_HOST_UNKNOWN',
        `no enrolled host has the id ${JSON.stringify(hostId.slice(0, 80))}`,
        {
          where: 'host id',
          got: hostId.slice(0, 80),
        },
      );
    }
    const host = parseHostRecord(entry);
    if (host.revokedAt !== null) return summarizeHost(host);
    const revoked: HostRecord = { ...host, revokedAt: ctx.clock.now() };
    const nameKey = trustKeys.hostName(host.name);
    const result = await ctx.kv.txn({
      compare: [{ key: entry.key, modRevision: entry.modRevision }],
      success: [{ type: 'put', key: entry.key, value: JSON.stringify(revoked) }],
    });
    if (!result.succeeded) continue;
    ctx.hostRecords?.written(revoked, result.revision);
    // The name index goes only if it still points at this host.
    await ctx.kv.txn({
      compare: [{ key: nameKey, value: host.id }],
      success: [{ type: 'delete', key: nameKey }],
    });
    return summarizeHost(revoked);
  }
  throw new FerryError(
    'FERRY_E_STORE',
    `the host ${hostId} kept changing while it was being revoked; try again`,
  );
}

/** Every enrolled host, revoked ones included, by name (then oldest first). */
export async function listHosts(ctx: TrustContext): Promise<HostSummary[]> {
  const { entries } = await ctx.kv.range(trustKeys.hosts);
  return entries
    .map((entry) => summarizeHost(parseHostRecord(entry)))
    .sort((a, b) => compare(a.name, b.name) || a.enrolledAt - b.enrolledAt || compare(a.id, b.id));
}

export function summarizeHost(host: HostRecord): HostSummary {
  const { id, name, labels, enrolledAt, joinTokenId, revokedAt } = host;
  return { id, name, labels, enrolledAt, joinTokenId, revoked: revokedAt !== null, revokedAt };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function credentialRefused(
  reason: 'malformed' | 'wrong' | 'revoked',
  message: string,
  details: Record<string, unknown> = {},
): FerryError {
  return new FerryError('FERRY_E_AGENT_CREDENTIAL_REFUSED', message, { reason, ...details });
}
