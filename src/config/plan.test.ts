import { describe, expect, it } from 'vitest';
import { parseConfig } from './load.js';
import { planConfigChange, type RunningAppEnv } from './plan.js';
import type { FerryConfig } from './types.js';

function config(apps: string, top = ''): FerryConfig {
  return parseConfig(`${top}\napps:\n${apps}`, { configPath: null, env: { FERRY_HOME: '/tmp/ferry-plan' } });
}

function app(name: string, port: number, extra = '', env = 'A: "1", DB_PASSWORD: "s3cret-one"'): string {
  return `  ${name}:
    artifact: { url: "file:///r/${name}-{version}.tar.gz" }
    run: { command: node, args: [server.mjs], env: { ${env} } }
    instances: 2
    listen: "127.0.0.1:${port}"
${extra}`;
}

/** What runs: every app of `running` in every environment, as its hosts hold it. */
function runningOf(running: FerryConfig, more: Partial<RunningAppEnv> = {}): RunningAppEnv[] {
  return Object.values(running.apps).flatMap((a) =>
    Object.entries(a.environments).map(([env, settings]) => ({
      app: a,
      env,
      settings,
      inConfig: true,
      stale: false,
      ...more,
    })),
  );
}

function plan(before: FerryConfig, after: FerryConfig, prune = false, more: Partial<RunningAppEnv> = {}) {
  return planConfigChange({ config: before, appEnvs: runningOf(before, more) }, after, { prune });
}

describe('planConfigChange (ferry apply)', () => {
  const base = config(app('web', 18080) + app('api', 18081));

  it('has nothing to do for the same file', () => {
    expect(plan(base, config(app('web', 18080) + app('api', 18081)))).toEqual({
      changes: [],
      needsRestart: [],
      conflicts: [],
    });
  });

  it('adds new apps, and keeps removed ones running unless pruned', () => {
    const next = config(app('web', 18080) + app('jobs', 18082));
    expect(plan(base, next).changes).toEqual([
      { app: 'jobs', env: 'production', action: 'add', fields: [] },
      { app: 'api', env: 'production', action: 'keep', fields: [] },
    ]);
    expect(plan(base, next, true).changes.at(-1)).toMatchObject({ app: 'api', action: 'remove' });
  });

  it('replaces instances when run, env, instances or health change, naming variables but never their values', () => {
    const next = config(
      app('web', 18080, '    health: { interval: 2s }\n', 'A: "2", DB_PASSWORD: "s3cret-two", NEW: x') +
        app('api', 18081)
          .replace('instances: 2', 'instances: 3')
          .replace('args: [server.mjs]', 'args: [main.mjs]'),
    );
    const changes = plan(base, next).changes;
    expect(changes).toEqual([
      {
        app: 'web',
        env: 'production',
        action: 'replace',
        fields: ['health.interval', 'run.env.A', 'run.env.DB_PASSWORD', 'run.env.NEW'],
      },
      { app: 'api', env: 'production', action: 'replace', fields: ['run.args', 'instances'] },
    ]);
    expect(JSON.stringify(changes)).not.toContain('s3cret');
  });

  it('updates in place what the router serves with, and what the next deployment uses', () => {
    const next = config(
      app('web', 18090, '    router: { response_timeout: 7s }\n') +
        app('api', 18081, '    strategy: { kind: canary }\n    hooks: { success: [echo ok] }\n'),
    );
    expect(plan(base, next).changes).toEqual([
      { app: 'web', env: 'production', action: 'update', fields: ['listen', 'router.response_timeout'] },
      { app: 'api', env: 'production', action: 'update', fields: ['strategy', 'hooks'] },
    ]);
  });

  it('refuses global settings the daemon took at start, naming each', () => {
    const next = config(
      app('web', 18080) + app('api', 18081),
      'api: { listen: "127.0.0.1:17071" }\nrouter: { workers: 2, hold_timeout: 3s }',
    );
    const out = plan(base, next);
    expect(out.needsRestart).toEqual(['api.listen', 'router.workers']);
    // hold_timeout is the router's per-route setting: it applies at once.
    expect(out.changes.map((c) => c.fields)).toEqual([['router.hold_timeout'], ['router.hold_timeout']]);
  });

  it('refuses a port still held by an app kept running outside the file', () => {
    const next = config(app('web', 18080) + app('jobs', 18081));
    expect(plan(base, next).conflicts).toEqual([
      {
        path: 'apps.jobs.environments.production.listen',
        message:
          'expected a port of its own, got 18081, which api (production) still uses: it left the configuration but keeps running until ferry apply --prune stops it',
      },
    ]);
    expect(plan(base, next, true).conflicts).toEqual([]);
  });

  it('replaces instances that run an earlier run configuration even when the file did not change', () => {
    expect(plan(base, base, false, { stale: true }).changes.map((c) => c.action)).toEqual([
      'replace',
      'replace',
    ]);
  });

  it('an app back in the file after it was kept running is updated with it', () => {
    expect(plan(base, base, false, { inConfig: false }).changes[0]).toEqual({
      app: 'web',
      env: 'production',
      action: 'update',
      fields: ['(back in the configuration)'],
    });
  });

  it('an environment on enrolled hosts: every change is an update the next rollout uses, a new app too', () => {
    const hosts = 'environments: { production: { hosts: { role: web } } }';
    const fleet = (extra = '') => config(app('web', 18080, extra), hosts);
    const before = fleet();
    // Nothing of it runs on this host: no app host, so nothing is running here to compare with.
    const across = (after: FerryConfig) =>
      planConfigChange({ config: before, appEnvs: [] }, after, { prune: false });
    expect(across(fleet()).changes).toEqual([]);
    expect(across(fleet('    strategy: { kind: canary }\n    rollout: { batch: 2 }\n')).changes).toEqual([
      { app: 'web', env: 'production', action: 'update', fields: ['strategy', 'rollout'] },
    ]);
    expect(across(config(app('web', 18080) + app('jobs', 18082), hosts)).changes).toEqual([
      { app: 'jobs', env: 'production', action: 'update', fields: ['(new in the environment)'] },
    ]);
  });

  it('an app the enrolled hosts run that left the file: kept, or removed with --prune, once per app', () => {
    const hosts = 'environments: { production: { hosts: { role: web } } }';
    const before = config(app('web', 18080) + app('jobs', 18082), hosts);
    const after = config(app('web', 18080), hosts);
    const onHosts = [
      { app: 'web', env: 'production' },
      { app: 'jobs', env: 'production' },
      { app: 'jobs', env: 'production' },
    ];
    const across = (prune: boolean) =>
      planConfigChange({ config: before, appEnvs: [], fleetApps: onHosts }, after, { prune }).changes;
    expect(across(false)).toEqual([{ app: 'jobs', env: 'production', action: 'keep', fields: [] }]);
    expect(across(true)).toEqual([{ app: 'jobs', env: 'production', action: 'remove', fields: [] }]);
    // Kept before, it stays kept (the hosts still run it) until a --prune.
    expect(
      planConfigChange({ config: after, appEnvs: [], fleetApps: onHosts }, after, { prune: false }).changes,
    ).toEqual([{ app: 'jobs', env: 'production', action: 'keep', fields: [] }]);
  });
});
