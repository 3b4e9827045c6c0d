import { AppHost } from '../agent/app-host.js';
import { appSpecOf } from '../protocol/app-spec.js';
import { runsOnThisHost } from '../config/resolve.js';
import type { AppConfig, AppEnvironmentConfig, ConfigSource } from '../config/types.js';
import { Notifier } from '../notify/notifier.js';
import { EventPublisher } from '../events/publisher.js';
import { DaemonMetrics, type InstanceSample } from '../metrics/daemon-metrics.js';
import { systemClock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { RouterClient } from '../router/client.js';
import { Deployer } from '../runtime/deployer.js';
import { HostAgent } from '../agent/host-agent.js';
import { InProcessAgentTransport } from '../agent/link/in-process-transport.js';
import { DesiredEffects } from '../runtime/desired/desired-effects.js';
import type { ArtifactResolver } from '../releases/artifact-of.js';
import { ExchangeHostLink } from '../runtime/desired/exchange-link.js';
import { TrafficWindows } from '../runtime/desired/traffic-windows.js';
import { HostExchange } from '../server/agent-api/host-exchange.js';
import { KvDesiredStates } from '../server/agent-api/kv-desired-states.js';
import type { KvStore } from '../store/kv/kv.js';
import type { InstanceStore, Store } from '../store/store.js';
import { Supervisor, type RunAccount } from '../supervisor/index.js';
import { assembleLocks, type ControlLocks } from './control-locks.js';
import { finishDeployment } from './finish.js';
import { recordInstanceEvents } from './instance-events.js';
import type { DaemonPaths } from './paths.js';

/** The daemon's working parts on one store. */
export interface DaemonParts {
  readonly router: RouterClient;
  readonly supervisor: Supervisor;
  /** One per app and environment, by "app.env". */
  readonly hosts: Map<string, AppHost>;
  readonly deployer: Deployer;
  /** The daemon's one event publisher: deployments, instances, health, router, config. */
  readonly events: EventPublisher;
  readonly metrics: DaemonMetrics;
  /** Builds the host of an app in an environment (`ferry apply` adds apps while the daemon runs). */
  readonly createHost: (app: AppConfig, env: string, settings: AppEnvironmentConfig) => AppHost;
  /** The control plane's side of the hosts: desired states in the store, reports from agents. */
  readonly exchange: HostExchange;
  readonly link: ExchangeHostLink;
  /** The canary analysis windows (the engine's and `ferry status`'s). */
  readonly windows: TrafficWindows;
  /** This host's agent, in this process, over the in-process transport. */
  readonly agent: HostAgent;
  /** Locks of environments and apps and the deploys queued behind them (started by the daemon). */
  readonly locks: ControlLocks;
  /** Sends deployment events to ferry.yaml's `notifications` (stopped with the daemon). */
  readonly notifier: Notifier;
}

/** The one host of `ferry up`: its agent runs in the daemon's process. */
export const LOCAL_HOST = 'local';

/** How often the embedded agent reports: the engine observes health and traffic from its reports. */
const LOCAL_REPORT_MS = 100;

/**
 * Builds the router client, the supervisor, an app host per app and environment, and the deployer
 * driving them. None of them acts (spawns, signals, routes, resumes) until the daemon tells it to.
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
  readonly accounts: ReadonlyMap<string, RunAccount>;
  /** The daemon's own secrets (the API token): never quoted in an app's evidence. */
  readonly knownSecrets: readonly string[];
  /** A release's own artifact (the release catalog's); absent: the app's artifact.url. */
  readonly artifactOf?: ArtifactResolver;
}): DaemonParts {
  const { config, paths, store, logger } = opts;
  const hosts = new Map<string, AppHost>();
  const router = new RouterClient({ stateDir: paths.routerDir, logger });
  const clock = systemClock;
  const events = new EventPublisher({ now: () => clock.now() });
  const notifier = new Notifier({
    events,
    config,
    clock,
    logger: logger.child({ part: 'notify' }),
    knownSecrets: opts.knownSecrets,
  });
  const supervisor = new Supervisor({
    ferryHome: paths.home,
    clock,
    onEvent: (event) => {
      for (const host of hosts.values()) {
        if (!host.owns(event.id)) continue;
        host.onSupervisorEvent(event);
        instanceEvents(host, event);
      }
    },
  });
  const now = () => clock.now();
  const createHost = (app: AppConfig, env: string, settings: AppEnvironmentConfig): AppHost =>
    new AppHost({
      app,
      env,
      settings,
      dir: paths.appDir(app.name, env),
      ferryHome: paths.home,
      account: opts.accounts.get(app.name) ?? null,
      knownSecrets: opts.knownSecrets,
      records: opts.records,
      supervisor,
      router,
      holdTimeoutMs: config.current.router.holdTimeoutMs,
      logger: logger.child({ app: app.name, env }),
      now,
      events,
    });
  for (const app of Object.values(config.current.apps)) {
    for (const [env, settings] of Object.entries(app.environments)) {
      // An environment on enrolled hosts runs there, not here.
      if (!runsOnThisHost(config.current, env)) continue;
      const host = createHost(app, env, settings);
      hosts.set(host.key, host);
    }
  }
  const metrics = new DaemonMetrics({
    router,
    events,
    logger,
    instances: () => instanceSamples(hosts, supervisor),
  });
  const exchange = new HostExchange({ desired: new KvDesiredStates(opts.kv), clock, logger });
  const link = new ExchangeHostLink({
    exchange,
    now,
    specFor: (target, app, env) => {
      const host = hosts.get(`${app}.${env}`);
      // This host's agent shares the daemon's configuration: its spec names it only by digest, so
      // the app's secrets stay out of the store here.
      if (target === LOCAL_HOST) return { config: {}, digest: host?.desiredRunDigest() ?? 'unknown' };
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
  const agent = new HostAgent({
    hostId: LOCAL_HOST,
    labels: {},
    dataDir: paths.agentDir,
    transport: new InProcessAgentTransport(exchange, LOCAL_HOST),
    hostFor: ({ app, env }) => hosts.get(`${app}.${env}`),
    hosts: () => hosts.values(),
    artifactCache: () => config.current.artifacts,
    onInstalled: (host, installed, cacheAsked) =>
      metrics.artifactInstalled(host.appName, host.envName, installed, cacheAsked),
    clock,
    logger: logger.child({ agent: LOCAL_HOST }),
    reportEveryMs: LOCAL_REPORT_MS,
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
  // Crashes and restarts of instances are events of their app, published like the rest.
  const instanceEvents = recordInstanceEvents({ store, events, logger, now });
  deployer.onFinished = (final) => finishDeployment(final, { store, link, host: LOCAL_HOST, config, logger });
  return {
    router,
    supervisor,
    hosts,
    deployer,
    events,
    metrics,
    createHost,
    exchange,
    link,
    windows,
    agent,
    locks,
    notifier,
  };
}

/** Every instance the hosts serve or retire, with its process as the supervisor knows it. */
function instanceSamples(hosts: ReadonlyMap<string, AppHost>, supervisor: Supervisor): InstanceSample[] {
  const processes = new Map(supervisor.list().map((p) => [p.id, p]));
  return [...hosts.values()].flatMap((host) => {
    const [app, env] = host.key.split('.') as [string, string];
    return host.describe().map((instance) => {
      const process = processes.get(instance.id);
      return {
        app,
        env,
        release: instance.version,
        instance: instance.id,
        pid: process?.pid ?? null,
        pidStart: process?.pidStart ?? null,
        health: instance.health,
        restarts: process?.restarts ?? 0,
      };
    });
  });
}
