import { describe, expect, it } from 'vitest';
import { isFerryError } from '../errors/ferry-error.js';
import { parseAmount, resolveRolloutOptions } from './options.js';
import { amountOf, failureThreshold, successThreshold } from './sizes.js';
import { World, hostNames } from './test-support/world.js';

describe('rounding, exactly as nixmade/orchestrator', () => {
  it.each([
    // [targets, batch %, batch size]
    [10, 5, 1],
    [50, 5, 2],
    [7, 30, 2],
    [3, 5, 1],
    [100, 100, 100],
    [0, 5, 1],
  ])('%i targets at %i%% -> batches of %i', (n, percent, size) => {
    expect(amountOf({ percent }, n)).toBe(size);
  });

  it.each([
    // [targets, count, batch size]
    [10, 3, 3],
    [2, 3, 2],
    [1, 1, 1],
  ])('%i targets, count %i -> batches of %i', (n, count, size) => {
    expect(amountOf({ count }, n)).toBe(size);
  });

  it.each([
    // [success %, targets, success threshold, failure threshold]
    [95, 10, 9, 1],
    [80, 10, 8, 2],
    [100, 10, 10, 1],
    [0, 10, 0, 10],
    [50, 3, 1, 2],
  ])('success %i%% of %i -> %i must succeed, %i failures fail it', (pct, n, success, failure) => {
    expect(successThreshold(pct, n)).toBe(success);
    expect(failureThreshold(pct, n)).toBe(failure);
  });

  it.each([
    [50, 5, 2],
    [7, 30, 2],
    [10, 5, 1],
  ])('the engine starts %i targets at %i%% with a batch of %i', (n, percent, size) => {
    const world = new World({ batch: { percent } }, hostNames(n));
    world.report();
    world.deploy('v2');
    expect(world.decisions('batch-started')[0]?.count).toBe(size);
    expect(world.runningCount('v2')).toBe(size);
  });

  it('success 0%: v2 is last known good at once', () => {
    const world = new World({ successPercent: 0 }, hostNames(10));
    world.report();
    world.deploy('v2');
    expect(world.state.lkg).toBe('v2');
    expect(world.marks()).toEqual(['v2 good']);
    // The other targets still get it, batch by batch.
    expect(world.state.status).toBe('running');
  });

  it('success 80% of 10: one failed target is tolerated, two fail the release', () => {
    const tolerate = new World(
      { successPercent: 80, batch: { count: 2 }, soakMs: 1_000, deadlineMs: 5_000 },
      hostNames(10),
    );
    tolerate.report();
    tolerate.hosts.get('host-00')!.healthy = false;
    tolerate.deploy('v2');
    tolerate.run(60_000);
    expect([tolerate.state.status, tolerate.state.lkg]).toEqual(['succeeded', 'v2']);
    // host-00, unhealthy already, goes last (with host-09): it does not stop the release.
    expect(tolerate.decisions('release-good')[0]).toMatchObject({ succeeded: 9, threshold: 8, targets: 10 });
    expect(tolerate.state.targets.find((t) => t.name === 'host-00')).toMatchObject({
      assigned: 'v2',
      status: 'failed',
    });

    const fail = new World(
      { successPercent: 80, batch: { count: 2 }, soakMs: 1_000, deadlineMs: 5_000 },
      hostNames(10),
    );
    fail.report();
    fail.hosts.get('host-00')!.healthy = false;
    fail.hosts.get('host-01')!.healthy = false;
    fail.deploy('v2');
    fail.run(10_000);
    expect([fail.state.lkb, fail.marks()]).toEqual(['v2', ['v2 bad']]);
  });
});

describe('rollout options', () => {
  it('takes nixmade defaults', () => {
    expect(resolveRolloutOptions()).toMatchObject({
      batch: { percent: 5 },
      successPercent: 100,
      soakMs: 60_000,
      deadlineMs: 120_000,
      unseenAfterMs: 900_000,
      maxUnavailable: null,
      canary: null,
      mode: 'in-place',
    });
  });

  it('reports every problem at once, each with its path, as FERRY_E_CONFIG_INVALID', () => {
    let error: unknown;
    try {
      resolveRolloutOptions(
        {
          batch: { percent: 0 },
          maxUnavailable: { count: 0 },
          successPercent: 101,
          soakMs: -1,
          unseenAfterMs: 0,
          mode: 'replace',
          canary: { size: { percent: 150 }, analysis: true },
          controllers: { approval: { at: 'later' as 'start', timeoutMs: 0 } },
        },
        'apps.web.rollout',
      );
    } catch (e) {
      error = e;
    }
    expect(isFerryError(error, 'FERRY_E_CONFIG_INVALID')).toBe(true);
    const problems = (error as { details: { problems: { path: string; message: string }[] } }).details
      .problems;
    expect(problems.map((p) => p.path)).toEqual([
      'apps.web.rollout.batch',
      'apps.web.rollout.maxUnavailable',
      'apps.web.rollout.successPercent',
      'apps.web.rollout.soakMs',
      'apps.web.rollout.unseenAfterMs',
      'apps.web.rollout.silentAfterMs',
      'apps.web.rollout.canary.size',
      'apps.web.rollout.canary.analysis',
      'apps.web.rollout.controllers.approval.timeoutMs',
      'apps.web.rollout.controllers.approval.at',
      'apps.web.rollout.controllers.selection',
      'apps.web.rollout.controllers.removal',
    ]);
    expect((error as Error).message).toContain(
      'apps.web.rollout.batch: expected a whole percent 1-100 like "5%", got 0',
    );
    expect((error as Error).message).toContain(
      'apps.web.rollout.successPercent: expected a whole percent 0-100, got 101',
    );
  });

  it('reads amounts as people write them', () => {
    expect(parseAmount('25%')).toEqual({ percent: 25 });
    expect(parseAmount(3)).toEqual({ count: 3 });
    expect(parseAmount(' 3 ')).toEqual({ count: 3 });
    expect(parseAmount('a lot')).toBeUndefined();
    expect(parseAmount('2.5%')).toBeUndefined();
  });
});
