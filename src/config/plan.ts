import { runsOnThisHost } from './resolve.js';
import type { AppConfig, AppEnvironmentConfig, FerryConfig } from './types.js';

/**
 * What `ferry apply` does to one app in one environment:
 * - add: new in the file; it deploys its initial_release (if any).
 * - remove: gone from the file, with --prune: its instances drain and stop, its route goes (on
 *   this host, or on every enrolled host of its environment).
 * - keep: gone from the file, without --prune: it keeps running, shown as "not in config".
 * - replace: how its instances run changed (run, env, instances, health): the serving release's
 *   instances are replaced batch by batch, health-gated.
 * - update: settings applied without replacing anything (router settings and listen address at
 *   once; artifact, strategy, hooks... at the next deployment). In an environment on enrolled
 *   hosts every change is an update: the next rollout across the hosts uses it.
 */
export type ConfigChangeAction = 'add' | 'remove' | 'keep' | 'replace' | 'update';

export interface AppEnvChange {
  readonly app: string;
  readonly env: string;
  readonly action: ConfigChangeAction;
  /** What changed, as ferry.yaml paths relative to the app; never values (they may be secrets). */
  readonly fields: readonly string[];
}

/** An app in an environment as the daemon runs it now. */
export interface RunningAppEnv {
  readonly app: AppConfig;
  readonly env: string;
  readonly settings: AppEnvironmentConfig;
  /** False once `ferry apply` left it out of the file without --prune. */
  readonly inConfig: boolean;
  /** Its serving instances run an earlier run configuration (a change that waited, a daemon restart). */
  readonly stale: boolean;
}

export interface ConfigPlan {
  /** Per app and environment, in the file's order, then those leaving it; unchanged ones are left out. */
  readonly changes: readonly AppEnvChange[];
  /** Global settings that differ and cannot change while the daemon runs: applying is refused. */
  readonly needsRestart: readonly string[];
  /** Problems applying would hit (a listen port still held by an app kept running): refused. */
  readonly conflicts: ReadonlyArray<{ readonly path: string; readonly message: string }>;
}

type Field<T> = readonly [path: string, read: (value: T) => unknown];

/** Global settings the daemon took at start: the API's socket, the data directory, the router's processes. */
const RESTART_FIELDS: ReadonlyArray<Field<FerryConfig>> = [
  ['data_dir', (c) => c.dataDir],
  ['api.listen', (c) => c.api.listen],
  ['api.tls', (c) => c.api.tls],
  ['api.allow_insecure', (c) => c.api.allowInsecure],
  ['router.workers', (c) => c.router.workers],
  ['server', (c) => c.server],
  ['triggers', (c) => c.triggers],
  ['environments.*.hosts', (c) => [...c.environmentHosts]],
];

interface Side {
  readonly app: AppConfig;
  readonly settings: AppEnvironmentConfig;
  readonly holdTimeoutMs: number;
}

/** How instances run: a change replaces them. */
const REPLACE_FIELDS: ReadonlyArray<Field<Side>> = [
  ['run.command', (s) => s.app.run.command],
  ['run.args', (s) => s.app.run.args],
  ['run.user', (s) => s.app.run.user],
  ['run.group', (s) => s.app.run.group],
  ['instances', (s) => s.settings.instances],
  ['health.check', (s) => s.app.health.check],
  ['health.interval', (s) => s.app.health.intervalMs],
  ['health.timeout', (s) => s.app.health.timeoutMs],
  ['health.healthy_threshold', (s) => s.app.health.healthyThreshold],
  ['health.unhealthy_threshold', (s) => s.app.health.unhealthyThreshold],
  ['health.start_period', (s) => s.app.health.startPeriodMs],
];

