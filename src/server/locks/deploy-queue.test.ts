import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FerryError } from '../../errors/ferry-error.js';
import { FakeClock } from '../../lib/clock.js';
import { silentLogger } from '../../lib/logger.js';
import { openSqliteKvStore, type SqliteKvStore } from '../../store/kv/sqlite-kv.js';
import { DeployQueue, FAILED_KEPT_MS, type QueuedDeployRequest, type QueueOutcome } from './deploy-queue.js';
import { lockKey, type Lock } from './lock.js';
import { LockKeeper, type LockChange } from './lock-keeper.js';
import { Locks } from './locks.js';

const HOUR = 3_600_000;

let clock: FakeClock;
let kv: SqliteKvStore;
let locks: Locks;
let queue: DeployQueue;
let keeper: LockKeeper;
let started: Array<{ request: QueuedDeployRequest; notes: readonly string[] }>;
let outcomes: QueueOutcome[];
let changes: LockChange[];
/** What the next start does instead of succeeding. */
let refuse: (() => Error) | null;

function web(version: string): QueuedDeployRequest {
  return { app: 'web', env: 'production', version, strategy: null, force: false, actor: 'carol' };
}

beforeEach(async () => {
  clock = new FakeClock(Date.UTC(2026, 10, 28, 10));
  kv = await openSqliteKvStore(':memory:', { clock });
  locks = new Locks(kv, clock);
  started = [];
  outcomes = [];
  changes = [];
  refuse = null;
  queue = new DeployQueue({
    kv,
    clock,
    locks,
    logger: silentLogger(),
    onOutcome: (o) => void outcomes.push(o),
  });
  queue.startWith((request, notes) => {
    const error = refuse?.();
    if (error) return Promise.reject(error);
    started.push({ request, notes });
    return Promise.resolve({ id: `d-${started.length}` });
  });
  keeper = new LockKeeper({
    kv,
    clock,
    locks,
    queue,
    logger: silentLogger(),
    onChange: (change) => changes.push(change),
  });
});

afterEach(async () => {
  keeper.stop();
  await queue.settled();
  await kv.close();
});

/** Lets the store's watches deliver and the queue run, until `check` holds (bounded: no sleeps). */
async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  for (let turn = 0; turn < 200; turn++) {
    await new Promise((resolve) => setImmediate(resolve));
    await queue.settled();
    if (await check()) return;
  }
  throw new Error(`never happened: ${what}`);
}

async function lockEnv(ttlMs = HOUR, owner = 'alice'): Promise<Lock> {
  return (await locks.lock({ env: 'production', app: null, owner, reason: 'release freeze', ttlMs })).lock;
}

