import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { FERRY_VERSION } from '../lib/version.js';
import { RouterClient } from './client.js';
import { findRouterProcesses } from './state-dir.js';
import { startBackend, type TestBackend } from './test-support/backends.js';
import { backendSpec, freePort, routeSpec, startRouter, waitFor } from './test-support/router-harness.js';
import { startSteadyLoad } from './test-support/steady-load.js';
import type { RouterHealth, RouterStats } from './types.js';

const ROOT = resolve(import.meta.dirname, '../..');
/** Keep-alive and new-connection loops: a request in flight on a dying process is the most that may fail. */
const LOAD = { keepAlive: 4, fresh: 4 };
const IN_FLIGHT_AT_MOST = LOAD.keepAlive + LOAD.fresh;

describe('router: surviving its own crashes and upgrades', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function backends(): Promise<TestBackend[]> {
    const started = await Promise.all([
      startBackend('a', { latencyMs: 5 }),
      startBackend('b', { latencyMs: 5 }),
    ]);
    cleanups.push(() => Promise.all(started.map((b) => b.kill())).then(() => undefined));
    return started;
  }

  async function routedRouter(workers = 2): Promise<{ client: RouterClient; url: string; stateDir: string }> {
    const router = await startRouter({ workers });
    cleanups.push(() => router.cleanup());
    const [a, b] = await backends();
    const port = await freePort();
    await router.client.putRoute(routeSpec('app', port, [backendSpec(a!, 'v1'), backendSpec(b!, 'v1')]));
    return { client: router.client, url: `http://127.0.0.1:${port}/`, stateDir: router.stateDir };
  }

  async function allWorkersUp(
    client: RouterClient,
    accept: (h: RouterHealth) => boolean = () => true,
  ): Promise<RouterHealth> {
    let last: RouterHealth | undefined;
    await waitFor(
      'every router worker to serve',
      async () => {
        last = await client.health();
        return last !== undefined && last.workers.every((w) => w.state === 'up') && accept(last);
      },
      60_000,
    );
    return last!;
  }

  it('a worker killed with -9 under load: no connection is refused, it is restarted at once', async () => {
    const { client, url } = await routedRouter();
    const before = await allWorkersUp(client);
    expect(before.workers).toHaveLength(2);
    const load = startSteadyLoad(url, LOAD);
    await load.succeeded(300);
    const answeredBefore = answered(await client.stats());
    const victim = before.workers[0]!;
    process.kill(victim.pid!, 'SIGKILL');
    const after = await allWorkersUp(client, (h) => h.workers[0]!.pid !== victim.pid);
    await load.succeeded(500);
    const report = await load.stop();
    expect(report.refused).toBe(0);
    expect(report.failed, report.failures.join('\n')).toBeLessThanOrEqual(IN_FLIGHT_AT_MOST);
    // The dead worker's last counts stay: the requests answered never go backwards.
    const answeredAfter = answered(await client.stats());
    expect(answeredAfter).toBeGreaterThanOrEqual(answeredBefore + 500);
    expect(answeredAfter).toBeLessThanOrEqual(report.ok);
    expect(after.workers[0]).toMatchObject({ restarts: 1, crashLoop: false });
    expect(after.workers[1]!.pid).toBe(before.workers[1]!.pid);
  });

  it('the only worker killed with -9: the warm spare accepts in its place, no connection is refused', async () => {
    const { client, url } = await routedRouter(1);
    const before = await allWorkersUp(client, (h) => h.spare?.state === 'up');
    const load = startSteadyLoad(url, LOAD);
    await load.succeeded(300);
    process.kill(before.workers[0]!.pid!, 'SIGKILL');
    const after = await allWorkersUp(
      client,
      (h) => h.workers[0]!.pid === before.spare!.pid && h.spare?.state === 'up',
    );
    await load.succeeded(500);
    const report = await load.stop();
    expect(report.refused).toBe(0);
    expect(report.failed, report.failures.join('\n')).toBeLessThanOrEqual(IN_FLIGHT_AT_MOST);
    expect(after.workers[0]).toMatchObject({ restarts: 1, crashLoop: false });
    expect(after.spare!.pid).not.toBe(before.spare!.pid);
  });

  it('every worker killed at once: connections wait in the queue of the socket the keeper holds', async () => {
    const { client, url } = await routedRouter();
    const before = await allWorkersUp(client);
    const load = startSteadyLoad(url, LOAD);
    await load.succeeded(300);
    for (const worker of before.workers) process.kill(worker.pid!, 'SIGKILL');
    await allWorkersUp(client, (h) => h.workers.every((w, i) => w.pid !== before.workers[i]!.pid));
    await load.succeeded(500);
    const report = await load.stop();
    expect(report.refused).toBe(0);
    expect(report.failed, report.failures.join('\n')).toBeLessThanOrEqual(IN_FLIGHT_AT_MOST);
  });

  it('the keeper killed with -9: its workers keep serving and hand the sockets to a new keeper', async () => {
    const { client, url, stateDir } = await routedRouter();
    const before = await allWorkersUp(client);
    const routes = await client.routes();
    const epoch = (await client.stats()).epoch;
    const load = startSteadyLoad(url, LOAD);
    await load.succeeded(300);
    process.kill(before.pid, 'SIGKILL');
    const after = await allWorkersUp(client, (h) => h.pid !== before.pid);
    await load.succeeded(500);
    const report = await load.stop();
    expect(report.refused).toBe(0);
    expect(report.failed, report.failures.join('\n')).toBeLessThanOrEqual(IN_FLIGHT_AT_MOST);
    expect(await client.routes()).toEqual(routes);
    // Counters start afresh in a new epoch: the daemon's canary window reopens instead of going negative.
    expect((await client.stats()).epoch).not.toBe(epoch);
    // The orphaned workers drained and exited: one keeper, its two workers and its spare are left.
    await waitFor('the old workers to exit', () => findRouterProcesses(stateDir).length === 4, 30_000);
    expect(findRouterProcesses(stateDir)).toContain(after.pid);
  });

  it('a router of another version hands its sockets to this version: 0 failed requests', async () => {
    const old = oldBuild('0.0.1-old');
    cleanups.push(() => rmSync(old.dir, { recursive: true, force: true }));
    const stateDir = mkdtempSync(join(tmpdir(), 'ferry-router-'));
    const { RouterClient: OldClient } = (await import(old.clientModule)) as {
      RouterClient: typeof RouterClient;
    };
    const oldClient = new OldClient({ stateDir, workers: 2 });
    const newClient = new RouterClient({ stateDir, workers: 2 });
    cleanups.push(async () => {
      await newClient.stop();
      rmSync(stateDir, { recursive: true, force: true });
    });
    await oldClient.ensureRunning();
    const [a, b] = await backends();
    const port = await freePort();
    await oldClient.putRoute(routeSpec('app', port, [backendSpec(a!, 'v1'), backendSpec(b!, 'v1')]));
    const oldHealth = await allWorkersUp(oldClient);
    expect(oldHealth.version).toBe('0.0.1-old');
    const load = startSteadyLoad(`http://127.0.0.1:${port}/`, LOAD);
    await load.succeeded(500);
    const oldStats = await oldClient.stats();
    const counted = oldStats.routes.app!.backends.reduce((n, x) => n + x.requests, 0);
    expect(answered(oldStats)).toBeGreaterThanOrEqual(500);

    const ensured = await newClient.ensureRunning();
    expect(ensured).toMatchObject({ started: false, upgradedFrom: '0.0.1-old' });
    const newHealth = await allWorkersUp(newClient);
    expect(newHealth.version).toBe(FERRY_VERSION);
    expect(newHealth.pid).not.toBe(oldHealth.pid);
    await load.succeeded(500);
    await waitFor('the old router to exit', () => findRouterProcesses(stateDir).length === 4, 30_000);
    const report = await load.stop();
    expect(report.failures).toEqual([]);
    expect(report.failed).toBe(0);
    // The counters carried over: they never go backwards within an epoch.
    const stats = await newClient.stats();
    expect(stats.epoch).toBe(oldStats.epoch);
    expect(stats.routes.app!.backends.reduce((n, x) => n + x.requests, 0)).toBeGreaterThan(counted);
    expect(answered(stats)).toBeGreaterThan(answered(oldStats));
  });
});

/** Requests of route `app` whose answer reached the client whole (the request outcomes). */
function answered(stats: RouterStats): number {
  const outcomes = stats.routes.app!.outcomes!;
  const classes = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
  return outcomes.releases.reduce((n, r) => n + classes.reduce((sum, c) => sum + r.responses[c], 0), 0);
}

/** A copy of the built router claiming another version: a router left running by an older Ferry. */
function oldBuild(version: string): { dir: string; clientModule: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-old-build-'));
  mkdirSync(join(dir, 'dist'));
  cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'ferry', version, type: 'module' }));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return { dir, clientModule: pathToFileURL(join(dir, 'dist', 'router', 'client.js')).href };
}
