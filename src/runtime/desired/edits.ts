/**
 * The edits the control plane makes to one app's part of a host's desired state. Pure: each takes
 * the document as it is and returns the next one, so the caller can apply them under a
 * compare-and-swap (a concurrent edit makes it read again and re-apply).
 */
import type { AppOnHost, HostTask, ReleaseOnHost } from '../../protocol/desired-state.js';

/** An app with nothing desired yet on the host. */
export function emptyApp(app: string, env: string, spec: AppOnHost['spec']): AppOnHost {
  return { app, env, spec, releases: [], current: null, stopNow: [], tasks: [] };
}

/** The release is wanted on the host (installed; nothing of it runs until its instances are set). */
export function withRelease(
  doc: AppOnHost,
  version: string,
  artifact: ReleaseOnHost['artifact'] = null,
): AppOnHost {
  const stopNow = doc.stopNow.filter((v) => v !== version);
  if (doc.releases.some((r) => r.version === version)) return { ...doc, stopNow };
  return {
    ...doc,
    stopNow,
    releases: [...doc.releases, { version, artifact, instances: 0, retire: [], weight: 0 }],
  };
}

/**
 * `count` serving instances of the release (not counting those named to retire); `quickHealth`:
 * new ones count as healthy at their first passing check (a rollback to a release known good).
 */
export function withInstances(
  doc: AppOnHost,
  version: string,
  count: number,
  opts: { quickHealth?: boolean } = {},
): AppOnHost {
  return changeRelease(withRelease(doc, version), version, (r) => ({
    ...r,
    instances: count,
    ...(opts.quickHealth !== undefined ? { quickHealth: opts.quickHealth } : {}),
  }));
}

/** The app in its steady state: `count` instances of `version`, all its traffic, `current` on it. */
export function steadyApp(doc: AppOnHost, version: string, count: number): AppOnHost {
  const only = { ...doc, releases: doc.releases.filter((r) => r.version === version) };
  return withCurrent(withWeights(withInstances(only, version, count), new Map([[version, 1]])), version);
}

/** These instances of the release leave: out of the route, drained, stopped. */
export function withRetired(doc: AppOnHost, version: string, ids: readonly string[]): AppOnHost {
  return changeRelease(withRelease(doc, version), version, (r) => ({
    ...r,
    retire: [...new Set([...r.retire, ...ids])],
  }));
}

/** Instances named to retire that are gone no longer need naming. */
export function withoutRetired(doc: AppOnHost, version: string, gone: ReadonlySet<string>): AppOnHost {
  return changeRelease(doc, version, (r) => ({ ...r, retire: r.retire.filter((id) => !gone.has(id)) }));
}

/** The traffic's split: releases not named get none. */
export function withWeights(doc: AppOnHost, weights: ReadonlyMap<string, number>): AppOnHost {
  return { ...doc, releases: doc.releases.map((r) => ({ ...r, weight: weights.get(r.version) ?? 0 })) };
}

/** The release leaves the host: drained and stopped, or (`now`) stopped at once. */
export function withoutRelease(doc: AppOnHost, version: string, opts: { now?: boolean } = {}): AppOnHost {
  const stopNow = opts.now && !doc.stopNow.includes(version) ? [...doc.stopNow, version] : doc.stopNow;
  return { ...doc, stopNow, releases: doc.releases.filter((r) => r.version !== version) };
}

export function withCurrent(doc: AppOnHost, version: string): AppOnHost {
  return { ...doc, current: version };
}

export function withTask(doc: AppOnHost, task: HostTask): AppOnHost {
  return doc.tasks.some((t) => t.id === task.id) ? doc : { ...doc, tasks: [...doc.tasks, task] };
}

/** A task whose outcome was read leaves the document. */
export function withoutTask(doc: AppOnHost, id: string): AppOnHost {
  return { ...doc, tasks: doc.tasks.filter((t) => t.id !== id) };
}

function changeRelease(
  doc: AppOnHost,
  version: string,
  change: (release: ReleaseOnHost) => ReleaseOnHost,
): AppOnHost {
  return { ...doc, releases: doc.releases.map((r) => (r.version === version ? change(r) : r)) };
}
