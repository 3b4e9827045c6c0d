import { describe, expect, it } from 'vitest';
import { judgeWindow, type WindowVerdict } from './analysis.js';
import { describeProgress } from './create.js';
import { step } from './step.js';
import { canary, drive, obs, observed, plan, traffic } from './test-support/drive.js';
import type { AnalysisSpec, DeploymentState, EngineEvent, StrategySpec } from './types.js';

const healthyCanary: Array<[number, EngineEvent]> = [
  [0, { type: 'begin' }],
  [10, { type: 'installed' }],
  [20, observed(obs('1.1.0', 2))],
];

/** A canary in its first step (10%, 30 s pause, min 20 requests, 5%, 5 min max wait), entered at 20. */
function inFirstStep(strategy: StrategySpec = canary): DeploymentState {
  return drive(plan(strategy), healthyCanary).state;
}

function withAnalysis(analysis: Partial<AnalysisSpec>): StrategySpec {
  return { ...canary, analysis: { ...canary.analysis, ...analysis } };
}

const PAUSE_END = 20 + 30_000;
const WAIT_END = PAUSE_END + 300_000;

describe('canary analysis: a window is judged on evidence', () => {
  const table: Array<[requests: number, errors: number, verdict: WindowVerdict]> = [
    [0, 0, 'short'],
    [19, 0, 'short'],
    [19, 1, 'short'], // 1/20 = 5%: at the maximum, not above it
    [10, 10, 'failing'], // 10/max(10, 20) = 50%
    [7, 2, 'failing'], // 2/20 = 10%
    [20, 0, 'enough'],
    [20, 1, 'enough'],
    [20, 2, 'failing'],
    [1000, 50, 'enough'],
    [1000, 51, 'failing'],
  ];
  it.each(table)('%i requests with %i errors (min 20, max 5%%): %s', (requests, errors, verdict) => {
    expect(judgeWindow({ requests, errors }, canary.analysis)).toBe(verdict);
  });

  it('min_requests 0 lets a step pass on no traffic (the operator asked for it)', () => {
    expect(judgeWindow({ requests: 0, errors: 0 }, { ...canary.analysis, minRequests: 0 })).toBe('enough');
  });
});

