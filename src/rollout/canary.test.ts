import { describe, expect, it } from 'vitest';
import { World, hostNames } from './test-support/world.js';
import type { ControllerQuestion } from './events.js';

const PAUSE = 300_000;
const base = { batch: { count: 4 }, soakMs: 10_000, deadlineMs: 30_000 };

function lastQuestion(world: World, controller: ControllerQuestion['controller']): ControllerQuestion {
  return world
    .questions()
    .filter((q) => q.controller === controller)
    .at(-1)!;
}

describe('fleet canary', () => {
  it('a first batch of its own size, a pause, then the rest in batches', () => {
    const world = new World({ ...base, canary: { size: { count: 1 }, pauseMs: PAUSE } }, hostNames(9));
    world.report();
    world.deploy('v2');
    expect(world.state.batch).toMatchObject({ kind: 'canary', targets: ['host-00'] });
    expect(world.decisions('batch-started')[0]).toMatchObject({ batch: 1, of: 3, batchKind: 'canary' });
    world.run(11_000);
    const paused = world.decisions('canary-paused')[0];
    expect(paused?.until).toBeGreaterThan(world.now);
    // [s after the canary succeeded, targets on v2]
    const since = world.now;
    for (const [at, onV2] of [
      [0, 1],
      [PAUSE - 1_000, 1],
      [PAUSE, 5],
    ] as const) {
      world.report(since + at - world.now);
      expect(world.assignedCount('v2'), `at ${at} ms`).toBe(onV2);
    }
    expect(world.decisions('canary-passed')).toHaveLength(1);
    expect(world.decisions('batch-started').map((b) => [b.batch, b.batchKind, b.count])).toEqual([
      [1, 'canary', 1],
      [2, 'batch', 4],
    ]);
    for (let i = 0; i < 100 && world.state.status === 'running'; i++) world.report(1_000);
    expect([world.state.status, world.state.lkg]).toEqual(['succeeded', 'v2']);
  });

  it('the release is not good before the canary passed, whatever the success percent', () => {
    const world = new World(
      { ...base, successPercent: 5, canary: { size: { count: 1 }, pauseMs: PAUSE } },
      hostNames(10),
    );
    world.report();
    world.deploy('v2');
    world.run(PAUSE);
    expect(world.state.lkg).toBe('v1');
    world.run(20_000);
    expect(world.state.lkg).toBe('v2');
  });

  it('a failure in the canary fails the release, even one the success percent would tolerate', () => {
    const world = new World(
      { ...base, successPercent: 50, canary: { size: { count: 1 }, pauseMs: PAUSE } },
      hostNames(10),
    );
    world.report();
    world.hosts.get('host-00')!.healthy = false;
    world.deploy('v2');
    world.run(31_000);
    expect([world.state.lkb, world.state.status]).toEqual(['v2', 'rolling-back']);
    expect(world.decisions('release-bad')[0]?.reason).toBe('the canary failed: 1 target(s) failed on v2');
  });

  it('with analysis: the fleet monitor judges the canary after the pause; a fail rolls back', () => {
    const world = new World(
      {
        ...base,
        canary: { size: { percent: 10 }, pauseMs: 60_000, analysis: true },
        controllers: { fleetMonitor: { timeoutMs: 10_000 } },
      },
      hostNames(20),
    );
    world.report();
    world.deploy('v2');
    expect(world.state.batch?.targets).toEqual(['host-00', 'host-01']);
    world.run(71_000);
    const q = lastQuestion(world, 'fleet-monitor');
    expect(q).toMatchObject({ purpose: 'canary', batch: 1, targets: ['host-00', 'host-01'] });
    world.send({
      type: 'controller-answered',
      id: q.id,
      answer: { controller: 'fleet-monitor', verdict: 'fail' },
    });
    expect([world.state.lkb, world.state.status]).toEqual(['v2', 'rolling-back']);
  });

  it('with an approval after the canary: the rest waits for it', () => {
    const world = new World(
      {
        ...base,
        canary: { size: { count: 1 }, pauseMs: 0 },
        controllers: { approval: { at: 'after-canary' } },
      },
      hostNames(5),
    );
    world.report();
    world.deploy('v2');
    expect(world.questions()).toEqual([]);
    world.run(11_000);
    const q = lastQuestion(world, 'approval');
    expect(q).toMatchObject({ at: 'after-canary' });
    world.run(60_000);
    expect(world.assignedCount('v2')).toBe(1);
    world.send({ type: 'controller-answered', id: q.id, answer: { controller: 'approval', approved: true } });
    expect(world.assignedCount('v2')).toBe(5);
  });

  it('denied after the canary: the canary target returns to last known good', () => {
    const world = new World(
      {
        ...base,
        canary: { size: { count: 1 }, pauseMs: 0 },
        controllers: { approval: { at: 'after-canary' } },
      },
      hostNames(5),
    );
    world.report();
    world.deploy('v2');
    world.run(11_000);
    const q = lastQuestion(world, 'approval');
    world.send({
      type: 'controller-answered',
      id: q.id,
      answer: { controller: 'approval', approved: false },
    });
    expect(world.state.status).toBe('rolling-back');
    for (let i = 0; i < 100 && world.state.status === 'rolling-back'; i++) world.report(1_000);
    expect([world.state.status, world.runningCount('v1'), world.marks()]).toEqual(['aborted', 5, []]);
  });
});
