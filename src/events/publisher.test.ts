import { describe, expect, it } from 'vitest';
import { EventPublisher, matchesFilter, type EventInput } from './publisher.js';

const router = (message: string): EventInput => ({
  kind: 'router',
  app: null,
  env: null,
  change: 'worker-restarted',
  pid: 1,
  message,
});
const health = (app: string, env: string, instance: string): EventInput => ({
  kind: 'health',
  app,
  env,
  instance,
  version: '1.0.0',
  health: 'healthy',
  detail: 'GET /healthz -> 200',
});

describe('EventPublisher', () => {
  it('numbers events in order, with ids of its run and the time of publishing', () => {
    let now = 1000;
    const events = new EventPublisher({ now: () => now++, run: 'abc1' });
    const seen: string[] = [];
    events.subscribe((e) => seen.push(e.id));
    const first = events.publish(router('one'));
    const second = events.publish(router('two'));
    expect(first).toMatchObject({ id: 'abc1-1', seq: 1, at: 1000, kind: 'router', message: 'one' });
    expect(second).toMatchObject({ id: 'abc1-2', seq: 2, at: 1001 });
    expect(seen).toEqual(['abc1-1', 'abc1-2']);
  });

  it('replays what followed an id, and nothing when the id is the last one', () => {
    const events = new EventPublisher({ now: () => 0, run: 'r' });
    for (const n of [1, 2, 3, 4]) events.publish(router(`m${n}`));
    expect(events.replay('r-2')).toMatchObject({ gap: null, events: [{ id: 'r-3' }, { id: 'r-4' }] });
    expect(events.replay('r-4')).toEqual({ gap: null, events: [] });
  });

  it('says so when events after the id are no longer kept, then replays what is', () => {
    const events = new EventPublisher({ now: () => 0, run: 'r', capacity: 3 });
    for (const n of [1, 2, 3, 4, 5, 6]) events.publish(router(`m${n}`));
    // r-3 is the last one not kept: everything after it is still here.
    expect(events.replay('r-3').gap).toBeNull();
    const { gap, events: kept } = events.replay('r-1');
    expect(gap).toMatchObject({ kind: 'gap', lastEventId: 'r-1', reason: 'expired', oldest: 'r-4' });
    expect(gap!.message).toContain('events r-2 to r-3 are no longer kept (the daemon keeps the last 3)');
    expect(kept.map((e) => e.id)).toEqual(['r-4', 'r-5', 'r-6']);
  });

  it('tells an id of an earlier daemon run, and one it never gave, from an id of its own', () => {
    const events = new EventPublisher({ now: () => 0, run: 'new1' });
    events.publish(router('since the start'));
    const restarted = events.replay('old1-40');
    expect(restarted.gap).toMatchObject({ reason: 'restarted', oldest: 'new1-1' });
    expect(restarted.gap!.message).toContain('the daemon restarted since event old1-40');
    expect(restarted.events.map((e) => e.id)).toEqual(['new1-1']);
    expect(events.replay('new1-9').gap).toMatchObject({ reason: 'unknown' });
    expect(events.replay('garbage').gap).toMatchObject({ reason: 'unknown' });
    expect(events.replay('constructor').gap).toMatchObject({ reason: 'unknown' });
  });

  it('a subscriber that throws neither stops the others nor the publisher', async () => {
    const events = new EventPublisher({ now: () => 0 });
    const got: number[] = [];
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      events.subscribe(() => {
        throw new Error('bug');
      });
      events.subscribe((e) => got.push(e.seq));
      events.publish(router('x'));
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    expect(got).toEqual([1]);
    expect(uncaught).toHaveLength(1);
  });

  it('stops calling a subscriber once it unsubscribed', () => {
    const events = new EventPublisher({ now: () => 0 });
    const got: number[] = [];
    const unsubscribe = events.subscribe((e) => got.push(e.seq));
    events.publish(router('a'));
    unsubscribe();
    events.publish(router('b'));
    expect(got).toEqual([1]);
  });
});

describe('matchesFilter', () => {
  const events = new EventPublisher({ now: () => 0 });
  const web = events.publish(health('web', 'production', 'web-1'));
  const staging = events.publish(health('web', 'staging', 'web-2'));
  const api = events.publish(health('api', 'production', 'api-1'));
  const host = events.publish(router('host-wide'));

  it('selects an app, an environment or both; host-wide events pass every filter', () => {
    const pick = (filter: { app?: string; env?: string }) =>
      [web, staging, api, host].filter((e) => matchesFilter(e, filter)).map((e) => e.seq);
    expect(pick({})).toEqual([1, 2, 3, 4]);
    expect(pick({ app: 'web' })).toEqual([1, 2, 4]);
    expect(pick({ env: 'production' })).toEqual([1, 3, 4]);
    expect(pick({ app: 'web', env: 'staging' })).toEqual([2, 4]);
  });

  it("passes an environment's event (its lock) to the filters of that environment or of none", () => {
    const locked = events.publish({
      kind: 'lock',
      app: null,
      env: 'production',
      change: 'locked',
      message: 'production locked',
    });
    expect(matchesFilter(locked, {})).toBe(true);
    expect(matchesFilter(locked, { app: 'web' })).toBe(true);
    expect(matchesFilter(locked, { app: 'web', env: 'production' })).toBe(true);
    expect(matchesFilter(locked, { env: 'staging' })).toBe(false);
  });
});
