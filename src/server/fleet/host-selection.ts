import type { Labels } from '../../lib/labels.js';
import type { HostSummary } from '../trust/hosts.js';

/** True when the host has every label of the selector, with its value. */
export function matchesLabels(labels: Labels, selector: Labels): boolean {
  return Object.entries(selector).every(
    ([key, value]) => Object.hasOwn(labels, key) && labels[key] === value,
  );
}

/** The enrolled, not revoked, hosts an environment's selector picks, by id. */
export function selectHosts(hosts: readonly HostSummary[], selector: Labels): HostSummary[] {
  return hosts.filter((host) => !host.revoked && matchesLabels(host.labels, selector));
}
