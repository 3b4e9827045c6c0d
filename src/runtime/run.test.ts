import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createDeployment } from '../engine/create.js';
import type { DeploymentState, StrategySpec } from '../engine/types.js';
import { silentLogger } from '../lib/logger.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import type { Store } from '../store/store.js';
import { DeploymentRun } from './run.js';
import { FakeEffects } from './test-support/fake-effects.js';

const blueGreen: StrategySpec = { kind: 'blue-green', healthDeadlineMs: 10_000 };
const TICK_MS = 100;

let store: Store;
let effects: FakeEffects;

beforeEach(() => {
  // A fake clock drives both the run's ticks and its `now`: backoffs of seconds pass in microseconds.
  vi.useFakeTimers({ now: 1_000_000 });
  store = openSqliteStore(':memory:');
  effects = new FakeEffects();
  effects.seed('1.0.0', 2);
});

afterEach(async () => {
  vi.useRealTimers();
  await store.close();
});

async function startRun(opts: { afterSwitchHook?: boolean; kind?: 'deploy' | 'rollback' } = {}) {
  const state = createDeployment(
    {
      id: 'd-run',
      app: 'hello',
      env: 'production',
      kind: opts.kind ?? 'deploy',
      from: '1.0.0',
      to: '1.1.0',
      strategy: blueGreen,
      instances: 2,
      afterSwitchHook: opts.afterSwitchHook ?? false,
    },
    Date.now(),
  );
  await store.createDeployment(state);
  return launch(state, 'begin');
}

function launch(state: DeploymentState, first: 'begin' | 'recover'): DeploymentRun {
  const run = new DeploymentRun(state, {
    store,
    effects,
    logger: silentLogger(),
    now: () => Date.now(),
    tickMs: TICK_MS,
    bus: new EventEmitter(),
  });
  run.start(first);
  return run;
}

async function messages(): Promise<string[]> {
  return (await store.listEvents('d-run')).map((e) => e.message);
}

describe('DeploymentRun: a failing effect never leaves a deployment stuck', () => {
  it('retries a retire that fails 3 times (1 s, 2 s, 4 s apart) and succeeds', async () => {
    effects.failNext('retire', '1.0.0', 3);
    const run = await startRun();
    // Switched at the first tick (100 ms); retires at 100, 1,100, 3,100 fail; the one at 7,100 goes through.
    await vi.advanceTimersByTimeAsync(7_000);
    expect(run.current).toMatchObject({ phase: 'retiring', retry: { attempt: 3, at: 1_007_100 } });
    expect(effects.count('retire 1.0.0')).toBe(3);
    await vi.advanceTimersByTimeAsync(200);
    const final = await run.whenFinished();
    expect(final.status).toBe('succeeded');
    expect(effects.count('retire 1.0.0')).toBe(4);
    expect(await store.getCurrent('hello', 'production')).toBe('1.1.0');
    const log = await messages();
    expect(log).toContain(
      'could not retire 1.0.0: retire of 1.0.0: the router is gone; trying again in 1.00s (failure 1 in phase retiring)',
    );
    expect(log.filter((m) => m.startsWith('trying the retiring phase'))).toHaveLength(3);
  });

  it('keeps the retry in the store: a restarted daemon goes on and finishes', async () => {
    effects.failNext('retire', '1.0.0', 2);
    const first = await startRun();
    await vi.advanceTimersByTimeAsync(1_500);
    first.stop();
    const saved = await store.getDeployment('d-run');
    expect(saved).toMatchObject({ phase: 'retiring', retry: { attempt: 2 } });
    const second = launch(saved!, 'recover');
    await vi.advanceTimersByTimeAsync(1_000);
    expect((await second.whenFinished()).status).toBe('succeeded');
  });

  it('retries a phase whose awaited effect failed (the router gone as traffic moves)', async () => {
    effects.failNext('set-traffic', '1.1.0,1.0.0', 2);
    const run = await startRun();
    await vi.advanceTimersByTimeAsync(10_000);
    expect((await run.whenFinished()).status).toBe('succeeded');
    expect(await messages()).toContain('set-traffic failed: set-traffic of 1.1.0,1.0.0: the router is gone');
  });

  it('abort --force ends a deployment whose retire keeps failing, at once, without waiting on it', async () => {
    effects.failNext('retire', '1.0.0', Infinity);
    const run = await startRun();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(run.current.phase).toBe('retiring');
    await run.dispatch({ type: 'command', command: 'abort', force: true, actor: 'ops' });
    const final = await run.whenFinished();
    expect(final).toMatchObject({ status: 'succeeded', phase: 'done', weight: 100 });
    expect(effects.calls).toContain('stop-instances 1.0.0');
    expect(effects.marks).toContainEqual({ version: '1.1.0', verdict: 'good' });
    expect(await store.activeDeployment('hello', 'production')).toBeUndefined();
  });

  it('a failing after_switch hook rolls the deployment back, with `current` moved back', async () => {
    effects.failNext('hook:after_switch', '1.1.0', 1);
    const run = await startRun({ afterSwitchHook: true });
    await vi.advanceTimersByTimeAsync(2_000);
    const final = await run.whenFinished();
    expect(final.status).toBe('rolled-back');
    expect(final.failure?.code).toBe('FERRY_E_ROUTER_UNREACHABLE');
    const order = effects.calls.filter((c) => /^(activate|hook|retire|set-traffic)/.test(c));
    expect(order).toEqual([
      'set-traffic 1.1.0,1.0.0',
      'set-traffic 1.1.0,1.0.0',
      'activate 1.1.0',
      'hook:after_switch 1.1.0',
      'set-traffic 1.0.0',
      'activate 1.0.0',
      'retire 1.1.0',
    ]);
    expect(effects.marks).toEqual([{ version: '1.1.0', verdict: 'bad' }]);
  });
});
