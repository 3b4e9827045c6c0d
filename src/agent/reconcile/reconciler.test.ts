import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/support/wait.js';
import { parseConfig } from '../../config/load.js';
import type { FerryConfig } from '../../config/types.js';
import { assembleParts, type DaemonParts } from '../../daemon/parts.js';
import { daemonPaths } from '../../daemon/paths.js';
import { systemClock } from '../../lib/clock.js';
import { silentLogger } from '../../lib/logger.js';
import type { AppOnHost, HostDesiredState, ReleaseOnHost } from '../../protocol/desired-state.js';
import { MAX_LOG_REPLY_BYTES, type AppReport } from '../../protocol/report.js';
import { MAX_REPORT_BYTES } from '../../protocol/transport.js';
import { freePort } from '../../router/test-support/router-harness.js';
import { startSteadyLoad } from '../../router/test-support/steady-load.js';
import { openSqliteKvStore } from '../../store/kv/sqlite-kv.js';
import { openSqliteStore } from '../../store/sqlite/sqlite-store.js';
import { Reconciler } from './reconciler.js';
import { answerBytes } from './tail-logs.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');

/**
 * The reconciler on real parts: the hello example's releases, the supervisor's processes, the
 * router process tree. Each desired state is reached, in the zero-downtime order, by itself.
 */
