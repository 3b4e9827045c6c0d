import { describe, expect, it } from 'vitest';
import { step } from './step.js';
import type { RolloutState } from './types.js';
import { World, hostNames } from './test-support/world.js';

/** nixmade/orchestrator's own test scenarios (BEHAVIOUR.md), with a fake clock instead of sleeps. */

const SOAK = 60_000;

function settledFleet(names: readonly string[], options: ConstructorParameters<typeof World>[0] = {}): World {
  const world = new World({ soakMs: SOAK, deadlineMs: 120_000, ...options }, names);
  world.report();
  return world;
}

describe('nixmade scenarios', () => {
  it('3 targets one at a time: each stays on v2 for the soak before the next starts; LKG v2', () => {
    const world = settledFleet(['a', 'b', 'c'], { batch: { count: 1 } });
    world.deploy('v2');
    // Hosts report every second; a host shows v2 from the report after its assignment.
    // [s since the deploy, targets assigned v2, last known good]
    const table: [number, number, string][] = [
      [0, 1, 'v1'],
      [59, 1, 'v1'],
      [60, 2, 'v1'], // a healthy on v2 since 0 s
      [120, 2, 'v1'],
      [121, 3, 'v1'], // b healthy on v2 since 61 s
      [181, 3, 'v1'],
      [182, 3, 'v2'], // c healthy on v2 since 122 s
    ];
    const start = world.now;
    for (let second = 0; second <= 182; second++) {
      world.report(start + second * 1_000 - world.now);
      const row = table.find(([at]) => at === second);
      if (row === undefined) continue;
      expect([world.assignedCount('v2'), world.state.lkg], `at ${second} s`).toEqual([row[1], row[2]]);
    }
    expect(world.state.status).toBe('succeeded');
    expect(world.runningCount('v2')).toBe(3);
    expect(world.marks()).toEqual(['v2 good']);
    expect(world.decisions('batch-started').map((b) => [b.batch, b.of, b.targets])).toEqual([
      [1, 3, ['a']],
      [2, 3, ['b']],
      [3, 3, ['c']],
    ]);
  });

  it('a target erroring past the deadline makes v2 last known bad; every target returns to v1, batch by batch', () => {
    const world = settledFleet(['a', 'b', 'c', 'd'], { batch: { count: 1 }, successPercent: 75 });
    world.deploy('v2');
    world.run(2 * SOAK + 2_000); // a, then b, succeed on v2; c gets it
    expect(world.assignedTo('v2')).toEqual(['a', 'b', 'c']);
    world.hosts.get('c')!.healthy = false; // v2 does not work on c
    const deadline = world.state.targets.find((t) => t.name === 'c')!.assignedAt! + 120_000;
    world.report(deadline - world.now); // c unhealthy on v2 up to its deadline: not failed yet
    expect([world.state.lkb, world.state.targets.find((t) => t.name === 'c')!.status]).toEqual([
      null,
      'converging',
    ]);
    world.report(1);
    expect(world.state.lkb).toBe('v2');
    world.hosts.get('c')!.healthy = true; // it works on v1
    expect(world.state.status).toBe('rolling-back');
    expect(world.marks()).toEqual(['v2 bad']);
    // One target at a time back to v1: the failing one first, then those that had switched.
    world.run(4 * SOAK);
    const order = world.decisions('batch-started').filter((b) => b.batchKind === 'rollback');
    expect(order.map((b) => b.targets)).toEqual([['c'], ['a'], ['b']]);
    expect(world.state.status).toBe('rolled-back');
    expect(world.runningCount('v1')).toBe(4);
    expect(world.state.lkg).toBe('v1');
    // Batch by batch: never two targets in flight on the way back either.
    const assigned = world.decisions('assigned').filter((a) => a.version === 'v1');
    expect(assigned.every((a) => a.count === 1)).toBe(true);
  });

  it('blue-green by replacement ends with exactly 3 new targets, all on v2', () => {
    const world = settledFleet(['t0', 't1', 't2'], {
      batch: { count: 1 },
      mode: 'replace',
      controllers: { selection: {}, removal: {} },
    });
    let next = 3;
    const answer = () => {
      for (const q of world.questions(world.last)) {
        if (q.controller === 'selection') {
          const name = `t${next++}`;
          world.hosts.set(name, { version: null, healthy: true, reporting: true });
          world.send({
            type: 'controller-answered',
            id: q.id,
            answer: { controller: 'selection', targets: [name] },
          });
        } else if (q.controller === 'removal') {
          const victim = q.candidates[0]!;
          world.hosts.delete(victim);
          world.send({
            type: 'controller-answered',
            id: q.id,
            answer: { controller: 'removal', targets: [victim] },
          });
        }
      }
    };
    world.deploy('v2');
    for (let i = 0; i < 20 && world.state.status === 'running'; i++) {
      answer();
      world.report(SOAK / 2);
      answer();
    }
    expect(world.state.status).toBe('succeeded');
    expect(world.state.lkg).toBe('v2');
    const active = world.state.targets.filter((t) => t.status !== 'removed');
    expect(active.map((t) => [t.name, t.assigned])).toEqual([
      ['t3', 'v2'],
      ['t4', 'v2'],
      ['t5', 'v2'],
    ]);
    expect(world.decisions('targets-removed').flatMap((r) => r.targets)).toEqual(['t0', 't1', 't2']);
  });

  it('several app/env states are independent', () => {
    const web = settledFleet(['a', 'b'], { batch: { count: 1 } });
    const api = new World({ soakMs: SOAK, batch: { count: 1 } }, ['a', 'b'], 'v1', {
      app: 'api',
      env: 'staging',
    });
    api.report();
    web.deploy('v2');
    api.deploy('v2');
    api.broken.add('v2');
    for (let i = 0; i < 6; i++) {
      web.run(SOAK / 2, SOAK / 2);
      api.run(SOAK / 2, SOAK / 2);
    }
    web.run(SOAK);
    api.run(SOAK);
    expect([web.state.status, web.state.lkg, web.state.lkb]).toEqual(['succeeded', 'v2', null]);
    expect([api.state.status, api.state.lkg, api.state.lkb]).toEqual(['rolled-back', 'v1', 'v2']);
    expect(api.state.app).toBe('api');
  });

  it('the state survives a restart: serialized mid-rollout, it goes on exactly as it would have', () => {
    const world = settledFleet(hostNames(6), { batch: { percent: 34 } });
    world.deploy('v2');
    world.run(SOAK);
    const saved: RolloutState = JSON.parse(JSON.stringify(world.state)) as RolloutState;
    expect(saved).toEqual(world.state);
    const event = {
      type: 'reported' as const,
      reports: [{ name: 'host-05', at: world.now + 1, version: 'v1', healthy: true }],
    };
    expect(step(saved, event, world.now + 1)).toEqual(step(world.state, event, world.now + 1));
    // And it finishes the rollout from the reloaded state.
    world.state = saved;
    world.run(3 * SOAK);
    expect(world.state.lkg).toBe('v2');
    expect(world.state.status).toBe('succeeded');
  });

  it('10 targets at 10%: after one step 9 on v1 and 1 on v2', () => {
    const world = settledFleet(hostNames(10), { batch: { percent: 10 } });
    world.deploy('v2');
    expect(world.runningCount('v1')).toBe(9);
    expect(world.runningCount('v2')).toBe(1);
    expect(world.last.filter((e) => e.type === 'assign')).toEqual([
      { type: 'assign', target: 'host-00', version: 'v2' },
    ]);
  });
});
