import { AppHost } from '../agent/app-host.js';
import type { AppConfig, AppEnvironmentConfig, ConfigSource } from '../config/types.js';
import { systemClock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { RouterClient } from '../router/client.js';
import { Deployer } from '../runtime/deployer.js';
import { HostEffects } from '../runtime/effects.js';
import type { Store } from '../store/store.js';
import { Supervisor, type RunAccount } from '../supervisor/index.js';
import { finishDeployment } from './finish.js';
import type { DaemonPaths } from './paths.js';

/** The daemon's working parts on one store. */
export interface DaemonParts {
  readonly router: RouterClient;
  readonly supervisor: Supervisor;
  /** One per app and environment, by "app.env". */
  readonly hosts: Map<string, AppHost>;
  readonly deployer: Deployer;
  /** Builds the host of an app in an environment (`ferry apply` adds apps while the daemon runs). */
  readonly createHost: (app: AppConfig, env: string, settings: AppEnvironmentConfig) => AppHost;
}

/**
 * Builds the router client, the supervisor, an app host per app and environment, and the deployer
 * driving them. None of them acts (spawns, signals, routes, resumes) until the daemon tells it to.
 */
export function assembleParts(opts: {
  /** The configuration in effect (`ferry apply` replaces it). */
  readonly config: ConfigSource;
  readonly paths: DaemonPaths;
  readonly store: Store;
  readonly logger: Logger;
  readonly tickMs: number;
  /** Per app, the account its processes run as (run.user), when set. */
  readonly accounts: ReadonlyMap<string, RunAccount>;
  /** The daemon's own secrets (the API token): never quoted in an app's evidence. */
  readonly knownSecrets: readonly string[];
}): DaemonParts {
  const { config, paths, store, logger } = opts;
  const hosts = new Map<string, AppHost>();
  const router = new RouterClient({ stateDir: paths.routerDir, logger });
  const clock = systemClock;
  const supervisor = new Supervisor({
    ferryHome: paths.home,
    clock,
    onEvent: (event) => {
      for (const host of hosts.values()) if (host.owns(event.id)) host.onSupervisorEvent(event);
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
      store,
      supervisor,
      router,
      holdTimeoutMs: config.current.router.holdTimeoutMs,
      logger: logger.child({ app: app.name, env }),
      now,
    });
  for (const app of Object.values(config.current.apps)) {
    for (const [env, settings] of Object.entries(app.environments)) {
      const host = createHost(app, env, settings);
      hosts.set(host.key, host);
    }
  }
  const hostFor = (app: string, env: string) => hosts.get(`${app}.${env}`)!;
  const effects = new HostEffects({
    store,
    hostFor,
    artifactCache: () => config.current.artifacts,
    now,
  });
  const deployer = new Deployer({ config, store, effects, logger, clock, tickMs: opts.tickMs });
  deployer.onFinished = (final) =>
    finishDeployment(final, { store, host: hostFor(final.app, final.env), logger });
  return { router, supervisor, hosts, deployer, createHost };
}
