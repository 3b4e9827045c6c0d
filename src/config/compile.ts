import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { checkHostCanaryDeadline, compileRollout } from './rollout-settings.js';
import { compileAppSources } from './source-settings.js';
import { compileAppTriggers, compileTriggers } from './trigger-settings.js';
import { compileNotifications } from './notifications.js';
import { parseStoreUrl } from '../store/kv/store-url.js';
import { messageOf } from '../errors/ferry-error.js';
import type { StrategySpec } from '../engine/types.js';
import { closest } from '../lib/closest.js';
import { checkApp } from './checks.js';
import { artifactCacheDir } from './host-defaults.js';
import { resolveDataDir } from './home.js';
import type { RawApp, RawConfig } from './schema.js';
import type { AppConfig, AppEnvironmentConfig, FerryConfig, HealthCheckConfig } from './types.js';
import { compileAutoDeploy } from './auto-deploy.js';

export const DEFAULT_ENVIRONMENT = 'production';
export const DEFAULT_CANARY_STEPS = [
  { weight: 10, pauseMs: 30_000 },
  { weight: 50, pauseMs: 30_000 },
] as const;

export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
}

export interface CompileContext {
  readonly configPath: string | null;
  /** Directory relative paths in the file are resolved against. */
  readonly baseDir: string;
  /** FERRY_HOME (set by --home too) wins over data_dir; ~/.ferry when neither is set. */
  readonly env: NodeJS.ProcessEnv;
}

/** Turns a validated raw config into frozen options in plain units; cross-field problems are returned. */
export function compileConfig(
  raw: RawConfig,
  ctx: CompileContext,
): { config: FerryConfig; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const declared = Object.keys(raw.environments);
  const environments = declared.length > 0 ? declared : [DEFAULT_ENVIRONMENT];
  const apps = ownRecord(
    Object.entries(raw.apps).map(([appName, rawApp]) => [
      appName,
      compileApp(appName, rawApp, environments, ctx, problems, raw),
    ]),
  );
  checkListenConflicts(apps, raw, problems);
  if (Object.values(raw.environments).some((settings) => settings?.hosts !== undefined))
    for (const app of Object.values(apps)) checkHostCanaryDeadline(app, problems);
  checkApiExposure(raw, problems);
  const dataDir = resolveDataDir(raw.data_dir, ctx.baseDir, ctx.env);
  const config: FerryConfig = {
    configPath: ctx.configPath,
    dataDir,
    artifacts: {
      cacheDir: raw.artifacts.cache ? artifactCacheDir(dataDir) : null,
      cacheMaxBytes: raw.artifacts.cache_max_size,
      requireChecksum: raw.artifacts.require_checksum,
    },
    api: {
      listen: raw.api.listen,
      tls: raw.api.tls
        ? {
            certFile: path.resolve(ctx.baseDir, raw.api.tls.cert),
            keyFile: path.resolve(ctx.baseDir, raw.api.tls.key),
          }
        : null,
      allowInsecure: raw.api.allow_insecure,
    },
    metrics: { listen: raw.metrics.listen ?? null },
    server: raw.server
      ? {
          listen: raw.server.listen,
          names: raw.server.names,
          tls: raw.server.tls
            ? {
                certFile: path.resolve(ctx.baseDir, raw.server.tls.cert),
                keyFile: path.resolve(ctx.baseDir, raw.server.tls.key),
                caFile: path.resolve(ctx.baseDir, raw.server.tls.ca),
              }
            : null,
          store: compileStoreUrl(raw.server.store, problems),
        }
      : null,
    router: {
      holdTimeoutMs: raw.router.hold_timeout,
      workers: raw.router.workers,
      trustedProxies: raw.router.trusted_proxies,
    },
    triggers: compileTriggers(
      raw.triggers,
      Object.values(raw.apps).some((a) => a.triggers !== undefined),
    ),
    environments,
    environmentHosts: new Map(
      Object.entries(raw.environments).flatMap(([env, settings]) =>
        settings?.hosts ? [[env, settings.hosts] as const] : [],
      ),
    ),
    apps,
    notifications: compileNotifications(raw.notifications, Object.keys(apps), ctx, problems),
  };
  return { config: deepFreeze(config), problems };
}

