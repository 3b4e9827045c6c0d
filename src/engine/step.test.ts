import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { commandError } from './commands.js';
import { createDeployment } from './create.js';
import { step } from './step.js';
import type {
  DeploymentState,
  EngineEffect,
  EngineEvent,
  ReleaseObservation,
  StrategySpec,
} from './types.js';

const canary: StrategySpec = {
  kind: 'canary',
  healthDeadlineMs: 10_000,
  steps: [
    { weight: 10, pauseMs: 30_000 },
    { weight: 50, pauseMs: 30_000 },
  ],
  analysis: { maxErrorRate: 0.05, minRequests: 20, maxWaitMs: 300_000, inconclusive: 'pause' },
};
const blueGreen: StrategySpec = { kind: 'blue-green', healthDeadlineMs: 10_000 };
const allAtOnce: StrategySpec = { kind: 'all-at-once', healthDeadlineMs: 10_000 };

function plan(strategy: StrategySpec, from: string | null = '1.0.0'): DeploymentState {
  return createDeployment(
    { id: 'd1', app: 'hello', env: 'production', kind: 'deploy', from, to: '1.1.0', strategy, instances: 2 },
    0,
  );
}

function obs(version: string, healthy: number, failed = 0): ReleaseObservation {
  return { version, desired: 2, running: healthy + failed, healthy, failed };
}

function observed(
  target: ReleaseObservation,
  previous: ReleaseObservation | null = obs('1.0.0', 2),
  requests = 0,
  errors = 0,
): EngineEvent {
  return { type: 'observed', target, previous, traffic: { requests, errors } };
}

/** Runs events through the engine, collecting every effect. */
function drive(start: DeploymentState, events: Array<[number, EngineEvent]>) {
  let state = start;
  const effects: EngineEffect[] = [];
  for (const [now, event] of events) {
    const out = step(state, event, now);
    state = out.state;
    effects.push(...out.effects);
  }
  return { state, effects, types: effects.filter((e) => e.type !== 'record').map((e) => e.type) };
}

describe('blue-green', () => {
  it('installs, starts, waits for all instances healthy, switches 100%, retires the old, marks good', () => {
    const { state, effects, types } = drive(plan(blueGreen), [
      [0, { type: 'begin' }],
      [10, { type: 'installed' }],
      [20, observed(obs('1.1.0', 1))],
      [30, observed(obs('1.1.0', 2))],
      [40, { type: 'retired', version: '1.0.0' }],
    ]);
    expect(types).toEqual([
      'install',
      'ensure-instances',
      'set-traffic',
      'set-traffic',
      'retire',
      'mark-release',
    ]);
    expect(effects).toContainEqual({ type: 'set-traffic', weights: { '1.1.0': 100, '1.0.0': 0 } });
    expect(effects).toContainEqual(
      expect.objectContaining({ type: 'mark-release', version: '1.1.0', verdict: 'good' }),
    );
    expect(state.status).toBe('succeeded');
  });

  it('rolls back when the new release is not healthy by the deadline, keeping evidence and marking it bad', () => {
    const target: ReleaseObservation = {
      ...obs('1.1.0', 0),
      running: 2,
      evidence: { health: 'GET /healthz -> 503 "unhealthy build"' },
    };
    const { state, effects } = drive(plan(blueGreen), [
      [0, { type: 'begin' }],
      [10, { type: 'installed' }],
      [5_000, observed(target)],
      [10_011, observed(target)],
    ]);
    expect(state.status).toBe('rolling-back');
    expect(state.failure?.code).toBe('FERRY_E_HEALTH_TIMEOUT');
    expect(state.failure?.evidence?.health).toContain('503');
    expect(effects).toContainEqual(
      expect.objectContaining({ type: 'mark-release', version: '1.1.0', verdict: 'bad' }),
    );
    // The new release never got traffic: the only weights ever set give it 0.
    const weights = effects
      .filter((e) => e.type === 'set-traffic')
      .map((e) => (e.type === 'set-traffic' ? e.weights['1.1.0'] : -1));
    expect(weights.every((w) => w === 0)).toBe(true);
  });

  it('finishes a revert once the old release is healthy and the new one retired', () => {
    const failing = drive(plan(blueGreen), [
      [0, { type: 'begin' }],
      [10, { type: 'installed' }],
      [20, observed(obs('1.1.0', 0, 1))],
    ]);
    const { state, types } = drive(failing.state, [
      [30, observed(obs('1.1.0', 0, 1), obs('1.0.0', 2))],
      [40, { type: 'retired', version: '1.1.0' }],
    ]);
    expect(types).toEqual(['set-traffic', 'retire']);
    expect(state.status).toBe('rolled-back');
  });

  it('a first deployment that fails ends failed, with nothing serving', () => {
    const { state } = drive(plan(blueGreen, null), [
      [0, { type: 'begin' }],
      [10, { type: 'installed' }],
      [20, observed(obs('1.1.0', 0, 2), null)],
      [30, { type: 'retired', version: '1.1.0' }],
    ]);
    expect(state.status).toBe('failed');
  });

  it('an install failure changes nothing and fails', () => {
    const { state, types } = drive(plan(blueGreen), [
      [0, { type: 'begin' }],
      [10, { type: 'install-failed', failure: { code: 'FERRY_E_CHECKSUM_MISMATCH', message: 'mismatch' } }],
    ]);
    expect(state.status).toBe('failed');
    expect(types).toEqual(['install']);
  });
});

