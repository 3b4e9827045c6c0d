import type { ConfigSource } from '../config/types.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { KvReleaseIntake } from '../releases/intake.js';
import type { KvReleaseCatalog } from '../releases/kv-catalog.js';
import type { Releases } from '../releases/release.js';
import type { Fleet } from '../server/fleet/fleet.js';
import type { KvStore } from '../store/kv/kv.js';
import type { Store } from '../store/store.js';
import { DELIVERY_RETAIN_MS } from '../triggers/server.js';
import { KvDeliveryLog, type DeliveryLog, type DeliveryRecorder } from '../triggers/delivery-log.js';
import type { DaemonControl } from './control.js';

/** The daemon's releases: the catalog, the intake that deploys new releases, the webhooks' delivery ids. */
export interface ReleasePart {
  readonly releases: Releases;
  readonly intake: KvReleaseIntake;
  /** The webhook listener's delivery ids, kept in the KV store (a replay after a restart is refused). */
  readonly deliveries: (memory: DeliveryLog) => DeliveryRecorder;
  /** Takes up the releases that were waiting when the daemon stopped. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The intake on the daemon's deploy path: `ferry deploy`'s (DaemonControl.deploy), queued behind a
 * lock on this host (an environment on enrolled hosts takes no queue: its rollout is refused and
 * tried again by the intake).
 */
export function createReleasePart(deps: {
  readonly kv: KvStore;
  readonly catalog: KvReleaseCatalog;
  readonly config: ConfigSource;
  readonly store: Store;
  readonly control: Pick<DaemonControl, 'deploy'>;
  readonly fleet: Pick<Fleet, 'has'>;
  readonly clock: Clock;
  readonly logger: Logger;
}): ReleasePart {
  const intake = new KvReleaseIntake({
    kv: deps.kv,
    catalog: deps.catalog,
    config: deps.config,
    store: deps.store,
    deploy: ({ app, env, version }, actor) =>
      deps.control.deploy({ app, env, version, ...(deps.fleet.has(env) ? {} : { queue: true }) }, actor),
    clock: deps.clock,
    logger: deps.logger,
  });
  return {
    releases: { intake, catalog: deps.catalog },
    intake,
    deliveries: (memory) =>
      new KvDeliveryLog(deps.kv, memory, { clock: deps.clock, retainMs: DELIVERY_RETAIN_MS }),
    start: () => intake.start(),
    stop: () => intake.stop(),
  };
}
