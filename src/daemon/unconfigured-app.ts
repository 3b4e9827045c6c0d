import { parseConfig } from '../config/load.js';
import type { AppConfig, AppEnvironmentConfig } from '../config/types.js';
import type { RouteSpec } from '../router/types.js';
import type { InstanceRecord } from '../store/store.js';
import { BASE_VARS, readCmdline, readEnviron, readOwner } from '../supervisor/index.js';

/** Variables Ferry sets on every instance itself (PORT, FERRY_*): not part of the app's run.env. */
const FERRY_SET = /^(PORT|FERRY_[A-Z_]+)$/;

/**
 * The configuration of an app that left ferry.yaml but still runs (`ferry apply` without --prune),
 * found again after a daemon restart: how its instances run is read from the processes themselves
 * (/proc: argv, environment, owner), how it is served from its route in the router. Ferry keeps no
 * copy of a configuration (nor its secrets) for this. Its health is checked by TCP connect, the one
 * check every instance passes (it must listen on PORT). Null when no process of it can be read.
 */
export function unconfiguredApp(
  app: string,
  env: string,
  records: readonly InstanceRecord[],
  route: RouteSpec | undefined,
  ownUid: number,
): { app: AppConfig; settings: AppEnvironmentConfig } | null {
  const pid = records.find((r) => r.pid !== null && readCmdline(r.pid) !== null)?.pid ?? null;
  if (pid === null) return null;
  const [command, ...args] = readCmdline(pid)!;
  const environ = readEnviron(pid) ?? new Map<string, string>();
  const owner = readOwner(pid);
  const vars = Object.fromEntries(
    [...environ].filter(([name]) => !FERRY_SET.test(name) && !BASE_VARS.includes(name)),
  );
  const listen = route?.listen ?? { host: '127.0.0.1', port: 0 };
  const raw = {
    environments: { [env]: {} },
    apps: {
      [app]: {
        // Never deployed again: a deployment needs the app back in ferry.yaml.
        artifact: { url: 'file:///nonexistent/{version}' },
        run: {
          command: command ?? 'false',
          args,
          env: vars,
          ...(owner && owner.uid !== ownUid ? { user: String(owner.uid), group: String(owner.gid) } : {}),
        },
        instances: Math.max(1, records.length),
        health: { tcp: true },
        listen: `${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${listen.port}`,
      },
    },
  };
  const compiled = parseConfig(JSON.stringify(raw), { configPath: null, baseDir: '/' }).apps[app]!;
  const router = { ...compiled.router };
  if (route) {
    const keep = <K extends keyof AppConfig['router']>(key: K, value: AppConfig['router'][K] | undefined) => {
      if (value !== undefined) router[key] = value;
    };
    keep('connectTimeoutMs', route.connectTimeoutMs);
    keep('responseTimeoutMs', route.responseTimeoutMs);
    keep('idleTimeoutMs', route.idleTimeoutMs);
    keep('upgradeTimeoutMs', route.upgradeTimeoutMs);
    keep('headerTimeoutMs', route.headerTimeoutMs);
    keep('requestTimeoutMs', route.requestTimeoutMs);
    keep('maxHeaderBytes', route.maxHeaderBytes);
    keep('maxConnections', route.maxConnections);
    keep('maxConnectionsPerClient', route.maxConnectionsPerClient);
    keep('trustedProxies', route.trustedProxies);
  }
  const settings = { ...compiled.environments[env]!, env: vars };
  return { app: { ...compiled, router }, settings };
}
