import { describe, expect, it } from 'vitest';
import { deployError } from './deploy.js';
import { World, hostNames } from './test-support/world.js';

const SOAK = 10_000;

function fleet(n = 4): World {
  const world = new World({ batch: { count: 1 }, soakMs: SOAK, deadlineMs: 30_000 }, hostNames(n));
  world.report();
  return world;
}

/** Runs until the rollout is no longer running (bounded). */
function finish(world: World): void {
  for (let i = 0; i < 500 && ['running', 'rolling-back'].includes(world.state.status); i++)
    world.report(1_000);
}

describe('what started a rollout', () => {
  it('is kept from the deploy that started it, a queued one included when it starts later', () => {
    const world = fleet(2);
    expect(world.state.trigger).toBeNull();
    world.deploy('v2', false, 'webhook:github:7f3a');
    expect(world.state.trigger).toEqual({ kind: 'webhook', actor: 'webhook:github:7f3a' });
    world.deploy('v3', false, 'watcher:github:octo/hello');
    // Queued: the running rollout keeps its own trigger until the queued one starts.
    expect(world.state.trigger).toEqual({ kind: 'webhook', actor: 'webhook:github:7f3a' });
    for (let i = 0; i < 500 && world.state.rolling === 'v2'; i++) world.report(1_000);
    expect(world.state.rolling).toBe('v3');
    expect(world.state.trigger).toEqual({ kind: 'watcher', actor: 'watcher:github:octo/hello' });
    world.deploy('v4', true, 'api');
    expect(world.state.trigger).toEqual({ kind: 'user', actor: 'api' });
  });
});

describe('queued deploys', () => {
  it('a newer release waits behind the running rollout; a later one replaces it in the queue', () => {
    const world = fleet();
    world.deploy('v2');
    world.deploy('v3');
    expect(world.state.queued).toMatchObject({ version: 'v3', actor: 'ops' });
    expect([world.state.rolling, world.state.targetVersion]).toEqual(['v2', 'v3']);
    world.deploy('v4');
    expect(world.state.queued?.version).toBe('v4');
    expect(world.decisions('deploy-queued').map((q) => [q.version, q.behind, q.replaces])).toEqual([
      ['v3', 'v2', null],
      ['v4', 'v2', 'v3'],
    ]);
    // v2 finishes first (all four targets), then v4 starts at once from it.
    for (let i = 0; i < 500 && world.state.rolling === 'v2'; i++) world.report(1_000);
    expect(world.decisions('rollout-ended')).toEqual([
      { kind: 'rollout-ended', status: 'succeeded', version: 'v2' },
    ]);
    expect([world.state.rolling, world.state.lkg, world.state.queued]).toEqual(['v4', 'v2', null]);
    expect(world.decisions('rollout-started').at(-1)).toMatchObject({ version: 'v4', from: 'v2' });
    finish(world);
    expect([world.state.status, world.state.lkg, world.runningCount('v4')]).toEqual(['succeeded', 'v4', 4]);
    expect(world.marks()).toEqual(['v2 good', 'v4 good']);
  });

  it('a release queued behind one that fails starts once every target is back on last known good', () => {
    const world = fleet(3);
    world.deploy('v2');
    world.deploy('v3');
    world.broken.add('v2');
    for (let i = 0; i < 500 && world.state.rolling === 'v2'; i++) world.report(1_000);
    expect(world.decisions('rollout-ended')[0]).toMatchObject({ status: 'rolled-back', version: 'v2' });
    // In the same step, after the end: the first batch of v3.
    const kinds = world.last.flatMap((e) => (e.type === 'record' ? [e.decision.kind] : []));
    expect(kinds.slice(kinds.indexOf('rollout-ended'))).toEqual([
      'rollout-ended',
      'rollout-started',
      'batch-started',
      'assigned',
    ]);
    expect([world.runningCount('v1'), world.runningCount('v3')]).toEqual([2, 1]);
    expect([world.state.rolling, world.state.lkg, world.state.lkb]).toEqual(['v3', 'v1', 'v2']);
    finish(world);
    expect([world.state.status, world.state.lkg]).toEqual(['succeeded', 'v3']);
  });
});

describe('forced deploys', () => {
  it('force supersedes the running rollout: the superseded release is not marked bad; its targets move on', () => {
    const world = fleet(4);
    world.deploy('v2');
    world.run(SOAK + 2_000);
    expect(world.assignedTo('v2')).toEqual(['host-00', 'host-01']);
    world.deploy('v3');
    world.deploy('v4', true);
    expect(world.decisions('queue-dropped')).toEqual([
      { kind: 'queue-dropped', version: 'v3', reason: 'superseded by v4 (forced)' },
    ]);
    expect(world.decisions('rollout-superseded')).toEqual([
      { kind: 'rollout-superseded', version: 'v2', by: 'v4', actor: 'ops' },
    ]);
    expect([world.state.rolling, world.state.lkg, world.state.lkb, world.state.queued]).toEqual([
      'v4',
      'v1',
      null,
      null,
    ]);
    expect(world.marks()).toEqual([]);
    finish(world);
    expect([world.state.status, world.state.lkg, world.runningCount('v4')]).toEqual(['succeeded', 'v4', 4]);
    expect(world.marks()).toEqual(['v4 good']);
  });

  it('force supersedes a return to last known good too: the bad release stays last known bad', () => {
    const world = fleet(3);
    world.deploy('v2');
    world.hosts.get('host-00')!.healthy = false;
    for (let i = 0; i < 100 && world.state.status === 'running'; i++) world.report(1_000);
    expect(world.state.status).toBe('rolling-back');
    world.hosts.get('host-00')!.healthy = true;
    world.deploy('v3', true);
    expect([world.state.status, world.state.rolling, world.state.lkb]).toEqual(['running', 'v3', 'v2']);
    finish(world);
    expect([world.state.lkg, world.runningCount('v3')]).toEqual(['v3', 3]);
  });

  it('the last known bad release is refused unless forced; forced, it is judged afresh', () => {
    const world = fleet(2);
    world.deploy('v2');
    world.broken.add('v2');
    finish(world);
    expect(world.state.lkb).toBe('v2');
    expect(deployError(world.state, 'v2')).toMatchObject({ code: 'FERRY_E_RELEASE_BAD' });
    expect(deployError(world.state, 'v2', true)).toBeNull();
    world.deploy('v2');
    expect(world.decisions('deploy-ignored', world.last)[0]?.reason).toContain('last known bad');
    expect(world.state.status).toBe('rolled-back');
    world.broken.delete('v2');
    world.deploy('v2', true);
    expect([world.state.status, world.state.lkb]).toEqual(['running', null]);
    finish(world);
    expect(world.state.lkg).toBe('v2');
  });

  it('a deploy of what already rolls out, or of last known good when idle, changes nothing', () => {
    const world = fleet(2);
    world.deploy('v1');
    expect(world.decisions('deploy-ignored', world.last)[0]?.reason).toBe('it is last known good already');
    expect(world.state.status).toBe('idle');
    world.deploy('v2');
    const before = world.state;
    world.deploy('v2');
    expect(world.decisions('deploy-ignored', world.last)[0]?.reason).toBe('it is rolling out already');
    expect({ ...world.state, log: [], updatedAt: 0 }).toEqual({ ...before, log: [], updatedAt: 0 });
  });
});
