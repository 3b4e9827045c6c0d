import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canaryWeightError, isCanaryWeight } from './canary-weight.js';
import { describeProgress, upgradeDeploymentState } from './create.js';
import { step } from './step.js';
import { allAtOnce, blueGreen, canary, drive, obs, observed, plan, traffic } from './test-support/drive.js';
import type { DeploymentState, EngineEvent } from './types.js';

const begin: [number, EngineEvent] = [0, { type: 'begin' }];
const installed: [number, EngineEvent] = [10, { type: 'installed' }];
const healthy: [number, EngineEvent] = [20, observed(obs('1.1.0', 2))];

/** Canary step 1 of 2 (10%, 30 s pause, min 20 requests, 5%, 5 min max wait), entered at 20. */
const inFirstStep = (): DeploymentState => drive(plan(canary), [begin, installed, healthy]).state;

const setWeight = (weight: number, actor = 'alice'): EngineEvent => ({ type: 'set-weight', weight, actor });

const SET_AT = 10_020;
const PAUSE = 30_000;
const MAX_WAIT = 300_000;

describe('ferry canary --weight: where it applies', () => {
  const table: Array<{ state: string; reach: () => DeploymentState; error: RegExp | null }> = [
    { state: 'a running canary step', reach: inFirstStep, error: null },
    {
      state: 'a paused canary step',
      reach: () => drive(inFirstStep(), [[100, { type: 'command', command: 'pause' }]]).state,
      error: null,
    },
    {
      state: 'a canary installing',
      reach: () => drive(plan(canary), [begin]).state,
      error:
        /is running \(phase installing\): its first canary step begins once 1\.1\.0 is healthy .*; to end it: ferry abort hello --env production$/,
    },
    {
      state: 'a canary starting',
      reach: () => drive(plan(canary), [begin, installed]).state,
      error: /phase starting\): its first canary step begins once 1\.1\.0 is healthy/,
    },
    {
      state: 'a canary promoted (old release retiring)',
      reach: () => drive(inFirstStep(), [[100, { type: 'command', command: 'promote' }]]).state,
      error:
        /phase retiring\): its canary steps are over, all traffic is on 1\.1\.0; to go back: ferry abort hello --env production --force$/,
    },
    {
      state: 'a canary going back',
      reach: () => drive(inFirstStep(), [[100, { type: 'command', command: 'abort' }]]).state,
      error:
        /is rolling-back \(phase reverting\): it is going back to 1\.0\.0, .*: ferry abort hello --env production --force$/,
    },
    {
      state: 'a blue-green deployment',
      reach: () => drive(plan(blueGreen), [begin, installed]).state,
      error: /a blue-green deploy has no canary steps; to end it: ferry abort hello --env production$/,
    },
    {
      state: 'an all-at-once deployment',
      reach: () => drive(plan(allAtOnce), [begin, installed]).state,
      error: /an? all-at-once deploy has no canary steps/,
    },
    {
      state: 'a finished canary',
      reach: () =>
        drive(inFirstStep(), [
          [100, { type: 'command', command: 'promote' }],
          [200, { type: 'retired', version: '1.0.0' }],
        ]).state,
      error: /is succeeded \(phase done\): it has ended; no canary share to set$/,
    },
  ];

  it.each(table)('$state', ({ reach, error }) => {
    const start = reach();
    const answer = canaryWeightError(start);
    if (error === null) {
      expect(answer).toBeNull();
      expect(step(start, setWeight(50), SET_AT).state.weight).toBe(50);
    } else {
      expect(answer).toMatch(error);
      // Refused states change nothing, whatever the weight.
      expect(step(start, setWeight(50), SET_AT)).toEqual({ state: start, effects: [] });
    }
  });

  const weights: Array<[number, boolean]> = [
    [0, false],
    [-5, false],
    [0.5, true],
    [1, true],
    [30, true],
    [100, true],
    [100.5, false],
    [Number.NaN, false],
    [Number.POSITIVE_INFINITY, false],
  ];
  it.each(weights)('weight %d is a canary share: %s', (weight, ok) => {
    expect(isCanaryWeight(weight)).toBe(ok);
    const start = inFirstStep();
    const out = step(start, setWeight(weight), SET_AT);
    if (ok) expect(out.state.weight).toBe(weight);
    else expect(out.state).toBe(start);
  });
});

