import { describe, expect, it } from 'vitest';
import { commandError } from './commands.js';
import { retryDelayMs } from './retry.js';
import { step } from './step.js';
import {
  allAtOnce,
  blueGreen,
  canary,
  drive,
  obs,
  observed,
  plan,
  restartPlan,
} from './test-support/drive.js';
import type { DeploymentState, EngineEffect, EngineEvent, Phase } from './types.js';

const routerGone = { code: 'FERRY_E_ROUTER_UNREACHABLE', message: 'router control socket: ECONNREFUSED' };
const begin: [number, EngineEvent] = [0, { type: 'begin' }];
const installed: [number, EngineEvent] = [10, { type: 'installed' }];
const healthy: [number, EngineEvent] = [20, observed(obs('1.1.0', 2))];
const unhealthyNew: [number, EngineEvent] = [20, observed(obs('1.1.0', 0, 1))];

/** A deployment driven into each non-final phase, at time 20. */
const reach: Record<Exclude<Phase, 'done'>, () => DeploymentState> = {
  installing: () => drive(plan(blueGreen), [begin]).state,
  'stopping-old': () => drive(plan(allAtOnce), [begin, installed]).state,
  starting: () => drive(plan(blueGreen), [begin, installed]).state,
  shifting: () => drive(plan(canary), [begin, installed, healthy]).state,
  'after-switch': () =>
    drive(plan(blueGreen, '1.0.0', { afterSwitchHook: true }), [begin, installed, healthy]).state,
  retiring: () => drive(plan(blueGreen), [begin, installed, healthy]).state,
  reverting: () => drive(plan(blueGreen), [begin, installed, unhealthyNew]).state,
  replacing: () => drive(restartPlan(), [begin]).state,
};

/** Ticks every 100 ms from `from` to `to`, with `extra` events at their times. */
function ticks(
  from: number,
  to: number,
  extra: Array<[number, EngineEvent]> = [],
): Array<[number, EngineEvent]> {
  const events: Array<[number, EngineEvent]> = [...extra];
  for (let t = from; t <= to; t += 100) events.push([t, { type: 'tick' }]);
  return events.sort((a, b) => a[0] - b[0]);
}

function retires(effects: readonly EngineEffect[], version: string): number {
  return effects.filter((e) => e.type === 'retire' && e.version === version).length;
}

