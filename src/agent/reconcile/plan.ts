/**
 * What an agent must do to bring one app in one environment from what runs to what its desired
 * state says. Pure: the Reconciler reads the actual state, asks this for the actions, runs them in
 * the order given, and asks again on the next change, so a crash between two actions only means
 * the next plan is shorter.
 *
 * The order is the zero-downtime order the engine follows today: install, start the new instances,
 * route (the router sends nothing to an instance before it is healthy), and only then take old
 * instances and releases out of the route, drain and stop them; `current` and the one-shot tasks
 * come last.
 */
import type { AppOnHost, HostTask, ReleaseOnHost } from '../../protocol/desired-state.js';

/** What runs now for the app and environment on this host, as its AppHost and disk tell. */
export interface ActualApp {
  /** Releases unpacked under releases/. */
  readonly installed: ReadonlySet<string>;
  /** Instances, serving (in the route) or retiring (draining, then stopped). */
  readonly instances: ReadonlyArray<{
    readonly id: string;
    readonly version: string;
    readonly serving: boolean;
  }>;
  /** The route's weight per release now (releases missing from the map have none). */
  readonly weights: ReadonlyMap<string, number>;
  /** Where `current` points. */
  readonly current: string | null;
  /** Tasks already run (passed or failed), by id: a task is never run twice. */
  readonly tasksDone: ReadonlySet<string>;
}

export type ReconcileAction =
  | { readonly type: 'install'; readonly release: ReleaseOnHost }
  | { readonly type: 'start'; readonly version: string; readonly count: number }
  | { readonly type: 'set-traffic'; readonly weights: ReadonlyMap<string, number> }
  | { readonly type: 'retire-instances'; readonly version: string; readonly ids: readonly string[] }
  | {
      readonly type: 'trim';
      readonly version: string;
      readonly keep: number;
      readonly exclude: readonly string[];
    }
  | { readonly type: 'retire-release'; readonly version: string; readonly drain: boolean }
  | { readonly type: 'activate'; readonly version: string }
  | { readonly type: 'run-task'; readonly task: HostTask };

/** The actions, in order, that take `actual` to `desired`; none when they agree. */
export function planApp(desired: AppOnHost, actual: ActualApp): ReconcileAction[] {
  const actions: ReconcileAction[] = [];
  const wanted = new Map(desired.releases.map((release) => [release.version, release]));

  for (const release of desired.releases)
    if (!actual.installed.has(release.version)) actions.push({ type: 'install', release });

  for (const release of desired.releases) {
    const retire = new Set(release.retire);
    const serving = servingOf(actual, release.version).filter((id) => !retire.has(id));
    if (serving.length < release.instances)
      actions.push({ type: 'start', version: release.version, count: release.instances - serving.length });
  }

  const weights = new Map(desired.releases.map((release) => [release.version, release.weight]));
  if (!sameWeights(weights, actual.weights)) actions.push({ type: 'set-traffic', weights });

  for (const release of desired.releases) {
    const retire = new Set(release.retire);
    const serving = servingOf(actual, release.version);
    const leaving = serving.filter((id) => retire.has(id));
    if (leaving.length > 0)
      actions.push({ type: 'retire-instances', version: release.version, ids: leaving });
    const staying = serving.filter((id) => !retire.has(id));
    if (staying.length > release.instances)
      actions.push({
        type: 'trim',
        version: release.version,
        keep: release.instances,
        exclude: release.retire,
      });
  }

  const stopNow = new Set(desired.stopNow);
  const versionsRunning = new Set(actual.instances.filter((i) => i.serving).map((i) => i.version));
  for (const version of versionsRunning)
    if (!wanted.has(version)) actions.push({ type: 'retire-release', version, drain: !stopNow.has(version) });

  if (desired.current !== null && desired.current !== actual.current && actual.installed.has(desired.current))
    actions.push({ type: 'activate', version: desired.current });

  for (const task of desired.tasks)
    if (!actual.tasksDone.has(task.id)) actions.push({ type: 'run-task', task });
  return actions;
}

function servingOf(actual: ActualApp, version: string): string[] {
  return actual.instances.filter((i) => i.serving && i.version === version).map((i) => i.id);
}

function sameWeights(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [version, weight] of a) if (b.get(version) !== weight) return false;
  return true;
}
