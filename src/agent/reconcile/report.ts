import { currentRelease } from '../../artifacts/index.js';
import { exitReason } from '../../lib/exit-reason.js';
import type {
  AppReport,
  InstanceReport,
  ReleaseReport,
  RouteTotals,
  TaskReport,
} from '../../protocol/report.js';
import type { AppHost } from '../app-host.js';

/**
 * One app's part of the host's report: its instances (state, health, process, usage, and for a
 * failing one the evidence a rollback quotes), its install and task outcomes, where `current`
 * points, and the router's cumulative counters of its route.
 */
export async function appReport(
  host: AppHost,
  outcomes: {
    releases: readonly ReleaseReport[];
    tasks: readonly TaskReport[];
    /** The digest of the spec the host runs with, when its agent knows it. */
    spec?: string | undefined;
    /** The router's totals of the app's route, once read. */
    totals?: RouteTotals | undefined;
  },
): Promise<AppReport> {
  const described = host.describe();
  const evidence = new Map<string, NonNullable<InstanceReport['evidence']>>();
  for (const version of new Set(described.map((i) => i.version))) {
    const seen = await host.observe(version, 0);
    const found = seen.evidence;
    if (found?.instanceId !== undefined) {
      const { health, logTail } = found;
      evidence.set(found.instanceId, {
        ...(health !== undefined ? { health } : {}),
        logTail: [...(logTail ?? [])],
      });
    }
  }
  const stale = new Set([...new Set(described.map((i) => i.version))].flatMap((v) => host.staleInstances(v)));
  const instances: InstanceReport[] = described.map((i) => ({
    id: i.id,
    version: i.version,
    state: i.state as InstanceReport['state'],
    health: i.health as InstanceReport['health'],
    pid: i.pid,
    startedAt: i.uptimeMs === null ? null : Date.now() - i.uptimeMs,
    restarts: i.restarts,
    lastExit: i.lastExit === null ? null : exitReason(i.lastExit),
    cpuPercent: i.cpuPercent,
    rssBytes: i.memoryBytes,
    ...(i.cpuSeconds !== null ? { cpuSeconds: i.cpuSeconds } : {}),
    port: i.port,
    lastFailure: i.lastFailure,
    exit: i.lastExit,
    ...(stale.has(i.id) ? { stale: true } : {}),
    ...(evidence.has(i.id) ? { evidence: evidence.get(i.id)! } : {}),
  }));
  let route: AppReport['route'] = null;
  try {
    const counters = await host.routeCounters();
    route = { ...counters, outcomes: { ...counters.outcomes, releases: [...counters.outcomes.releases] } };
  } catch {
    // The router is being replaced: the next report carries its counters (the epoch tells them apart).
  }
  return {
    app: host.appName,
    env: host.envName,
    listen: `${host.settings.listen.host}:${host.settings.listen.port}`,
    ...(outcomes.spec !== undefined ? { spec: outcomes.spec } : {}),
    releases: [...outcomes.releases],
    instances,
    current: await currentRelease(host.releasesDir).catch(() => null),
    traffic: [...host.trafficWeights()].map(([version, weight]) => ({ version, weight })),
    route,
    tasks: [...outcomes.tasks],
    ...(outcomes.totals !== undefined ? { totals: outcomes.totals } : {}),
  };
}
