import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeProgress } from './create.js';
import { recoverEffects } from './recover.js';
import { step } from './step.js';
import { drive, obs, observed, restartPlan } from './test-support/drive.js';
import type { DeploymentState, EngineEffect, EngineEvent } from './types.js';

const begin: [number, EngineEvent] = [0, { type: 'begin' }];
/** The restart's new instances as observed (previous is not observed during a restart). */
const fresh = (healthy: number, failed = 0): EngineEvent => observed(obs('1.1.0', healthy, failed), null);
const retired: EngineEvent = { type: 'retired', version: '1.1.0' };
const routerGone = { code: 'FERRY_E_ROUTER_UNREACHABLE', message: 'router control socket: ECONNREFUSED' };

function acting(effects: readonly EngineEffect[]): EngineEffect[] {
  return effects.filter((e) => e.type !== 'record');
}

describe('a restart replaces the serving release’s instances batch by batch', () => {
  it('starts one new instance, waits for its health, then drains one old one; twice', () => {
    const started = drive(restartPlan(), [begin]);
    expect(started.state).toMatchObject({ status: 'running', phase: 'replacing' });
    expect(acting(started.effects)).toEqual([
      { type: 'ensure-instances', version: '1.1.0', count: 1, exclude: ['old-a', 'old-b'] },
      { type: 'set-traffic', weights: { '1.1.0': 100 } },
    ]);
    // Not healthy yet: nothing old stops.
    expect(acting(step(started.state, fresh(0), 100).effects)).toEqual([]);
    const first = step(started.state, fresh(1), 200);
    expect(first.state.replace).toMatchObject({ batch: 0, retiring: true });
    expect(acting(first.effects)).toContainEqual({
      type: 'retire-instances',
      version: '1.1.0',
      ids: ['old-a'],
    });
    const second = step(first.state, retired, 300);
    expect(second.state.replace).toMatchObject({ batch: 1, retiring: false });
    expect(second.state.phaseSince).toBe(300);
    expect(acting(second.effects)).toContainEqual({
      type: 'ensure-instances',
      version: '1.1.0',
      count: 2,
      exclude: ['old-a', 'old-b'],
    });
    const last = step(second.state, fresh(2), 400);
    expect(acting(last.effects)).toContainEqual({
      type: 'retire-instances',
      version: '1.1.0',
      ids: ['old-a', 'old-b'],
    });
    const done = step(last.state, retired, 500);
    expect(done.state).toMatchObject({ status: 'succeeded', phase: 'done', weight: 100 });
    // The release did not change: the ledger is not asked to judge it.
    expect(done.effects.some((e) => e.type === 'mark-release')).toBe(false);
  });

  it('grows to more instances than ran: the extra batches retire nothing', () => {
    const { state, effects } = drive(restartPlan(['old-a'], 3), [
      begin,
      [100, fresh(1)],
      [200, retired],
      [300, fresh(2)],
      [400, retired],
      [500, fresh(3)],
      [600, retired],
    ]);
    expect(state.status).toBe('succeeded');
    const retires = effects.flatMap((e) => (e.type === 'retire-instances' ? [e.ids] : []));
    expect(retires).toEqual([['old-a'], ['old-a'], ['old-a']]);
  });

  it('shrinks to fewer instances: the last batch retires every old one left', () => {
    const { state, effects } = drive(restartPlan(['old-a', 'old-b', 'old-c'], 1), [
      begin,
      [100, fresh(1)],
      [200, retired],
    ]);
    expect(state.status).toBe('succeeded');
    expect(acting(effects)).toContainEqual({
      type: 'retire-instances',
      version: '1.1.0',
      ids: ['old-a', 'old-b', 'old-c'],
    });
  });

  it('a deploy of the serving release (forced) installs it first, then restarts', () => {
    const { state, types } = drive(restartPlan(['old-a'], 1, 'deploy'), [begin, [50, { type: 'installed' }]]);
    expect(types).toEqual(['install', 'ensure-instances', 'set-traffic']);
    expect(state.phase).toBe('replacing');
  });

  it('says where it is', () => {
    const { state } = drive(restartPlan(), [begin, [100, fresh(1)]]);
    expect(describeProgress(state)).toBe(
      'replacing the instances of 1.1.0: batch 1/2, draining old instances',
    );
  });
});

