import type { FerryConfig } from '../config/types.js';
import type { Logger } from '../lib/logger.js';
import type { HostReport } from '../protocol/report.js';
import type { Store } from '../store/store.js';

/** What the server's start reads of the release ledger (the app's current release, its deployment). */
export type LedgerView = Pick<Store, 'getCurrent' | 'activeDeployment'>;

/** Why an app of a host restarts for its run configuration: its stale and extra instances. */
export interface RunConfigDrift {
  readonly app: string;
  readonly env: string;
  /** Instances of the serving release that run an earlier run configuration. */
  readonly stale: number;
  /** Instances of the serving release beyond the configured count. */
  readonly extra: number;
}

/**
 * Pure: the apps of a host's report whose serving release runs an earlier run configuration than
 * the configuration in effect (an instance the host reports `stale`) or more instances than
 * configured. Apps that left the configuration and releases other than `current` are not judged.
 */
export function runConfigDrift(
  report: HostReport,
  config: FerryConfig,
  current: (app: string, env: string) => string | null,
): RunConfigDrift[] {
  const drift: RunConfigDrift[] = [];
  for (const app of report.apps) {
    if (!Object.hasOwn(config.apps, app.app)) continue;
    const settings = config.apps[app.app]!.environments;
    if (!Object.hasOwn(settings, app.env)) continue;
    const serving = current(app.app, app.env);
    if (serving === null) continue;
    const instances = app.instances.filter((i) => i.version === serving && i.state !== 'retiring');
    const stale = instances.filter((i) => i.stale === true).length;
    const extra = Math.max(0, instances.length - settings[app.env]!.instances);
    if (stale > 0 || extra > 0) drift.push({ app: app.app, env: app.env, stale, extra });
  }
  return drift;
}

/**
 * ferry.yaml changed while the daemon was down: the apps the host reports running an earlier run
 * configuration, or more instances than configured, are restarted (by `restart`, the deployer),
 * batch by batch, as `ferry apply` does. An app with a deployment running keeps its change for
 * `ferry apply` once that deployment ended. Read from the host's report and the ledger, as for any
 * host: nothing of the host's own objects.
 */
export async function restartDriftedApps(deps: {
  readonly report: HostReport | null;
  readonly config: FerryConfig;
  readonly ledger: LedgerView;
  readonly restart: (app: string, env: string) => Promise<unknown>;
  readonly logger: Logger;
}): Promise<void> {
  const { report, config, ledger, logger } = deps;
  if (report === null) return;
  const current = new Map<string, string | null>();
  for (const app of report.apps)
    current.set(JSON.stringify([app.app, app.env]), (await ledger.getCurrent(app.app, app.env)) ?? null);
  const drifted = runConfigDrift(
    report,
    config,
    (app, env) => current.get(JSON.stringify([app, env])) ?? null,
  );
  for (const { app, env, stale, extra } of drifted) {
    if (await ledger.activeDeployment(app, env)) continue;
    logger.info({ app, env, stale, extra }, 'ferry.yaml changed how the app runs: restarting it');
    await deps
      .restart(app, env)
      .catch((error: unknown) =>
        logger.error({ err: error, app, env }, 'could not restart the app with its new configuration'),
      );
  }
}