function compileApp(
  name: string,
  raw: RawApp,
  environments: readonly string[],
  ctx: CompileContext,
  problems: ConfigProblem[],
  top: RawConfig,
): AppConfig {
  const where = `apps.${name}`;
  const perEnv = ownRecord<AppEnvironmentConfig>([]);
  for (const env of Object.keys(raw.environments)) {
    if (!environments.includes(env)) {
      const near = closest(env, environments);
      problems.push({
        path: `${where}.environments.${env}`,
        message: `expected one of the declared environments (${environments.join(', ')}), got "${env}"${near === null ? '' : `; did you mean "${near}"?`}`,
      });
    }
  }
  environments.forEach((env, index) => {
    const override = Object.hasOwn(raw.environments, env) ? raw.environments[env] : undefined;
    const listen = override?.listen ?? (index === 0 ? raw.listen : undefined);
    if (!listen) {
      problems.push({
        path: index === 0 ? `${where}.listen` : `${where}.environments.${env}.listen`,
        message:
          index === 0
            ? 'expected the address the app is served on, like "127.0.0.1:8080", got nothing'
            : `expected the address the app is served on in environment "${env}" (apps.${name}.listen serves "${environments[0]}"), got nothing`,
      });
    }
    perEnv[env] = {
      listen: listen ?? { host: '127.0.0.1', port: 0 },
      instances: override?.instances ?? raw.instances,
      env: ownRecord(Object.entries({ ...raw.run.env, ...override?.env })),
      autoDeploy: compileAutoDeploy(
        override?.auto_deploy,
        `${where}.environments.${env}.auto_deploy`,
        problems,
      ),
    };
  });
  if (raw.run.group !== undefined && raw.run.user === undefined) {
    problems.push({ path: `${where}.run.group`, message: 'expected run.user as well, got only a group' });
  }
  const url = resolveUrl(raw.artifact.url, ctx.baseDir);
  const checksumsUrl = raw.artifact.checksums ? resolveUrl(raw.artifact.checksums, ctx.baseDir) : null;
  const checked = checkApp(where, raw, { url, checksumsUrl });
  problems.push(...checked);
  const requireChecksum =
    !url.startsWith('file:') && (raw.artifact.require_checksum ?? top.artifacts.require_checksum);
  // Whether a URL Ferry cannot fetch needs a checksum is beside the point.
  const fetchable = !checked.some((p) => p.path === `${where}.artifact.url`);
  if (fetchable && requireChecksum && !raw.artifact.checksum && !raw.artifact.checksums) {
    problems.push({
      path: `${where}.artifact`,
      message:
        'expected checksum or checksums for a remote artifact (require_checksum is on), got neither; add checksum: "sha256:<hex>" or checksums: "<URL of a SHA256SUMS file>", or set require_checksum: false to install it unverified',
    });
  }
  return {
    name,
    artifact: {
      url,
      checksum: raw.artifact.checksum ?? null,
      checksumsUrl,
      headers: ownRecord(Object.entries(raw.artifact.headers ?? {})),
      timeoutMs: raw.artifact.timeout,
      retries: raw.artifact.retries,
      retryWaitMs: raw.artifact.retry_wait,
      maxBytesPerSecond: raw.artifact.max_bandwidth ?? null,
      randomDelayMs: raw.artifact.random_delay,
      limits: { maxBytes: raw.artifact.max_unpacked_size, maxEntries: raw.artifact.max_entries },
      requireChecksum,
      allowWeakChecksums: raw.artifact.allow_weak_checksums,
    },
    initialRelease: raw.initial_release ?? null,
    run: {
      command: raw.run.command,
      args: raw.run.args,
      env: ownRecord(Object.entries(raw.run.env)),
      user: raw.run.user ?? null,
      group: raw.run.group ?? null,
    },
    health: {
      check: compileCheck(raw.health),
      intervalMs: raw.health.interval,
      timeoutMs: raw.health.timeout,
      healthyThreshold: raw.health.healthy_threshold,
      unhealthyThreshold: raw.health.unhealthy_threshold,
      startPeriodMs: raw.health.start_period,
      deadlineMs: raw.health.deadline,
    },
    strategy: compileStrategy(raw, raw.strategy.kind),
    canary: canarySettings(raw),
    stopGraceMs: raw.stop.grace,
    hooks: {
      beforeStart: raw.hooks.before_start,
      afterSwitch: raw.hooks.after_switch,
      success: raw.hooks.success,
      failure: raw.hooks.failure,
      timeoutMs: raw.hooks.timeout,
    },
    keepReleases: raw.keep_releases,
    rollout: compileRollout(raw.rollout, where, problems),
    triggers: compileAppTriggers(raw.triggers, where, environments, ctx.baseDir, problems),
    sources: compileAppSources(raw.sources, where, environments, ctx, problems),
    router: {
      connectTimeoutMs: raw.router.connect_timeout,
      responseTimeoutMs: raw.router.response_timeout,
      idleTimeoutMs: raw.router.idle_timeout,
      upgradeTimeoutMs: raw.router.upgrade_timeout,
      headerTimeoutMs: raw.router.header_timeout,
      requestTimeoutMs: raw.router.request_timeout,
      maxHeaderBytes: raw.router.max_header_size,
      maxConnections: raw.router.max_connections,
      maxConnectionsPerClient: raw.router.max_connections_per_client,
      trustedProxies: raw.router.trusted_proxies ?? top.router.trusted_proxies,
    },
    environments: perEnv,
  };
}

