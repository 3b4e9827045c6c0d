import type { ExchangeHostLink } from '../../runtime/desired/exchange-link.js';
import type { HostExchange } from '../agent-api/host-exchange.js';
import type { Trust } from '../trust/trust.js';

export interface FleetPruneDeps {
  readonly trust: Pick<Trust, 'listHosts'>;
  readonly exchange: Pick<HostExchange, 'desiredState'>;
  readonly link: Pick<ExchangeHostLink, 'remove'>;
}

/**
 * The apps the enrolled hosts' desired states name, each app and environment once, in order: what
 * runs across the fleet, in the file or not (`ferry apply` keeps or prunes those that left it).
 */
export async function appsOnHosts(deps: FleetPruneDeps): Promise<Array<{ app: string; env: string }>> {
  const found = new Map<string, { app: string; env: string }>();
  for (const host of await deps.trust.listHosts()) {
    const desired = await deps.exchange.desiredState(host.id);
    for (const { app, env } of desired?.apps ?? []) found.set(JSON.stringify([app, env]), { app, env });
  }
  return [...found.values()].sort((a, b) => (a.app === b.app ? cmp(a.env, b.env) : cmp(a.app, b.app)));
}

/**
 * Takes the app off every enrolled host whose desired state names it (`ferry apply --prune`): its
 * entry leaves the desired state, and the host's agent drains and stops its instances and removes
 * its route. A host away now does so when it is back. The hosts' names, in order.
 */
export async function removeFromHosts(deps: FleetPruneDeps, app: string, env: string): Promise<string[]> {
  const removed: string[] = [];
  for (const host of await deps.trust.listHosts()) {
    const desired = await deps.exchange.desiredState(host.id);
    if (!desired?.apps.some((a) => a.app === app && a.env === env)) continue;
    await deps.link.remove(host.id, app, env);
    removed.push(host.name);
  }
  return removed.sort(cmp);
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
