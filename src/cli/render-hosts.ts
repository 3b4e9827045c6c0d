import type { HostsResponse } from '../api/types.js';
import { formatUptime } from './format.js';

/** `ferry hosts`: one block per host, its agent and what it last reported per app. */
export function renderHosts(response: HostsResponse, now: number): string {
  if (response.hosts.length === 0) return 'no host has reported yet';
  return response.hosts
    .map((host) => {
      const labels = host.labels.map((l) => `${l.key}=${l.value}`).join(',') || '-';
      const synced =
        host.desiredRevision === null || host.reportedRevision === null
          ? 'not reported yet'
          : host.reportedRevision >= host.desiredRevision
            ? `in sync (revision ${host.desiredRevision})`
            : `applying revision ${host.desiredRevision} (reported ${host.reportedRevision})`;
      const lines = [
        `${host.id}  agent ${host.agentVersion ?? '?'}  last seen ${formatUptime(now - host.lastSeenAt)} ago from ${host.address}  labels ${labels}  ${synced}`,
      ];
      for (const app of host.apps) {
        const versions = app.versions.join(', ') || 'nothing';
        lines.push(
          `  ${app.app} (${app.env})  current ${app.current ?? '-'}  running ${versions}  ${app.healthy}/${app.instances} healthy`,
        );
      }
      return lines.join('\n');
    })
    .join('\n\n');
}