describe('every phase has a way out by itself: a deadline or a retry with backoff', () => {
  const table: Array<{
    phase: Exclude<Phase, 'done'>;
    how: string;
    events: Array<[number, EngineEvent]>;
    expect: Partial<DeploymentState>;
  }> = [
    {
      phase: 'installing',
      how: 'the install fails by its own deadline (artifact.timeout, hooks.timeout): failed, nothing changed',
      events: [
        [
          3_600_000,
          {
            type: 'install-failed',
            failure: { code: 'FERRY_E_ARTIFACT_SOURCE', message: 'timed out after 1h' },
          },
        ],
      ],
      expect: { status: 'failed', phase: 'done' },
    },
    {
      phase: 'stopping-old',
      how: 'a failed retire of the old release is retried until it goes through, then the new one starts',
      events: ticks(20, 8_000, [
        [100, { type: 'retire-failed', version: '1.0.0', failure: routerGone }],
        [1_200, { type: 'retire-failed', version: '1.0.0', failure: routerGone }],
        [7_900, { type: 'retired', version: '1.0.0' }],
      ]),
      expect: { status: 'running', phase: 'starting', retry: null },
    },
    {
      phase: 'starting',
      how: 'not healthy by the health deadline: rolls back',
      events: [[10_021, observed(obs('1.1.0', 1))]],
      expect: { status: 'rolling-back', phase: 'reverting' },
    },
    {
      phase: 'shifting',
      how: 'too few requests by pause + max_wait: paused for an operator (inconclusive)',
      events: [[330_020, observed(obs('1.1.0', 2), obs('1.0.0', 2), 3, 0)]],
      expect: { status: 'paused', phase: 'shifting' },
    },
    {
      phase: 'after-switch',
      how: 'the hook fails or times out (hooks.timeout): rolls back',
      events: [
        [
          60_020,
          {
            type: 'hook-failed',
            hook: 'after_switch',
            failure: {
              code: 'FERRY_E_HOOK_FAILED',
              message: 'after_switch hook failed: ./warm.sh: timed out after 60.0s',
            },
          },
        ],
      ],
      expect: { status: 'rolling-back', phase: 'reverting' },
    },
    {
      phase: 'retiring',
      how: 'a failed retire of the old release is retried until it goes through: succeeded',
      events: ticks(20, 8_000, [
        [100, { type: 'retire-failed', version: '1.0.0', failure: routerGone }],
        [7_900, { type: 'retired', version: '1.0.0' }],
      ]),
      expect: { status: 'succeeded', phase: 'done' },
    },
    {
      phase: 'reverting',
      how: 'the previous release never healthy by the health deadline: failed (and says so)',
      events: [[10_100, observed(obs('1.1.0', 0, 1), obs('1.0.0', 0))]],
      expect: { status: 'failed', phase: 'done' },
    },
    {
      phase: 'replacing',
      how: 'a batch not healthy by the health deadline: its new instances stop, the old ones keep serving',
      events: [
        [10_021, observed(obs('1.1.0', 0), null)],
        [10_500, { type: 'retired', version: '1.1.0' }],
      ],
      expect: { status: 'failed', phase: 'done' },
    },
  ];

  it.each(table)('$phase: $how', ({ phase, events, expect: expected }) => {
    const start = reach[phase]();
    expect(start.phase).toBe(phase);
    expect(drive(start, events).state).toMatchObject(expected);
  });

  it('reverting: a failed retire of the new release is retried too, and the revert ends', () => {
    const restored = drive(reach.reverting(), [[30, observed(obs('1.1.0', 0, 1), obs('1.0.0', 2))]]).state;
    expect(restored.trafficRestored).toBe(true);
    const { state, effects } = drive(
      restored,
      ticks(40, 3_000, [
        [50, { type: 'retire-failed', version: '1.1.0', failure: routerGone }],
        [2_000, { type: 'retired', version: '1.1.0' }],
      ]),
    );
    expect(retires(effects, '1.1.0')).toBe(1);
    expect(state.status).toBe('rolled-back');
  });
});

