import type {
  EnrolledHostView,
  HostRevokeResponse,
  JoinTokenCreateBody,
  JoinTokenCreateResponse,
  JoinTokenRevokeResponse,
  JoinTokensResponse,
  JoinTokenView,
} from '../../api/types.js';
import { FerryError } from '../../errors/ferry-error.js';
import type { Clock } from '../../lib/clock.js';
import type { Labels } from '../../lib/labels.js';
import type { Logger } from '../../lib/logger.js';
import type { AuditEntry } from '../../store/store.js';
import type { HostSummary } from './hosts.js';
import type { JoinTokenSummary } from './join-tokens.js';
import { SECRET_ID_PATTERN, type SecretKind } from './secret-token.js';
import type { Trust } from './trust.js';

/** Where agents reach the server, for the `ferry agent` line printed with a new join token. */
export interface AgentsEndpoint {
  readonly url: string;
  /** `sha256:<hex>` of the CA agents pin. */
  readonly caFingerprint: string;
}

export interface TrustOperatorDeps {
  readonly trust: Trust;
  /** The store's audit trail: who created and revoked what (never a secret). */
  readonly audit: (entry: AuditEntry) => Promise<void>;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Null while the server serves no agents. */
  readonly agents: () => AgentsEndpoint | null;
}

/**
 * The operator's side of enrollment as the API serves it: join tokens created, listed and revoked,
 * hosts revoked by id or name; each change audited and logged, without a secret. The token is in
 * the answer that creates it and nowhere else.
 */
export class TrustOperator {
  constructor(private readonly deps: TrustOperatorDeps) {}

  async createJoinToken(body: JoinTokenCreateBody, actor: string): Promise<JoinTokenCreateResponse> {
    const { token, joinToken } = await this.deps.trust.createJoinToken({
      ttlMs: body.ttl,
      ...(body.uses !== undefined ? { uses: body.uses } : {}),
      ...(body.labels !== undefined ? { labels: body.labels } : {}),
    });
    const { id, uses, expiresAt, labels } = joinToken;
    await this.deps.audit({
      at: this.deps.clock.now(),
      actor,
      action: 'create-join-token',
      target: `join-token/${id}`,
      detail: { uses, expiresAt, labels: { ...labels } },
    });
    this.deps.logger.info({ joinToken: id, uses, expiresAt, actor }, 'join token created');
    return { token, joinToken: joinTokenView(joinToken), agents: this.deps.agents() };
  }

  async joinTokens(): Promise<JoinTokensResponse> {
    return { joinTokens: (await this.deps.trust.listJoinTokens()).map(joinTokenView) };
  }

  async revokeJoinToken(id: string, actor: string): Promise<JoinTokenRevokeResponse> {
    refuseSecret(id, 'ferry-join', 'join token id', 'ferry join-token revoke');
    const joinToken = await this.deps.trust.revokeJoinToken(id);
    await this.deps.audit({
      at: this.deps.clock.now(),
      actor,
      action: 'revoke-join-token',
      target: `join-token/${joinToken.id}`,
      detail: { usesLeft: joinToken.usesLeft },
    });
    this.deps.logger.info({ joinToken: joinToken.id, actor }, 'join token revoked');
    return { joinToken: joinTokenView(joinToken) };
  }

  /** Revokes the host with that id, else the one with that name (FERRY_E_HOST_UNKNOWN if none). */
  async revokeHost(idOrName: string, actor: string): Promise<HostRevokeResponse> {
    refuseSecret(idOrName, 'ferry-agent', 'host', 'ferry hosts revoke');
    const hosts = await this.deps.trust.listHosts();
    const found = findHost(hosts, idOrName);
    if (found === undefined) throw hostUnknown(idOrName, hosts);
    if (found.revoked) return { host: enrolledHostView(found), alreadyRevoked: true };
    const host = await this.deps.trust.revokeHost(found.id);
    await this.deps.audit({
      at: this.deps.clock.now(),
      actor,
      action: 'revoke-host',
      target: `host/${host.id}`,
      detail: { name: host.name },
    });
    this.deps.logger.info({ host: host.id, name: host.name, actor }, 'host revoked');
    return { host: enrolledHostView(host), alreadyRevoked: false };
  }
}

/**
 * The host an operator names: the one with that id, else the one enrolled under that name (without
 * regard to case): the one not revoked, which is unique, or else the last enrolled of the revoked.
 */
export function findHost(hosts: readonly HostSummary[], idOrName: string): HostSummary | undefined {
  const byId = hosts.find((host) => host.id === idOrName);
  if (byId !== undefined) return byId;
  const wanted = idOrName.toLowerCase();
  const named = hosts.filter((host) => host.name.toLowerCase() === wanted);
  return (
    named.find((host) => !host.revoked) ??
    named.reduce<HostSummary | undefined>(
      (last, host) => (!last || host.enrolledAt >= last.enrolledAt ? host : last),
      undefined,
    )
  );
}

/** Labels as the API answers them: pairs, by key. */
export function labelList(labels: Labels): Array<{ key: string; value: string }> {
  return Object.entries(labels).map(([key, value]) => ({ key, value }));
}

export function enrolledHostView(host: HostSummary): EnrolledHostView {
  const { id, name, enrolledAt, joinTokenId, revokedAt } = host;
  return { id, name, labels: labelList(host.labels), enrolledAt, joinTokenId, revokedAt };
}

function joinTokenView(joinToken: JoinTokenSummary): JoinTokenView {
  return { ...joinToken, labels: labelList(joinToken.labels) };
}

/**
 * A whole join token or agent credential pasted where an id goes: refused, naming its id, and
 * never quoted back (errors are answered, and may be logged).
 */
function refuseSecret(text: string, kind: SecretKind, where: string, command: string): void {
  const match = /^(ferry-join|ferry-agent)\.([^.]*)/i.exec(text);
  if (match === null) return;
  const what = match[1]!.toLowerCase() === 'ferry-join' ? 'a join token' : 'an agent credential';
  const id = match[2]!;
  const hint = match[1] === kind && SECRET_ID_PATTERN.test(id) ? `; its id is ${id}: ${command} ${id}` : '';
  throw new FerryError(
    'FERRY_E_USAGE',
    `${where}: expected an id or a name, got ${what} (not repeated here)${hint}`,
    { where, expected: 'an id or a name', got: what },
  );
}

export function hostUnknown(idOrName: string, hosts: readonly HostSummary[]): FerryError {
  const shown = JSON.stringify(idOrName.slice(0, 80));
  const active = hosts.filter((host) => !host.revoked).map((host) => host.name);
  const known =
    active.length === 0
      ? 'no host is enrolled'
      : `enrolled: ${active.slice(0, 10).join(', ')}${active.length > 10 ? `, and ${active.length - 10} more` : ''}`;
  return new FerryError('FERRY_E_HOST_UNKNOWN', `no enrolled host has the id or name ${shown} (${known})`, {
    where: 'host',
    got: idOrName.slice(0, 80),
  });
}
