import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.js';
import type { AppConfig } from '../../config/types.js';
import { FerryError } from '../../errors/ferry-error.js';
import { FakeClock } from '../../lib/clock.js';
import { silentLogger } from '../../lib/logger.js';
import type { AppOnHost } from '../../protocol/desired-state.js';
import type { AppReport } from '../../protocol/report.js';
import { steadyApp, emptyApp } from '../../runtime/desired/edits.js';
import { openSqliteKvStore, type SqliteKvStore } from '../../store/kv/sqlite-kv.js';
import { FleetRestart } from './fleet-restart.js';
import { RestartSlots } from './restart-slots.js';
import { runningInstance } from './test-support/fleet-parts.js';

const HOSTS = ['h1', 'h2', 'h3', 'h4', 'h5'];

function appConfig(atOnce: number): AppConfig {
  const config = parseConfig(
    [
      'environments: { production: { hosts: { role: web } } }',
      'apps:',
      '  hello:',
      '    artifact: { url: "https://example.com/hello-{version}.tar.gz", checksums: "https://example.com/SHA256SUMS" }',
      '    run: { command: node, args: [server.mjs] }',
      '    instances: 2',
      '    listen: 127.0.0.1:8080',
      '    health: { http: { path: /healthz }, deadline: 10s }',
      '    stop: { grace: 5s }',
      `    rollout: { restart_at_once: ${atOnce} }`,
    ].join('\n'),
    { configPath: null, env: {} },
  );
  return config.apps.hello!;
}

/**
 * Hosts as the link sees them: each restarts 1 s after its desired state asks (or never, when
 * failing), tracked so the test sees how many restart at once.
 */
class FakeHosts {
  readonly docs = new Map<string, AppOnHost>();
  readonly restarting = new Set<string>();
  readonly restarted: string[] = [];
  /** Hosts whose finished restart was cleared from their desired state. */
  readonly cleared: string[] = [];
  mostAtOnce = 0;
  revision = 0;
  readonly failing = new Set<string>();

  constructor(private readonly clock: FakeClock) {
    for (const host of HOSTS)
      this.docs.set(
        host,
        steadyApp(emptyApp('hello', 'production', { config: {}, digest: 'd' }), '1.0.0', 2),
      );
  }

  lastReport(host: string): AppReport {
    const sick = this.failing.has(host) && this.restarting.has(host);
    return {
      app: 'hello',
      env: 'production',
      releases: [{ version: '1.0.0', install: 'installed' }],
      instances: [
        runningInstance(`${host}-a`, '1.0.0', {
          health: sick ? 'unhealthy' : 'healthy',
          ...(sick ? { evidence: { health: 'GET /healthz: 500', logTail: [] } } : {}),
        }),
      ],
      current: '1.0.0',
      traffic: [{ version: '1.0.0', weight: 1 }],
      route: null,
      tasks: [],
    };
  }

  edit(host: string, _app: string, _env: string, change: (doc: AppOnHost) => AppOnHost): Promise<number> {
    const doc = change(this.docs.get(host)!);
    this.docs.set(host, doc);
    // Asked to restart (an id set), or told the restart is over (the id cleared).
    if (doc.releases.some((r) => r.restart !== undefined)) this.restarting.add(host);
    else this.cleared.push(host);
    this.mostAtOnce = Math.max(this.mostAtOnce, this.restarting.size);
    return Promise.resolve(++this.revision);
  }

  until(
    host: string,
    _app: string,
    _env: string,
    wait: { timeoutMs: number; accept: (report: AppReport) => boolean },
  ): Promise<AppReport> {
    const restart = this.docs.get(host)!.releases[0]!.restart!;
    return new Promise((resolve, reject) => {
      if (this.failing.has(host)) {
        this.clock.setTimeout(() => {
          reject(
            new FerryError(
              'FERRY_E_HOST_TIMEOUT',
              `host ${host}: expected the restart done, got no report saying so`,
            ),
          );
        }, wait.timeoutMs);
        return;
      }
      this.clock.setTimeout(() => {
        const report = this.lastReport(host);
        const done = { ...report, releases: [{ ...report.releases[0]!, restarted: restart }] };
        expect(wait.accept(report)).toBe(false);
        expect(wait.accept(done)).toBe(true);
        this.restarting.delete(host);
        this.restarted.push(host);
        resolve(done);
      }, 1_000);
    });
  }
}

let clock: FakeClock;
let kv: SqliteKvStore;
let hosts: FakeHosts;
let slots: RestartSlots;

beforeEach(async () => {
  clock = new FakeClock(Date.UTC(2026, 10, 28, 10));
  kv = await openSqliteKvStore(':memory:', { clock });
  hosts = new FakeHosts(clock);
  slots = new RestartSlots({ kv, clock, logger: silentLogger() });
});

afterEach(async () => {
  await kv.close();
});

