import type { HostsResponse } from '../api/types.js';
import type { HostExchange } from '../server/agent-api/host-exchange.js';

/**
 * The hosts as `ferry hosts` shows them: every agent heard from since the server started (in
 * `ferry up`, the one in its own process), when and from where, its labels, the revision of its
 * desired state and the one its last report reflects, and per app what its instances run.
 */
export async function hostsView(exchange: HostExchange): Promise<HostsResponse> {
  const seen = [...exchange.hosts()].sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
  const hosts = await Promise.all(
    seen.map(async (host) => {
      const report = host.lastReport?.report ?? null;
      const desired = await exchange.desiredState(host.host);
      return {
        id: host.host,
        lastSeenAt: host.lastSeenAt,
        lastSeen: new Date(host.lastSeenAt).toISOString(),
        address: host.remoteAddress,
        agentVersion: report?.agentVersion ?? null,
        labels: Object.entries(report?.labels ?? {}).map(([key, value]) => ({ key, value })),
        desiredRevision: desired?.revision ?? null,
        reportedRevision: report?.revision ?? null,
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
    }),
  );
  return { hosts };
}
