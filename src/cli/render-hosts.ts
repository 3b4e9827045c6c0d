import type { HostRevokeResponse, HostsResponse, HostView } from '../api/types.js';
import { formatDateTime, formatUptime } from './format.js';

/** `ferry hosts`: one block per host, its agent and what it last reported per app. */
export function renderHosts(response: HostsResponse, now: number): string {
  if (response.hosts.length === 0) return 'no host is enrolled or has reported yet';
  return response.hosts
    .map((host) => {
      const lines = [hostLine(host, now)];
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

/**
 * The host (its name and id when enrolled, else its id), revoked when it was, its agent and when it
 * was last heard from ("never" for a host enrolled but not seen), its labels, and whether it runs
 * its desired state.
 */
function hostLine(host: HostView, now: number): string {
  const parts = [host.name === host.id ? host.id : `${host.name} (${host.id})`];
  if (host.revokedAt !== null) parts.push(`revoked ${formatDateTime(host.revokedAt)}`);
  if (host.lastSeenAt === null) {
    const enrolled = host.enrolledAt === null ? '' : ` (enrolled ${formatDateTime(host.enrolledAt)})`;
    parts.push(`last seen never${enrolled}`);
  } else {
    parts.push(
      `agent ${host.agentVersion ?? '?'}`,
      `last seen ${formatUptime(now - host.lastSeenAt)} ago from ${host.address ?? '?'}`,
    );
  }
  parts.push(`labels ${host.labels.map((l) => `${l.key}=${l.value}`).join(',') || '-'}`);
  if (host.revokedAt === null && host.lastSeenAt !== null) parts.push(syncPhrase(host));
  if (host.router !== null && host.router.state !== 'running')
    parts.push(
      `ROUTER ${host.router.state.toUpperCase()}${host.router.error ? `: ${host.router.error}` : ''}`,
    );
  return parts.join('  ');
}

function syncPhrase(host: HostView): string {
  if (host.desiredRevision === null || host.reportedRevision === null) return 'not reported yet';
  return host.reportedRevision >= host.desiredRevision
    ? `in sync (revision ${host.desiredRevision})`
    : `applying revision ${host.desiredRevision} (reported ${host.reportedRevision})`;
}

/** `ferry hosts revoke`: what changed, or that nothing did. */
export function renderHostRevoked(response: HostRevokeResponse): string {
  const { host } = response;
  const shown = `${host.name} (${host.id})`;
  const at = host.revokedAt === null ? '' : ` at ${formatDateTime(host.revokedAt)}`;
  if (response.alreadyRevoked) return `host ${shown} was already revoked${at}; nothing changed`;
  return `host ${shown} revoked${at}: its agent is refused from its next request on; the name ${host.name} may enroll again (a new host)`;
}