function compileCheck(health: RawApp['health']): HealthCheckConfig {
  if (health.command !== undefined) return { kind: 'command', command: health.command };
  if (health.tcp !== undefined) return { kind: 'tcp' };
  const http = health.http ?? { path: '/healthz', status: 200 };
  const status = Array.isArray(http.status) ? http.status : [http.status];
  return { kind: 'http', path: http.path, expectStatus: status, ...(http.host ? { host: http.host } : {}) };
}

function compileStrategy(raw: RawApp, kind: StrategySpec['kind']): StrategySpec {
  const healthDeadlineMs = raw.health.deadline;
  return kind === 'canary' ? { kind, healthDeadlineMs, ...canarySettings(raw) } : { kind, healthDeadlineMs };
}

function canarySettings(raw: RawApp): AppConfig['canary'] {
  return {
    steps: raw.strategy.steps?.map((s) => ({ weight: s.weight, pauseMs: s.pause })) ?? DEFAULT_CANARY_STEPS,
    analysis: {
      maxErrorRate: raw.strategy.analysis?.max_error_rate ?? 0.05,
      minRequests: raw.strategy.analysis?.min_requests ?? 20,
      maxWaitMs: raw.strategy.analysis?.max_wait ?? 5 * 60_000,
      inconclusive: raw.strategy.analysis?.inconclusive ?? 'pause',
    },
  };
}

function checkListenConflicts(
  apps: Record<string, AppConfig>,
  raw: RawConfig,
  problems: ConfigProblem[],
): void {
  const taken = new Map<string, string>([[`${raw.api.listen.port}`, 'api.listen']]);
  const metrics = raw.metrics.listen;
  if (metrics !== undefined && metrics.port !== 0) {
    const owner = taken.get(`${metrics.port}`);
    if (owner)
      problems.push({
        path: 'metrics.listen',
        message: `expected a port of its own, got ${metrics.port} which ${owner} uses`,
      });
    else taken.set(`${metrics.port}`, 'metrics.listen');
  }
  for (const app of Object.values(apps)) {
    for (const [env, settings] of Object.entries(app.environments)) {
      if (settings.listen.port === 0) continue;
      const key = `${settings.listen.port}`;
      const owner = taken.get(key);
      const here = `apps.${app.name}.environments.${env}.listen`;
      if (owner)
        problems.push({ path: here, message: `expected a port of its own, got ${key} which ${owner} uses` });
      else taken.set(key, here);
    }
  }
}

const LOOPBACK = /^(127(\.\d{1,3}){3}|::1|localhost)$/i;

/** An API reachable from other hosts carries the token: it must be HTTPS unless explicitly allowed. */
function checkApiExposure(raw: RawConfig, problems: ConfigProblem[]): void {
  const { host } = raw.api.listen;
  if (LOOPBACK.test(host) || raw.api.tls !== undefined || raw.api.allow_insecure) return;
  problems.push({
    path: 'api.listen',
    message: `expected a loopback address (127.0.0.1, ::1), or api.tls for HTTPS (or api.allow_insecure: true), got "${host}", which other hosts can reach without TLS`,
  });
}

/**
 * A record keyed by names from outside (apps, environments, variables, headers) without a
 * prototype: `constructor` or `__proto__` looks up nothing but what the file declared.
 */
function ownRecord<T>(entries: Iterable<readonly [string, T]>): Record<string, T> {
  const record = Object.create(null) as Record<string, T>;
  for (const [key, value] of entries) record[key] = value;
  return record;
}

/** Relative file paths and file://./x URLs are resolved against the config file's directory. */
function resolveUrl(url: string, baseDir: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !url.startsWith('file://')) return url;
  const filePath = url.startsWith('file://') ? url.slice('file://'.length) : url;
  // Keep {version} readable: pathToFileURL would escape the braces.
  return pathToFileURL(path.resolve(baseDir, filePath)).href.replaceAll('%7Bversion%7D', '{version}');
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** `server.store`: checked as the store will open it (the one parser of store URLs). */
function compileStoreUrl(url: string | undefined, problems: ConfigProblem[]): string | null {
  if (url === undefined) return null;
  try {
    parseStoreUrl(url, 'server.store');
    return url;
  } catch (error) {
    problems.push({ path: 'server.store', message: messageOf(error).replace(/^server\.store: /, '') });
    return null;
  }
}