describe('retries with backoff', () => {
  it('waits 1 s, 2 s, 4 s... capped at 30 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map(retryDelayMs)).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000,
    ]);
  });

  it('keeps the retry time in the state and issues the phase effects again only when due', () => {
    const retiring = reach.retiring();
    const failed = step(retiring, { type: 'retire-failed', version: '1.0.0', failure: routerGone }, 100);
    expect(failed.state.retry).toEqual({
      attempt: 1,
      at: 1_100,
      failure: { ...routerGone, message: `could not retire 1.0.0: ${routerGone.message}` },
    });
    expect(failed.effects).toEqual([
      {
        type: 'record',
        message:
          'could not retire 1.0.0: router control socket: ECONNREFUSED; trying again in 1.00s (failure 1 in phase retiring)',
        data: { failure: failed.state.retry!.failure },
      },
    ]);
    expect(step(failed.state, { type: 'tick' }, 1_099).state).toBe(failed.state);
    const due = step(failed.state, { type: 'tick' }, 1_100);
    expect(due.state.retry).toMatchObject({ attempt: 1, at: null });
    expect(due.effects.filter((e) => e.type !== 'record')).toEqual([
      { type: 'set-traffic', weights: { '1.1.0': 100, '1.0.0': 0 } },
      { type: 'retire', version: '1.0.0' },
    ]);
    // In flight: further ticks issue nothing more.
    expect(step(due.state, { type: 'tick' }, 60_000).state).toBe(due.state);
    const again = step(due.state, { type: 'retire-failed', version: '1.0.0', failure: routerGone }, 2_000);
    expect(again.state.retry).toMatchObject({ attempt: 2, at: 4_000 });
  });

  it('a restarted daemon issues the effects at once and keeps counting the failures', () => {
    const failed = drive(reach.retiring(), [
      [100, { type: 'retire-failed', version: '1.0.0', failure: routerGone }],
      [1_100, { type: 'tick' }],
      [1_200, { type: 'retire-failed', version: '1.0.0', failure: routerGone }],
    ]).state;
    const recovered = step(failed, { type: 'recover' }, 1_300);
    expect(recovered.state.retry).toMatchObject({ attempt: 2, at: null });
    expect(retires(recovered.effects, '1.0.0')).toBe(1);
  });

  it('an awaited effect that fails (the router gone while switching) retries the whole phase', () => {
    const shifting = reach.shifting();
    const failed = step(shifting, { type: 'effect-failed', effect: 'set-traffic', failure: routerGone }, 100);
    expect(failed.state.retry?.failure.message).toBe(
      'set-traffic failed: router control socket: ECONNREFUSED',
    );
    const due = step(failed.state, { type: 'tick' }, 1_100);
    expect(due.effects).toContainEqual({ type: 'set-traffic', weights: { '1.1.0': 10, '1.0.0': 90 } });
  });

  it('a retry belongs to its phase: moving on drops it', () => {
    const failed = step(
      reach.starting(),
      { type: 'effect-failed', effect: 'set-traffic', failure: routerGone },
      100,
    );
    const moved = step(failed.state, observed(obs('1.1.0', 2)), 200);
    expect(moved.state).toMatchObject({ phase: 'retiring', retry: null });
  });

  it('a retire failure of another release than the phase retires is recorded only', () => {
    const retiring = reach.retiring();
    const out = step(retiring, { type: 'retire-failed', version: '0.9.0', failure: routerGone }, 100);
    expect(out.state).toBe(retiring);
    expect(out.effects).toHaveLength(1);
  });
});

