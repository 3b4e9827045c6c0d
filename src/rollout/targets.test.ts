import { describe, expect, it } from 'vitest';
import { World } from './test-support/world.js';

const options = { batch: { count: 1 }, soakMs: 60_000, deadlineMs: 120_000, unseenAfterMs: 600_000 };

describe('new targets', () => {
  it('a host that joins mid-rollout gets last known good at once, then the release in a batch', () => {
    const world = new World(options, ['a', 'b']);
    world.report();
    world.deploy('v2');
    world.hosts.set('c', { version: null, healthy: true, reporting: true });
    world.report(1_000);
    expect(world.last).toContainEqual({ type: 'assign', target: 'c', version: 'v1' });
    expect(world.decisions('targets-joined', world.last)).toEqual([
      { kind: 'targets-joined', targets: ['c'], count: 1, assigned: 'v1' },
    ]);
    expect(world.state.targets.find((t) => t.name === 'c')).toMatchObject({
      assigned: 'v1',
      status: 'converging',
    });
    for (let i = 0; i < 400 && world.state.status === 'running'; i++) world.report(1_000);
    expect([world.state.status, world.runningCount('v2')]).toEqual(['succeeded', 3]);
  });

  it('a rollout with no target waits for one; a host that joins then is told one thing: the release', () => {
    const world = new World(options, []);
    world.deploy('v2');
    expect([world.state.status, world.state.lkg]).toEqual(['running', 'v1']);
    world.hosts.set('a', { version: 'v1', healthy: true, reporting: true });
    world.report(1_000);
    expect(world.last.filter((e) => e.type === 'assign')).toEqual([
      { type: 'assign', target: 'a', version: 'v2' },
    ]);
    world.run(62_000);
    expect([world.state.status, world.state.lkg]).toEqual(['succeeded', 'v2']);
  });

  it('a host that joins already serving last known good is settled: nothing changed on it', () => {
    const world = new World(options, ['a']);
    world.report();
    expect(world.state.targets[0]).toMatchObject({ assigned: 'v1', status: 'settled' });
  });

  it('with no last known good, hosts join without a release and get the first one in batches', () => {
    const world = new World(options, ['a', 'b'], null);
    world.report();
    expect(world.state.targets.map((t) => t.status)).toEqual(['unassigned', 'unassigned']);
    expect(world.last.filter((e) => e.type === 'assign')).toEqual([]);
    world.deploy('v1');
    expect(world.last).toContainEqual({ type: 'assign', target: 'a', version: 'v1' });
    for (let i = 0; i < 400 && world.state.status === 'running'; i++) world.report(1_000);
    expect([world.state.status, world.state.lkg]).toEqual(['succeeded', 'v1']);
  });

  it('host names are data: __proto__ and constructor are hosts like any other', () => {
    const world = new World(options, ['__proto__', 'constructor', 'toString']);
    world.report();
    world.deploy('v2');
    for (let i = 0; i < 400 && world.state.status === 'running'; i++) world.report(1_000);
    expect(world.state.targets.map((t) => [t.name, t.assigned, t.status])).toEqual([
      ['__proto__', 'v2', 'settled'],
      ['constructor', 'v2', 'settled'],
      ['toString', 'v2', 'settled'],
    ]);
  });

  it('keeps the labels a host reports, __proto__ as a label too', () => {
    const world = new World(options, []);
    const labels = JSON.parse('{"role":"web","__proto__":"x"}') as Record<string, string>;
    world.send({ type: 'reported', reports: [{ name: 'a', at: 0, version: 'v1', healthy: true, labels }] });
    const kept = world.state.targets[0]!.labels;
    expect(Object.hasOwn(kept, '__proto__') && kept.role === 'web').toBe(true);
    expect(JSON.parse(JSON.stringify(world.state.targets[0]!.labels))).toEqual(labels);
  });
});

