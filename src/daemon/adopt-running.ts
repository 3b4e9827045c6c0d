import { routeName } from '../agent/traffic.js';
import type { FerryConfig } from '../config/types.js';
import type { RouteSpec } from '../router/types.js';
import { redactUrl } from '../lib/redact.js';
import { isValidVersion } from '../lib/release-version.js';
import { artifactSource } from '../artifacts/index.js';
import type { InstanceStore, Store } from '../store/store.js';
import type { InstanceLabels, MarkedProcess } from '../supervisor/index.js';

/** An app in an environment taken over by `ferry up --adopt`. */
export interface AdoptedApp {
  readonly app: string;
  readonly env: string;
  /** The release its instances serve, now its current release. */
  readonly version: string;
  /** Percent of traffic per release as the router's table had it (empty when it had no route). */
  readonly weights: ReadonlyMap<string, number>;
}

/**
 * `ferry up --adopt` after a lost store: records what runs as the store's state, stopping, starting
 * and deploying nothing. Each marked process becomes an instance record (app, environment, version,
 * instance id and port from its environment; pid and start time from /proc). Per app and
 * environment, the release its instances serve becomes current and is marked good ("adopted").
 */
export async function adoptRunning(deps: {
  readonly store: Store & InstanceStore;
  readonly config: FerryConfig;
  readonly processes: readonly MarkedProcess[];
  readonly routes: readonly RouteSpec[];
  readonly now: number;
}): Promise<AdoptedApp[]> {
  const { store, config, now } = deps;
  const groups = new Map<string, Array<MarkedProcess & { labels: InstanceLabels }>>();
  for (const p of deps.processes) {
    if (p.labels === null || !isValidVersion(p.labels.version)) continue;
    const { app, env, version, port } = p.labels;
    await store.putInstance({
      id: p.instanceId,
      app,
      env,
      version,
      port,
      pid: p.pid,
      pidStart: p.pidStart,
      state: 'running',
      restarts: 0,
      createdAt: now,
      updatedAt: now,
    });
    const key = routeName(app, env);
    groups.set(key, [...(groups.get(key) ?? []), { ...p, labels: p.labels }]);
  }
  const adopted: AdoptedApp[] = [];
  for (const [key, group] of groups) {
    const { app, env } = group[0]!.labels;
    const appConfig = Object.hasOwn(config.apps, app) ? config.apps[app] : undefined;
    // Instances of an app no longer configured keep their records (so nothing stops them), no more.
    if (!appConfig || !Object.hasOwn(appConfig.environments, env)) continue;
    const weights = releaseWeights(deps.routes.find((route) => route.name === key));
    const version = chooseServingRelease(
      group.map((p) => p.labels.version),
      weights,
    );
    await store.upsertRelease({
      app,
      env,
      version,
      artifactUrl: redactUrl(artifactSource(appConfig.artifact, version).url),
      checksum: null,
      createdAt: now,
    });
    await store.markRelease(app, env, version, 'good', 'adopted', now);
    await store.setCurrent(app, env, version);
    adopted.push({ app, env, version, weights });
  }
  // Recorded even when nothing ran: the store is no longer new, so the next start resumes from it.
  await store.audit({
    at: now,
    actor: 'ferry up',
    action: 'adopt',
    target: 'data directory',
    detail: {
      instances: deps.processes.length,
      current: adopted.map((a) => `${a.app}/${a.env} ${a.version}`),
    },
  });
  return adopted;
}

/**
 * Pure: the release that serves, from the versions of the running instances (one entry each): the
 * one with most instances; on a tie the one with more weight in the router's table; then the
 * greatest version string, so the choice never depends on /proc's order.
 */
export function chooseServingRelease(
  versions: readonly string[],
  weights: ReadonlyMap<string, number>,
): string {
  const counts = new Map<string, number>();
  for (const version of versions) counts.set(version, (counts.get(version) ?? 0) + 1);
  const ranked = [...counts].sort(
    ([a, countA], [b, countB]) =>
      countB - countA || (weights.get(b) ?? 0) - (weights.get(a) ?? 0) || (a < b ? 1 : a > b ? -1 : 0),
  );
  const first = ranked[0];
  if (!first) throw new Error('chooseServingRelease needs at least one version');
  return first[0];
}

/** Pure: percent of the route's traffic per release, from its backends' weights. */
export function releaseWeights(route: RouteSpec | undefined): Map<string, number> {
  const sums = new Map<string, number>();
  for (const backend of route?.backends ?? [])
    sums.set(backend.release, (sums.get(backend.release) ?? 0) + backend.weight);
  const total = [...sums.values()].reduce((a, b) => a + b, 0);
  if (total === 0) return new Map();
  return new Map([...sums].map(([release, sum]) => [release, Math.round((sum * 100) / total)]));
}