describe('canary', () => {
  const healthyCanary: Array<[number, EngineEvent]> = [
    [0, { type: 'begin' }],
    [10, { type: 'installed' }],
    [20, observed(obs('1.1.0', 2))],
  ];

  it('walks the steps with their pauses, then promotes to 100%', () => {
    const { state, effects } = drive(plan(canary), [
      ...healthyCanary,
      [20_000, observed(obs('1.1.0', 2), obs('1.0.0', 2), 100, 1)],
      [30_020, observed(obs('1.1.0', 2), obs('1.0.0', 2), 200, 2)],
      [60_019, observed(obs('1.1.0', 2), obs('1.0.0', 2), 100, 0)],
      [60_020, observed(obs('1.1.0', 2), obs('1.0.0', 2), 100, 0)],
      [60_030, { type: 'retired', version: '1.0.0' }],
    ]);
    const weights = effects.flatMap((e) => (e.type === 'set-traffic' ? [e.weights['1.1.0']] : []));
    expect(weights).toEqual([0, 10, 50, 100]);
    expect(effects.filter((e) => e.type === 'open-window')).toHaveLength(2);
    expect(state.status).toBe('succeeded');
  });

  it('rolls back as soon as the error rate is over the threshold, with the traffic as evidence', () => {
    const { state, effects } = drive(plan(canary), [
      ...healthyCanary,
      [5_000, observed(obs('1.1.0', 2), obs('1.0.0', 2), 40, 30)],
    ]);
    expect(state.status).toBe('rolling-back');
    expect(state.failure?.code).toBe('FERRY_E_ANALYSIS_FAILED');
    expect(state.failure?.evidence?.traffic).toEqual({ requests: 40, errors: 30 });
    expect(effects).toContainEqual(
      expect.objectContaining({ type: 'mark-release', version: '1.1.0', verdict: 'bad' }),
    );
  });

  it('does not fail on error rate with fewer requests than min_requests', () => {
    const { state } = drive(plan(canary), [
      ...healthyCanary,
      [5_000, observed(obs('1.1.0', 2), obs('1.0.0', 2), 10, 9)],
    ]);
    expect(state.status).toBe('running');
  });

  it('pause keeps the step (the timer stops), resume continues where it was', () => {
    const paused = drive(plan(canary), [...healthyCanary, [10_020, { type: 'command', command: 'pause' }]]);
    expect(paused.state.status).toBe('paused');
    expect(paused.state.pausedRemainingMs).toBe(20_000);
    const later = drive(paused.state, [[500_000, observed(obs('1.1.0', 2))]]);
    expect(later.state.weight).toBe(10);
    const resumed = drive(later.state, [
      [600_000, { type: 'command', command: 'resume' }],
      [619_999, observed(obs('1.1.0', 2))],
    ]);
    expect(resumed.state.weight).toBe(10);
    const next = drive(resumed.state, [[620_000, observed(obs('1.1.0', 2))]]);
    expect(next.state.weight).toBe(50);
  });

  it('promote skips the remaining steps', () => {
    const { state, effects } = drive(plan(canary), [
      ...healthyCanary,
      [100, { type: 'command', command: 'promote' }],
    ]);
    expect(state.phase).toBe('retiring');
    expect(effects).toContainEqual({ type: 'set-traffic', weights: { '1.1.0': 100, '1.0.0': 0 } });
  });

  it('abort goes back to the previous release and ends aborted, without marking the release bad', () => {
    const aborted = drive(plan(canary), [...healthyCanary, [100, { type: 'command', command: 'abort' }]]);
    const { state, effects } = drive(aborted.state, [
      [110, observed(obs('1.1.0', 2), obs('1.0.0', 2))],
      [120, { type: 'retired', version: '1.1.0' }],
    ]);
    expect(state.status).toBe('aborted');
    expect([...aborted.effects, ...effects].some((e) => e.type === 'mark-release')).toBe(false);
  });
});

