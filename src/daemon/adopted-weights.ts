import type { AppOnHost } from '../protocol/desired-state.js';
import type { AppReport } from '../protocol/report.js';
import { withInstances, withWeights } from '../runtime/desired/edits.js';

/**
 * `ferry up --adopt`: the app's desired state as the processes and the router's table show it,
 * each release with the instances the host reports serving of it and its weight in the route (a
 * canary mid-way stays mid-way).
 */
export function adoptedWeights(
  doc: AppOnHost,
  weights: ReadonlyMap<string, number>,
  reported: AppReport,
): AppOnHost {
  let next = doc;
  for (const version of weights.keys()) {
    const running = reported.instances.filter((i) => i.version === version && i.state !== 'retiring').length;
    next = withInstances(next, version, running);
  }
  return withWeights(next, weights);
}
