import { describe, expect, it } from 'vitest';
import { World, hostNames } from './test-support/world.js';
import type { ControllerAnswer, ControllerQuestion } from './events.js';

const base = { batch: { count: 2 }, soakMs: 10_000, deadlineMs: 30_000 };

function fleet(
  controllers: NonNullable<ConstructorParameters<typeof World>[0]['controllers']>,
  n = 4,
): World {
  const world = new World({ ...base, controllers }, hostNames(n));
  world.report();
  return world;
}

function lastQuestion(world: World, controller: ControllerQuestion['controller']): ControllerQuestion {
  const q = world
    .questions()
    .filter((x) => x.controller === controller)
    .at(-1);
  if (q === undefined) throw new Error(`no ${controller} question`);
  return q;
}

function answer(world: World, q: ControllerQuestion, a: ControllerAnswer): void {
  world.send({ type: 'controller-answered', id: q.id, answer: a });
}

describe('selection controller', () => {
  it('picks each batch among the waiting targets', () => {
    const world = fleet({ selection: { timeoutMs: 5_000 } });
    world.deploy('v2');
    const q = lastQuestion(world, 'selection');
    expect(q).toMatchObject({
      app: 'web',
      env: 'production',
      version: 'v2',
      batch: 1,
      count: 2,
      mode: 'in-place',
    });
    expect(q.controller === 'selection' && q.candidates).toEqual(hostNames(4));
    expect(q.deadline).toBe(world.now + 5_000);
    expect(world.assignedCount('v2')).toBe(0);
    answer(world, q, { controller: 'selection', targets: ['host-03'] });
    expect(world.assignedTo('v2')).toEqual(['host-03']);
    expect(world.state.batch).toMatchObject({ index: 1, targets: ['host-03'] });
  });

  const failures: [string, (world: World, q: ControllerQuestion) => void, string][] = [
    [
      'names a target it was not offered',
      (w, q) => answer(w, q, { controller: 'selection', targets: ['elsewhere'] }),
      'expected targets it was offered, got "elsewhere"',
    ],
    [
      'names more targets than asked',
      (w, q) => answer(w, q, { controller: 'selection', targets: hostNames(3) }),
      'expected 1 to 2 target name(s), got 3',
    ],
    ['errors', (w, q) => w.send({ type: 'controller-failed', id: q.id, error: 'HTTP 500' }), 'HTTP 500'],
    ['does not answer by its deadline', (w) => w.tick(5_001), 'no answer within 5.00s'],
    [
      'answers as another controller',
      (w, q) => answer(w, q, { controller: 'approval', approved: true }),
      'answered as a approval controller to a selection question',
    ],
  ];
  it.each(failures)(
    'one that %s fails its step: every target returns, the release unjudged',
    (_, act, reason) => {
      const world = fleet({ selection: { timeoutMs: 5_000 } });
      world.deploy('v2');
      act(world, lastQuestion(world, 'selection'));
      expect(world.decisions('controller-failed')[0]).toMatchObject({ controller: 'selection', reason });
      expect([world.state.status, world.state.lkb, world.marks()]).toEqual(['aborted', null, []]);
      expect(world.state.ending?.reason).toBe('controller');
      expect(world.state.calls).toEqual([]);
    },
  );

  it('a batch picked while the rollout is paused waits for the resume', () => {
    const world = fleet({ selection: { timeoutMs: 5_000 } });
    world.deploy('v2');
    world.send({ type: 'command', command: 'pause' });
    answer(world, lastQuestion(world, 'selection'), { controller: 'selection', targets: ['host-01'] });
    expect([world.state.batch?.targets, world.assignedCount('v2')]).toEqual([['host-01'], 0]);
    world.send({ type: 'command', command: 'resume' });
    expect(world.assignedTo('v2')).toEqual(['host-01']);
  });

  it('a timeout is seen on a tick: it does not wait for another event', () => {
    const world = fleet({ selection: { timeoutMs: 5_000 } });
    world.deploy('v2');
    world.tick(5_000);
    expect(world.state.gate?.kind).toBe('selection');
    world.tick(1);
    expect(world.state.status).toBe('aborted');
  });

  it('an answer after the deadline is ignored', () => {
    const world = fleet({ selection: { timeoutMs: 5_000 } });
    world.deploy('v2');
    const q = lastQuestion(world, 'selection');
    world.tick(6_000);
    answer(world, q, { controller: 'selection', targets: ['host-00'] });
    expect(world.decisions('answer-ignored', world.last)).toHaveLength(1);
    expect(world.assignedCount('v2')).toBe(0);
  });
});

describe('approval controller', () => {
  it('nothing moves before the approval; approved, the first batch goes', () => {
    const world = fleet({ approval: {} });
    world.deploy('v2');
    const q = lastQuestion(world, 'approval');
    expect(q).toMatchObject({ at: 'start', deadline: world.now + 3_600_000 });
    world.run(60_000);
    expect(world.assignedCount('v2')).toBe(0);
    expect(world.state.lkg).toBe('v1');
    answer(world, q, { controller: 'approval', approved: true, by: 'alice' });
    expect(world.decisions('controller-answered', world.last)[0]?.outcome).toBe('approved by alice');
    expect(world.assignedCount('v2')).toBe(2);
  });

  it.each([
    [
      'denied',
      (w: World, q: ControllerQuestion) =>
        answer(w, q, { controller: 'approval', approved: false, by: 'bob', reason: 'freeze' }),
      'denied by bob: freeze',
    ],
    [
      'errors',
      (w: World, q: ControllerQuestion) =>
        w.send({ type: 'controller-failed', id: q.id, error: 'ECONNREFUSED' }),
      'the approval controller failed: ECONNREFUSED (taken as a denial)',
    ],
    [
      'times out',
      (w: World) => w.tick(3_600_001),
      'the approval controller failed: no answer within 60m00s (taken as a denial)',
    ],
  ])('%s: the rollout ends aborted, nothing moved, nothing marked', (_, act, message) => {
    const world = fleet({ approval: {} });
    world.deploy('v2');
    act(world, lastQuestion(world, 'approval'));
    expect([world.state.status, world.state.ending?.message, world.marks()]).toEqual([
      'aborted',
      message,
      [],
    ]);
    expect(world.effects.filter((e) => e.type === 'assign' && e.version === 'v2')).toEqual([]);
  });
});