/** How the router serves the app: applied to its route at once. */
const LIVE_FIELDS: ReadonlyArray<Field<Side>> = [
  ['listen', (s) => s.settings.listen],
  ['router.hold_timeout', (s) => s.holdTimeoutMs],
  ['router.connect_timeout', (s) => s.app.router.connectTimeoutMs],
  ['router.response_timeout', (s) => s.app.router.responseTimeoutMs],
  ['router.idle_timeout', (s) => s.app.router.idleTimeoutMs],
  ['router.upgrade_timeout', (s) => s.app.router.upgradeTimeoutMs],
  ['router.header_timeout', (s) => s.app.router.headerTimeoutMs],
  ['router.request_timeout', (s) => s.app.router.requestTimeoutMs],
  ['router.max_header_size', (s) => s.app.router.maxHeaderBytes],
  ['router.max_connections', (s) => s.app.router.maxConnections],
  ['router.max_connections_per_client', (s) => s.app.router.maxConnectionsPerClient],
  ['router.trusted_proxies', (s) => s.app.router.trustedProxies],
];

/** Used by the next deployment. */
const NEXT_DEPLOYMENT_FIELDS: ReadonlyArray<Field<Side>> = [
  ['artifact', (s) => s.app.artifact],
  ['initial_release', (s) => s.app.initialRelease],
  ['strategy', (s) => [s.app.strategy, s.app.canary]],
  ['health.deadline', (s) => s.app.health.deadlineMs],
  ['stop.grace', (s) => s.app.stopGraceMs],
  ['hooks', (s) => s.app.hooks],
  ['keep_releases', (s) => s.app.keepReleases],
  ['triggers', (s) => s.app.triggers],
  // Applied by the release sources as soon as the configuration is live (tokens compare as ***).
  ['sources', (s) => s.app.sources],
];

/** How the app rolls out across enrolled hosts. */
const FLEET_FIELDS: ReadonlyArray<Field<Side>> = [['rollout', (s) => s.app.rollout]];

/**
 * Compares a configuration with what the daemon runs (pure: the plan `ferry apply --dry-run`
 * prints is the one applying acts on). Names what changed by its path in ferry.yaml, never by value.
 */
export function planConfigChange(
  running: {
    readonly config: FerryConfig;
    readonly appEnvs: readonly RunningAppEnv[];
    /** The apps the enrolled hosts' desired states name, in environments on enrolled hosts. */
    readonly fleetApps?: ReadonlyArray<{ readonly app: string; readonly env: string }>;
  },
  next: FerryConfig,
  opts: { readonly prune: boolean },
): ConfigPlan {
  const needsRestart = RESTART_FIELDS.filter(([, read]) => !same(read(running.config), read(next))).map(
    ([path]) => path,
  );
  const byKey = new Map(running.appEnvs.map((r) => [`${r.app.name}.${r.env}`, r]));
  const changes: AppEnvChange[] = [];
  const wanted = new Set<string>();
  for (const app of Object.values(next.apps)) {
    for (const [env, settings] of Object.entries(app.environments)) {
      // Environments on enrolled hosts are the fleet's: this host runs nothing of them, and the
      // fleet reads the configuration at each use (the next rollout takes what changed).
      if (!runsOnThisHost(next, env)) {
        const fields = fleetChanges(running.config, app, env, next);
        if (fields.length > 0) changes.push({ app: app.name, env, action: 'update', fields });
        continue;
      }
      const key = `${app.name}.${env}`;
      wanted.add(key);
      const now = byKey.get(key);
      if (!now) {
        changes.push({ app: app.name, env, action: 'add', fields: [] });
        continue;
      }
      const before: Side = {
        app: now.app,
        settings: now.settings,
        holdTimeoutMs: running.config.router.holdTimeoutMs,
      };
      const after: Side = { app, settings, holdTimeoutMs: next.router.holdTimeoutMs };
      const replace = [
        ...differ(REPLACE_FIELDS, before, after),
        ...envChanges(now.settings.env, settings.env),
      ];
      if (replace.length === 0 && now.stale)
        replace.push('run (its instances run an earlier run configuration)');
      const update = [
        ...differ(LIVE_FIELDS, before, after),
        ...differ(NEXT_DEPLOYMENT_FIELDS, before, after),
      ];
      if (!now.inConfig) update.unshift('(back in the configuration)');
      if (replace.length > 0)
        changes.push({ app: app.name, env, action: 'replace', fields: [...replace, ...update] });
      else if (update.length > 0) changes.push({ app: app.name, env, action: 'update', fields: update });
    }
  }
  const leaving = running.appEnvs.filter((r) => !wanted.has(`${r.app.name}.${r.env}`));
  for (const r of leaving)
    changes.push({ app: r.app.name, env: r.env, action: opts.prune ? 'remove' : 'keep', fields: [] });
  // Apps the enrolled hosts still run that left the file (or an environment on hosts).
  const onHosts = (app: string, env: string) =>
    Object.hasOwn(next.apps, app) &&
    Object.hasOwn(next.apps[app]!.environments, env) &&
    !runsOnThisHost(next, env);
  const seen = new Set<string>();
  for (const { app, env } of running.fleetApps ?? []) {
    const key = JSON.stringify([app, env]);
    if (seen.has(key) || onHosts(app, env)) continue;
    seen.add(key);
    changes.push({ app, env, action: opts.prune ? 'remove' : 'keep', fields: [] });
  }
  return { changes, needsRestart, conflicts: opts.prune ? [] : portConflicts(leaving, next) };
}