describe('the deploy queue', () => {
  it('starts a queued deploy when its lock is released, noting who queued it behind which lock', async () => {
    await keeper.start();
    const lock = await lockEnv();
    const { queued } = await queue.enqueue(web('1.1.0'), lock);
    expect(queued).toMatchObject({ version: '1.1.0', heldBy: lock, failure: null, queuedAt: clock.now() });
    await queue.settled();
    expect(started).toEqual([]);
    expect(await queue.list()).toHaveLength(1);

    await clock.advance(60_000);
    await locks.unlock({ env: 'production', app: null });
    await until('the queued deploy started', () => started.length === 1);
    expect(started[0]!.request).toEqual(web('1.1.0'));
    expect(started[0]!.notes).toEqual([
      'queued by carol at 2026-11-28T10:00:00Z while production was locked by alice (release freeze); started at 2026-11-28T10:01:00Z, once no lock held web in production',
    ]);
    expect(await queue.list()).toEqual([]);
    expect(outcomes).toMatchObject([{ kind: 'started', deployment: 'd-1' }]);
    expect(changes.map((c) => c.kind)).toEqual(['locked', 'unlocked']);
  });

  it('starts a queued deploy when its lock expires', async () => {
    await keeper.start();
    const lock = await lockEnv(HOUR);
    await queue.enqueue(web('1.1.0'), lock);
    await clock.advance(HOUR - 1);
    await queue.settled();
    expect(started).toEqual([]);
    await clock.advance(1);
    await until('the queued deploy started', () => started.length === 1);
    expect(changes.map((c) => c.kind)).toEqual(['locked', 'expired']);
  });

  it('ends a lock at its expiry even when its lease outlives it (renewed as the store reopened)', async () => {
    await keeper.start();
    const lock = await lockEnv(HOUR);
    const lease = await kv.grantLease(3 * HOUR);
    await kv.put(lockKey(lock), JSON.stringify(lock), { lease: lease.id });
    await queue.enqueue(web('1.1.0'), lock);
    await clock.advance(HOUR);
    await until('the queued deploy started', () => started.length === 1);
    expect(await kv.get('/locks/production')).toBeUndefined();
  });

  it('waits while another lock still holds the app: the environment released, the app still locked', async () => {
    await keeper.start();
    const envLock = await lockEnv();
    await locks.lock({ env: 'production', app: 'web', owner: 'bob', reason: 'incident' });
    await queue.enqueue(web('1.1.0'), envLock);
    await locks.unlock({ env: 'production', app: null });
    await until('the release ran', () => changes.length === 3);
    expect(started).toEqual([]);
    expect(await queue.list()).toHaveLength(1);
    await locks.unlock({ env: 'production', app: 'web' });
    await until('the queued deploy started', () => started.length === 1);
  });

  it('keeps one queued deploy per app and environment: a newer one replaces the older', async () => {
    await keeper.start();
    const lock = await lockEnv();
    await queue.enqueue(web('1.1.0'), lock);
    const { replaced } = await queue.enqueue(web('1.2.0'), lock);
    expect(replaced?.version).toBe('1.1.0');
    expect((await queue.list()).map((q) => q.version)).toEqual(['1.2.0']);
    await locks.unlock({ env: 'production', app: null });
    await until('the queued deploy started', () => started.length === 1);
    expect(started.map((s) => s.request.version)).toEqual(['1.2.0']);
  });

  it('records a start that fails as the queued deploy’s failure, kept for a day, and reports it', async () => {
    await keeper.start();
    const lock = await lockEnv();
    await queue.enqueue(web('1.1.0'), lock);
    refuse = () => new FerryError('FERRY_E_RELEASE_BAD', 'release 1.1.0 of web in production is marked bad');
    await locks.unlock({ env: 'production', app: null });
    await until('the failure was recorded', () => outcomes.length === 1);
    expect(outcomes[0]).toMatchObject({ kind: 'failed' });
    const [failed] = await queue.list();
    expect(failed?.failure).toEqual({
      code: 'FERRY_E_RELEASE_BAD',
      message: 'release 1.1.0 of web in production is marked bad',
      at: clock.now(),
    });
    // A failure is not tried again, and goes after a day.
    refuse = null;
    queue.release();
    await queue.settled();
    expect(started).toEqual([]);
    await clock.advance(FAILED_KEPT_MS);
    expect(await queue.list()).toEqual([]);
  });

  it('hides the internals of an unexpected error in the recorded failure', async () => {
    await keeper.start();
    await queue.enqueue(web('1.1.0'), await lockEnv());
    refuse = () => new Error('SQLITE_IOERR at /var/lib/ferry/x');
    await locks.unlock({ env: 'production', app: null });
    await until('the failure was recorded', () => outcomes.length === 1);
    expect((await queue.list())[0]?.failure).toMatchObject({
      code: 'FERRY_E_INTERNAL',
      message: 'internal error; see the daemon log',
    });
  });

  it('puts a deploy back behind the lock that refused its start', async () => {
    const lock = await lockEnv();
    await queue.enqueue(web('1.1.0'), lock);
    await queue.settled();
    await locks.unlock({ env: 'production', app: null });
    // The lock is taken again between the queue's check and the Deployer's own.
    let bobs: Lock | null = null;
    queue.startWith(async () => {
      bobs = (await locks.lock({ env: 'production', app: 'web', owner: 'bob', reason: 'incident' })).lock;
      throw new FerryError('FERRY_E_LOCKED', 'web in production is locked by bob');
    });
    queue.release();
    await queue.settled();
    expect(outcomes).toMatchObject([{ kind: 'locked-again' }]);
    const [back] = await queue.list();
    expect(back).toMatchObject({ version: '1.1.0', failure: null, heldBy: bobs });
  });

  it('starts, when the keeper starts, what waits for a lock that ended while no server watched', async () => {
    await queue.enqueue(web('1.1.0'), await lockEnv(HOUR));
    await clock.advance(HOUR);
    await queue.settled();
    expect(started).toEqual([]);
    await keeper.start();
    await until('the queued deploy started', () => started.length === 1);
  });

  it('starts a queued deploy at most once when two servers release it together', async () => {
    await queue.enqueue(web('1.1.0'), await lockEnv());
    await locks.unlock({ env: 'production', app: null });
    const other = new DeployQueue({ kv, clock, locks, logger: silentLogger() });
    other.startWith((request, notes) => {
      started.push({ request, notes });
      return Promise.resolve({ id: 'd-other' });
    });
    queue.release();
    other.release();
    await Promise.all([queue.settled(), other.settled()]);
    expect(started).toHaveLength(1);
  });
});
