import fc from 'fast-check';
import { afterEach, beforeEach, expect } from 'vitest';
import type { DeploymentState, Evidence, Failure, StrategySpec } from '../../engine/types.js';
import type { ErrorCode } from '../../errors/catalog.js';
import { FerryError } from '../../errors/ferry-error.js';
import type { InstanceRecord, Store } from '../store.js';

/** Gives each test a freshly opened store and closes it afterwards, whatever the test did. */
export function useFreshStore<S extends Store>(open: () => Promise<S>): () => S {
  let store: S | undefined;
  beforeEach(async () => {
    store = await open();
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });
  return () => {
    if (store === undefined) throw new Error('the store is only available inside a test');
    return store;
  };
}

/** A running blue-green deployment of web 1.0.0 -> 1.1.0 in production; override what matters. */
export function aDeployment(overrides: Partial<DeploymentState> = {}): DeploymentState {
  return {
    id: 'd-1',
    app: 'web',
    env: 'production',
    kind: 'deploy',
    from: '1.0.0',
    to: '1.1.0',
    strategy: { kind: 'blue-green', healthDeadlineMs: 60_000 },
    instances: 2,
    status: 'running',
    phase: 'starting',
    phaseSince: 1_000,
    step: 0,
    weight: 0,
    weightOverride: null,
    pausedRemainingMs: null,
    failure: null,
    revertReason: null,
    trafficRestored: false,
    afterSwitchHook: false,
    waitingForTraffic: false,
    pauseReason: null,
    retry: null,
    replace: null,
    trigger: null,
    createdAt: 1_000,
    updatedAt: 1_000,
    ...overrides,
  };
}

export function anInstance(overrides: Partial<InstanceRecord> = {}): InstanceRecord {
  return {
    id: 'i-1',
    app: 'web',
    env: 'production',
    version: '1.1.0',
    port: 4001,
    pid: null,
    pidStart: null,
    state: 'starting',
    restarts: 0,
    createdAt: 1_000,
    updatedAt: 1_000,
    ...overrides,
  };
}

/** Asserts that `promise` rejects with a FerryError of `code`, and returns it for closer checks. */
export async function expectFerryError(promise: Promise<unknown>, code: ErrorCode): Promise<FerryError> {
  const error: unknown = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(FerryError);
  expect((error as FerryError).code).toBe(code);
  return error as FerryError;
}

/** fc.record, but with ordinary prototypes, as any real state (and JSON.parse) has. */
function plain<T>(
  model: { [K in keyof T]: fc.Arbitrary<T[K]> },
  constraints: { requiredKeys?: (keyof T)[] } = {},
) {
  return fc.record(model, { ...constraints, noNullPrototype: true });
}

// Only well-formed text: lone surrogates cannot be stored as SQLite text by any driver.
const text = fc.string({ unit: 'grapheme', maxLength: 12 });
const count = fc.nat({ max: 1_000_000 });
const time = fc.integer({ min: 0, max: 8_640_000_000_000 });
// JSON has no -0; a store cannot be expected to keep it.
const ratio = fc.double({ min: 0, max: 1, noNaN: true }).map((x) => x + 0);

const strategy: fc.Arbitrary<StrategySpec> = fc.oneof(
  plain({ kind: fc.constant('blue-green' as const), healthDeadlineMs: count }),
  plain({ kind: fc.constant('all-at-once' as const), healthDeadlineMs: count }),
  plain({
    kind: fc.constant('canary' as const),
    healthDeadlineMs: count,
    steps: fc.array(plain({ weight: fc.integer({ min: 0, max: 100 }), pauseMs: count }), {
      maxLength: 5,
    }),
    analysis: plain({
      maxErrorRate: ratio,
      minRequests: count,
      maxWaitMs: count,
      inconclusive: fc.constantFrom('pause' as const, 'fail' as const),
    }),
  }),
);

const evidence: fc.Arbitrary<Evidence> = plain(
  {
    health: text,
    logTail: fc.array(fc.string({ unit: 'grapheme', maxLength: 80 }), { maxLength: 5 }),
    traffic: plain({ requests: count, errors: count }),
    instanceId: text,
  },
  { requiredKeys: [] },
);

const failure: fc.Arbitrary<Failure> = plain(
  { code: text, message: text, evidence },
  { requiredKeys: ['code', 'message'] },
);

/** Any DeploymentState the engine could produce (ids are left to the test, to keep them unique). */
export const deploymentStates: fc.Arbitrary<DeploymentState> = plain({
  id: fc.constant('set-by-test'),
  app: text,
  env: text,
  kind: fc.constantFrom('deploy' as const, 'rollback' as const, 'restart' as const),
  from: fc.option(text, { nil: null }),
  to: text,
  strategy,
  instances: fc.integer({ min: 1, max: 100 }),
  status: fc.constantFrom(
    'pending' as const,
    'running' as const,
    'paused' as const,
    'succeeded' as const,
    'failed' as const,
    'rolling-back' as const,
    'rolled-back' as const,
    'aborted' as const,
  ),
  phase: fc.constantFrom(
    'installing' as const,
    'stopping-old' as const,
    'starting' as const,
    'shifting' as const,
    'after-switch' as const,
    'retiring' as const,
    'reverting' as const,
    'replacing' as const,
    'done' as const,
  ),
  phaseSince: time,
  step: fc.nat({ max: 10 }),
  weight: fc.integer({ min: 0, max: 100 }),
  weightOverride: fc.option(plain({ actor: text, at: time }), { nil: null }),
  trigger: fc.option(
    plain({ kind: fc.constantFrom('user' as const, 'webhook' as const, 'watcher' as const), actor: text }),
    { nil: null },
  ),
  pausedRemainingMs: fc.option(count, { nil: null }),
  failure: fc.option(failure, { nil: null }),
  revertReason: fc.constantFrom('failure' as const, 'abort' as const, null),
  trafficRestored: fc.boolean(),
  afterSwitchHook: fc.boolean(),
  waitingForTraffic: fc.boolean(),
  pauseReason: fc.option(
    fc.oneof(
      plain({ kind: fc.constant('request' as const) }),
      plain({
        kind: fc.constant('inconclusive' as const),
        traffic: fc.option(plain({ requests: count, errors: count }), { nil: null }),
      }),
    ),
    { nil: null },
  ),
  retry: fc.option(
    plain({ attempt: fc.integer({ min: 1, max: 1000 }), at: fc.option(time, { nil: null }), failure }),
    { nil: null },
  ),
  replace: fc.option(
    plain({
      old: fc.array(text, { maxLength: 5 }),
      batchSize: fc.integer({ min: 1, max: 10 }),
      batch: fc.nat({ max: 10 }),
      retiring: fc.boolean(),
    }),
    { nil: null },
  ),
  createdAt: time,
  updatedAt: time,
});
