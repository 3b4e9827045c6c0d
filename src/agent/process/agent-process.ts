import { hostname } from 'node:os';
import type { Agent as HttpsAgent } from 'node:https';
import { currentRelease } from '../../artifacts/index.js';
import { defaultHostSettings } from '../../config/host-defaults.js';
import type { FerryConfig } from '../../config/types.js';
import { FerryError, messageOf } from '../../errors/ferry-error.js';
import { systemClock } from '../../lib/clock.js';
import type { Labels } from '../../lib/labels.js';
import type { Logger } from '../../lib/logger.js';
import { resolveRealPath } from '../../lib/real-path.js';
import { RouterClient } from '../../router/client.js';
import { openSqliteStore } from '../../store/sqlite/sqlite-store.js';
import type { InstanceStore } from '../../store/store.js';
import { LogRotator, Supervisor } from '../../supervisor/index.js';
import { inspectDataDir, prepareDataDir, withDataDirWrites } from '../../daemon/data-dir.js';
import { DaemonLock } from '../../daemon/lock.js';
import { reapOrphans } from '../../daemon/orphans.js';
import { daemonPaths, type DaemonPaths } from '../../daemon/paths.js';
import type { RouterWatch } from '../../daemon/router-watch.js';
import { HostAgent } from '../host-agent.js';
import { childInstaller } from '../installer/child-installer.js';
import { loadDesiredState } from '../link/desired-file.js';
import type { AgentLinkStatus } from '../link/agent-link.js';
import { HttpAgentTransport } from '../link/http-transport.js';
import { readAgentCredential, saveAgentCredential } from '../trust/credential-file.js';
import { pinServerCa } from '../trust/server-ca.js';
import { createServerConnections } from '../trust/server-connections.js';
import { parseServerUrl } from '../trust/server-url.js';
import { AgentApps } from './agent-apps.js';
import { AppsReporting } from './apps-reporting.js';
import { readAgentIdentity, saveAgentIdentity, type AgentIdentity } from './agent-identity.js';

/** What `ferry agent` is started with. */
export interface AgentSettings {
  /** `--server`: the server's https:// URL for agents. */
  readonly server: string;
  readonly dataDir: string;
  /** `--token`: a join token, needed only to enroll (the first start). */
  readonly joinToken?: string;
  /** `--name`: the host's name at enrollment (default: the hostname). */
  readonly name?: string;
  /** `--label`: labels asked for at enrollment, beside the join token's. */
  readonly labels?: Labels;
  readonly caFingerprint?: string;
  readonly caFile?: string;
  /** How often the agent reports while its host is busy (ms). */
  readonly reportEveryMs?: number;
  readonly openLog: (file: string) => Logger;
}

/** How often a busy agent reports: the server's engine observes health and traffic from reports. */
const REPORT_EVERY_MS = 250;
/** How often the supervisor samples each instance's CPU time and memory. */
const USAGE_SAMPLE_MS = 2_000;
/** How long enrollment may take before the start fails (the server is not there). */
const ENROLL_TIMEOUT_MS = 30_000;

/**
 * `ferry agent`: one host's agent as its own process. It pins the server's CA and enrolls once
 * (then its credential is its identity), re-adopts the instances that outlived it from its local
 * records, applies the desired state it kept on disk before it even reaches the server (static
 * stability), then follows the server's desired state and reports. Its router and instances
 * outlive it: stopping or killing the agent drops no request.
 */
export class AgentProcess {
  private lock: DaemonLock | null = null;
  private logger: Logger | null = null;
  private records: (InstanceStore & { close(): Promise<void> }) | null = null;
  private router: RouterClient | null = null;
  private routerWatch: RouterWatch | null = null;
  private supervisor: Supervisor | null = null;
  private apps: AgentApps | null = null;
  private agent: HostAgent | null = null;
  private rotator: LogRotator | null = null;
  private connections: HttpsAgent | null = null;
  readonly paths: DaemonPaths;
  identity: AgentIdentity | null = null;

