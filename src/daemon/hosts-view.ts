import type { HostsResponse, HostView } from '../api/types.js';
import type { HostExchange } from '../server/agent-api/host-exchange.js';
import type { HostSeen } from '../server/agent-api/host-reports.js';
import type { HostSummary } from '../server/trust/hosts.js';
import { labelList } from '../server/trust/trust-operator.js';

/**
 * The hosts as `ferry hosts` shows them: every enrolled host (revoked ones too) and every agent
 * heard from since the server started (in `ferry up`, the one in its own process, `local`, which
 * is not enrolled), merged by host id. For each: its name and labels as it enrolled, when and from
 * where it was last heard from (never, for a host enrolled but not seen), the revision of its
 * desired state and the one its last report reflects, and per app what its instances run.
 */
export async function hostsView(
  exchange: HostExchange,
  enrolled: () => Promise<readonly HostSummary[]>,
): Promise<HostsResponse> {
  const seen = new Map(exchange.hosts().map((host) => [host.host, host]));
  const records = await enrolled();
  const ids = new Set(records.map((record) => record.id));
  const entries: Array<{ record: HostSummary | null; seen: HostSeen | null }> = [
    ...records.map((record) => ({ record, seen: seen.get(record.id) ?? null })),
    ...[...seen.values()].filter((host) => !ids.has(host.host)).map((host) => ({ record: null, seen: host })),
  ];
  const hosts = await Promise.all(entries.map(({ record, seen }) => hostView(exchange, record, seen)));
  return { hosts: hosts.sort((a, b) => compare(a.name, b.name) || compare(a.id, b.id)) };
}

async function hostView(
  exchange: HostExchange,
  record: HostSummary | null,
  seen: HostSeen | null,
): Promise<HostView> {
  const id = record?.id ?? seen!.host;
  const report = seen?.lastReport?.report ?? null;
  const desired = await exchange.desiredState(id);
  return {
    id,
    name: record?.name ?? id,
    lastSeenAt: seen?.lastSeenAt ?? null,
    lastSeen: seen ? new Date(seen.lastSeenAt).toISOString() : null,
    address: seen?.remoteAddress ?? null,
    agentVersion: report?.agentVersion ?? null,
    // The labels it enrolled with are the ones the server trusts; an agent's report only tells.
    labels: record ? labelList(record.labels) : labelList(report?.labels ?? {}),
    desiredRevision: desired?.revision ?? null,
    reportedRevision: report?.revision ?? null,
    enrolledAt: record?.enrolledAt ?? null,
    joinTokenId: record?.joinTokenId ?? null,
    revokedAt: record?.revokedAt ?? null,
    // Its state (the process tree is `ferry status`'s, for the server's own host).
    router: report?.router
      ? {
          state: report.router.state,
          pid: report.router.pid,
          restarts: report.router.restarts,
          error: report.router.error,
        }
      : null,
    apps: (report?.apps ?? []).map((app) => {
      const serving = app.instances.filter((i) => i.state !== 'retiring');
      return {
        app: app.app,
        env: app.env,
        current: app.current,
        versions: [...new Set(serving.map((i) => i.version))],
        instances: serving.length,
        healthy: serving.filter((i) => i.health === 'healthy').length,
      };
    }),
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
