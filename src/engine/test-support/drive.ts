import { createDeployment } from '../create.js';
import { step } from '../step.js';
import type {
  DeploymentState,
  EngineEffect,
  EngineEvent,
  ReleaseObservation,
  StrategySpec,
} from '../types.js';

/** Fixtures for the engine's table-driven tests: plans, observations, and a driver with a fake clock. */

export const canary: Extract<StrategySpec, { kind: 'canary' }> = {
  kind: 'canary',
  healthDeadlineMs: 10_000,
  steps: [
    { weight: 10, pauseMs: 30_000 },
    { weight: 50, pauseMs: 30_000 },
  ],
  analysis: { maxErrorRate: 0.05, minRequests: 20, maxWaitMs: 300_000, inconclusive: 'pause' },
};
export const blueGreen: StrategySpec = { kind: 'blue-green', healthDeadlineMs: 10_000 };
export const allAtOnce: StrategySpec = { kind: 'all-at-once', healthDeadlineMs: 10_000 };

/** A deployment of hello 1.1.0 (from 1.0.0 unless told), not begun yet, at time 0. */
export function plan(
  strategy: StrategySpec,
  from: string | null = '1.0.0',
  more: { kind?: 'deploy' | 'rollback'; afterSwitchHook?: boolean } = {},
): DeploymentState {
  return createDeployment(
    {
      id: 'd1',
      app: 'hello',
      env: 'production',
      kind: more.kind ?? 'deploy',
      from,
      to: '1.1.0',
      strategy,
      instances: 2,
      afterSwitchHook: more.afterSwitchHook ?? false,
    },
    0,
  );
}

export function obs(version: string, healthy: number, failed = 0): ReleaseObservation {
  return { version, desired: 2, running: healthy + failed, healthy, failed };
}

export function observed(
  target: ReleaseObservation,
  previous: ReleaseObservation | null = obs('1.0.0', 2),
  requests = 0,
  errors = 0,
): EngineEvent {
  return { type: 'observed', target, previous, traffic: { requests, errors } };
}

/** A healthy canary observed with `requests` and `errors` in its window. */
export function traffic(requests: number, errors = 0): EngineEvent {
  return observed(obs('1.1.0', 2), obs('1.0.0', 2), requests, errors);
}

/**
 * A restart of hello 1.1.0 (its old instances named; `instances` new ones wanted, one per batch),
 * not begun yet, at time 0. `kind: 'deploy'` is the serving release deployed again (forced).
 */
export function restartPlan(
  old: readonly string[] = ['old-a', 'old-b'],
  instances = 2,
  kind: 'restart' | 'deploy' = 'restart',
): DeploymentState {
  return createDeployment(
    {
      id: 'r1',
      app: 'hello',
      env: 'production',
      kind,
      from: '1.1.0',
      to: '1.1.0',
      strategy: blueGreen,
      instances,
      afterSwitchHook: false,
      replace: { old, batchSize: 1, batch: 0, retiring: false },
    },
    0,
  );
}

/** Runs events through the engine, collecting every effect. */
export function drive(start: DeploymentState, events: ReadonlyArray<readonly [number, EngineEvent]>) {
  let state = start;
  const effects: EngineEffect[] = [];
  for (const [now, event] of events) {
    const out = step(state, event, now);
    state = out.state;
    effects.push(...out.effects);
  }
  return {
    state,
    effects,
    types: effects.filter((e) => e.type !== 'record').map((e) => e.type),
    records: effects.flatMap((e) => (e.type === 'record' ? [e.message] : [])),
  };
}
