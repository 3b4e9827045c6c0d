import { describe, expect, it } from 'vitest';
import type { AppOnHost, ReleaseOnHost } from '../../protocol/desired-state.js';
import { planApp, restartDone, type ActualApp, type ReconcileAction } from './plan.js';

const actionsOf = (d: AppOnHost, a: ActualApp): ReconcileAction[] => planApp(d, a).actions;

function release(version: string, instances: number, weight: number, retire: string[] = []): ReleaseOnHost {
  return {
    version,
    artifact: null,
    instances,
    retire,
    weight,
  };
}

function desired(releases: ReleaseOnHost[], extra: Partial<AppOnHost> = {}): AppOnHost {
  return {
    app: 'hello',
    env: 'production',
    spec: { config: {}, digest: 'd1' },
    releases,
    current: null,
    stopNow: [],
    tasks: [],
    ...extra,
  };
}

function actual(extra: Partial<ActualApp> = {}): ActualApp {
  return {
    installed: new Set(),
    installPending: new Set(),
    instances: [],
    weights: new Map(),
    current: null,
    tasksDone: new Set(),
    ...extra,
  };
}

const serving = (id: string, version: string, healthy = true) => ({ id, version, serving: true, healthy });

describe('planApp: from what runs to what is desired', () => {
  it('a first release: install and route; once installed, start and point current at it', () => {
    expect(
      actionsOf(desired([release('1.0.0', 2, 1)], { current: '1.0.0' }), actual()).map((a) => a.type),
    ).toEqual(['install', 'set-traffic']);
    const installed = actual({ installed: new Set(['1.0.0']) });
    expect(actionsOf(desired([release('1.0.0', 2, 1)], { current: '1.0.0' }), installed)).toEqual([
      { type: 'start', version: '1.0.0', count: 2 },
      { type: 'set-traffic', weights: new Map([['1.0.0', 1]]) },
      { type: 'activate', version: '1.0.0' },
    ]);
  });

  it('an install running or failed is not started again, and nothing of it starts', () => {
    const pending = actual({ installPending: new Set(['1.0.0']), weights: new Map([['1.0.0', 1]]) });
    expect(actionsOf(desired([release('1.0.0', 2, 1)]), pending)).toEqual([]);
  });

  it('nothing to do when the host runs what is desired', () => {
    const running = actual({
      installed: new Set(['1.0.0']),
      instances: [serving('a', '1.0.0'), serving('b', '1.0.0')],
      weights: new Map([['1.0.0', 1]]),
      current: '1.0.0',
    });
    expect(actionsOf(desired([release('1.0.0', 2, 1)], { current: '1.0.0' }), running)).toEqual([]);
  });

  it('blue-green switch: new instances first; once ready, traffic moves and the old release drains', () => {
    const weights = new Map([
      ['1.0.0', 1],
      ['1.1.0', 0],
    ]);
    const starting = actual({
      installed: new Set(['1.0.0', '1.1.0']),
      instances: [serving('a', '1.0.0'), serving('c', '1.1.0')],
      weights,
    });
    expect(actionsOf(desired([release('1.1.0', 2, 1)]), starting)).toEqual([
      { type: 'start', version: '1.1.0', count: 1 },
    ]);
    const ready = actual({
      installed: new Set(['1.0.0', '1.1.0']),
      instances: [serving('a', '1.0.0'), serving('c', '1.1.0'), serving('d', '1.1.0')],
      weights,
    });
    expect(actionsOf(desired([release('1.1.0', 2, 1)]), ready)).toEqual([
      { type: 'set-traffic', weights: new Map([['1.1.0', 1]]) },
      { type: 'retire-release', version: '1.0.0', drain: true },
    ]);
  });

  it('nothing leaves the route, and no weight moves, before the release taking over is ready', () => {
    const running = actual({
      installed: new Set(['1.0.0', '1.1.0']),
      instances: [serving('a', '1.0.0'), serving('c', '1.1.0'), serving('d', '1.1.0', false)],
      weights: new Map([
        ['1.0.0', 1],
        ['1.1.0', 0],
      ]),
    });
    expect(actionsOf(desired([release('1.1.0', 2, 1)]), running)).toEqual([]);
    expect(planApp(desired([release('1.1.0', 2, 1)]), running).held).toEqual([
      'the traffic change until 1.1.0 is ready',
      'retiring 1.0.0 until 1.1.0 is ready',
    ]);
    const restart = actual({
      installed: new Set(['1.0.0']),
      instances: [serving('a', '1.0.0'), serving('n1', '1.0.0', false)],
      weights: new Map([['1.0.0', 1]]),
    });
    expect(actionsOf(desired([release('1.0.0', 1, 1, ['a'])]), restart)).toEqual([]);
  });

  it('with nothing healthy serving there is nothing to protect: the change goes ahead', () => {
    const failing = actual({
      installed: new Set(['1.0.0', '1.1.0']),
      instances: [serving('a', '1.0.0', false), serving('c', '1.1.0', false)],
      weights: new Map([['1.0.0', 1]]),
    });
    expect(actionsOf(desired([release('1.1.0', 1, 1)]), failing)).toEqual([
      { type: 'set-traffic', weights: new Map([['1.1.0', 1]]) },
      { type: 'retire-release', version: '1.0.0', drain: true },
    ]);
  });

  it('a forced end stops the leaving release without draining', () => {
    const running = actual({ installed: new Set(['1.0.0', '1.1.0']), instances: [serving('c', '1.1.0')] });
    const plan = actionsOf(desired([release('1.0.0', 0, 1)], { stopNow: ['1.1.0'] }), running);
    expect(plan).toContainEqual({ type: 'retire-release', version: '1.1.0', drain: false });
  });

  it('a restart batch: one more new instance beside the old ones; once it is healthy, an old one leaves', () => {
    const before = actual({
      installed: new Set(['1.0.0']),
      instances: [serving('a', '1.0.0'), serving('b', '1.0.0')],
      weights: new Map([['1.0.0', 1]]),
    });
    expect(actionsOf(desired([release('1.0.0', 3, 1)]), before)).toEqual([
      { type: 'start', version: '1.0.0', count: 1 },
    ]);
    const batchReady = actual({
      installed: new Set(['1.0.0']),
      instances: [serving('a', '1.0.0'), serving('b', '1.0.0'), serving('n1', '1.0.0')],
      weights: new Map([['1.0.0', 1]]),
    });
    expect(actionsOf(desired([release('1.0.0', 2, 1, ['a'])]), batchReady)).toEqual([
      { type: 'retire-instances', version: '1.0.0', ids: ['a'] },
    ]);
  });

  it('fewer instances wanted: trimmed, never counting the ones already retiring', () => {
    const running = actual({
      installed: new Set(['1.0.0']),
      instances: [
        serving('a', '1.0.0'),
        serving('b', '1.0.0'),
        { id: 'z', version: '1.0.0', serving: false, healthy: true },
      ],
      weights: new Map([['1.0.0', 1]]),
    });
    expect(actionsOf(desired([release('1.0.0', 1, 1)]), running)).toEqual([
      { type: 'trim', version: '1.0.0', keep: 1, exclude: [] },
    ]);
  });

  it('tasks run once each, in order, after everything else', () => {
    const hook = { id: 't1', type: 'run-hook' as const, hook: 'after_switch', version: '1.0.0', vars: {} };
    const prune = { id: 't2', type: 'prune' as const, keep: 3, protect: ['1.0.0'] };
    const running = actual({
      installed: new Set(['1.0.0']),
      instances: [serving('a', '1.0.0')],
      weights: new Map([['1.0.0', 1]]),
      tasksDone: new Set(['t1']),
    });
    expect(actionsOf(desired([release('1.0.0', 1, 1)], { tasks: [hook, prune] }), running)).toEqual([
      { type: 'run-task', task: prune },
    ]);
  });

  it('versions from outside input are plain map keys', () => {
    const running = actual({ installed: new Set(['__proto__']), instances: [serving('a', 'constructor')] });
    const plan = actionsOf(desired([release('__proto__', 1, 1)]), running);
    expect(plan).toEqual([
      { type: 'start', version: '__proto__', count: 1 },
      { type: 'set-traffic', weights: new Map([['__proto__', 1]]) },
      { type: 'retire-release', version: 'constructor', drain: true },
    ]);
  });

  describe('a restart asked by id: one instance at a time, each new one healthy before an old one leaves', () => {
    const generation = (id: string, old: string[]) => new Map([['1.0.0', { id, old: new Set(old) }]]);
    const restarting = (instances: ReturnType<typeof serving>[], id = 'r1') =>
      actual({
        installed: new Set(['1.0.0']),
        instances,
        weights: new Map([['1.0.0', 1]]),
        current: '1.0.0',
        restarts: generation(id, ['a', 'b']),
      });
    const wanted = desired([{ ...release('1.0.0', 2, 1), restart: 'r1' }], { current: '1.0.0' });

    it('starts one new instance beside the old ones', () => {
      expect(actionsOf(wanted, restarting([serving('a', '1.0.0'), serving('b', '1.0.0')]))).toEqual([
        { type: 'start', version: '1.0.0', count: 1, restart: { want: 1, exclude: ['a', 'b'] } },
      ]);
    });

    it('waits while the new one is not healthy: nothing old leaves, nothing more starts', () => {
      const plan = planApp(
        wanted,
        restarting([serving('a', '1.0.0'), serving('b', '1.0.0'), serving('n1', '1.0.0', false)]),
      );
      expect(plan.actions).toEqual([]);
      expect(plan.held).toEqual(['restarting 1.0.0: until n1 is healthy']);
    });

    it('once it is healthy, the oldest old one leaves (not a trim of the newest); then the next starts', () => {
      expect(
        actionsOf(wanted, restarting([serving('a', '1.0.0'), serving('b', '1.0.0'), serving('n1', '1.0.0')])),
      ).toEqual([{ type: 'retire-instances', version: '1.0.0', ids: ['a'] }]);
      const aGone = restarting([
        { id: 'a', version: '1.0.0', serving: false, healthy: true },
        serving('b', '1.0.0'),
        serving('n1', '1.0.0'),
      ]);
      expect(actionsOf(wanted, aGone)).toEqual([
        { type: 'start', version: '1.0.0', count: 1, restart: { want: 2, exclude: ['b'] } },
      ]);
      expect(restartDone(wanted.releases[0]!, aGone)).toBeUndefined();
    });

    it('done when no old instance serves and the new ones are healthy: the report says so by id', () => {
      const done = restarting([serving('n1', '1.0.0'), serving('n2', '1.0.0')]);
      expect(actionsOf(wanted, done)).toEqual([]);
      expect(restartDone(wanted.releases[0]!, done)).toBe('r1');
      expect(
        restartDone(wanted.releases[0]!, restarting([serving('n1', '1.0.0'), serving('n2', '1.0.0', false)])),
      ).toBeUndefined();
      // Another id asks again; no id asks nothing.
      expect(restartDone({ ...wanted.releases[0]!, restart: 'r2' }, done)).toBeUndefined();
      expect(restartDone(release('1.0.0', 2, 1), done)).toBeUndefined();
    });

    it('a release without a restart id, or one the agent has not recorded, plans as before', () => {
      const running = restarting([serving('a', '1.0.0'), serving('b', '1.0.0')], 'r0');
      expect(actionsOf(wanted, running)).toEqual([]);
      expect(actionsOf(desired([release('1.0.0', 2, 1)], { current: '1.0.0' }), running)).toEqual([]);
    });
  });
});
