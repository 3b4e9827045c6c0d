/**
 * What an agent must do to bring one app in one environment from what runs to what its desired
 * state says. Pure: the Reconciler reads the actual state, asks this for the actions, runs them in
 * the order given, and asks again on the next change, so a crash between two actions only means
 * the next plan is shorter.
 *
 * The order is the zero-downtime order the engine follows: install, start the new instances, route,
 * and only then take old instances and releases out of the route, drain and stop them; `current` and
 * the one-shot tasks come last. The agent keeps that order by itself whatever document it gets: a
 * traffic change that gives weight to a release waits until that release is ready (all its wanted
 * instances healthy), and nothing leaves the route before what takes its place is ready, unless
 * nothing that serves now is healthy either (there is nothing to protect) or the document says to
 * stop at once.
 */
import type { AppOnHost, HostTask, ReleaseOnHost } from '../../protocol/desired-state.js';

/** What runs now for the app and environment on this host, as its AppHost and disk tell. */
export interface ActualApp {
  /** Releases unpacked under releases/. */
  readonly installed: ReadonlySet<string>;
  /**
   * Releases whose install runs, or failed for this desired state (the failure is reported; the
   * release is tried again only once it left the desired state and came back).
   */
  readonly installPending: ReadonlySet<string>;
  /** Instances, serving (in the route) or retiring (draining, then stopped). */
  readonly instances: ReadonlyArray<{
    readonly id: string;
    readonly version: string;
    readonly serving: boolean;
    readonly healthy: boolean;
  }>;
  /** The route's weight per release now (releases missing from the map have none). */
  readonly weights: ReadonlyMap<string, number>;
  /** Where `current` points. */
  readonly current: string | null;
  /** Tasks already run (passed or failed), by id: a task is never run twice. */
  readonly tasksDone: ReadonlySet<string>;
  /**
   * Per release, the restart the agent saw last (its id) and the instances that served when it
   * first saw it: the generation the restart replaces.
   */
  readonly restarts?: ReadonlyMap<string, RestartGeneration>;
}

/** The instances a restart (by id) replaces: those that served when the agent first saw it. */
export interface RestartGeneration {
  readonly id: string;
  readonly old: ReadonlySet<string>;
}

export type ReconcileAction =
  | { readonly type: 'install'; readonly release: ReleaseOnHost }
  | {
      readonly type: 'start';
      readonly version: string;
      readonly count: number;
      /** A restart's step: `want` serving instances besides `exclude` (the old generation, those retiring). */
      readonly restart?: { readonly want: number; readonly exclude: readonly string[] };
    }
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

/**
 * The actions, in order, that take `actual` towards `desired`, and what is held back until the
 * releases taking over are ready (planned again once they are); both empty when they agree.
 */
export interface ReconcilePlan {
  readonly actions: ReconcileAction[];
  readonly held: string[];
}

export function planApp(desired: AppOnHost, actual: ActualApp): ReconcilePlan {
  const actions: ReconcileAction[] = [];
  const held: string[] = [];
  const wanted = new Map(desired.releases.map((release) => [release.version, release]));

  for (const release of desired.releases)
    if (!actual.installed.has(release.version) && !actual.installPending.has(release.version))
      actions.push({ type: 'install', release });

  // Instances start only from a release on disk; the next plan, after its install, starts them.
  const restarting = new Set<string>();
  for (const release of desired.releases.filter((r) => actual.installed.has(r.version))) {
    const retire = new Set(release.retire);
    const serving = servingOf(actual, release.version).filter((id) => !retire.has(id));
    const old = oldGeneration(release, actual);
    if (old.length > 0) {
      restarting.add(release.version);
      restartStep(release, actual, serving, old, actions, held);
      continue;
    }
    if (serving.length < release.instances)
      actions.push({ type: 'start', version: release.version, count: release.instances - serving.length });
  }

  const ready = (release: ReleaseOnHost) => healthyOf(actual, release).length >= release.instances;
  const takersReady = desired.releases.filter((r) => r.weight > 0 && r.instances > 0).every(ready);
  // Nothing healthy serves now: holding back protects nobody (a first start, a release that fails).
  const nothingServes = !actual.instances.some(
    (i) => i.serving && i.healthy && (actual.weights.get(i.version) ?? 0) > 0,
  );
  const mayMove = takersReady || nothingServes;

  const weights = new Map(desired.releases.map((release) => [release.version, release.weight]));
  const waitingFor = desired.releases.filter((r) => r.weight > 0 && r.instances > 0 && !ready(r));
  const why = `until ${waitingFor.map((r) => r.version).join(', ')} is ready`;
  if (!sameWeights(weights, actual.weights)) {
    if (mayMove) actions.push({ type: 'set-traffic', weights });
    else held.push(`the traffic change ${why}`);
  }

  for (const release of desired.releases) {
    const retire = new Set(release.retire);
    const serving = servingOf(actual, release.version);
    const leaving = serving.filter((id) => retire.has(id));
    if (leaving.length > 0) {
      if (ready(release) || nothingServes)
        actions.push({ type: 'retire-instances', version: release.version, ids: leaving });
      else held.push(`retiring ${leaving.join(', ')} until ${release.version} is ready`);
    }
    const staying = serving.filter((id) => !retire.has(id));
    // A restart under way trims by itself, oldest first (a trim would stop the newest).
    if (staying.length > release.instances && !restarting.has(release.version))
      actions.push({
        type: 'trim',
        version: release.version,
        keep: release.instances,
        exclude: release.retire,
      });
  }

  const stopNow = new Set(desired.stopNow);
  const versionsRunning = new Set(actual.instances.filter((i) => i.serving).map((i) => i.version));
  for (const version of versionsRunning) {
    if (wanted.has(version)) continue;
    if (stopNow.has(version)) actions.push({ type: 'retire-release', version, drain: false });
    else if (mayMove) actions.push({ type: 'retire-release', version, drain: true });
    else held.push(`retiring ${version} ${why}`);
  }

  if (desired.current !== null && desired.current !== actual.current && actual.installed.has(desired.current))
    actions.push({ type: 'activate', version: desired.current });

  for (const task of desired.tasks)
    if (!actual.tasksDone.has(task.id)) actions.push({ type: 'run-task', task });
  return { actions, held };
}

