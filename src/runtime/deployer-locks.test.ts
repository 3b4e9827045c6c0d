import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { FINAL_STATUSES } from '../engine/types.js';
import { isFerryError } from '../errors/ferry-error.js';
import { EventPublisher } from '../events/publisher.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { silentLogger } from '../lib/logger.js';
import type { QueuedDeploy, QueuedDeployRequest } from '../server/locks/deploy-queue.js';
import type { Lock } from '../server/locks/lock.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import type { Store } from '../store/store.js';
import type { DeployLocks } from './deploy-locks.js';
import { Deployer } from './deployer.js';
import { FakeEffects } from './test-support/fake-effects.js';

const config = parseConfig(
  `environments: { production: {}, staging: {} }
apps:
  hello:
    artifact: { url: "file:///releases/hello-{version}.tar.gz" }
    run: { command: node, args: [server.mjs] }
    instances: 2
    listen: "127.0.0.1:18080"
    environments:
      staging: { listen: "127.0.0.1:18081" }
`,
  { configPath: null },
);

const NOON = Date.UTC(2026, 10, 28, 12);

/** Locks in memory: the Deployer's port, without a store. */
class MemoryLocks implements DeployLocks {
  readonly held = new Map<string, Lock>();
  readonly queued: QueuedDeploy[] = [];

  lock(env: string, app: string | null, reason = 'release freeze'): Lock {
    const lock = { env, app, owner: 'alice', reason, createdAt: NOON - 1000, expiresAt: NOON };
    this.held.set(app === null ? env : `${env}/${app}`, lock);
    return lock;
  }

  holding(app: string, env: string): Promise<Lock | null> {
    return Promise.resolve(this.held.get(env) ?? this.held.get(`${env}/${app}`) ?? null);
  }

  enqueue(request: QueuedDeployRequest, heldBy: Lock) {
    const queued = { ...request, queuedAt: 1, heldBy, failure: null };
    this.queued.push(queued);
    return Promise.resolve({ queued, replaced: null });
  }
}

let store: Store;
let effects: FakeEffects;
let deployer: Deployer;
let locks: MemoryLocks;
let events: EventPublisher;
let time = 1_000;

beforeEach(async () => {
  store = openSqliteStore(':memory:');
  effects = new FakeEffects(store);
  locks = new MemoryLocks();
  const clock: Clock = { ...systemClock, now: () => time++ };
  events = new EventPublisher({ now: () => clock.now() });
  deployer = new Deployer({
    config: { current: config },
    store,
    effects,
    logger: silentLogger(),
    clock,
    tickMs: 5,
    events,
    locks,
  });
  for (const version of ['1.0.0', '1.1.0']) {
    await store.upsertRelease({
      app: 'hello',
      env: 'production',
      version,
      artifactUrl: `file:///releases/hello-${version}.tar.gz`,
      checksum: null,
      createdAt: time++,
    });
    await store.markRelease('hello', 'production', version, 'good', 'deployed', time++);
  }
  await store.setCurrent('hello', 'production', '1.1.0');
  effects.seed('1.1.0', 2);
});

afterEach(async () => {
  deployer.stop();
  await store.close();
});

async function refused(work: Promise<unknown>) {
  const error = await work.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: unknown) => e,
  );
  if (!isFerryError(error)) throw error;
  return error;
}

function finished(id: string): Promise<string> {
  return new Promise((resolve) =>
    events.subscribe((event) => {
      if (
        event.kind === 'deployment' &&
        event.deployment.id === id &&
        FINAL_STATUSES.has(event.deployment.status)
      )
        resolve(event.deployment.status);
    }),
  );
}

async function nothingStarted(): Promise<void> {
  expect(await store.listDeployments({ app: 'hello', env: 'production', limit: 10 })).toEqual([]);
  expect(await store.listAudit(10)).toEqual([]);
}