  constructor(private readonly settings: AgentSettings) {
    this.paths = daemonPaths(settings.dataDir);
  }

  /** Starts in steps; a step that fails undoes the ones before (the router and instances stay). */
  async start(): Promise<void> {
    try {
      const serverUrl = parseServerUrl(this.settings.server);
      // Unenrolled without a token: refused before anything is made, fetched or kept.
      if (readAgentCredential(this.paths.home) === undefined && this.settings.joinToken === undefined)
        throw notEnrolled(this.paths.home);
      await this.claimDataDir();
      const logger = (this.logger = this.settings.openLog(this.paths.log));
      const ca = await pinServerCa({
        serverUrl,
        dataDir: this.paths.home,
        ...(this.settings.caFingerprint !== undefined ? { fingerprint: this.settings.caFingerprint } : {}),
        ...(this.settings.caFile !== undefined ? { caFile: this.settings.caFile } : {}),
      });
      this.connections = createServerConnections(ca.pem);
      const credential = await this.credential(serverUrl.href);
      const identity = this.identity!;
      const defaults = this.localDefaults();
      this.records = openSqliteStore(this.paths.db);
      const clock = systemClock;
      const now = () => clock.now();
      const router = (this.router = new RouterClient({
        stateDir: this.paths.routerDir,
        logger,
        workers: defaults.router.workers,
      }));
      let agent: HostAgent | null = null;
      const reporting = new AppsReporting(router, now, () => agent?.changed());
      const supervisor = (this.supervisor = new Supervisor({
        ferryHome: this.paths.home,
        clock,
        onEvent: (event) => {
          reporting.onSupervisorEvent(this.apps?.all() ?? [], event);
          // An instance's change (healthy, crashed) may let the host's plan move on now.
          agent?.reconciler.poke();
        },
      }));
      const apps = (this.apps = new AgentApps({
        appDir: this.paths.appDir,
        ferryHome: this.paths.home,
        records: this.records,
        supervisor,
        router,
        holdTimeoutMs: () => defaults.router.holdTimeoutMs,
        knownSecrets: [credential],
        logger,
        now,
        events: reporting.journal,
      }));
      await router.ensureRunning();
      await this.adopt();
      this.watchRouter(reporting);
      agent = this.agent = new HostAgent({
        hostId: identity.hostId,
        labels: identity.labels,
        dataDir: this.paths.agentDir,
        transport: new HttpAgentTransport({
          baseUrl: serverUrl.origin,
          credential,
          connections: this.connections,
        }),
        ...reporting.agentOptions(apps),
        artifactCache: () => defaults.artifacts,
        install: childInstaller(),
        clock,
        logger: logger.child({ agent: identity.name }),
        reportEveryMs: this.settings.reportEveryMs ?? REPORT_EVERY_MS,
        router: () => this.routerWatch?.report() ?? null,
      });
      await agent.start();
      this.rotator = new LogRotator(() => apps.all().flatMap((h) => h.logFiles()), {
        maxBytes: 10 * 1024 * 1024,
        keep: 3,
        intervalMs: 30_000,
        onError: (file, error) => logger.warn({ file, err: error }, 'log rotation failed'),
      });
      this.rotator.start();
      logger.info({ host: identity.hostId, name: identity.name, server: serverUrl.origin }, 'agent started');
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** Whether the agent reaches its server, and its link's last failure (none before it started). */
  get link(): AgentLinkStatus | null {
    return this.agent?.status ?? null;
  }

  /** Stops following the server; the router and the instances keep serving. */
  async stop(): Promise<void> {
    const undo = async (what: string, work: () => unknown): Promise<void> => {
      try {
        await work();
      } catch (error) {
        this.logger?.warn({ err: messageOf(error) }, `stopping: could not ${what}`);
      }
    };
    await undo('stop the agent', () => this.agent?.stop());
    this.routerWatch?.stop();
    this.rotator?.stop();
    for (const host of this.apps?.all() ?? []) host.close();
    this.supervisor?.detach();
    await undo('close the instance records', () => this.records?.close());
    await undo('close the connections', () => this.connections?.destroy());
    await undo('release the lock', () => this.lock?.release());
    this.agent = null;
    this.records = null;
    this.lock = null;
  }

  /** One agent per data directory, checked before anything is written. */
  private async claimDataDir(): Promise<void> {
    const { home, lockFile } = this.paths;
    this.lock = await DaemonLock.acquire(home, lockFile);
    inspectDataDir(home);
    prepareDataDir(home, resolveRealPath(home));
    withDataDirWrites(home, () => this.lock!.writeRecord());
  }

  /**
   * The agent's credential: the one an earlier enrollment kept, else a new enrollment with the join
   * token (refused without one: a host is enrolled once, and a second enrollment is a new host).
   */
  private async credential(serverUrl: string): Promise<string> {
    const { home } = this.paths;
    const kept = readAgentCredential(home);
    const identity = readAgentIdentity(home);
    if (kept !== undefined && identity !== undefined) {
      this.identity = identity;
      return kept;
    }
    const joinToken = this.settings.joinToken;
    if (joinToken === undefined) throw notEnrolled(home);
    const name = this.settings.name ?? hostname();
    const transport = new HttpAgentTransport({
      baseUrl: new URL(serverUrl).origin,
      credential: joinToken,
      connections: this.connections!,
    });
    const enrolled = await transport.enroll(
      { name, labels: { ...this.settings.labels } },
      AbortSignal.timeout(ENROLL_TIMEOUT_MS),
    );
    // The identity first: a credential without it would be a host this agent cannot name.
    this.identity = { hostId: enrolled.hostId, name, labels: enrolled.labels };
    withDataDirWrites(home, () => {
      saveAgentIdentity(home, this.identity!);
      saveAgentCredential(home, enrolled.credential);
    });
    this.logger?.info({ host: enrolled.hostId, name }, 'enrolled');
    return enrolled.credential;
  }

  /**
   * Takes back what outlived the last agent: instances with a record are adopted by the host of
   * their app (made from the desired state kept on disk); processes carrying this data directory's
   * marker without a record are stopped. Records of apps the kept desired state does not name are
   * left alone (the server's next desired state says what becomes of them).
   */
  private async adopt(): Promise<void> {
    const records = await this.records!.listInstances();
    const adopted = await reapOrphans(this.supervisor!, records, this.logger!, { stopOrphans: true });
    const kept = await loadDesiredState(this.paths.agentDir, this.identity!.hostId);
    for (const desired of kept.doc?.apps ?? []) {
      const mine = adopted.filter((r) => r.app === desired.app && r.env === desired.env);
      await this.apps!.adopt(desired, mine, (host) =>
        currentRelease(host.releasesDir).catch(() => null),
      ).catch((error: unknown) =>
        this.logger!.error(
          { app: desired.app, env: desired.env, err: messageOf(error) },
          'cannot host the app',
        ),
      );
    }
    this.supervisor!.startSampling(USAGE_SAMPLE_MS);
  }

  /** The router is supervised: a keeper that dies is brought back and given every route again. */
  private watchRouter(reporting: AppsReporting): void {
    const watch = (this.routerWatch = reporting.watchRouter({
      router: this.router!,
      apps: this.apps!,
      clock: systemClock,
      logger: this.logger!,
    }));
    void this.router!.health().then((health) => watch.start(health));
  }

  /** The host-local settings (router, download cache): Ferry's defaults for this data directory. */
  private localDefaults(): Pick<FerryConfig, 'router' | 'artifacts'> {
    return defaultHostSettings(this.paths.home);
  }
}

function notEnrolled(home: string): FerryError {
  return new FerryError(
    'FERRY_E_USAGE',
    `--token: this agent is not enrolled yet (no credential in ${home}): give it a join token (ferry join-token create on the server)`,
    { where: '--token', expected: 'a join token ferry-join.<id>.<secret>', got: 'none' },
  );
}