describe('all-at-once', () => {
  it('stops the old release first, then starts the new one', () => {
    const { state, types } = drive(plan(allAtOnce), [
      [0, { type: 'begin' }],
      [10, { type: 'installed' }],
      [20, { type: 'retired', version: '1.0.0' }],
      [30, observed(obs('1.1.0', 2), obs('1.0.0', 0))],
    ]);
    expect(types).toEqual([
      'install',
      'retire',
      'ensure-instances',
      'set-traffic',
      'set-traffic',
      'mark-release',
    ]);
    expect(state.status).toBe('succeeded');
  });

  it('restarts the old release when the new one fails', () => {
    const failing = drive(plan(allAtOnce), [
      [0, { type: 'begin' }],
      [10, { type: 'installed' }],
      [20, { type: 'retired', version: '1.0.0' }],
      [30, observed(obs('1.1.0', 0, 1), obs('1.0.0', 0))],
    ]);
    expect(failing.effects).toContainEqual({ type: 'ensure-instances', version: '1.0.0', count: 2 });
    const { state } = drive(failing.state, [
      [40, observed(obs('1.1.0', 0, 1), obs('1.0.0', 2))],
      [50, { type: 'retired', version: '1.1.0' }],
    ]);
    expect(state.status).toBe('rolled-back');
  });
});

describe('recovery after a daemon restart', () => {
  it('re-issues the effects of each phase', () => {
    const starting = drive(plan(canary), [
      [0, { type: 'begin' }],
      [10, { type: 'installed' }],
    ]).state;
    expect(step(starting, { type: 'recover' }, 99).effects.map((e) => e.type)).toEqual([
      'record',
      'ensure-instances',
      'ensure-instances',
      'set-traffic',
    ]);
    const shifting = drive(starting, [[20, observed(obs('1.1.0', 2))]]).state;
    const recovered = step(shifting, { type: 'recover' }, 5_000);
    expect(recovered.state.phaseSince).toBe(5_000);
    expect(recovered.effects).toContainEqual({ type: 'set-traffic', weights: { '1.1.0': 10, '1.0.0': 90 } });
  });
});

describe('commands', () => {
  it('explain why they do not apply', () => {
    const state = plan(blueGreen);
    expect(commandError(state, 'resume')).toMatch(/is pending .*only a paused deployment/);
    expect(commandError({ ...state, status: 'running', phase: 'retiring' }, 'abort')).toMatch(/use rollback/);
  });
});

describe('invariants (property)', () => {
  const event = fc.oneof(
    fc.constant<EngineEvent>({ type: 'installed' }),
    fc.constantFrom<EngineEvent>(
      { type: 'command', command: 'pause' },
      { type: 'command', command: 'resume' },
      { type: 'command', command: 'promote' },
      { type: 'command', command: 'abort' },
      { type: 'recover' },
      { type: 'retired', version: '1.0.0' },
      { type: 'retired', version: '1.1.0' },
    ),
    fc
      .record({
        healthy: fc.integer({ min: 0, max: 2 }),
        failed: fc.integer({ min: 0, max: 1 }),
        requests: fc.nat(100),
        errors: fc.nat(100),
      })
      .map(({ healthy, failed, requests, errors }) =>
        observed(obs('1.1.0', healthy, failed), obs('1.0.0', 2), requests, Math.min(errors, requests)),
      ),
  );

  it('weights stay within 0..100, a release is never marked both good and bad, final states never change', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(canary, blueGreen, allAtOnce),
        fc.array(fc.tuple(fc.nat(40_000), event), { maxLength: 40 }),
        (strategy, events) => {
          let state = step(plan(strategy), { type: 'begin' }, 0).state;
          let now = 0;
          const verdicts = new Set<string>();
          for (const [dt, e] of events) {
            now += dt;
            const before = state;
            const out = step(state, e, now);
            if (['succeeded', 'failed', 'rolled-back', 'aborted'].includes(before.status))
              expect(out.state).toBe(before);
            for (const effect of out.effects) {
              if (effect.type === 'set-traffic')
                for (const w of Object.values(effect.weights)) expect(w).toBeGreaterThanOrEqual(0);
              if (effect.type === 'set-traffic')
                for (const w of Object.values(effect.weights)) expect(w).toBeLessThanOrEqual(100);
              if (effect.type === 'mark-release') verdicts.add(effect.verdict);
            }
            state = out.state;
          }
          expect(verdicts.size).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 500 },
    );
  });
});