describe('canary steps', () => {
  it('walk the steps with their pauses and enough requests, then switch 100%', () => {
    const { state, effects, records } = drive(plan(canary), [
      ...healthyCanary,
      [20_000, traffic(100, 1)],
      [30_020, traffic(200, 2)],
      [60_019, traffic(100, 0)],
      [60_020, traffic(100, 0)],
      [60_030, { type: 'retired', version: '1.0.0' }],
    ]);
    const weights = effects.flatMap((e) => (e.type === 'set-traffic' ? [e.weights['1.1.0']] : []));
    expect(weights).toEqual([0, 10, 50, 100]);
    expect(effects.filter((e) => e.type === 'open-window')).toHaveLength(2);
    expect(records).toContain('canary step 1 passed: 2/200 errors (1.0%)');
    expect(state.status).toBe('succeeded');
  });

  it('with no traffic, never passes a step: absence of evidence is not success', () => {
    const { state, records } = drive(inFirstStep(), [
      [PAUSE_END, traffic(0)],
      [PAUSE_END + 100_000, traffic(0)],
    ]);
    expect(state).toMatchObject({ phase: 'shifting', step: 0, weight: 10, waitingForTraffic: true });
    expect(records).toContain('step 1: 0/20 requests so far; waiting up to 5m00s for enough traffic');
    expect(records.some((r) => r.includes('passed'))).toBe(false);
  });

  it('a release failing 90% of its requests never reaches 100% on light traffic: it fails at once', () => {
    const { state, effects } = drive(inFirstStep(), [[5_000, traffic(10, 10)]]);
    expect(state.status).toBe('rolling-back');
    expect(state.failure).toMatchObject({
      code: 'FERRY_E_ANALYSIS_FAILED',
      evidence: { traffic: { requests: 10, errors: 10 } },
    });
    expect(state.failure?.message).toMatch(/10\/10 errors \(100\.0%\) is above 5\.0%/);
    expect(effects).toContainEqual(expect.objectContaining({ type: 'mark-release', verdict: 'bad' }));
    expect(effects.some((e) => e.type === 'set-traffic' && e.weights['1.1.0'] === 100)).toBe(false);
  });

  it('rolls back as soon as the error rate is over the threshold, with the traffic as evidence', () => {
    const { state } = drive(inFirstStep(), [[5_000, traffic(40, 30)]]);
    expect(state.status).toBe('rolling-back');
    expect(state.failure?.evidence?.traffic).toEqual({ requests: 40, errors: 30 });
  });

  it('short of min_requests when its pause ends, a step waits and passes once enough requests arrive', () => {
    const { state, records } = drive(inFirstStep(), [
      [PAUSE_END, traffic(7)],
      [PAUSE_END + 60_000, traffic(19)],
      [PAUSE_END + 60_100, traffic(20)],
    ]);
    expect(records).toContain('step 1: 7/20 requests so far; waiting up to 5m00s for enough traffic');
    expect(records.filter((r) => r.includes('waiting up to'))).toHaveLength(1);
    expect(records).toContain('canary step 1 passed: 0/20 errors (0.0%)');
    expect(state).toMatchObject({ step: 1, weight: 50, waitingForTraffic: false });
  });

  it('does not pass before its pause ends, however much traffic it saw', () => {
    const { state } = drive(inFirstStep(), [[PAUSE_END - 1, traffic(10_000)]]);
    expect(state).toMatchObject({ step: 0, weight: 10 });
  });

  it('pause keeps the step (the timer stops), resume continues where it was', () => {
    const paused = drive(inFirstStep(), [[10_020, { type: 'command', command: 'pause', actor: 'ops' }]]);
    expect(paused.state).toMatchObject({ status: 'paused', pausedRemainingMs: 20_000 });
    expect(paused.state.pauseReason).toEqual({ kind: 'request' });
    expect(paused.records).toContain('paused by ops');
    const later = drive(paused.state, [[500_000, traffic(100)]]);
    expect(later.state.weight).toBe(10);
    const resumed = drive(later.state, [
      [600_000, { type: 'command', command: 'resume' }],
      [619_999, traffic(100)],
    ]);
    expect(resumed.state.weight).toBe(10);
    const next = drive(resumed.state, [[620_000, traffic(100)]]);
    expect(next.state.weight).toBe(50);
  });

  it('promote skips the remaining steps, also from a pause', () => {
    const paused = drive(inFirstStep(), [[100, { type: 'command', command: 'pause' }]]).state;
    const { state, effects } = drive(paused, [[200, { type: 'command', command: 'promote' }]]);
    expect(state).toMatchObject({ phase: 'retiring', status: 'running', weight: 100 });
    expect(effects).toContainEqual({ type: 'set-traffic', weights: { '1.1.0': 100, '1.0.0': 0 } });
  });

  it('abort goes back to the previous release and ends aborted, without marking the release bad', () => {
    const aborted = drive(inFirstStep(), [[100, { type: 'command', command: 'abort' }]]);
    const { state, effects } = drive(aborted.state, [
      [110, observed(obs('1.1.0', 2), obs('1.0.0', 2))],
      [120, { type: 'retired', version: '1.1.0' }],
    ]);
    expect(state.status).toBe('aborted');
    expect([...aborted.effects, ...effects].some((e) => e.type === 'mark-release')).toBe(false);
  });

  it('the first deployment of an app skips the canary steps, saying why', () => {
    const { state, records, effects } = drive(plan(canary, null), [
      [0, { type: 'begin' }],
      [10, { type: 'installed' }],
      [20, observed(obs('1.1.0', 2), null)],
    ]);
    expect(records).toContain(
      'first deployment of hello in production: no previous release to compare a canary against, so its steps are skipped',
    );
    expect(effects.some((e) => e.type === 'open-window')).toBe(false);
    expect(state.status).toBe('succeeded');
  });
});

