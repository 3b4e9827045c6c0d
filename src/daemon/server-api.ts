import type { FastifyInstance } from 'fastify';
import { listenMetrics, type MetricsServer } from '../api/metrics-server.js';
import { createApiServer } from '../api/server.js';
import type { ApiTls } from '../api/tls.js';
import { apiUrlOf } from '../config/listen-address.js';
import type { FerryConfig } from '../config/types.js';
import { FerryError, messageOf } from '../errors/ferry-error.js';
import { systemClock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { FERRY_VERSION } from '../lib/version.js';
import { catalogArtifacts } from '../releases/artifact-of.js';
import type { KvReleaseCatalog } from '../releases/kv-catalog.js';
import { liveCounters } from '../runtime/desired/live-counters.js';
import { listenForAgents, type AgentsListener } from '../server/agents-listener.js';
import { Fleet } from '../server/fleet/fleet.js';
import { followAppLogs, tailAppLogs } from '../server/fleet/host-logs.js';
import { publishedDecisions } from '../server/rollouts/published-decisions.js';
import { RecentDecisions } from '../server/rollouts/recent-decisions.js';
import { startExternalTargets, type ExternalTargets } from '../server/targets/external-targets.js';
import type { KvStore } from '../store/kv/kv.js';
import type { Store } from '../store/store.js';
import { listenForTriggers, type TriggersListener } from '../triggers/listener.js';
import type { ConfigApplier } from './config-apply.js';
import { DaemonControl } from './control.js';
import { withDataDirWrites } from './data-dir.js';
import { hostsView } from './hosts-view.js';
import { LOCAL_HOST } from './local-host.js';
import type { DaemonLock } from './lock.js';
import type { DaemonParts } from './parts.js';
import type { DaemonPaths } from './paths.js';
import { createReleasePart, type ReleasePart } from './release-part.js';
import type { TrustPart } from './trust-part.js';

type ControlDeps = ConstructorParameters<typeof DaemonControl>[0];

/** What the server's edges are built on: the daemon's parts, and a few narrow views of its own host. */
export interface ServerApiDeps {
  /** The configuration in effect (`ferry apply` replaces it). */
  readonly live: { readonly current: FerryConfig };
  /** The configuration the daemon started with: where the API and the metrics listen. */
  readonly started: FerryConfig;
  readonly paths: DaemonPaths;
  readonly lock: DaemonLock;
  readonly store: Store;
  readonly kv: KvStore;
  readonly catalog: KvReleaseCatalog;
  readonly parts: DaemonParts;
  readonly trust: TrustPart;
  readonly applier: ConfigApplier;
  readonly token: string;
  readonly tls: ApiTls | null;
  readonly logger: Logger;
  /** Until the daemon is ready the API answers 503 FERRY_E_DAEMON_STARTING. */
  readonly isReady: () => boolean;
  readonly readConfig: ControlDeps['readConfig'];
}

/**
 * The server's edges and what runs behind them: targets outside Ferry, the fleet's rollouts,
 * releases and their intake, the control, the API, webhooks, the metrics listener and the agents'
 * listener. Each is kept as soon as it exists, so that a failed start closes what was opened.
 */
export class ServerApi {
  targets: ExternalTargets | null = null;
  /** The rollouts of environments on enrolled hosts. */
  fleet: Fleet | null = null;
  /** Releases found by sources, webhooks and users, and the intake that deploys them (docs/triggers.md). */
  releases: ReleasePart | null = null;
  /** Where webhooks deploy releases, when the configuration has triggers (docs/triggers.md). */
  private triggers: TriggersListener | null = null;
  /** Where agents of other hosts connect, when the configuration has `server`. */
  private agents: AgentsListener | null = null;
  private api: FastifyInstance | null = null;
  private metricsServer: MetricsServer | null = null;
  apiUrl = '';

  constructor(private readonly deps: ServerApiDeps) {}

  /** The API, listening from here on; until the daemon is ready it answers 503 FERRY_E_DAEMON_STARTING. */
  async listen(): Promise<void> {
    const { deps } = this;
    const { parts, logger } = deps;
    this.targets = await startExternalTargets({ kv: deps.kv, logger });
    this.fleet = new Fleet({
      config: deps.live,
      kv: deps.kv,
      trust: deps.trust.trust,
      exchange: parts.exchange,
      link: parts.link,
      store: deps.store,
      // Each decision in the log, and on the global event stream (`rollout` events, notifications).
      decisions: publishedDecisions(
        new RecentDecisions({ clock: systemClock, logger }),
        parts.events,
        systemClock,
      ),
      clock: systemClock,
      logger: logger.child({ part: 'fleet' }),
      artifactOf: catalogArtifacts(deps.catalog, deps.live),
    });
    // The intake deploys through the control's deploy path, which the control gets from here.
    let control: DaemonControl | null = null;
    this.releases = createReleasePart({
      kv: deps.kv,
      catalog: deps.catalog,
      config: deps.live,
      store: deps.store,
      control: { deploy: (body, actor) => control!.deploy(body, actor) },
      fleet: this.fleet,
      clock: systemClock,
      logger: logger.child({ part: 'releases' }),
    });
    control = new DaemonControl({
      releases: this.releases.releases,
      config: deps.live,
      store: deps.store,
      deployer: parts.deployer,
      hostReport: () => parts.exchange.latestReport(LOCAL_HOST)?.report ?? null,
      hostLogs: (app, env, lines) => tailAppLogs(parts.link, { host: LOCAL_HOST, app, env, lines }),
      followHostLogs: (app, env, lines, follow) =>
        followAppLogs(
          { link: parts.link, clock: systemClock },
          () => Promise.resolve([{ id: LOCAL_HOST }]),
          { app, env, lines },
          follow,
        ),
      applier: deps.applier,
      readConfig: deps.readConfig,
      version: FERRY_VERSION,
      startedAt: Date.now(),
      events: parts.events,
      metrics: parts.metrics,
      hostsView: () => hostsView(parts.exchange, () => deps.trust.trust.listHosts()),
      trust: deps.trust.operator,
      locks: parts.locks,
      liveCounters: async (state, versions) => {
        const { link, windows } = parts;
        const report = await link.report(LOCAL_HOST, state.app, state.env);
        return liveCounters(report, windows, `${state.app}.${state.env}`, versions);
      },
      targets: this.targets,
      fleet: this.fleet,
    });
    await this.listenForTriggers();
    const api = (this.api = createApiServer({
      control,
      token: deps.token,
      logger,
      isReady: deps.isReady,
      https: deps.tls,
    }));
    const { host, port } = deps.started.api.listen;
    try {
      await api.listen({ host, port });
    } catch (error) {
      throw new FerryError(
        'FERRY_E_PORT_IN_USE',
        `the API cannot listen on ${host}:${port}: ${messageOf(error)}`,
        { where: `${host}:${port}` },
        { cause: error },
      );
    }
    this.apiUrl = apiUrlOf({ host, port }, deps.tls !== null);
    withDataDirWrites(deps.paths.home, () => deps.lock.writeRecord(this.apiUrl));
    const metricsListen = deps.started.metrics.listen;
    if (metricsListen !== null) this.metricsServer = await listenMetrics(parts.metrics, metricsListen);
  }

  /** Webhooks offer releases to the intake, on an address of their own (`triggers` in ferry.yaml). */
  private async listenForTriggers(): Promise<void> {
    const settings = this.deps.live.current.triggers;
    if (settings === null) return;
    const { store, logger } = this.deps;
    const releases = this.releases!;
    this.triggers = await listenForTriggers({
      settings,
      config: this.deps.live,
      offer: (candidate) => releases.intake.offer(candidate),
      deliveries: releases.deliveries,
      pollSources: async (app) => releases.sources()?.pollNow(app),
      audit: (entry) => store.audit(entry),
      clock: systemClock,
      logger: logger.child({ part: 'triggers' }),
    });
    logger.info({ url: this.triggers.url }, 'webhooks are received here');
  }

  /** Agents of other hosts enroll and connect on an HTTPS address of their own (`server` in ferry.yaml). */
  async listenForAgents(): Promise<void> {
    const settings = this.deps.live.current.server;
    if (settings === null) return;
    const { logger } = this.deps;
    this.agents = await listenForAgents({
      settings,
      dataDir: this.deps.paths.home,
      exchange: this.deps.parts.exchange,
      trust: this.deps.trust.trust,
      logger,
    });
    const { url, tls } = this.agents;
    logger.info({ url, caFingerprint: tls.caFingerprint, tls: tls.source }, 'agents connect here');
  }

  /** Where agents connect and the CA fingerprint they pin; null when this server takes no agents. */
  get agentsAddress(): { readonly url: string; readonly caFingerprint: string } | null {
    return this.agents ? { url: this.agents.url, caFingerprint: this.agents.tls.caFingerprint } : null;
  }

  /** Closes the edges and stops what runs behind them, in the daemon's order. */
  async close(): Promise<void> {
    await this.api?.close();
    await this.agents?.close();
    await this.triggers?.close();
    await this.releases?.stop();
    await this.targets?.close();
    await this.fleet?.close();
    await this.metricsServer?.close();
  }
}
