import type { AppOnHost } from '../../protocol/desired-state.js';
import type { AppReport } from '../../protocol/report.js';
import type { TargetReport } from '../../rollout/index.js';
import type { ReceivedReport } from '../agent-api/host-reports.js';

/**
 * What one host's report says of one app, as the fleet rollout judges a target: the release that
 * takes all of the app's traffic there (none while traffic is split: the host is mid-switch), and
 * whether it serves it healthily (as many healthy instances as desired, none failing). A release
 * the host could not install, or whose instances crash-loop, fails the target at once instead of at
 * its deadline. The time is the server's (when the report came), not the agent's clock.
 */
export function targetReportOf(
  received: ReceivedReport,
  app: string,
  env: string,
  desired: AppOnHost | undefined,
): TargetReport {
  const { report, receivedAt } = received;
  const mine = report.apps.find((a) => a.app === app && a.env === env);
  const base = { name: report.host, at: receivedAt, labels: { ...report.labels } };
  if (mine === undefined)
    return { ...base, version: null, healthy: false, message: 'the app does not run here' };
  // Healthy instances behind a router that answers nothing serve no one.
  if (report.router?.state === 'down')
    return {
      ...base,
      version: servedVersion(mine),
      healthy: false,
      message: `its router is down${report.router.error ? `: ${report.router.error}` : ''}`,
    };
  const version = servedVersion(mine);
  const failed = failedVersion(mine);
  const wanted = desired?.releases.find((r) => r.version === version)?.instances ?? 1;
  const serving = mine.instances.filter((i) => i.version === version && i.state !== 'retiring');
  const healthy = serving.filter((i) => i.health === 'healthy').length;
  const failing = serving.find((i) => i.state === 'crash-loop' || i.health === 'unhealthy');
  const isHealthy = version !== null && healthy >= Math.max(wanted, 1) && failing === undefined;
  const message =
    failed?.message ??
    (failing ? (failing.evidence?.health ?? `instance ${failing.id} is ${failing.state}`) : undefined) ??
    (version === null ? 'its traffic is split between releases (switching)' : `${healthy}/${wanted} healthy`);
  return {
    ...base,
    version,
    healthy: isHealthy,
    message,
    ...(failed ? { failedVersion: failed.version } : {}),
  };
}

/** The release with all of the app's traffic on the host; null with none, or while it is split. */
export function servedVersion(app: AppReport): string | null {
  const weighted = app.traffic.filter((t) => t.weight > 0);
  if (weighted.length === 1) return weighted[0]!.version;
  return weighted.length === 0 ? app.current : null;
}

/** A release the host failed to run for good: its install failed, or its instances crash-loop. */
function failedVersion(app: AppReport): { version: string; message: string } | undefined {
  const install = app.releases.find((r) => r.install === 'failed');
  if (install)
    return {
      version: install.version,
      message: install.failure?.message ?? `the install of ${install.version} failed`,
    };
  const looping = app.instances.find((i) => i.state === 'crash-loop');
  if (looping)
    return {
      version: looping.version,
      message: `instance ${looping.id} of ${looping.version} crash-loops${looping.lastExit ? ` (${looping.lastExit})` : ''}`,
    };
  return undefined;
}