describe('a restart that fails or is aborted keeps what serves', () => {
  it('a new instance that fails: the unfinished batch stops, the finished one stays', () => {
    const failing = drive(restartPlan(), [begin, [100, fresh(1)], [200, retired], [300, fresh(1, 1)]]);
    expect(failing.state).toMatchObject({ status: 'rolling-back', phase: 'reverting' });
    expect(failing.state.failure?.code).toBe('FERRY_E_UNHEALTHY');
    // Batch 1 finished (old-a replaced): one new instance is kept; old-b never stopped.
    expect(acting(failing.effects).at(-1)).toEqual({
      type: 'trim-instances',
      version: '1.1.0',
      exclude: ['old-a', 'old-b'],
      count: 1,
    });
    expect(failing.effects.some((e) => e.type === 'mark-release')).toBe(false);
    const ended = step(failing.state, retired, 400);
    expect(ended.state).toMatchObject({ status: 'failed', phase: 'done' });
  });

  it('an instance that cannot start fails the restart the same way', () => {
    const out = drive(restartPlan(), [
      begin,
      [
        10,
        {
          type: 'start-failed',
          version: '1.1.0',
          failure: { code: 'FERRY_E_PROCESS_START', message: 'no node' },
        },
      ],
    ]);
    expect(out.state.phase).toBe('reverting');
    expect(acting(out.effects).at(-1)).toMatchObject({ type: 'trim-instances', count: 0 });
  });

  it('an abort stops the unfinished batch and ends aborted', () => {
    const { state } = drive(restartPlan(), [
      begin,
      [10, { type: 'command', command: 'abort', actor: 'ops' }],
      [20, retired],
    ]);
    expect(state.status).toBe('aborted');
  });

  it('a failed retire is retried with backoff, and the daemon re-issues the phase after a crash', () => {
    const draining = drive(restartPlan(), [begin, [100, fresh(1)]]).state;
    const failed = step(draining, { type: 'retire-failed', version: '1.1.0', failure: routerGone }, 200);
    expect(failed.state.retry).toMatchObject({ attempt: 1, at: 1_200 });
    const due = step(failed.state, { type: 'tick' }, 1_200);
    expect(acting(due.effects)).toContainEqual({
      type: 'retire-instances',
      version: '1.1.0',
      ids: ['old-a'],
    });
    expect(acting(recoverEffects(draining))).toEqual([
      { type: 'ensure-instances', version: '1.1.0', count: 1, exclude: ['old-a', 'old-b'] },
      { type: 'set-traffic', weights: { '1.1.0': 100 } },
      { type: 'retire-instances', version: '1.1.0', ids: ['old-a'] },
    ]);
  });
});

describe('restart invariants', () => {
  /** Random observations, retirements and ticks after the restart began. */
  const events = fc.array(
    fc.oneof(
      fc
        .record({ healthy: fc.nat({ max: 4 }), failed: fc.constantFrom(0, 0, 0, 1) })
        .map(({ healthy, failed }) => fresh(healthy, failed)),
      fc.constant(retired),
      fc.constant<EngineEvent>({ type: 'tick' }),
    ),
    { maxLength: 30 },
  );

  it('never retires more old instances than new ones were seen healthy, nor stops an old one to revert', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        events,
        (old, wanted, evs) => {
          const names = Array.from({ length: old }, (_, n) => `old-${n}`);
          let state: DeploymentState = step(restartPlan(names, wanted), { type: 'begin' }, 0).state;
          let healthySeen = 0;
          evs.forEach((event, n) => {
            if (event.type === 'observed' && event.target.failed === 0)
              healthySeen = Math.max(healthySeen, event.target.healthy);
            const out = step(state, event, (n + 1) * 10);
            for (const effect of out.effects) {
              if (effect.type === 'retire-instances')
                expect(healthySeen).toBeGreaterThanOrEqual(Math.min(effect.ids.length, wanted));
              if (effect.type === 'trim-instances') expect(effect.exclude).toEqual(names);
              expect(['retire', 'stop-instances', 'mark-release']).not.toContain(effect.type);
            }
            state = out.state;
          });
        },
      ),
    );
  });
});
