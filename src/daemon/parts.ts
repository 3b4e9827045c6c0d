import { appSpecOf } from '../protocol/app-spec.js';
import type { ConfigSource } from '../config/types.js';
import { Notifier } from '../notify/notifier.js';
import { EventPublisher } from '../events/publisher.js';
import { DaemonMetrics } from '../metrics/daemon-metrics.js';
import { systemClock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { Deployer } from '../runtime/deployer.js';
import { DesiredEffects } from '../runtime/desired/desired-effects.js';
import type { ArtifactResolver } from '../releases/artifact-of.js';
import { ExchangeHostLink } from '../runtime/desired/exchange-link.js';
import { TrafficWindows } from '../runtime/desired/traffic-windows.js';
import { HostEventRelay, type HostOfEvents } from '../server/agent-api/host-event-relay.js';
import { matchesLabels } from '../server/fleet/host-selection.js';
import type { Labels } from '../lib/labels.js';
import { HostExchange } from '../server/agent-api/host-exchange.js';
import { KvDesiredStates } from '../server/agent-api/kv-desired-states.js';
import type { KvStore } from '../store/kv/kv.js';
import type { InstanceStore, Store } from '../store/store.js';
import type { RunAccount } from '../supervisor/index.js';
import { assembleLocks, type ControlLocks } from './control-locks.js';
import { finishDeployment } from './finish.js';
import { LOCAL_HOST, LocalHost } from './local-host.js';
import type { DaemonPaths } from './paths.js';

/** The daemon's working parts on one store: the server's, and its own host's (`local`). */
export interface DaemonParts {
  /** The server's own host: router, supervisor, app hosts, the embedded agent. */
  readonly local: LocalHost;
  readonly deployer: Deployer;
  /** The daemon's one event publisher: deployments, instances, health, router, config. */
  readonly events: EventPublisher;
  readonly metrics: DaemonMetrics;
  /** The control plane's side of the hosts: desired states in the store, reports from agents. */
  readonly exchange: HostExchange;
  readonly link: ExchangeHostLink;
  /** The canary analysis windows (the engine's and `ferry status`'s). */
  readonly windows: TrafficWindows;
  /** Locks of environments and apps and the deploys queued behind them (started by the daemon). */
  readonly locks: ControlLocks;
  /** Sends deployment events to ferry.yaml's `notifications` (stopped with the daemon). */
  readonly notifier: Notifier;
  /** Every host's instance and health events, from its reports to the event stream (stopped with the daemon). */
  readonly hostEvents: HostEventRelay;
}

/**
 * Builds the server's parts (events, exchange and link, the deployer and its effects, locks) and
 * its own host's (`LocalHost`). None of them acts (spawns, signals, routes, resumes) until the
 * daemon tells it to.
 */
export function assembleParts(opts: {
  /** The configuration in effect (`ferry apply` replaces it). */
  readonly config: ConfigSource;
  readonly paths: DaemonPaths;
  readonly store: Store;
  /** The control plane's key-value store: the hosts' desired states. */
  readonly kv: KvStore;
  /** Where the host's instance records live (in `ferry up`, the same SQLite file). */
  readonly records: InstanceStore;
  readonly logger: Logger;
  readonly tickMs: number;
  /** Per app, the account its processes run as (run.user), when set. */
  readonly accounts: Map<string, RunAccount>;
  /** The daemon's own secrets (the API token): never quoted in an app's evidence. */
  readonly knownSecrets: readonly string[];
  /** A release's own artifact (the release catalog's); absent: the app's artifact.url. */
  readonly artifactOf?: ArtifactResolver;
  /** An enrolled host as trust has it (its name, labels); without it, its id and no labels. */
  readonly enrolledHost?: (
    host: string,
  ) => Promise<{ readonly name: string; readonly labels: Labels } | undefined>;
}): DaemonParts {
  const { config, paths, store, logger } = opts;
  const clock = systemClock;
  const now = () => clock.now();
  const events = new EventPublisher({ now });
  const notifier = new Notifier({
    events,
    config,
    clock,
    logger: logger.child({ part: 'notify' }),
    knownSecrets: opts.knownSecrets,
  });
  const exchange = new HostExchange({ desired: new KvDesiredStates(opts.kv), clock, logger });
  const local = new LocalHost({
    config,
    paths,
    records: opts.records,
    logger,
    clock,
    accounts: opts.accounts,
    knownSecrets: opts.knownSecrets,
    exchange,
  });
  // The server's own host is named by none (as before there were agents); enrolled ones by name.
  const enrolled = (host: string) =>
    opts.enrolledHost?.(host).then((found) => found ?? { name: host, labels: {} }) ??
    Promise.resolve({ name: host, labels: {} });
  // A host's events are of the environments it serves: the server's own host those without
  // `hosts:`, an enrolled one those whose selector picks its labels (an app that left the file
  // stays in its environment).
  const hostOf = (host: string): HostOfEvents | Promise<HostOfEvents> => {
    const serves = (labels: Labels | null) => (_app: string, env: string) => {
      const selector = config.current.environmentHosts.get(env);
      if (labels === null) return selector === undefined;
      return selector !== undefined && matchesLabels(labels, selector);
    };
    if (host === LOCAL_HOST) return { name: null, mayReport: serves(null) };
    return enrolled(host).then((found) => ({ name: found.name, mayReport: serves(found.labels) }));
  };
  const metrics = new DaemonMetrics({
    events,
    logger,
    // Each host's series of the environments it serves (as its events: see hostOf).
    hosts: () =>
      Promise.all(
        exchange.hosts().flatMap(({ host, lastReport }) => {
          if (lastReport === null) return [];
          const { report } = lastReport;
          return [
            Promise.resolve(hostOf(host)).then((who) => ({
              host: who.name,
              report: { ...report, apps: report.apps.filter((a) => who.mayReport(a.app, a.env)) },
            })),
          ];
        }),
      ),
  });
  const hostEvents = new HostEventRelay({
    exchange,
    events,
    store,
    logger,
    now,
    hostOf,
    onInstalled: (host, install) => metrics.artifactInstalled(install, host),
  }).start();
  const link = new ExchangeHostLink({
    exchange,
    now,
    specFor: (target, app, env) => {
      // This host's agent shares the daemon's configuration: its spec names it only by digest, so
      // the app's secrets stay out of the store here.
      if (target === LOCAL_HOST) return local.specs.specOf(app, env);
      const configured = Object.hasOwn(config.current.apps, app) ? config.current.apps[app] : undefined;
      return configured && Object.hasOwn(configured.environments, env)
        ? appSpecOf(configured, env)
        : { config: {}, digest: 'unknown' };
    },
  });
  const windows = new TrafficWindows(now);
  const effects = new DesiredEffects({
    link,
    hostOf: () => LOCAL_HOST,
    store,
    config,
    windows,
    now,
    ...(opts.artifactOf ? { artifactOf: opts.artifactOf } : {}),
  });
  const locks = assembleLocks({ kv: opts.kv, clock, config, store, events, logger });
  const deployer = new Deployer({
    config,
    store,
    effects,
    logger,
    clock,
    tickMs: opts.tickMs,
    events,
    locks: locks.port,
  });
  locks.startQueuedWith((request, notes) =>
    deployer.deploy({ ...request, strategy: request.strategy ?? undefined, notes }),
  );
  deployer.onFinished = (final) => finishDeployment(final, { store, link, host: LOCAL_HOST, config, logger });
  return { local, deployer, events, metrics, exchange, link, windows, locks, notifier, hostEvents };
}