describe('Reconciler: a host brought to its desired state', () => {
  let home: string;
  let port: number;
  let parts: DaemonParts;
  let config: FerryConfig;
  let reconciler: Reconciler;
  let revision = 0;

  beforeAll(async () => {
    home = mkdtempSync(path.join(tmpdir(), 'ferry-reconcile-'));
    execFileSync(process.execPath, [
      path.join(ROOT, 'examples/hello/build.mjs'),
      '--out',
      path.join(home, 'dist'),
    ]);
    port = await freePort();
    config = parseConfig(
      [
        `data_dir: ${home}/data`,
        'environments: { production: {} }',
        'apps:',
        '  hello:',
        `    artifact: { url: "file://${home}/dist/hello-{version}.tar.gz", checksums: "file://${home}/dist/SHA256SUMS" }`,
        '    run: { command: node, args: [server.mjs] }',
        '    instances: 2',
        `    listen: 127.0.0.1:${port}`,
        '    health: { http: { path: /healthz }, interval: 100ms, healthy_threshold: 1 }',
        '    stop: { grace: 5s }',
      ].join('\n'),
      { configPath: null, env: {} },
    );
    const store = openSqliteStore(':memory:');
    parts = assembleParts({
      config: { current: config },
      paths: daemonPaths(config.dataDir),
      store,
      kv: await openSqliteKvStore(':memory:'),
      records: store,
      logger: silentLogger(),
      tickMs: 100,
      accounts: new Map(),
      knownSecrets: [],
    });
    await parts.local.router.ensureRunning();
    reconciler = new Reconciler({
      hostFor: (desired) => parts.local.apps.hostFor(desired),
      hosts: () => parts.local.apps.all(),
      artifactCache: () => config.artifacts,
      onChange: () => undefined,
      logger: silentLogger(),
      clock: systemClock,
      resyncMs: 50,
    });
  }, 60_000);

  afterAll(async () => {
    await reconciler?.stop();
    for (const host of parts?.local.apps.all() ?? []) await host.retireAll().catch(() => undefined);
    for (const host of parts?.local.apps.all() ?? []) host.close();
    await parts?.local.router.stop().catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
  }, 60_000);

  function release(version: string, instances: number, weight: number, retire: string[] = []): ReleaseOnHost {
    return { version, artifact: null, instances, retire, weight };
  }

  function apply(releases: ReleaseOnHost[], extra: Partial<AppOnHost> = {}): void {
    const doc: HostDesiredState = {
      host: 'h1',
      revision: ++revision,
      apps: [
        {
          app: 'hello',
          env: 'production',
          spec: { config: {}, digest: 'd' },
          releases,
          current: null,
          stopNow: [],
          tasks: [],
          ...extra,
        },
      ],
    };
    reconciler.apply(doc);
  }

  async function report(): Promise<AppReport> {
    const [app] = await reconciler.report();
    return app!;
  }

  async function answers(): Promise<string> {
    const response = await fetch(`http://127.0.0.1:${port}/`);
    return response.text();
  }

  const healthy = (r: AppReport, version: string) =>
    r.instances.filter((i) => i.version === version && i.health === 'healthy' && i.state !== 'retiring')
      .length;

  it('a first release: installed, two instances healthy, routed, current', async () => {
    apply([release('1.0.0', 2, 1)], { current: '1.0.0' });
    await waitFor(
      '1.0.0 to serve',
      async () => reconciler.converged && healthy(await report(), '1.0.0') === 2,
    );
    expect(await answers()).toContain('1.0.0');
    const r = await report();
    expect(r.releases).toMatchObject([
      { version: '1.0.0', install: 'installed', source: { checksum: expect.stringMatching(/^sha256:/) } },
    ]);
    expect(r.current).toBe('1.0.0');
    expect(readlinkSync(path.join(config.dataDir, 'apps/hello/production/releases/current'))).toContain(
      '1.0.0',
    );
  }, 60_000);

  it('a release replacing it: the new instances are ready before traffic moves and the old ones drain; no request fails', async () => {
    const load = startSteadyLoad(`http://127.0.0.1:${port}/`, { keepAlive: 2, fresh: 2, maxMs: 60_000 });
    await load.succeeded(100);
    apply([release('1.1.0', 2, 1)], { current: '1.1.0' });
    await waitFor('1.1.0 to serve alone', async () => {
      const r = await report();
      if (process.env.DEBUG_RECONCILE)
        console.log(
          reconciler.converged,
          JSON.stringify(r.instances.map((i) => [i.version, i.state, i.health])),
          JSON.stringify(r.releases),
        );
      return reconciler.converged && healthy(r, '1.1.0') === 2 && r.instances.length === 2;
    });
    expect(await answers()).toContain('1.1.0');
    await load.succeeded(100);
    const served = await load.stop();
    expect(served.failed, served.failures.join('\n')).toBe(0);
    expect(served.ok).toBeGreaterThan(200);
  }, 60_000);

  it('a restart batch: a new instance beside the old ones, then a named old one leaves', async () => {
    const old = (await report()).instances.map((i) => i.id);
    apply([release('1.1.0', 3, 1)]);
    await waitFor(
      'a third instance',
      async () => reconciler.converged && healthy(await report(), '1.1.0') === 3,
    );
    apply([release('1.1.0', 2, 1, [old[0]!])]);
    await waitFor('the old one gone', async () => {
      const r = await report();
      return reconciler.converged && !r.instances.some((i) => i.id === old[0]);
    });
    expect((await report()).instances.map((i) => i.id)).toContain(old[1]);
  }, 60_000);

  it('a restart by id: every instance replaced one at a time under load, the report says restarted; no request fails', async () => {
    const before = (await report()).instances.filter((i) => i.state !== 'retiring').map((i) => i.id);
    expect(before).toHaveLength(2);
    const load = startSteadyLoad(`http://127.0.0.1:${port}/`, { keepAlive: 2, fresh: 2, maxMs: 60_000 });
    await load.succeeded(50);
    apply([{ ...release('1.1.0', 2, 1), restart: 'r1' }]);
    let most = 0;
    await waitFor('the restart done', async () => {
      const r = await report();
      most = Math.max(most, r.instances.filter((i) => i.state !== 'retiring').length);
      return r.releases.find((x) => x.version === '1.1.0')?.restarted === 'r1';
    });
    const after = (await report()).instances.filter((i) => i.state !== 'retiring');
    expect(after).toHaveLength(2);
    expect(after.map((i) => i.id).filter((id) => before.includes(id))).toEqual([]);
    // One at a time: never more than one instance beside the wanted two.
    expect(most).toBeLessThanOrEqual(3);
    await load.succeeded(50);
    const served = await load.stop();
    expect(served.failed, served.failures.join('\n')).toBe(0);
    // The same id again asks nothing more.
    apply([{ ...release('1.1.0', 2, 1), restart: 'r1' }]);
    await waitFor('converged', () => reconciler.converged);
    expect((await report()).instances.map((i) => i.id).sort()).toEqual(after.map((i) => i.id).sort());
  }, 60_000);

  it('an unknown release: its install fails and is reported; what serves keeps serving', async () => {
    apply([release('1.1.0', 2, 1), release('9.9.9', 0, 0)]);
    await waitFor('the failure reported', async () =>
      (await report()).releases.find((r) => r.version === '9.9.9' && r.install === 'failed'),
    );
    const failed = (await report()).releases.find((r) => r.version === '9.9.9')!;
    expect(failed.failure?.code).toBe('FERRY_E_RELEASE_UNKNOWN');
    expect(await answers()).toContain('1.1.0');
  }, 60_000);

  it('tasks run once by id and report their outcome', async () => {
    const prune = { id: 'prune-1', type: 'prune' as const, keep: 1, protect: ['1.1.0'] };
    apply([release('1.1.0', 2, 1)], { tasks: [prune] });
    await waitFor('the prune task', async () =>
      (await report()).tasks.find((t) => t.id === 'prune-1' && t.state === 'passed'),
    );
    expect((await report()).releases.map((r) => r.version)).not.toContain('9.9.9');
  }, 60_000);

  it('log answers carried at once (two follows) share the room a report has for logs', async () => {
    const instance = (await report()).instances.find((i) => i.state !== 'retiring')!;
    const file = parts.local.apps.known('hello', 'production')!.logFileOf(instance.id)!;
    const offset = statSync(file).size;
    // More than both answers can carry: each line is one the instance could have written.
    appendFileSync(file, `${'x'.repeat(100)}\n`.repeat(3_000));
    const after = [{ instance: instance.id, version: instance.version, offset }];
    const follow = (id: string) => ({ id, type: 'tail-logs' as const, lines: 10, after });
    apply([release('1.1.0', 2, 1)], { tasks: [follow('logs-1'), follow('logs-2')] });
    const answered = await waitFor('both answers', async () => {
      const tasks = (await report()).tasks.filter((t) => t.state === 'passed' && t.logs !== undefined);
      return tasks.length === 2 ? tasks : null;
    });
    const logs = answered.flatMap((t) => t.logs!);
    expect(answerBytes(logs)).toBeLessThanOrEqual(MAX_LOG_REPLY_BYTES);
    expect(logs.some((entry) => entry.instance === instance.id && entry.lines.length > 100)).toBe(true);
    expect(logs.filter((entry) => entry.instance === instance.id).every((entry) => entry.more === true)).toBe(
      true,
    );
    expect(Buffer.byteLength(JSON.stringify(await reconciler.report()))).toBeLessThan(MAX_REPORT_BYTES);
  }, 60_000);
});
