import { systemClock, type Clock } from '../../lib/clock.js';
import type { KvStore } from '../../store/kv/kv.js';
import { enroll, type Enrollment, type EnrollRequest } from './enroll.js';
import { HostRecordCache } from './host-record-cache.js';
import {
  assertSelf,
  authenticateAgent,
  listHosts,
  revokeHost,
  type AgentIdentity,
  type HostSummary,
} from './hosts.js';
import {
  createJoinToken,
  listJoinTokens,
  revokeJoinToken,
  type CreateJoinTokenOptions,
  type JoinTokenSummary,
  type TrustContext,
} from './join-tokens.js';

/**
 * Enrollment and agent authentication over the control plane's store: what the API's operator
 * routes (join tokens, `ferry hosts`) and the agent API (enroll, every agent request) call.
 * Secrets leave it only once, as the return value that creates them.
 */
export class Trust {
  private readonly ctx: TrustContext;

  private readonly hostRecords: HostRecordCache;

  /** `onWatchError`: the watch that keeps the hosts' records current failed (they are read again). */
  constructor(kv: KvStore, clock: Clock = systemClock, onWatchError?: (error: Error) => void) {
    this.hostRecords = new HostRecordCache(kv, onWatchError);
    this.ctx = { kv, clock, hostRecords: this.hostRecords };
  }

  createJoinToken(
    options: CreateJoinTokenOptions,
  ): Promise<{ readonly token: string; readonly joinToken: JoinTokenSummary }> {
    return createJoinToken(this.ctx, options);
  }

  listJoinTokens(): Promise<JoinTokenSummary[]> {
    return listJoinTokens(this.ctx);
  }

  revokeJoinToken(id: string): Promise<JoinTokenSummary> {
    return revokeJoinToken(this.ctx, id);
  }

  enroll(joinToken: unknown, request: EnrollRequest): Promise<Enrollment> {
    return enroll(this.ctx, joinToken, request);
  }

  authenticateAgent(credential: unknown): Promise<AgentIdentity> {
    return authenticateAgent(this.ctx, credential);
  }

  /** Throws FERRY_E_FORBIDDEN unless the request is about the agent's own host. */
  assertSelf(agent: AgentIdentity, requestedHostId: string): void {
    assertSelf(agent, requestedHostId);
  }

  revokeHost(hostId: string): Promise<HostSummary> {
    return revokeHost(this.ctx, hostId);
  }

  listHosts(): Promise<HostSummary[]> {
    return listHosts(this.ctx);
  }

  /** Ends the watch of the hosts' records (the store is closed after it). */
  close(): void {
    this.hostRecords.close();
  }
}
