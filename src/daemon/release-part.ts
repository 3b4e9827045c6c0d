import type { ConfigSource } from '../config/types.js';
import type { EventSink } from '../events/publisher.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { KvReleaseIntake } from '../releases/intake.js';
import type { KvReleaseCatalog } from '../releases/kv-catalog.js';
import type { ReleasesControl } from '../releases/recorder.js';
import { startReleaseSources, type ReleaseSources } from '../sources/release-sources.js';
import type { Fleet } from '../server/fleet/fleet.js';
import type { KvStore } from '../store/kv/kv.js';
import type { Store } from '../store/store.js';
import { DELIVERY_RETAIN_MS } from '../triggers/server.js';
import { KvDeliveryLog, type DeliveryLog, type DeliveryRecorder } from '../triggers/delivery-log.js';
import type { DaemonControl } from './control.js';

/**
 * The daemon's releases: the catalog, the intake that deploys new releases, the watchers that find
 * them (apps' `sources`), the webhooks' delivery ids.
 */
export interface ReleasePart {
  readonly releases: ReleasesControl;
  readonly intake: KvReleaseIntake;
  /** The webhook listener's delivery ids, kept in the KV store (a replay after a restart is refused). */
  readonly deliveries: (memory: DeliveryLog) => DeliveryRecorder;
  /** The watchers, once started. */
  readonly sources: () => ReleaseSources | null;
  /** Takes up the releases that were waiting when the daemon stopped, then starts the watchers. */
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
  /** The global event stream: every decision of the intake is published there too. */
  readonly events?: EventSink;
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
    ...(deps.events ? { events: deps.events } : {}),
  });
  let sources: ReleaseSources | null = null;
  return {
    releases: {
      intake,
      catalog: deps.catalog,
      record: (candidate) => intake.record(candidate),
      waiting: () => intake.waiting(),
    },
    intake,
    deliveries: (memory) =>
      new KvDeliveryLog(deps.kv, memory, { clock: deps.clock, retainMs: DELIVERY_RETAIN_MS }),
    sources: () => sources,
    async start() {
      await intake.start();
      sources = startReleaseSources({
        config: deps.config,
        kv: deps.kv,
        intake,
        clock: deps.clock,
        logger: deps.logger.child({ part: 'sources' }),
      });
    },
    async stop() {
      // The watchers first: nothing is offered to an intake that has stopped.
      await sources?.stop();
      await intake.stop();
    },
  };
}
