import { describe, expect, it } from 'vitest';
import { commandError } from './deploy.js';
import { World, hostNames } from './test-support/world.js';

const options = { batch: { count: 1 }, soakMs: 10_000, deadlineMs: 30_000 };

function running(n = 3): World {
  const world = new World(options, hostNames(n));
  world.report();
  world.deploy('v2');
  return world;
}

describe('operator commands', () => {
  it('pause holds the batches (the one in flight is still judged); resume goes on', () => {
    const world = running();
    world.send({ type: 'command', command: 'pause', actor: 'alice' });
    expect(world.state.status).toBe('paused');
    world.run(60_000);
    expect(world.state.targets.find((t) => t.name === 'host-00')?.status).toBe('settled');
    expect(world.assignedCount('v2')).toBe(1);
    world.send({ type: 'command', command: 'resume', actor: 'alice' });
    expect(world.assignedCount('v2')).toBe(2);
    expect(world.decisions('paused')).toEqual([{ kind: 'paused', actor: 'alice' }]);
  });

  it('a failure while paused still rolls back', () => {
    const world = running();
    world.hosts.get('host-00')!.healthy = false;
    world.send({ type: 'command', command: 'pause' });
    world.run(31_000);
    expect([world.state.status, world.state.lkb]).toEqual(['rolling-back', 'v2']);
  });

  it('abort returns every target to last known good batch by batch, unjudged, and drops the queue', () => {
    const world = running(3);
    world.run(21_000);
    expect(world.assignedTo('v2')).toEqual(['host-00', 'host-01']);
    world.deploy('v3');
    world.send({ type: 'command', command: 'abort', actor: 'bob' });
    expect(world.decisions('queue-dropped')[0]).toMatchObject({ version: 'v3' });
    expect([world.state.queued, world.state.targetVersion]).toEqual([null, 'v2']);
    expect(world.state).toMatchObject({
      status: 'rolling-back',
      ending: { reason: 'abort', message: 'aborted by bob' },
    });
    for (let i = 0; i < 100 && world.state.status === 'rolling-back'; i++) world.report(1_000);
    expect([world.state.status, world.state.lkg, world.state.lkb, world.marks()]).toEqual([
      'aborted',
      'v1',
      null,
      [],
    ]);
    expect(world.runningCount('v1')).toBe(3);
    expect(
      world
        .decisions('batch-started')
        .filter((b) => b.batchKind === 'rollback')
        .map((b) => b.count),
    ).toEqual([1, 1]);
  });

  it('an abort before anything moved ends at once', () => {
    const world = new World({ ...options, controllers: { approval: {} } }, hostNames(2));
    world.report();
    world.deploy('v2');
    world.send({ type: 'command', command: 'abort' });
    expect(world.state.status).toBe('aborted');
    expect(world.state.calls).toEqual([]);
  });

  it('a command that does not apply changes nothing, and says what does', () => {
    const world = running();
    expect(commandError(world.state, 'resume')).toBe(
      'the rollout of web in production is running: only a paused rollout can be resumed',
    );
    const before = world.state;
    world.send({ type: 'command', command: 'resume' });
    expect(world.state.status).toBe(before.status);
    expect(world.last.filter((e) => e.type === 'record')).toEqual([]);
    world.hosts.get('host-00')!.healthy = false;
    world.run(31_000);
    expect(commandError(world.state, 'pause')).toContain('a return to last known good is never paused');
    expect(commandError(world.state, 'abort')).toContain('returning to last known good already');
  });
});
