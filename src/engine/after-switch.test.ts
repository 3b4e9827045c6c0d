import { describe, expect, it } from 'vitest';
import { allAtOnce, blueGreen, canary, drive, obs, observed, plan } from './test-support/drive.js';
import type { EngineEvent } from './types.js';

const hookFailed: EngineEvent = {
  type: 'hook-failed',
  hook: 'after_switch',
  failure: { code: 'FERRY_E_HOOK_FAILED', message: 'after_switch hook failed: exit 3: exit status 3' },
};
const toSwitch: Array<[number, EngineEvent]> = [
  [0, { type: 'begin' }],
  [10, { type: 'installed' }],
  [20, observed(obs('1.1.0', 2))],
];

describe('the after_switch hook runs inside the deployment', () => {
  it('after 100% moved and `current` points at the new release, before the old release retires', () => {
    const { state, effects } = drive(plan(blueGreen, '1.0.0', { afterSwitchHook: true }), toSwitch);
    expect(state).toMatchObject({ phase: 'after-switch', status: 'running', weight: 100 });
    const types = effects.filter((e) => e.type !== 'record').map((e) => e.type);
    expect(types.slice(-3)).toEqual(['set-traffic', 'activate', 'run-hook']);
    expect(effects).toContainEqual({ type: 'run-hook', hook: 'after_switch', version: '1.1.0' });
    expect(effects.some((e) => e.type === 'retire')).toBe(false);
  });

  it('when it passes, the old release retires and the deployment succeeds', () => {
    const { state, effects } = drive(plan(blueGreen, '1.0.0', { afterSwitchHook: true }), [
      ...toSwitch,
      [30, { type: 'hook-passed', hook: 'after_switch' }],
      [40, { type: 'retired', version: '1.0.0' }],
    ]);
    expect(effects).toContainEqual({ type: 'retire', version: '1.0.0' });
    expect(state.status).toBe('succeeded');
  });

  it('when it fails, traffic goes back to the old release (still running) and the new one is marked bad', () => {
    const failed = drive(plan(blueGreen, '1.0.0', { afterSwitchHook: true }), [
      ...toSwitch,
      [30, hookFailed],
    ]);
    expect(failed.state).toMatchObject({ status: 'rolling-back', phase: 'reverting' });
    expect(failed.state.failure?.code).toBe('FERRY_E_HOOK_FAILED');
    expect(failed.effects).toContainEqual({
      type: 'mark-release',
      version: '1.1.0',
      verdict: 'bad',
      reason: 'after_switch hook failed: exit 3: exit status 3',
    });
    const back = drive(failed.state, [
      [40, observed(obs('1.1.0', 2), obs('1.0.0', 2))],
      [50, { type: 'retired', version: '1.1.0' }],
    ]);
    expect(back.effects.filter((e) => e.type !== 'record')).toEqual([
      { type: 'set-traffic', weights: { '1.0.0': 100 } },
      { type: 'activate', version: '1.0.0' },
      { type: 'retire', version: '1.1.0' },
    ]);
    expect(back.state.status).toBe('rolled-back');
  });

  it('in all-at-once, a failing hook starts the old release again before traffic goes back', () => {
    const failed = drive(plan(allAtOnce, '1.0.0', { afterSwitchHook: true }), [
      [0, { type: 'begin' }],
      [10, { type: 'installed' }],
      [20, { type: 'retired', version: '1.0.0' }],
      [30, observed(obs('1.1.0', 2), obs('1.0.0', 0))],
      [40, hookFailed],
    ]);
    expect(failed.effects.at(-1)).toEqual({ type: 'ensure-instances', version: '1.0.0', count: 2 });
  });

  it('a canary runs it after its last step', () => {
    const { state } = drive(plan(canary, '1.0.0', { afterSwitchHook: true }), [
      ...toSwitch,
      [30, { type: 'command', command: 'promote' }],
    ]);
    expect(state.phase).toBe('after-switch');
  });

  it('a new release failing its health meanwhile rolls back too', () => {
    const { state } = drive(plan(blueGreen, '1.0.0', { afterSwitchHook: true }), [
      ...toSwitch,
      [30, observed(obs('1.1.0', 1, 1))],
    ]);
    expect(state.failure?.code).toBe('FERRY_E_UNHEALTHY');
  });

  it('for a rollback, a failure is recorded and the rollback goes on: going back would be worse', () => {
    const { state, records, effects } = drive(
      plan(blueGreen, '1.0.0', { afterSwitchHook: true, kind: 'rollback' }),
      [...toSwitch, [30, hookFailed], [40, { type: 'retired', version: '1.0.0' }]],
    );
    expect(records).toContain(
      'after_switch hook failed: exit 3: exit status 3; the rollback goes on: returning to 1.0.0 would be worse',
    );
    expect(effects.some((e) => e.type === 'mark-release' && e.verdict === 'bad')).toBe(false);
    expect(state.status).toBe('succeeded');
  });

  it('without the hook there is no after-switch phase', () => {
    const { state } = drive(plan(blueGreen), toSwitch);
    expect(state.phase).toBe('retiring');
  });
});

describe('a manual rollback', () => {
  it('marks the release it leaves rolled-back, once it succeeded', () => {
    const switched = drive(plan(blueGreen, '1.0.0', { kind: 'rollback' }), toSwitch);
    expect(switched.effects.some((e) => e.type === 'mark-release')).toBe(false);
    const { effects } = drive(switched.state, [[30, { type: 'retired', version: '1.0.0' }]]);
    expect(effects).toContainEqual({
      type: 'mark-release',
      version: '1.0.0',
      verdict: 'rolled-back',
      reason: 'rolled back to 1.1.0 by deployment d1',
    });
    expect(effects).toContainEqual(
      expect.objectContaining({ type: 'mark-release', version: '1.1.0', verdict: 'good' }),
    );
  });

  it('that fails leaves the ledger of the release it meant to leave alone', () => {
    const { effects } = drive(plan(blueGreen, '1.0.0', { kind: 'rollback' }), [
      [0, { type: 'begin' }],
      [10, { type: 'installed' }],
      [20, observed(obs('1.1.0', 0, 1))],
      [30, observed(obs('1.1.0', 0, 1), obs('1.0.0', 2))],
      [40, { type: 'retired', version: '1.1.0' }],
    ]);
    expect(effects.some((e) => e.type === 'mark-release' && e.version === '1.0.0')).toBe(false);
  });

  it('a deploy never marks the release it replaces', () => {
    const { effects } = drive(plan(blueGreen), [...toSwitch, [30, { type: 'retired', version: '1.0.0' }]]);
    expect(
      effects.filter((e) => e.type === 'mark-release').map((e) => e.type === 'mark-release' && e.version),
    ).toEqual(['1.1.0']);
  });
});
