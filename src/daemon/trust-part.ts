import { systemClock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { AgentsEndpoint } from '../server/trust/trust-operator.js';
import { TrustOperator } from '../server/trust/trust-operator.js';
import { Trust } from '../server/trust/trust.js';
import type { KvStore } from '../store/kv/kv.js';
import type { Store } from '../store/store.js';

/** Enrollment in `ferry up`: the Trust over the control plane's key-value store, and its operator side. */
export interface TrustPart {
  /** Join tokens, enrollment, agent credentials (the agent API uses it too). */
  readonly trust: Trust;
  /** What the operator's API routes call: join tokens, revoking hosts, audited. */
  readonly operator: TrustOperator;
}

/**
 * Builds the daemon's trust part over its key-value store; changes are audited in `store`.
 * `agents` says where agents reach this server (null: it serves none, and `ferry join-token
 * create` prints a `ferry agent` line to complete by hand).
 */
export function createTrustPart(deps: {
  readonly kv: KvStore;
  readonly store: Pick<Store, 'audit'>;
  readonly logger: Logger;
  readonly agents?: () => AgentsEndpoint | null;
}): TrustPart {
  const trust = new Trust(deps.kv, systemClock, (error) =>
    deps.logger.warn({ err: error.message }, "the watch of the hosts' records failed; reading them again"),
  );
  const operator = new TrustOperator({
    trust,
    audit: (entry) => deps.store.audit(entry),
    logger: deps.logger,
    clock: systemClock,
    agents: deps.agents ?? (() => null),
  });
  return { trust, operator };
}