/**
 * One step of a restart, one instance at a time: while a new instance is not healthy yet, wait;
 * with no more than the wanted count serving, start one more (besides the old generation); with
 * one too many (the new one is healthy), retire the oldest of the old generation.
 */
function restartStep(
  release: ReleaseOnHost,
  actual: ActualApp,
  serving: readonly string[],
  old: readonly string[],
  actions: ReconcileAction[],
  held: string[],
): void {
  const oldSet = new Set(old);
  const fresh = serving.filter((id) => !oldSet.has(id));
  const healthy = new Set(actual.instances.filter((i) => i.healthy).map((i) => i.id));
  const waiting = fresh.filter((id) => !healthy.has(id));
  if (waiting.length > 0) held.push(`restarting ${release.version}: until ${waiting.join(', ')} is healthy`);
  else if (serving.length <= release.instances)
    actions.push({
      type: 'start',
      version: release.version,
      count: 1,
      restart: { want: fresh.length + 1, exclude: [...release.retire, ...old] },
    });
  else actions.push({ type: 'retire-instances', version: release.version, ids: [old[0]!] });
}

/** The release's serving instances (not named to retire) from before its restart: those it replaces. */
function oldGeneration(release: ReleaseOnHost, actual: Pick<ActualApp, 'instances' | 'restarts'>): string[] {
  if (release.restart === undefined) return [];
  const generation = actual.restarts?.get(release.version);
  if (generation?.id !== release.restart) return [];
  const retire = new Set(release.retire);
  return servingOf(actual, release.version).filter((id) => generation.old.has(id) && !retire.has(id));
}

/**
 * The release's restart (its id) when it is done on this host: nothing of the old generation
 * serves, and as many instances as wanted serve healthy. What the report says as `restarted`.
 */
export function restartDone(
  release: ReleaseOnHost,
  actual: Pick<ActualApp, 'instances' | 'restarts'>,
): string | undefined {
  if (release.restart === undefined) return undefined;
  const generation = actual.restarts?.get(release.version);
  if (generation?.id !== release.restart) return undefined;
  if (oldGeneration(release, actual).length > 0) return undefined;
  return healthyOf(actual, release).length >= release.instances ? release.restart : undefined;
}

/** The release's healthy serving instances that stay (not named to retire). */
function healthyOf(actual: Pick<ActualApp, 'instances'>, release: ReleaseOnHost): string[] {
  const retire = new Set(release.retire);
  return actual.instances
    .filter((i) => i.serving && i.healthy && i.version === release.version && !retire.has(i.id))
    .map((i) => i.id);
}

function servingOf(actual: Pick<ActualApp, 'instances'>, version: string): string[] {
  return actual.instances.filter((i) => i.serving && i.version === version).map((i) => i.id);
}

function sameWeights(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [version, weight] of a) if (b.get(version) !== weight) return false;
  return true;
}
