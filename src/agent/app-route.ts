import type { AppConfig, AppEnvironmentConfig } from '../config/types.js';
import type { RouteSpec } from '../router/types.js';
import type { TrackedInstance } from './instance.js';
import { planBackends } from './traffic.js';

/**
 * The route of one app in one environment as the router gets it: its listen address and router
 * settings, and as backends the serving instances, weighted by release (healthy ones only, unless
 * none of a release is: planBackends).
 */
export function appRoute(route: {
  readonly name: string;
  readonly app: AppConfig;
  readonly settings: AppEnvironmentConfig;
  readonly holdTimeoutMs: number;
  readonly instances: Iterable<TrackedInstance>;
  readonly weights: Readonly<Record<string, number>>;
}): RouteSpec {
  const serving = [...route.instances].filter((i) => i.phase === 'serving');
  const backends = planBackends(
    serving.map((i) => ({
      id: i.record.id,
      version: i.record.version,
      host: '127.0.0.1',
      port: i.record.port,
      healthy: i.health === 'healthy',
    })),
    route.weights,
  );
  const router = route.app.router;
  return {
    name: route.name,
    listen: route.settings.listen,
    backends,
    holdTimeoutMs: route.holdTimeoutMs,
    connectTimeoutMs: router.connectTimeoutMs,
    responseTimeoutMs: router.responseTimeoutMs,
    idleTimeoutMs: router.idleTimeoutMs,
    upgradeTimeoutMs: router.upgradeTimeoutMs,
    headerTimeoutMs: router.headerTimeoutMs,
    requestTimeoutMs: router.requestTimeoutMs,
    maxHeaderBytes: router.maxHeaderBytes,
    maxConnections: router.maxConnections,
    maxConnectionsPerClient: router.maxConnectionsPerClient,
    trustedProxies: router.trustedProxies.map((range) => ({ ...range })),
  };
}
