import { describe, expect, it } from 'vitest';
import { describeDecision } from './describe.js';
import { describeProgress, formatProgress } from './progress.js';
import { World, hostNames } from './test-support/world.js';

describe('progress (ferry status)', () => {
  it('batch k of n, targets done, failed, in flight and waiting', () => {
    const world = new World(
      {
        batch: { count: 3 },
        soakMs: 10_000,
        deadlineMs: 20_000,
        successPercent: 80,
        maxUnavailable: { count: 4 },
      },
      hostNames(10),
    );
    world.report();
    world.hosts.get('host-01')!.healthy = false;
    world.deploy('v2');
    world.run(21_000); // batch 1: host-00 and host-02 succeed, host-01 fails; batch 2 starts
    world.deploy('v3');
    const p = describeProgress(world.state, world.now);
    expect(p).toMatchObject({
      status: 'running',
      version: 'v2',
      lkg: 'v1',
      queued: 'v3',
      batch: { index: 2, of: 4, kind: 'batch', size: 3, held: false, done: false },
      targets: { total: 10, done: 2, failed: 1, inFlight: 3, waiting: 4, silent: 0 },
      budget: 4,
    });
    expect(formatProgress(p, world.now)).toBe(
      'rolling out v2 (from v1): batch 2 of 4, 2/10 done, 1 failed, 3 in flight, 4 unavailable (budget 4); v3 queued',
    );
  });

  it('shows the gate a rollout waits at, and why it returns', () => {
    const world = new World(
      { batch: { count: 1 }, soakMs: 1_000, canary: { size: { count: 1 }, pauseMs: 60_000 } },
      hostNames(3),
    );
    world.report();
    world.deploy('v2');
    world.run(3_000);
    expect(formatProgress(describeProgress(world.state, world.now), world.now)).toBe(
      'rolling out v2 (from v1): canary batch 1 of 3, 1/3 done, 0 unavailable, canary pause, 59.0s left',
    );
    world.send({ type: 'command', command: 'abort', actor: 'alice' });
    expect(formatProgress(describeProgress(world.state, world.now), world.now)).toMatch(
      /^returning to v1 from v2 \(aborted by alice\): (return )?batch/,
    );
  });

  it('puts every decision in words', () => {
    const world = new World({ batch: { count: 1 }, soakMs: 1_000, deadlineMs: 5_000 }, hostNames(2));
    world.report();
    world.deploy('v2');
    world.deploy('v3');
    world.broken.add('v2');
    for (let i = 0; i < 100 && world.state.rolling === 'v2'; i++) world.report(1_000);
    const lines = world.effects.flatMap((e) =>
      e.type === 'record' ? [describeDecision(e.decision, e.at)] : [],
    );
    expect(lines).toEqual(
      expect.arrayContaining([
        'host-00, host-01 joined, told to run v1',
        'rolling out v2 (from v1) on 2 target(s), asked by ops',
        'v3 queued behind the rollout of v2',
        'batch 1 of 2: host-00 to v2',
        'host-00 told to run v2; 1 unavailable',
        'host-00 failed on v2: not healthy on v2 within 5.00s of its assignment (last report: v2, unhealthy)',
        'v2 is last known bad: 1 of 2 target(s) failed on v2, the threshold is 1',
        'every target returns to v1 from v2, batch by batch: 1 of 2 target(s) failed on v2, the threshold is 1',
        'return batch 2 of 2: host-00 to v1',
        'the rollout of v2 ended: rolled-back',
        'rolling out v3 (from v1) on 2 target(s), asked by ops',
      ]),
    );
  });

  it('keeps the state log small: long lists are cut, their counts and sentences whole', () => {
    const world = new World({}, hostNames(12));
    world.report();
    const entry = world.state.log[0]!;
    expect(entry.decision).toMatchObject({ kind: 'targets-joined', count: 12 });
    expect(entry.decision.kind === 'targets-joined' && entry.decision.targets).toHaveLength(10);
    expect(describeDecision(entry.decision, entry.at)).toBe(
      'host-00, host-01, host-02, host-03, host-04 and 7 more joined, told to run v1',
    );
    // The record effect carries every name.
    expect(world.decisions('targets-joined')[0]?.targets).toHaveLength(12);
  });
});
