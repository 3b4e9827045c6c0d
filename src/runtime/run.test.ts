import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDeployment } from '../engine/create.js';
import type { DeploymentState, StrategySpec } from '../engine/types.js';
import { EventPublisher } from '../events/publisher.js';
import { FakeClock } from '../lib/clock.js';
import { silentLogger } from '../lib/logger.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import type { Store } from '../store/store.js';
import { DeploymentRun } from './run.js';
import { FakeEffects } from './test-support/fake-effects.js';

const blueGreen: StrategySpec = { kind: 'blue-green', healthDeadlineMs: 10_000 };
const TICK_MS = 100;

let store: Store;
let effects: FakeEffects;
let clock: FakeClock;

beforeEach(() => {
  // A fake clock drives both the run's ticks and its `now`: backoffs of seconds pass in microseconds.
  clock = new FakeClock(1_000_000);
  store = openSqliteStore(':memory:');
  effects = new FakeEffects();
  effects.seed('1.0.0', 2);
});

afterEach(async () => {
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
    clock.now(),
  );
  await store.createDeployment(state);
  return launch(state, 'begin');
}

function launch(state: DeploymentState, first: 'begin' | 'recover'): DeploymentRun {
  const run = new DeploymentRun(state, {
    store,
    effects,
    logger: silentLogger(),
    clock,
    tickMs: TICK_MS,
    events: new EventPublisher({ now: () => clock.now() }),
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
    await clock.advance(7_000);
    expect(run.current).toMatchObject({ phase: 'retiring', retry: { attempt: 3, at: 1_007_100 } });
    expect(effects.count('retire 1.0.0')).toBe(3);
    await clock.advance(200);
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
    await clock.advance(1_500);
    first.stop();
    const saved = await store.getDeployment('d-run');
    expect(saved).toMatchObject({ phase: 'retiring', retry: { attempt: 2 } });
    const second = launch(saved!, 'recover');
    await clock.advance(1_000);
    expect((await second.whenFinished()).status).toBe('succeeded');
  });

  it('retries a phase whose awaited effect failed (the router gone as traffic moves)', async () => {
    effects.failNext('set-traffic', '1.1.0,1.0.0', 2);
    const run = await startRun();
    await clock.advance(10_000);
    expect((await run.whenFinished()).status).toBe('succeeded');
    expect(await messages()).toContain('set-traffic failed: set-traffic of 1.1.0,1.0.0: the router is gone');
  });

  it('abort --force ends a deployment whose retire keeps failing, at once, without waiting on it', async () => {
    effects.failNext('retire', '1.0.0', Infinity);
    const run = await startRun();
    await clock.advance(60_000);
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
    await clock.advance(2_000);
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

describe('DeploymentRun: the ticker on its clock', () => {
  /** Observations that wait until the test releases them: a slow router or health check. */
  function holdObservations() {
    const observe = effects.observe.bind(effects);
    const held: Array<() => void> = [];
    let started = 0;
    effects.observe = async (state) => {
      started += 1;
      await new Promise<void>((resolve) => held.push(resolve));
      return observe(state);
    };
    return {
      started: () => started,
      releaseAll: () => held.splice(0).forEach((release) => release()),
    };
  }

  it('ticks every tickMs, one observation at a time: a slow one never piles ticks up', async () => {
    const observations = holdObservations();
    const run = await startRun();
    await clock.advance(TICK_MS);
    expect(run.current.phase).toBe('starting');
    expect(observations.started()).toBe(1);
    // Fifty ticks fall due while the first observation hangs: none of them starts another.
    await clock.advance(50 * TICK_MS);
    expect(observations.started()).toBe(1);
    // Released, that one observation (all healthy) carries the deployment through to its end.
    observations.releaseAll();
    await clock.advance(0);
    expect(run.current).toMatchObject({ status: 'succeeded', phase: 'done' });
    expect(observations.started()).toBe(1);
  });

  it('fails the start at the health deadline on the clock, not a tick before', async () => {
    const observe = effects.observe.bind(effects);
    effects.observe = async (state) => {
      const observed = await observe(state);
      return state.phase === 'starting'
        ? { ...observed, target: { ...observed.target, healthy: 0 } }
        : observed;
    };
    const run = await startRun();
    await clock.advance(TICK_MS);
    expect(run.current).toMatchObject({ phase: 'starting' });
    const since = run.current.phaseSince;
    await clock.advance(since + blueGreen.healthDeadlineMs - clock.now());
    expect(run.current).toMatchObject({ phase: 'starting', status: 'running' });
    await clock.advance(TICK_MS);
    expect(run.current.phase).not.toBe('starting');
    const final = await advanceUntilFinished(run);
    expect(final.status).toBe('rolled-back');
    expect(final.failure?.message).toMatch(
      /1\.1\.0 was not healthy within 10000ms: 0\/2 instance\(s\) healthy/,
    );
  });

  it('leaves no timer behind once final, or once stopped', async () => {
    const done = await startRun();
    expect(clock.pending).toBe(1);
    await advanceUntilFinished(done);
    expect(clock.pending).toBe(0);

    const stopped = launch(done.current, 'recover');
    stopped.stop();
    expect(clock.pending).toBe(0);
  });
});

/** Ticks until the run ends, bounded in count: a run that never ends fails the test. */
async function advanceUntilFinished(run: DeploymentRun): Promise<DeploymentState> {
  let final: DeploymentState | null = null;
  void run.whenFinished().then((state) => (final = state));
  for (let i = 0; i < 1_000 && final === null; i++) await clock.advance(TICK_MS);
  if (final === null) throw new Error(`the run did not finish: ${JSON.stringify(run.current)}`);
  return final;
}
