/** Pure: the router's backends for an app in an environment, from its instances and release weights. */

export interface RoutableInstance {
  readonly id: string;
  readonly version: string;
  readonly host: string;
  readonly port: number;
  readonly healthy: boolean;
}

export interface Backend {
  readonly id: string;
  readonly release: string;
  readonly host: string;
  readonly port: number;
  readonly weight: number;
  readonly healthy: boolean;
}

/**
 * A release's percent of traffic is split evenly over its instances. Releases without a weight get
 * 0: the router uses them only when no weighted backend is usable, which keeps traffic flowing if
 * the new release's instances fail right after a switch. Unhealthy instances are listed (so the
 * router keeps their counters) but marked so: the router never sends them a request.
 */
export function planBackends(
  instances: readonly RoutableInstance[],
  weights: Readonly<Record<string, number>>,
): Backend[] {
  const perRelease = new Map<string, number>();
  for (const instance of instances)
    perRelease.set(instance.version, (perRelease.get(instance.version) ?? 0) + 1);
  return instances.map((instance) => {
    // Versions are outside input: a release named "constructor" must not find Object's.
    const percent = Object.hasOwn(weights, instance.version) ? (weights[instance.version] ?? 0) : 0;
    const share =
      percent === 0 ? 0 : Math.max(1, Math.round((percent * 100) / perRelease.get(instance.version)!));
    return {
      id: instance.id,
      release: instance.version,
      host: instance.host,
      port: instance.port,
      weight: share,
      healthy: instance.healthy,
    };
  });
}

export function routeName(app: string, env: string): string {
  return `${app}.${env}`;
}
