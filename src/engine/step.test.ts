import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { step } from './step.js';
import { allAtOnce, blueGreen, canary, drive, obs, observed, plan } from './test-support/drive.js';
import type { EngineEvent, ReleaseObservation } from './types.js';

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
    expect(types).toEqual(['set-traffic', 'activate', 'retire']);
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

describe('invariants (property)', () => {
  const event = fc.oneof(
    fc.constant<EngineEvent>({ type: 'installed' }),
    fc.constantFrom<EngineEvent>(
      { type: 'command', command: 'pause' },
      { type: 'command', command: 'resume' },
      { type: 'command', command: 'promote' },
      { type: 'command', command: 'abort' },
      { type: 'recover' },
      { type: 'tick' },
      { type: 'tick', unobserved: 'router unreachable' },
      { type: 'retired', version: '1.0.0' },
      { type: 'retired', version: '1.1.0' },
      {
        type: 'retire-failed',
        version: '1.0.0',
        failure: { code: 'FERRY_E_ROUTER_UNREACHABLE', message: 'gone' },
      },
      {
        type: 'retire-failed',
        version: '1.1.0',
        failure: { code: 'FERRY_E_ROUTER_UNREACHABLE', message: 'gone' },
      },
      {
        type: 'effect-failed',
        effect: 'set-traffic',
        failure: { code: 'FERRY_E_ROUTER_UNREACHABLE', message: 'gone' },
      },
      { type: 'hook-passed', hook: 'after_switch' },
      {
        type: 'hook-failed',
        hook: 'after_switch',
        failure: { code: 'FERRY_E_HOOK_FAILED', message: 'exit 3' },
      },
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
  const plans = fc
    .tuple(
      fc.constantFrom(canary, blueGreen, allAtOnce),
      fc.boolean(),
      fc.constantFrom('deploy' as const, 'rollback' as const),
    )
    .map(([strategy, afterSwitchHook, kind]) => plan(strategy, '1.0.0', { afterSwitchHook, kind }));

  it('weights stay within 0..100, a release is never marked both good and bad, final states never change', () => {
    fc.assert(
      fc.property(plans, fc.array(fc.tuple(fc.nat(40_000), event), { maxLength: 40 }), (start, events) => {
        let state = step(start, { type: 'begin' }, 0).state;
        let now = 0;
        const verdicts = new Map<string, Set<string>>();
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
            if (effect.type === 'mark-release' && effect.verdict !== 'rolled-back') {
              const seen = verdicts.get(effect.version) ?? new Set<string>();
              verdicts.set(effect.version, seen.add(effect.verdict));
            }
          }
          state = out.state;
        }
        for (const seen of verdicts.values()) expect(seen.size).toBe(1);
      }),
      { numRuns: 500 },
    );
  });

  it('an operator can always end a deployment: a forced abort makes any reached state final at once', () => {
    fc.assert(
      fc.property(plans, fc.array(fc.tuple(fc.nat(40_000), event), { maxLength: 40 }), (start, events) => {
        let state = step(start, { type: 'begin' }, 0).state;
        let now = 0;
        for (const [dt, e] of events) {
          now += dt;
          state = step(state, e, now).state;
        }
        const ended = step(state, { type: 'command', command: 'abort', force: true, actor: 'ops' }, now + 1);
        expect(['succeeded', 'failed', 'rolled-back', 'aborted']).toContain(ended.state.status);
        expect(ended.state.phase).toBe('done');
      }),
      { numRuns: 500 },
    );
  });
});