/** An app kept running outside the file still holds its listen port: nothing else may take it. */
function portConflicts(kept: readonly RunningAppEnv[], next: FerryConfig): ConfigPlan['conflicts'] {
  const conflicts: Array<{ path: string; message: string }> = [];
  for (const app of Object.values(next.apps)) {
    for (const [env, settings] of Object.entries(app.environments)) {
      if (!runsOnThisHost(next, env)) continue;
      const holder = kept.find(
        (k) => k.settings.listen.port === settings.listen.port && settings.listen.port !== 0,
      );
      if (!holder) continue;
      conflicts.push({
        path: `apps.${app.name}.environments.${env}.listen`,
        message: `expected a port of its own, got ${settings.listen.port}, which ${holder.app.name} (${holder.env}) still uses: it left the configuration but keeps running until ferry apply --prune stops it`,
      });
    }
  }
  return conflicts;
}

/** What changed of an app in an environment on enrolled hosts (nothing of it runs here). */
function fleetChanges(config: FerryConfig, app: AppConfig, env: string, next: FerryConfig): string[] {
  const before = Object.hasOwn(config.apps, app.name) ? config.apps[app.name]! : undefined;
  const settings = before && Object.hasOwn(before.environments, env) ? before.environments[env] : undefined;
  if (before === undefined || settings === undefined || !config.environmentHosts.has(env))
    return ['(new in the environment)'];
  const was: Side = { app: before, settings, holdTimeoutMs: config.router.holdTimeoutMs };
  const now: Side = { app, settings: app.environments[env]!, holdTimeoutMs: next.router.holdTimeoutMs };
  return [
    ...differ([...REPLACE_FIELDS, ...LIVE_FIELDS, ...NEXT_DEPLOYMENT_FIELDS, ...FLEET_FIELDS], was, now),
    ...envChanges(was.settings.env, now.settings.env),
  ];
}

function differ(fields: ReadonlyArray<Field<Side>>, before: Side, after: Side): string[] {
  return fields.filter(([, read]) => !same(read(before), read(after))).map(([path]) => path);
}

/** Variables added, removed or changed, by name (run.env and the environment's own env merged). */
function envChanges(
  before: Readonly<Record<string, string>>,
  after: Readonly<Record<string, string>>,
): string[] {
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return names
    .filter(
      (name) => !Object.hasOwn(before, name) || !Object.hasOwn(after, name) || before[name] !== after[name],
    )
    .map((name) => `run.env.${name}`);
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