describe('reports', () => {
  it('a first report older than unseen-after does not make a target join', () => {
    const world = new World(options, []);
    world.send(
      { type: 'reported', reports: [{ name: 'old', at: 0, version: 'v1', healthy: true }] },
      600_001,
    );
    expect(world.state.targets).toEqual([]);
    expect(world.last).toEqual([]);
  });

  it('of several first reports of a target in one event, the latest counts', () => {
    const world = new World(options, []);
    world.send(
      {
        type: 'reported',
        reports: [
          { name: 'x', at: 5_000, version: 'v1', healthy: true },
          { name: 'y', at: 5_000, version: 'v1', healthy: true },
          { name: 'x', at: 3_000, version: 'v0', healthy: false },
        ],
      },
      6_000,
    );
    expect(world.state.targets.map((t) => [t.name, t.reported, t.healthy])).toEqual([
      ['x', 'v1', true],
      ['y', 'v1', true],
    ]);
    expect(world.state.lastSeen).toEqual([5_000, 5_000]);
  });

  it('ignores a report older than the last one of its target', () => {
    const world = new World(options, []);
    world.send({ type: 'reported', reports: [{ name: 'a', at: 5_000, version: 'v1', healthy: true }] });
    world.send(
      { type: 'reported', reports: [{ name: 'a', at: 4_000, version: 'v1', healthy: false }] },
      6_000,
    );
    expect(world.state.targets[0]).toMatchObject({ healthy: true });
    expect(world.state.lastSeen).toEqual([5_000]);
  });

  it('a host whose own deployment of the release failed fails at once, before its deadline', () => {
    const world = new World(options, ['a', 'b']);
    world.report();
    world.deploy('v2');
    world.send(
      {
        type: 'reported',
        reports: [
          {
            name: 'a',
            at: 2_000,
            version: 'v1',
            healthy: true,
            failedVersion: 'v2',
            message: 'health deadline',
          },
        ],
      },
      2_000,
    );
    expect(world.decisions('target-failed', world.last)[0]?.reason).toBe(
      "the host's deployment of v2 failed: health deadline",
    );
    expect([world.state.lkb, world.state.status]).toEqual(['v2', 'rolling-back']);
  });
});

describe('unseen targets', () => {
  it('a host that stops reporting leaves the rollout after unseen-after, and the batch goes on without it', () => {
    const world = new World(options, ['a', 'b', 'c']);
    world.report();
    world.deploy('v2');
    world.report(1_000); // a: healthy on v2, soaking
    world.hosts.get('a')!.reporting = false;
    world.run(599_000);
    expect(world.state.targets.map((t) => t.name)).toEqual(['a', 'b', 'c']);
    expect(world.state.batch?.targets).toEqual(['a']);
    world.run(2_000);
    expect(world.state.targets.map((t) => t.name)).toEqual(['b', 'c']);
    expect(world.decisions('targets-left')).toEqual([
      { kind: 'targets-left', targets: ['a'], count: 1, unseenAfterMs: 600_000 },
    ]);
    expect(world.state.batch?.targets).toEqual(['b']);
  });

  it('never counts a target that stops reporting as a success (nixmade counted it until expiry)', () => {
    const world = new World(options, ['a', 'b']);
    world.report();
    world.deploy('v2');
    world.report(1_000); // a: healthy on v2
    world.hosts.get('a')!.reporting = false;
    // Ticks alone, long past the soak: no report, no evidence, no success.
    for (let t = 0; t < 590_000; t += 10_000) world.tick(10_000);
    expect(world.state.targets.find((t) => t.name === 'a')?.status).toBe('soaking');
    expect([world.state.lkg, world.assignedTo('v2')]).toEqual(['v1', ['a']]);
    // It leaves; b goes, and v2 is good on b's evidence alone.
    for (let i = 0; i < 200 && world.state.status === 'running'; i++) world.report(1_000);
    expect(world.decisions('release-good')).toEqual([
      { kind: 'release-good', version: 'v2', succeeded: 1, threshold: 1, targets: 1 },
    ]);
  });

  it('a target that succeeded and then went silent does not count while it is silent', () => {
    const world = new World({ ...options, silentAfterMs: 30_000 }, ['a', 'b']);
    world.report();
    world.deploy('v2');
    world.run(62_000); // a succeeded
    world.hosts.get('a')!.reporting = false;
    world.run(62_000); // b succeeded; a has been silent for 60 s
    expect(world.state.targets.map((t) => t.status)).toEqual(['settled', 'settled']);
    expect(world.state.lkg).toBe('v1');
    world.hosts.get('a')!.reporting = true;
    world.report(1_000);
    expect([world.state.lkg, world.state.status]).toEqual(['v2', 'succeeded']);
  });

  it('a target that succeeded and then regresses while v2 is judged counts as failed', () => {
    const world = new World({ ...options, successPercent: 50 }, ['a', 'b', 'c', 'd']);
    world.report();
    world.deploy('v2');
    world.run(62_000);
    expect(world.state.targets.find((t) => t.name === 'a')?.status).toBe('settled');
    world.hosts.get('a')!.healthy = false; // a's v2 breaks after it succeeded
    world.report(1_000);
    expect(world.state.targets.find((t) => t.name === 'a')).toMatchObject({ status: 'converging' });
    world.run(58_000); // its deadline (120 s after its assignment) passes
    expect(world.state.targets.find((t) => t.name === 'a')).toMatchObject({ status: 'failed' });
    expect(world.decisions('target-failed')[0]?.reason).toContain('last report: v2, unhealthy');
  });
});
