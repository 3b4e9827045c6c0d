import { describe, expect, it } from 'vitest';
import { planRollout, renderPlan } from './plan.js';
import { World, hostNames } from './test-support/world.js';

describe('planRollout (ferry deploy --dry-run)', () => {
  it('lists the batches, the targets in each, the budgets and the gates', () => {
    const world = new World(
      {
        batch: { percent: 30 },
        maxUnavailable: { count: 3 },
        successPercent: 90,
        canary: { size: { count: 1 }, pauseMs: 300_000, analysis: true },
        controllers: { approval: {}, fleetMonitor: { timeoutMs: 60_000 } },
      },
      hostNames(10),
    );
    world.report();
    const before = world.state;
    const plan = planRollout(world.state, 'v2', world.now);
    expect(world.state).toBe(before);
    expect(plan).toMatchObject({
      version: 'v2',
      from: 'v1',
      start: { kind: 'now' },
      targets: 10,
      batchSize: 3,
      canarySize: 1,
      budget: 3,
      successThreshold: 9,
      failureThreshold: 1,
    });
    expect(plan.steps).toEqual([
      { kind: 'approval', at: 'start', timeoutMs: 3_600_000 },
      { kind: 'batch', index: 1, batchKind: 'canary', targets: ['host-00'], count: 1 },
      { kind: 'canary-pause', pauseMs: 300_000 },
      { kind: 'analysis', timeoutMs: 60_000 },
      { kind: 'batch', index: 2, batchKind: 'batch', targets: ['host-01', 'host-02', 'host-03'], count: 3 },
      { kind: 'fleet-monitor', timeoutMs: 60_000 },
      { kind: 'batch', index: 3, batchKind: 'batch', targets: ['host-04', 'host-05', 'host-06'], count: 3 },
      { kind: 'fleet-monitor', timeoutMs: 60_000 },
      { kind: 'batch', index: 4, batchKind: 'batch', targets: ['host-07', 'host-08', 'host-09'], count: 3 },
      { kind: 'fleet-monitor', timeoutMs: 60_000 },
    ]);
    expect(renderPlan(plan).split('\n')).toEqual([
      'Rollout of web in production: v1 -> v2 on 10 target(s), in place',
      '  batches of 3 (30%), canary 1; at most 3 unavailable at once (3)',
      '  good once 9 of 10 succeed (90%); 1 failed target(s) roll every target back to v1',
      '  a target succeeds once healthy on v2 for 1m00s, and fails if not healthy within 2m00s',
      '  1. approval (up to 60m00s; no answer is a denial)',
      '  2. canary batch 1 of 4: host-00',
      '  3. pause 5m00s',
      "  4. the fleet monitor's verdict on the canary (up to 1m00s)",
      '  5. batch 2 of 4: host-01, host-02, host-03',
      "  6. the fleet monitor's verdict (up to 1m00s)",
      '  7. batch 3 of 4: host-04, host-05, host-06',
      "  8. the fleet monitor's verdict (up to 1m00s)",
      '  9. batch 4 of 4: host-07, host-08, host-09',
      "  10. the fleet monitor's verdict (up to 1m00s)",
    ]);
  });

  it('plans the batches the engine then runs', () => {
    const world = new World(
      {
        batch: { percent: 25 },
        soakMs: 1_000,
        deadlineMs: 5_000,
        successPercent: 90,
        canary: { size: { count: 2 }, pauseMs: 5_000 },
      },
      hostNames(11),
    );
    world.report();
    world.hosts.get('host-03')!.healthy = false; // an unhealthy host goes last
    world.report(1_000);
    const plan = planRollout(world.state, 'v2', world.now);
    world.deploy('v2');
    for (let i = 0; i < 200 && world.state.status === 'running'; i++) world.report(1_000);
    expect(world.state.status).toBe('succeeded');
    const planned = plan.steps.flatMap((s) => (s.kind === 'batch' ? [s.targets] : []));
    expect(world.decisions('batch-started').map((b) => b.targets)).toEqual(planned);
    expect(planned.at(-1)).toContain('host-03');
  });

  it('says when the deploy would wait, supersede, or do nothing', () => {
    const world = new World({}, hostNames(3));
    world.report();
    expect(planRollout(world.state, 'v1', 0).start).toEqual({
      kind: 'nothing',
      reason: 'it is last known good already',
    });
    expect(renderPlan(planRollout(world.state, 'v1', 0))).toContain(
      'nothing to do: it is last known good already',
    );
    world.deploy('v2');
    expect(planRollout(world.state, 'v3', 0).start).toEqual({ kind: 'queued', behind: 'v2' });
    expect(planRollout(world.state, 'v3', 0, true).start).toEqual({ kind: 'superseding', rollout: 'v2' });
  });

  it('shortens long target lists in text', () => {
    const world = new World({ batch: { percent: 50 } }, hostNames(40));
    world.report();
    const text = renderPlan(planRollout(world.state, 'v2', 0));
    expect(text).toContain(
      '1. batch 1 of 2: host-00, host-01, host-02, host-03, host-04, host-05, host-06, host-07 and 12 more',
    );
  });
});