describe('every phase has a way out by an operator', () => {
  const force: EngineEvent = { type: 'command', command: 'abort', force: true, actor: 'ops' };
  const abort: EngineEvent = { type: 'command', command: 'abort', actor: 'ops' };
  const table: Array<{
    phase: Exclude<Phase, 'done'>;
    abort: Partial<DeploymentState> | RegExp;
    forced: Partial<DeploymentState>;
    effects: EngineEffect[];
  }> = [
    {
      phase: 'installing',
      abort: { status: 'aborted', phase: 'done' },
      forced: { status: 'aborted', phase: 'done' },
      effects: [],
    },
    {
      phase: 'stopping-old',
      abort: { status: 'rolling-back', phase: 'reverting' },
      forced: { status: 'aborted', phase: 'done', weight: 0 },
      effects: [
        { type: 'ensure-instances', version: '1.0.0', count: 2 },
        { type: 'set-traffic', weights: { '1.0.0': 100 } },
        { type: 'activate', version: '1.0.0' },
        { type: 'stop-instances', version: '1.1.0' },
      ],
    },
    {
      phase: 'starting',
      abort: { status: 'rolling-back', phase: 'reverting' },
      forced: { status: 'aborted', phase: 'done', weight: 0 },
      effects: [
        { type: 'ensure-instances', version: '1.0.0', count: 2 },
        { type: 'set-traffic', weights: { '1.0.0': 100 } },
        { type: 'activate', version: '1.0.0' },
        { type: 'stop-instances', version: '1.1.0' },
      ],
    },
    {
      phase: 'shifting',
      abort: { status: 'rolling-back', phase: 'reverting' },
      forced: { status: 'aborted', phase: 'done', weight: 0 },
      effects: [
        { type: 'ensure-instances', version: '1.0.0', count: 2 },
        { type: 'set-traffic', weights: { '1.0.0': 100 } },
        { type: 'activate', version: '1.0.0' },
        { type: 'stop-instances', version: '1.1.0' },
      ],
    },
    {
      phase: 'after-switch',
      abort: { status: 'rolling-back', phase: 'reverting' },
      forced: { status: 'succeeded', phase: 'done', weight: 100 },
      effects: [
        { type: 'set-traffic', weights: { '1.1.0': 100, '1.0.0': 0 } },
        { type: 'activate', version: '1.1.0' },
        { type: 'stop-instances', version: '1.0.0' },
      ],
    },
    {
      phase: 'retiring',
      abort: /all traffic is on 1\.1\.0 already .* ferry abort hello --env production --force/,
      forced: { status: 'succeeded', phase: 'done', weight: 100 },
      effects: [
        { type: 'set-traffic', weights: { '1.1.0': 100, '1.0.0': 0 } },
        { type: 'activate', version: '1.1.0' },
        { type: 'stop-instances', version: '1.0.0' },
        {
          type: 'mark-release',
          version: '1.1.0',
          verdict: 'good',
          reason: 'deployment d1 succeeded (ended at once by ops (forced) while 1.0.0 retired)',
        },
      ],
    },
    {
      phase: 'reverting',
      abort:
        /already going back to 1\.0\.0; finish the revert at once with: ferry abort hello --env production --force/,
      forced: { status: 'rolled-back', phase: 'done', weight: 0 },
      effects: [
        { type: 'ensure-instances', version: '1.0.0', count: 2 },
        { type: 'set-traffic', weights: { '1.0.0': 100 } },
        { type: 'activate', version: '1.0.0' },
        { type: 'stop-instances', version: '1.1.0' },
      ],
    },
    {
      phase: 'replacing',
      abort: { status: 'rolling-back', phase: 'reverting' },
      forced: { status: 'aborted', phase: 'done' },
      effects: [{ type: 'trim-instances', version: '1.1.0', exclude: ['old-a', 'old-b'], count: 0 }],
    },
  ];

  it.each(table)('$phase: abort, and abort --force', ({ phase, abort: aborted, forced, effects }) => {
    const start = reach[phase]();
    if (aborted instanceof RegExp) {
      expect(commandError(start, 'abort')).toMatch(aborted);
      expect(step(start, abort, 100).state).toBe(start);
    } else {
      expect(step(start, abort, 100).state).toMatchObject(aborted);
    }
    expect(commandError(start, 'abort', { force: true })).toBeNull();
    const out = step(start, force, 100);
    expect(out.state).toMatchObject({ ...forced, retry: null });
    expect(out.effects.filter((e) => e.type !== 'record')).toEqual(effects);
    expect(out.effects[0]).toMatchObject({
      type: 'record',
      message: expect.stringMatching(/^ended at once by ops \(forced\)/),
    });
  });

  it('a forced end in after-switch leaves the release unmarked: its hook did not finish', () => {
    const out = step(reach['after-switch'](), force, 100);
    expect(out.effects.some((e) => e.type === 'mark-release')).toBe(false);
    expect(out.effects).toContainEqual({
      type: 'record',
      message: '1.1.0 is not marked good: its after_switch hook did not finish',
    });
  });

  it('a forced end does not wait: a failing retire reported later changes nothing', () => {
    const stuck = step(
      reach.retiring(),
      { type: 'retire-failed', version: '1.0.0', failure: routerGone },
      100,
    ).state;
    const ended = step(stuck, force, 200).state;
    expect(step(ended, { type: 'retire-failed', version: '1.0.0', failure: routerGone }, 300).state).toBe(
      ended,
    );
    expect(step(ended, { type: 'tick' }, 60_000).state).toBe(ended);
  });

  it('messages name only commands that apply', () => {
    const state = plan(blueGreen);
    expect(commandError(state, 'resume')).toMatch(/is pending .*only a paused deployment/);
    expect(commandError({ ...state, status: 'succeeded', phase: 'done' }, 'abort')).toMatch(/it has ended/);
    for (const phase of ['retiring', 'reverting'] as const)
      expect(commandError(reach[phase](), 'abort')).not.toMatch(/rollback/);
  });
});