describe('an inconclusive canary step (too few requests by max_wait)', () => {
  const inconclusive = () =>
    drive(inFirstStep(), [
      [PAUSE_END, traffic(7)],
      [WAIT_END - 1, traffic(7)],
      [WAIT_END, traffic(7)],
    ]);

  it('pauses by default, with an event and a visible reason', () => {
    const { state, records } = inconclusive();
    expect(state).toMatchObject({ status: 'paused', phase: 'shifting', weight: 10 });
    expect(state.pauseReason).toEqual({ kind: 'inconclusive', traffic: { requests: 7, errors: 0 } });
    expect(records.at(-1)).toMatch(
      /^canary step 1 at 10% is inconclusive: 7\/20 requests in 5m30s, too few to judge; paused: `ferry resume hello --env production` accepts the step/,
    );
    expect(describeProgress(state)).toBe(
      'canary step 1/2 at 10% (paused: too few requests to judge, 7/20 requests; resume accepts the step, promote goes to 100%, abort rolls back)',
    );
  });

  it('stays paused however long it waits, but still fails at once on errors', () => {
    const paused = inconclusive().state;
    expect(step(paused, traffic(7), WAIT_END + 3_600_000).state).toBe(paused);
    expect(step(paused, traffic(8, 2), WAIT_END + 10).state.status).toBe('rolling-back');
  });

  it('resume accepts the step as passed, recorded with who and how little evidence', () => {
    const { state, records } = drive(inconclusive().state, [
      [WAIT_END + 10, { type: 'command', command: 'resume', actor: 'alice' }],
    ]);
    expect(records).toContain('canary step 1 accepted by alice without enough evidence (7/20 requests)');
    expect(state).toMatchObject({ status: 'running', step: 1, weight: 50, pauseReason: null });
  });

  it('promote goes to 100%; abort rolls back', () => {
    const paused = inconclusive().state;
    expect(step(paused, { type: 'command', command: 'promote' }, WAIT_END + 10).state).toMatchObject({
      phase: 'retiring',
      weight: 100,
    });
    expect(step(paused, { type: 'command', command: 'abort' }, WAIT_END + 10).state).toMatchObject({
      status: 'rolling-back',
      revertReason: 'abort',
    });
  });

  it('with inconclusive: fail, rolls back with FERRY_E_ANALYSIS_INCONCLUSIVE, not calling the release bad', () => {
    const { state, effects } = drive(inFirstStep(withAnalysis({ inconclusive: 'fail' })), [
      [PAUSE_END, traffic(7)],
      [WAIT_END, traffic(7)],
    ]);
    expect(state.status).toBe('rolling-back');
    expect(state.failure).toMatchObject({
      code: 'FERRY_E_ANALYSIS_INCONCLUSIVE',
      evidence: { traffic: { requests: 7, errors: 0 } },
    });
    expect(effects.some((e) => e.type === 'mark-release')).toBe(false);
  });

  it('the deadline holds when the router cannot be read: inconclusive, saying so', () => {
    const { state, records } = drive(inFirstStep(), [
      [PAUSE_END + 5, { type: 'tick', unobserved: 'router control socket: ECONNREFUSED' }],
      [WAIT_END, { type: 'tick', unobserved: 'router control socket: ECONNREFUSED' }],
    ]);
    expect(state.status).toBe('paused');
    expect(state.pauseReason).toEqual({ kind: 'inconclusive', traffic: null });
    expect(records.at(-1)).toMatch(
      /the router's counters could not be read \(router control socket: ECONNREFUSED\)/,
    );
  });
});