describe('target monitor', () => {
  it('judges each soaked target: pass settles it', () => {
    const world = fleet({ targetMonitor: { timeoutMs: 5_000 } }, 2);
    world.deploy('v2');
    world.run(11_000);
    const qs = world.questions().filter((q) => q.controller === 'target-monitor');
    expect(qs.map((q) => q.controller === 'target-monitor' && q.target)).toEqual(['host-00', 'host-01']);
    expect(world.state.targets.map((t) => t.status)).toEqual(['verifying', 'verifying']);
    for (const q of qs) answer(world, q, { controller: 'target-monitor', verdict: 'pass' });
    expect([world.state.status, world.state.lkg]).toEqual(['succeeded', 'v2']);
  });

  it.each([
    [
      'says fail',
      (w: World, q: ControllerQuestion) =>
        answer(w, q, { controller: 'target-monitor', verdict: 'fail', reason: 'p99 3s' }),
      'the target-monitor says it failed: p99 3s',
    ],
    [
      'errors',
      (w: World, q: ControllerQuestion) => w.send({ type: 'controller-failed', id: q.id, error: 'HTTP 502' }),
      'the target-monitor controller failed: HTTP 502',
    ],
    [
      'times out',
      (w: World) => w.tick(5_001),
      'the target-monitor controller failed: no answer within 5.00s',
    ],
  ])('that %s fails the target (and here, at 100%%, the release)', (_, act, reason) => {
    const world = fleet({ targetMonitor: { timeoutMs: 5_000 } }, 2);
    world.deploy('v2');
    world.run(11_000);
    act(
      world,
      world.questions().find((q) => q.controller === 'target-monitor')!,
    );
    expect(world.decisions('target-failed')[0]).toMatchObject({ target: 'host-00', reason });
    expect([world.state.lkb, world.state.status]).toEqual(['v2', 'rolling-back']);
  });
});

describe('fleet monitor', () => {
  it('judges the fleet after each batch: pass, the next batch goes', () => {
    const world = fleet({ fleetMonitor: { timeoutMs: 5_000 } });
    world.deploy('v2');
    world.run(11_000);
    const q = lastQuestion(world, 'fleet-monitor');
    expect(q).toMatchObject({ purpose: 'batch', batch: 1, targets: ['host-00', 'host-01'] });
    world.run(4_000);
    expect(world.assignedCount('v2')).toBe(2);
    answer(world, q, { controller: 'fleet-monitor', verdict: 'pass' });
    expect(world.assignedCount('v2')).toBe(4);
    // The last batch too: the release is not good before the fleet monitor passed it.
    world.run(12_000);
    const last = lastQuestion(world, 'fleet-monitor');
    expect(last).toMatchObject({ batch: 2, targets: ['host-02', 'host-03'] });
    expect(world.state.lkg).toBe('v1');
    answer(world, last, { controller: 'fleet-monitor', verdict: 'pass' });
    expect([world.state.lkg, world.state.status]).toEqual(['v2', 'succeeded']);
  });

  it.each([
    [
      'says fail',
      (w: World, q: ControllerQuestion) =>
        answer(w, q, { controller: 'fleet-monitor', verdict: 'fail', reason: 'error rate 4%' }),
    ],
    [
      'errors',
      (w: World, q: ControllerQuestion) => w.send({ type: 'controller-failed', id: q.id, error: 'HTTP 500' }),
    ],
    ['times out', (w: World) => w.tick(5_001)],
  ])('that %s rolls back (it never blocks: nixmade waited for ever on its errors)', (_, act) => {
    const world = fleet({ fleetMonitor: { timeoutMs: 5_000 } });
    world.deploy('v2');
    world.run(11_000);
    act(world, lastQuestion(world, 'fleet-monitor'));
    expect([world.state.lkb, world.state.status, world.marks()]).toEqual(['v2', 'rolling-back', ['v2 bad']]);
    for (let i = 0; i < 100 && world.state.status === 'rolling-back'; i++) world.report(1_000);
    expect([world.state.status, world.runningCount('v1')]).toEqual(['rolled-back', 4]);
  });
});

describe('after a restart', () => {
  it('the pending questions go out again with their ids and deadlines, and every assignment', () => {
    const world = fleet({ fleetMonitor: { timeoutMs: 5_000 } });
    world.deploy('v2');
    world.run(11_000);
    const q = lastQuestion(world, 'fleet-monitor');
    const out = world.send({ type: 'recover' });
    expect(out.effects.filter((e) => e.type === 'ask-controller')).toEqual([
      { type: 'ask-controller', question: q },
    ]);
    expect(
      out.effects.filter((e) => e.type === 'assign').map((e) => e.type === 'assign' && [e.target, e.version]),
    ).toEqual([
      ['host-00', 'v2'],
      ['host-01', 'v2'],
      ['host-02', 'v1'],
      ['host-03', 'v1'],
    ]);
  });
});
