import { describe, expect, it } from 'vitest';
import type { FerryEvent } from '../api/types.js';
import type { DeploymentState } from '../engine/types.js';
import { toDeployment } from '../runtime/deployment-view.js';
import { aDeployment } from '../store/contract/fixtures.js';
import { NotificationMapper } from './notification.js';

let seq = 0;
const published = (overrides: Partial<DeploymentState>): FerryEvent => {
  seq += 1;
  const deployment = toDeployment(aDeployment(overrides));
  return {
    kind: 'deployment',
    id: `r-${seq}`,
    seq,
    at: 5_000 + seq,
    app: deployment.app,
    env: deployment.env,
    deployment,
  };
};

const canary = {
  kind: 'canary' as const,
  healthDeadlineMs: 60_000,
  steps: [
    { weight: 10, pauseMs: 1_000 },
    { weight: 50, pauseMs: 1_000 },
  ],
  analysis: { maxErrorRate: 0.05, minRequests: 20, maxWaitMs: 60_000, inconclusive: 'pause' as const },
};

describe('NotificationMapper', () => {
  it('tells a deployment started once, then its end with from and to versions', () => {
    const mapper = new NotificationMapper();
    const started = mapper.map(published({ status: 'running', phase: 'installing' }));
    expect(started).toMatchObject({
      event: 'started',
      app: 'web',
      env: 'production',
      deployment: {
        id: 'd-1',
        from: '1.0.0',
        to: '1.1.0',
        kind: 'deploy',
        strategy: 'blue-green',
        step: null,
      },
      reason: null,
      message: 'web 1.0.0 -> 1.1.0 in production: started (blue-green)',
    });
    expect(mapper.map(published({ status: 'running', phase: 'starting' }))).toBeNull();
    expect(mapper.map(published({ status: 'running', phase: 'retiring' }))).toBeNull();
    const done = mapper.map(published({ status: 'succeeded', phase: 'done' }));
    expect(done).toMatchObject({
      event: 'succeeded',
      message: 'web 1.0.0 -> 1.1.0 in production: succeeded',
    });
    // The same final state published again says nothing more.
    expect(mapper.map(published({ status: 'succeeded', phase: 'done' }))).toBeNull();
  });

  it('tells each canary step with its weight', () => {
    const mapper = new NotificationMapper();
    expect(mapper.map(published({ strategy: canary, phase: 'starting' }))?.event).toBe('started');
    const first = mapper.map(published({ strategy: canary, phase: 'shifting', step: 0, weight: 10 }));
    expect(first).toMatchObject({ event: 'step', deployment: { step: { index: 1, of: 2, weight: 10 } } });
    expect(first?.message).toBe('web 1.0.0 -> 1.1.0 in production: canary step 1/2 at 10%');
    expect(mapper.map(published({ strategy: canary, phase: 'shifting', step: 0, weight: 10 }))).toBeNull();
    expect(mapper.map(published({ strategy: canary, phase: 'shifting', step: 1, weight: 50 }))).toMatchObject(
      {
        event: 'step',
        deployment: { step: { index: 2, of: 2, weight: 50 } },
      },
    );
  });

  it('tells a rollback with its reason and evidence, and a failure without a release to go back to', () => {
    const mapper = new NotificationMapper();
    mapper.map(published({}));
    const failure = {
      code: 'FERRY_E_HEALTH_DEADLINE',
      message: 'the new release did not become healthy',
      evidence: { health: 'GET /healthz answered 500', traffic: { requests: 40, errors: 9 } },
    };
    expect(mapper.map(published({ status: 'rolling-back', phase: 'reverting', failure }))).toBeNull();
    const rolledBack = mapper.map(
      published({ status: 'rolled-back', phase: 'done', failure, revertReason: 'failure' }),
    );
    expect(rolledBack?.event).toBe('rolled-back');
    expect(rolledBack?.reason).toBe(
      'FERRY_E_HEALTH_DEADLINE: the new release did not become healthy; health: GET /healthz answered 500; traffic: 9 errors in 40 requests',
    );
    const other = { id: 'd-2', from: null };
    mapper.map(published(other));
    expect(mapper.map(published({ ...other, status: 'failed', phase: 'done', failure }))).toMatchObject({
      event: 'failed',
      message: expect.stringMatching(
        /^web \(none\) -> 1\.1\.0 in production: failed \(FERRY_E_HEALTH_DEADLINE/,
      ),
    });
  });

  it('ignores other events and forgets finished deployments', () => {
    const mapper = new NotificationMapper();
    const config: FerryEvent = {
      kind: 'config',
      id: 'r-0',
      seq: 1,
      at: 1,
      app: null,
      env: null,
      source: 'start',
      path: null,
      apps: [],
      message: 'x',
    };
    expect(mapper.map(config)).toBeNull();
    mapper.map(published({ id: 'd-9' }));
    mapper.map(published({ id: 'd-9', status: 'aborted', phase: 'done', revertReason: 'abort' }));
    // A new state for the same id after its end counts as a new start (it never happens in practice).
    expect(mapper.map(published({ id: 'd-9' }))?.event).toBe('started');
  });

  it('tells a rollout across hosts: its start, each batch done, and its end with the reason', () => {
    const mapper = new NotificationMapper();
    const rollout = (
      decision: string,
      status: 'running' | 'rolled-back' | 'succeeded',
      message: string,
      more: { lkg?: string; reason?: string } = {},
    ): FerryEvent => {
      seq += 1;
      return {
        kind: 'rollout',
        id: `r-${seq}`,
        seq,
        at: 9_000 + seq,
        app: 'web',
        env: 'production',
        decision,
        status,
        version: '2.0.0',
        lkg: more.lkg ?? '1.0.0',
        reason: more.reason ?? null,
        message,
      };
    };
    expect(
      mapper.map(rollout('rollout-started', 'running', 'rolling out 2.0.0 (from 1.0.0) on 4 target(s)')),
    ).toMatchObject({
      event: 'started',
      deployment: null,
      rollout: { lkg: '1.0.0', to: '2.0.0', status: 'running', batch: null },
      message: 'web rollout to 2.0.0 in production: rolling out 2.0.0 (from 1.0.0) on 4 target(s)',
    });
    // Most decisions are not told: who was assigned, a batch starting.
    expect(mapper.map(rollout('assigned', 'running', 'a, b told to run 2.0.0'))).toBeNull();
    expect(mapper.map(rollout('batch-done', 'running', 'batch 1 done: 2 succeeded, 0 failed'))).toMatchObject(
      {
        event: 'step',
        rollout: { batch: 'batch 1 done: 2 succeeded, 0 failed' },
      },
    );
    const reason = "1 of 4 target(s) failed on 2.0.0: the host's deployment of 2.0.0 failed";
    expect(
      mapper.map(
        rollout('rollout-ended', 'rolled-back', 'the rollout of 2.0.0 ended: rolled-back', { reason }),
      ),
    ).toMatchObject({
      event: 'rolled-back',
      reason,
      message: `web rollout to 2.0.0 in production: rolled-back (${reason})`,
    });
    expect(
      mapper.map(
        rollout('rollout-ended', 'succeeded', 'the rollout of 2.0.0 ended: succeeded', { lkg: '2.0.0' }),
      ),
    ).toMatchObject({ event: 'succeeded', reason: null, rollout: { lkg: '2.0.0', status: 'succeeded' } });
  });
});
