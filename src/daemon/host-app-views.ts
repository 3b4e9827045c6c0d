import type { InstanceView } from '../api/types.js';
import { runsOnThisHost } from '../config/resolve.js';
import type { FerryConfig } from '../config/types.js';
import type { AppReport, HostReport, InstanceReport } from '../protocol/report.js';

/** One app in one environment of the server's own host, as `ferry status` shows it. */
export interface HostAppView {
  readonly app: string;
  readonly env: string;
  readonly listen: string;
  readonly instances: InstanceView[];
  /** False for an app that left ferry.yaml but still runs (the host reports it). */
  readonly inConfig: boolean;
}

/**
 * Pure: the apps of the server's own host from its last report, as for any host: the
 * configuration's apps of environments without `hosts:` first (in its order; one the host has not
 * reported yet shows no instance), then those the host reports that left the configuration. `now`
 * turns a process's start time into its uptime.
 */
export function hostAppViews(config: FerryConfig, report: HostReport | null, now: number): HostAppView[] {
  const reported = new Map((report?.apps ?? []).map((a) => [JSON.stringify([a.app, a.env]), a]));
  const views: HostAppView[] = [];
  for (const app of Object.values(config.apps)) {
    for (const [env, settings] of Object.entries(app.environments)) {
      if (!runsOnThisHost(config, env)) continue;
      const key = JSON.stringify([app.name, env]);
      const found = reported.get(key);
      reported.delete(key);
      views.push({
        app: app.name,
        env,
        listen: `${settings.listen.host}:${settings.listen.port}`,
        instances: (found?.instances ?? []).map((i) => instanceView(i, now)),
        inConfig: true,
      });
    }
  }
  for (const left of reported.values()) views.push(leftOver(left, now));
  return views;
}

function leftOver(app: AppReport, now: number): HostAppView {
  return {
    app: app.app,
    env: app.env,
    listen: app.listen ?? '-',
    instances: app.instances.map((i) => instanceView(i, now)),
    inConfig: false,
  };
}

/** An instance as its host reported it, as `ferry status` shows it. */
export function instanceView(i: InstanceReport, now: number): InstanceView {
  return {
    id: i.id,
    version: i.version,
    port: i.port ?? 0,
    pid: i.pid,
    state: i.state,
    health: i.health,
    lastFailure: i.lastFailure ?? null,
    uptimeMs: i.startedAt === null ? null : Math.max(0, now - i.startedAt),
    restarts: i.restarts,
    lastExit: i.exit ?? null,
    cpuPercent: i.cpuPercent,
    memoryBytes: i.rssBytes,
  };
}