describe('ferry canary --weight: the step starts over at the new share', () => {
  it('moves the traffic, reopens the analysis window and records who did it', () => {
    const { state, effects } = drive(inFirstStep(), [[SET_AT, setWeight(50)]]);
    expect(state).toMatchObject({
      status: 'running',
      phase: 'shifting',
      step: 0,
      weight: 50,
      phaseSince: SET_AT,
      weightOverride: { actor: 'alice', at: SET_AT },
    });
    expect(effects.filter((e) => e.type !== 'record')).toEqual([
      { type: 'set-traffic', weights: { '1.1.0': 50, '1.0.0': 50 } },
      { type: 'open-window' },
    ]);
    expect(effects[0]).toEqual({
      type: 'record',
      message:
        "canary step 1 set to 50% by alice (was 10%, the step's own 10%): its pause of 30.0s and its analysis window start over at 50%",
      data: { weight: 50, previous: 10, actor: 'alice' },
    });
    expect(describeProgress(state)).toBe(
      "canary step 1/2 at 50% (set by alice; the step's own weight is 10%)",
    );
  });

  it('passes only a full pause after the change, on the new window', () => {
    const set = drive(inFirstStep(), [[SET_AT, setWeight(50)]]).state;
    expect(step(set, traffic(10_000), SET_AT + PAUSE - 1).state).toMatchObject({ step: 0, weight: 50 });
    const { state, records } = drive(set, [[SET_AT + PAUSE, traffic(40, 1)]]);
    expect(records).toContain('canary step 1 passed: 1/40 errors (2.5%)');
    // The next step has its own weight again.
    expect(state).toMatchObject({ step: 1, weight: 50, weightOverride: null });
  });

  it('the next step goes back to its own weight, even below the one set', () => {
    const { state, effects } = drive(inFirstStep(), [
      [SET_AT, setWeight(80)],
      [SET_AT + PAUSE, traffic(100)],
    ]);
    expect(state).toMatchObject({ step: 1, weight: 50, weightOverride: null });
    expect(effects.at(-2)).toEqual({ type: 'set-traffic', weights: { '1.1.0': 50, '1.0.0': 50 } });
  });

  it('short of min_requests, the wait for traffic counts from the new pause: max_wait after it', () => {
    const waited = drive(inFirstStep(), [[30_020, traffic(7)]]).state;
    expect(waited.waitingForTraffic).toBe(true);
    const set = drive(waited, [[40_000, setWeight(30)]]);
    expect(set.state.waitingForTraffic).toBe(false);
    const { state, records } = drive(set.state, [
      [40_000 + PAUSE, traffic(7)],
      [40_000 + PAUSE + MAX_WAIT - 1, traffic(7)],
    ]);
    expect(records).toContain('step 1: 7/20 requests so far; waiting up to 5m00s for enough traffic');
    expect(state.status).toBe('running');
    const late = step(state, traffic(7), 40_000 + PAUSE + MAX_WAIT);
    expect(late.state).toMatchObject({ status: 'paused', pauseReason: { kind: 'inconclusive' } });
    expect(late.effects.at(-1)).toMatchObject({
      message: expect.stringMatching(/^canary step 1 at 30% is inconclusive: 7\/20 requests in 5m30s/),
    });
  });

  it('errors still fail the step at once, at the new share', () => {
    const { state } = drive(inFirstStep(), [
      [SET_AT, setWeight(50)],
      [SET_AT + 100, traffic(20, 5)],
    ]);
    expect(state.status).toBe('rolling-back');
    expect(state.failure?.message).toMatch(/^canary step 1 at 50%: 5\/20 errors/);
    expect(state.weightOverride).toBeNull();
  });

  it('an operator pause stays: the step starts over when resumed', () => {
    const paused = drive(inFirstStep(), [[20_020, { type: 'command', command: 'pause' }]]).state;
    expect(paused.pausedRemainingMs).toBe(10_000);
    const { state, records } = drive(paused, [[50_000, setWeight(50)]]);
    expect(state).toMatchObject({
      status: 'paused',
      weight: 50,
      pausedRemainingMs: PAUSE,
      pauseReason: { kind: 'request' },
    });
    expect(records.at(-1)).toMatch(/; still paused: `ferry resume hello --env production` runs it$/);
    const resumed = drive(state, [[90_000, { type: 'command', command: 'resume' }]]).state;
    expect(resumed).toMatchObject({ status: 'running', phaseSince: 90_000, weight: 50 });
    expect(step(resumed, traffic(100), 90_000 + PAUSE - 1).state.step).toBe(0);
    expect(step(resumed, traffic(100), 90_000 + PAUSE).state.step).toBe(1);
  });

  it('after an inconclusive pause, resume runs the step again at the new share instead of accepting it', () => {
    const inconclusive = drive(inFirstStep(), [
      [30_020, traffic(7)],
      [30_020 + MAX_WAIT, traffic(7)],
    ]).state;
    expect(inconclusive.pauseReason?.kind).toBe('inconclusive');
    const set = step(inconclusive, setWeight(90), 400_000).state;
    expect(set).toMatchObject({
      status: 'paused',
      pauseReason: { kind: 'request' },
      pausedRemainingMs: PAUSE,
    });
    expect(describeProgress(set)).toBe(
      "canary step 1/2 at 90% (set by alice; the step's own weight is 10%) (paused)",
    );
    const resumed = drive(set, [[500_000, { type: 'command', command: 'resume' }]]);
    expect(resumed.records.some((r) => r.includes('accepted'))).toBe(false);
    expect(resumed.state).toMatchObject({ status: 'running', step: 0, weight: 90, phaseSince: 500_000 });
  });

  it('meant for a step that has ended, it leaves the step that runs now at its own weight', () => {
    const start = inFirstStep();
    const meantForStep0: EngineEvent = { type: 'set-weight', weight: 80, actor: 'alice', step: 0 };
    const later = { ...start, step: 1, weight: 50 };
    const out = step(later, meantForStep0, SET_AT);
    expect(out.state).toEqual(later);
    expect(out.effects).toEqual([
      { type: 'record', message: '80% asked by alice for canary step 1 not applied: step 2 runs now' },
    ]);
    expect(step(start, meantForStep0, SET_AT).state.weight).toBe(80);
  });

  it('the same weight again changes nothing, on the record', () => {
    const start = inFirstStep();
    const out = step(start, setWeight(10, 'bob'), SET_AT);
    expect(out.state).toBe(start);
    expect(out.effects).toEqual([
      { type: 'record', message: 'canary step 1 is at 10% already (asked by bob); nothing changed' },
    ]);
  });

  it('promote and abort clear it; the state says whose weight the step runs', () => {
    const set = drive(inFirstStep(), [[SET_AT, setWeight(50)]]).state;
    expect(step(set, { type: 'command', command: 'promote' }, SET_AT + 1).state).toMatchObject({
      weight: 100,
      weightOverride: null,
    });
    expect(step(set, { type: 'command', command: 'abort' }, SET_AT + 1).state.weightOverride).toBeNull();
    expect(
      step(set, { type: 'command', command: 'abort', force: true }, SET_AT + 1).state.weightOverride,
    ).toBeNull();
  });

  it('survives a daemon restart: the persisted state resumes at the weight set', () => {
    const set = drive(inFirstStep(), [[SET_AT, setWeight(50)]]).state;
    const persisted = upgradeDeploymentState(JSON.parse(JSON.stringify(set)) as DeploymentState);
    const { state, effects } = step(persisted, { type: 'recover' }, 60_000);
    expect(state).toMatchObject({ weight: 50, weightOverride: { actor: 'alice', at: SET_AT } });
    expect(effects).toContainEqual({ type: 'set-traffic', weights: { '1.1.0': 50, '1.0.0': 50 } });
    expect(effects).toContainEqual({ type: 'open-window' });
  });

  it('never passes a step sooner than a full pause after the weight changed', () => {
    fc.assert(
      fc.property(
        // Another weight than the step's 10%: the same one changes nothing.
        fc.integer({ min: 1, max: 100 }).filter((w) => w !== 10),
        fc.integer({ min: 20, max: 1_000_000 }),
        fc.integer({ min: 0, max: PAUSE - 1 }),
        fc.integer({ min: 0, max: 100_000 }),
        (weight, at, after, requests) => {
          const set = step(inFirstStep(), setWeight(weight), at).state;
          const next = step(set, traffic(requests), at + after).state;
          return next.step === 0 && next.phase === 'shifting';
        },
      ),
    );
  });
});