function fleetRestart(atOnce: number, extra: { locked?: boolean } = {}): FleetRestart {
  const app = appConfig(atOnce);
  return new FleetRestart({
    link: {
      edit: (...args) => hosts.edit(...args),
      until: (host, a, e, wait) => hosts.until(host, a, e, wait),
      lastReport: (host) => hosts.lastReport(host),
    },
    slots,
    clock,
    logger: silentLogger(),
    hostsOf: () => Promise.resolve(HOSTS),
    appConfig: (name) => (name === 'hello' ? app : undefined),
    locks: {
      holding: () =>
        Promise.resolve(
          extra.locked
            ? {
                env: 'production',
                app: null,
                owner: 'bob',
                reason: 'freeze',
                createdAt: 0,
                expiresAt: clock.now() + 60_000,
              }
            : null,
        ),
    },
    slotPollMs: 100,
  });
}

async function runToEnd(restart: FleetRestart): Promise<void> {
  let ended = false;
  void restart.settled('hello', 'production').then(() => (ended = true));
  for (let i = 0; i < 200 && !ended; i++) await clock.advance(250);
  expect(ended).toBe(true);
}

describe('FleetRestart: at most K hosts restart at once', () => {
  it('K = 2: every host restarts, never more than two at once; the view tells progress', async () => {
    const restart = fleetRestart(2);
    const started = await restart.start('hello', 'production', 'alice');
    expect(started).toMatchObject({ state: 'running', atOnce: 2, actor: 'alice' });
    expect(started.hosts.map((h) => h.host)).toEqual(HOSTS);
    await clock.advance(500);
    const midway = restart.view('hello', 'production')!;
    expect(midway.hosts.filter((h) => h.state === 'restarting')).toHaveLength(2);
    expect(midway.hosts.filter((h) => h.state === 'waiting')).toHaveLength(3);
    const held = await slots.list('hello', 'production');
    expect(held.map((s) => s.reason)).toEqual([
      `ferry restart by alice (${started.id})`,
      `ferry restart by alice (${started.id})`,
    ]);
    await runToEnd(restart);
    expect(hosts.mostAtOnce).toBe(2);
    // Each finished restart leaves the host's desired state (an agent restarted later does not redo it).
    expect([...hosts.cleared].sort()).toEqual([...hosts.restarted].sort());
    expect([...hosts.restarted].sort()).toEqual(HOSTS);
    // Asked of every host, then cleared once each was done.
    for (const host of HOSTS) expect(hosts.docs.get(host)!.releases[0]!.restart).toBeUndefined();
    const done = restart.view('hello', 'production')!;
    expect(done.state).toBe('succeeded');
    expect(done.hosts.every((h) => h.state === 'restarted')).toBe(true);
    expect(await slots.list('hello', 'production')).toEqual([]);
  });

  it('K = 1 (the default) restarts one host at a time', async () => {
    const restart = fleetRestart(1);
    await restart.start('hello', 'production', 'alice');
    await runToEnd(restart);
    expect(hosts.mostAtOnce).toBe(1);
    expect(hosts.restarted).toEqual(HOSTS);
  });

  it('a host that does not become healthy in time fails it: no further host starts, its slot is freed, the failure has its evidence', async () => {
    hosts.failing.add('h2');
    const restart = fleetRestart(1);
    await restart.start('hello', 'production', 'alice');
    await runToEnd(restart);
    const failed = restart.view('hello', 'production')!;
    expect(failed.state).toBe('failed');
    expect(failed.failure).toMatchObject({ host: 'h2', code: 'FERRY_E_HOST_TIMEOUT' });
    expect(failed.failure!.message).toContain('h2-a is unhealthy (GET /healthz: 500)');
    expect(failed.hosts.map((h) => h.state)).toEqual([
      'restarted',
      'failed',
      'waiting',
      'waiting',
      'waiting',
    ]);
    for (const host of ['h3', 'h4', 'h5']) expect(hosts.docs.get(host)!.releases[0]!.restart).toBeUndefined();
    expect(await slots.list('hello', 'production')).toEqual([]);
  });

  it('a lock refuses it, and so does a restart already running; both change nothing', async () => {
    await expect(
      fleetRestart(1, { locked: true }).start('hello', 'production', 'alice'),
    ).rejects.toMatchObject({
      code: 'FERRY_E_LOCKED',
    });
    expect(hosts.revision).toBe(0);
    const restart = fleetRestart(1);
    await restart.start('hello', 'production', 'alice');
    await expect(restart.start('hello', 'production', 'bob')).rejects.toMatchObject({
      code: 'FERRY_E_DEPLOYMENT_IN_PROGRESS',
    });
    await runToEnd(restart);
  });

  it('another server holding the slots makes hosts wait for them', async () => {
    const other = await slots.take('hello', 'production', 1, {
      owner: 'hx',
      reason: 'elsewhere',
      ttlMs: 30_000,
    });
    const restart = fleetRestart(1);
    await restart.start('hello', 'production', 'alice');
    await clock.advance(2_000);
    expect(hosts.revision).toBe(0);
    await other!.release();
    await runToEnd(restart);
    expect(hosts.restarted).toEqual(HOSTS);
  });
});
