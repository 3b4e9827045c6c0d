import { EventPublisher } from '../events/publisher.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDeployment } from '../engine/create.js';
import type { ReleaseOutcomeCounts } from '../engine/served-report.js';
import type { DeploymentState } from '../engine/types.js';
import { FakeClock } from '../lib/clock.js';
import { silentLogger } from '../lib/logger.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import type { Store } from '../store/store.js';
import { DeploymentRun } from './run.js';
import { FakeEffects } from './test-support/fake-effects.js';

const TICK_MS = 100;

let store: Store;
let effects: FakeEffects;
let clock: FakeClock;

beforeEach(() => {
  clock = new FakeClock(1_000_000);
  store = openSqliteStore(':memory:');
  effects = new FakeEffects();
  effects.seed('1.0.0', 2);
});

afterEach(async () => {
  await store.close();
});

function counted(...releases: Array<[string, number, Partial<ReleaseOutcomeCounts>?]>): void {
  effects.outcomes = {
    releases: releases.map(([version, answered, more]) => ({
      version,
      answered,
      serverError: 0,
      reset: 0,
      timeout: 0,
      ...more,
    })),
    held: 0,
    rejected: 0,
    abandoned: 0,
  };
}

function launch(state: DeploymentState, first: 'begin' | 'recover'): DeploymentRun {
  const run = new DeploymentRun(state, {
    store,
    effects,
    logger: silentLogger(),
    clock,
    tickMs: TICK_MS,
    events: new EventPublisher({ now: () => clock.now() }),
  });
  run.start(first);
  return run;
}

async function startRun(): Promise<DeploymentRun> {
  const state = createDeployment(
    {
      id: 'd-report',
      app: 'hello',
      env: 'production',
      kind: 'deploy',
      from: '1.0.0',
      to: '1.1.0',
      strategy: { kind: 'blue-green', healthDeadlineMs: 60_000 },
      instances: 2,
      afterSwitchHook: false,
    },
    clock.now(),
  );
  await store.createDeployment(state);
  return launch(state, 'begin');
}

/** The new release stays unhealthy (the deployment holds in `starting`) until the test lets it. */
function holdStarting(): () => void {
  let healthy = false;
  const observe = effects.observe.bind(effects);
  effects.observe = async (state) => {
    const seen = await observe(state);
    return healthy ? seen : { ...seen, target: { ...seen.target, healthy: 0 } };
  };
  return () => (healthy = true);
}

/** The old release's retire waits until the test lets it go (its drain). */
function holdRetire(): () => void {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const retire = effects.retire.bind(effects);
  effects.retire = async (state, version) => {
    await gate;
    return retire(state, version);
  };
  return release;
}

async function saved() {
  return (await store.getServedReport('d-report'))?.report;
}

describe("the served-request report, kept by the deployment's run", () => {
  it('counts from the start, per step, through a daemon restart, and is complete when the end is announced', async () => {
    counted(['1.0.0', 500]);
    const healthy = holdStarting();
    const drained = holdRetire();
    const first = await startRun();
    await clock.advance(TICK_MS);
    counted(['1.0.0', 600]);
    // Read every second while the step runs, and persisted.
    await clock.advance(1_000);
    expect(await saved()).toMatchObject({ served: 100, final: false });

    // The daemon dies; the router counts on; the next daemon resumes the report where it was saved.
    first.stop();
    counted(['1.0.0', 650]);
    const second = launch((await store.getDeployment('d-report'))!, 'recover');
    await clock.advance(TICK_MS);
    expect(second.servedReport).toMatchObject({ served: 150 });

    healthy();
    await clock.advance(TICK_MS);
    expect(second.current.phase).toBe('retiring');
    counted(['1.0.0', 650], ['1.1.0', 30, { serverError: 2 }]);
    let announced: DeploymentState | null = null;
    void second.whenFinished().then((state) => (announced = state));
    drained();
    await clock.advance(0);
    expect(announced).toMatchObject({ status: 'succeeded' });
    const report = (await saved())!;
    expect(report).toMatchObject({ final: true, served: 182, failed: 2, routerRestarts: 0, error: null });
    expect(report.failures).toEqual({ serverError: 2, reset: 0, timeout: 0, held: 0 });
    expect(report.releases.map((r) => [r.version, r.served, r.failed])).toEqual([
      ['1.0.0', 150, 0],
      ['1.1.0', 32, 2],
    ]);
    expect(report.steps.map((s) => [s.phase, s.weight, s.served])).toEqual([
      ['installing', 0, 0],
      ['starting', 0, 150],
      ['retiring', 100, 32],
    ]);
  });

  it('a router that does not answer at the end: the end is announced after a bounded wait, the report says why', async () => {
    counted(['1.0.0', 0]);
    const drained = holdRetire();
    const run = await startRun();
    await clock.advance(TICK_MS);
    expect(run.current.phase).toBe('retiring');
    effects.readOutcomes = () => new Promise(() => undefined);
    let announced = false;
    void run.whenFinished().then(() => (announced = true));
    drained();
    await clock.advance(2_900);
    expect(announced).toBe(false);
    await clock.advance(200);
    expect(announced).toBe(true);
  });

  it('a router whose counters cannot be read: the deployment goes on, the report keeps the error', async () => {
    counted(['1.0.0', 10]);
    effects.outcomes = 'the router is gone';
    const run = await startRun();
    await clock.advance(2_000);
    expect((await run.whenFinished()).status).toBe('succeeded');
    expect(await saved()).toMatchObject({
      final: true,
      served: 0,
      error: "the router's counters could not be read: the router is gone",
    });
  });
});
