import { describe, expect, it } from 'vitest';
import { FakeClock } from '../lib/clock.js';
import type { RouterHealth } from '../router/types.js';
import { RouterWatch, type WatchedRouter } from './router-watch.js';

function health(pid: number, worker: Partial<RouterHealth['workers'][number]> = {}): RouterHealth {
  return {
    ok: true,
    pid,
    version: '1.0.0',
    epoch: 'e',
    state: 'running',
    startedAt: 1_000_000,
    uptimeMs: 0,
    routes: 1,
    unbound: [],
    workers: [
      {
        rank: 0,
        pid: pid + 1,
        state: 'up',
        startedAt: 1_000_000,
        restarts: 0,
        crashLoop: false,
        lastExit: null,
        ...worker,
      },
    ],
  };
}

/** A router whose answers the test scripts: `alive` is what health() returns; ensureRunning may fail. */
class ScriptedRouter implements WatchedRouter {
  alive: RouterHealth | undefined = health(100);
  ensureCalls = 0;
  startsWork = true;
  health(): Promise<RouterHealth | undefined> {
    return Promise.resolve(this.alive);
  }
  ensureRunning(): Promise<{ pid: number; started: boolean }> {
    this.ensureCalls += 1;
    if (!this.startsWork) return Promise.reject(new Error('port 8080 is taken'));
    this.alive = health(200 + this.ensureCalls);
    return Promise.resolve({ pid: this.alive.pid, started: true });
  }
}

function watch(router: ScriptedRouter, clock: FakeClock) {
  const events: string[] = [];
  const changes: string[] = [];
  const replaced: number[] = [];
  const w = new RouterWatch({
    router,
    clock,
    onReplaced: (pid) => {
      replaced.push(pid);
      return Promise.resolve();
    },
    onProblem: (message) => events.push(`problem: ${message}`),
    onRecovered: (message) => events.push(`recovered: ${message}`),
    onChange: (change) => changes.push(`${change.change} ${change.pid}: ${change.message}`),
  });
  w.start(router.alive);
  return { w, events, changes, replaced };
}

describe('the daemon watching its router', () => {
  it('brings a dead keeper back, re-pushes the routes, counts the restart, and says so', async () => {
    const clock = new FakeClock();
    const router = new ScriptedRouter();
    const { w, events, replaced } = watch(router, clock);
    await clock.advance(1000);
    expect(w.status()).toMatchObject({ state: 'running', pid: 100, restarts: 0, error: null });
    router.alive = undefined;
    await clock.advance(1000);
    expect(router.ensureCalls).toBe(1);
    expect(replaced).toEqual([201]);
    expect(w.status()).toMatchObject({ state: 'running', pid: 201, restarts: 1, error: null });
    expect(events).toEqual([
      'problem: the router (keeper pid 100) does not answer; bringing it back',
      'recovered: the router serves again (keeper pid 201)',
    ]);
    w.stop();
  });

  it('a keeper replaced by its own workers (a successor) is noticed too: routes pushed again', async () => {
    const clock = new FakeClock();
    const router = new ScriptedRouter();
    const { w, replaced } = watch(router, clock);
    router.alive = health(300);
    await clock.advance(1000);
    expect(router.ensureCalls).toBe(0);
    expect(replaced).toEqual([300]);
    expect(w.status().restarts).toBe(1);
    w.stop();
  });

  it('a router that cannot come back is an error in status, retried with backoff', async () => {
    const clock = new FakeClock();
    const router = new ScriptedRouter();
    router.startsWork = false;
    const { w, events } = watch(router, clock);
    router.alive = undefined;
    await clock.advance(1000);
    expect(w.status()).toMatchObject({ state: 'down', pid: 100 });
    expect(w.status().error).toContain('the router cannot come back: port 8080 is taken');
    // Tries at 1s, then waits 1s, 2s, 4s between tries.
    await clock.advance(10_000);
    expect(router.ensureCalls).toBe(4);
    expect(events.filter((e) => e.startsWith('problem')).length).toBeGreaterThanOrEqual(2);
    router.startsWork = true;
    await clock.advance(30_000);
    expect(w.status()).toMatchObject({ state: 'running', error: null });
    w.stop();
  });

  it('a worker in a crash loop is an error in status while the keeper answers', async () => {
    const clock = new FakeClock();
    const router = new ScriptedRouter();
    const { w, events } = watch(router, clock);
    router.alive = health(100, { crashLoop: true, restarts: 6, lastExit: 'exited with code 1 after 40ms' });
    await clock.advance(1000);
    expect(w.status().error).toContain('router worker 0 keeps dying (exited with code 1 after 40ms)');
    router.alive = health(100);
    await clock.advance(1000);
    expect(w.status().error).toBeNull();
    expect(events.at(-1)).toBe('recovered: the router serves again (keeper pid 100)');
    w.stop();
  });

  it('tells the event stream of every change: a keeper down and replaced, a worker replaced, trouble and recovery', async () => {
    const clock = new FakeClock();
    const router = new ScriptedRouter();
    const { changes } = watch(router, clock);
    router.alive = health(100, { pid: 150, restarts: 1, lastExit: 'killed by SIGKILL' });
    await clock.advance(1000);
    router.alive = health(100, { pid: 150, restarts: 1, crashLoop: true, lastExit: 'killed by SIGKILL' });
    await clock.advance(1000);
    await clock.advance(1000);
    router.alive = health(100, { pid: 150, restarts: 1 });
    await clock.advance(1000);
    router.alive = undefined;
    await clock.advance(1000);
    expect(changes).toEqual([
      'worker-restarted 150: router worker 0 was replaced (pid 101 -> 150; killed by SIGKILL), restart 1',
      'trouble 100: router worker 0 keeps dying (killed by SIGKILL); restarting with backoff',
      'recovered 100: the router serves again (keeper pid 100)',
      'keeper-down 100: the router (keeper pid 100) does not answer; bringing it back',
      'keeper-replaced 201: the router keeper was replaced (pid 100 -> 201); every route is pushed again',
      'recovered 201: the router serves again (keeper pid 201)',
    ]);
  });
});