describe('Deployer under locks', () => {
  it("refuses a deploy while the environment is locked, naming the lock's owner, reason and expiry", async () => {
    locks.lock('production', null);
    const error = await refused(deployer.deploy({ app: 'hello', version: '1.2.0', actor: 'bob' }));
    expect(error.code).toBe('FERRY_E_LOCKED');
    expect(error.message).toBe(
      'cannot deploy 1.2.0 of hello to production: production is locked by alice until 2026-11-28T12:00:00Z: release freeze; to deploy it once the lock goes (released or expired): ferry deploy hello 1.2.0 --env production --queue; or release it with: ferry unlock production',
    );
    expect(error.details.lock).toMatchObject({ env: 'production', app: null, owner: 'alice' });
    await nothingStarted();
  });

  it('refuses a deploy and a restart while the app is locked in that environment, not in another', async () => {
    locks.lock('production', 'hello', 'incident 42');
    const restart = await refused(deployer.restart({ app: 'hello', actor: 'bob' }));
    expect(restart.message).toBe(
      'cannot restart hello in production: hello in production is locked by alice until 2026-11-28T12:00:00Z: incident 42; release it with: ferry unlock production hello',
    );
    await refused(deployer.deploy({ app: 'hello', env: 'production', version: '1.2.0', actor: 'bob' }));
    await nothingStarted();
    // The app's lock is production's: staging deploys.
    const staging = await deployer.deploy({ app: 'hello', env: 'staging', version: '1.2.0', actor: 'bob' });
    expect(await finished(staging.id)).toBe('succeeded');
  });

  it('lets rollbacks and aborts through: they are the way out of trouble', async () => {
    const running = await deployer.deploy({
      app: 'hello',
      version: '1.2.0',
      actor: 'bob',
      strategy: 'canary',
    });
    locks.lock('production', null);
    const aborted = finished(running.id);
    await deployer.command('hello', undefined, 'abort', 'bob', { force: true });
    await aborted;
    const rollback = await deployer.rollback({ app: 'hello', actor: 'bob' });
    expect(rollback).toMatchObject({ kind: 'rollback', to: '1.0.0' });
    expect(await finished(rollback.id)).toBe('succeeded');
  });

  it('queues the deploy behind the lock instead of refusing it, and deploys at once without one', async () => {
    const lock = locks.lock('production', null);
    const outcome = await deployer.deployOrQueue({ app: 'hello', version: '1.2.0', actor: 'bob' });
    expect(outcome).toMatchObject({
      queued: { app: 'hello', env: 'production', version: '1.2.0', heldBy: lock },
    });
    expect(locks.queued).toHaveLength(1);
    await nothingStarted();

    locks.held.clear();
    const now = await deployer.deployOrQueue({ app: 'hello', version: '1.2.0', actor: 'bob' });
    if (!('deployment' in now)) throw new Error('expected a deployment');
    expect(await finished(now.deployment.id)).toBe('succeeded');
  });

  it('refuses to queue what would be refused once the lock goes: the serving release, a bad one', async () => {
    locks.lock('production', null);
    const serving = await refused(deployer.deployOrQueue({ app: 'hello', version: '1.1.0', actor: 'bob' }));
    expect(serving.message).toMatch(/^1\.1\.0 already serves hello in production; nothing to deploy/);
    await store.markRelease('hello', 'production', '1.0.0', 'bad', 'health failed', time++);
    const bad = await refused(deployer.deployOrQueue({ app: 'hello', version: '1.0.0', actor: 'bob' }));
    expect(bad.code).toBe('FERRY_E_RELEASE_BAD');
    expect(locks.queued).toEqual([]);
  });

  it("writes a queued deploy's notes into its deployment's event log", async () => {
    const started = await deployer.deploy({
      app: 'hello',
      version: '1.2.0',
      actor: 'bob',
      notes: ['queued by bob while production was locked'],
    });
    expect((await store.listEvents(started.id))[0]?.message).toBe(
      'queued by bob while production was locked',
    );
    expect(await finished(started.id)).toBe('succeeded');
  });
});
