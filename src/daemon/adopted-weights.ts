import type { AppHost } from '../agent/app-host.js';
import type { AppOnHost } from '../protocol/desired-state.js';
import { withInstances, withWeights } from '../runtime/desired/edits.js';

/**
 * `ferry up --adopt`: the app's desired state as the processes and the router's table show it,
 * each release with the instances adopted of it and its weight in the route (a canary mid-way stays
 * mid-way).
 */
export function adoptedWeights(
  doc: AppOnHost,
  weights: ReadonlyMap<string, number>,
  host: AppHost,
): AppOnHost {
  let next = doc;
  for (const version of weights.keys()) {
    const running = host.instanceViews().filter((i) => i.version === version && i.serving).length;
    next = withInstances(next, version, running);
  }
  return withWeights(next, weights);
}
