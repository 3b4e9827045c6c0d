import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../lib/clock.js';
import { expectFerryError } from '../contract/fixtures.js';
import { describeKvContract } from './contract.js';
import { WatchRecorder } from './contract/fixtures.js';
import { openSqliteKvStore } from './sqlite-kv.js';

let clock = new FakeClock();

describeKvContract('sqlite (in memory, fake clock)', {
  open: () => {
    clock = new FakeClock();
    return openSqliteKvStore(':memory:', { clock });
  },
  leaseTtlMs: 1_000,
  elapse: (ms) => clock.advance(ms),
});

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-kv-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('sqlite key-value store on disk', () => {
  it('keeps its keys, revisions and history across close and reopen', async () => {
    const path = join(dir, 'kv.db');
    const store = await openSqliteKvStore(path);
    await store.put('/a', '1');
    await store.put('/a', '2');
    const r3 = await store.put('/b', '1');
    await store.close();

    const reopened = await openSqliteKvStore(path);
    expect(await reopened.revision()).toBe(r3);
    expect(await reopened.get('/a')).toEqual({
      key: '/a',
      value: '2',
      createRevision: 1,
      modRevision: 2,
      version: 2,
    });
    expect(await reopened.put('/c', '1')).toBe(r3 + 1);
    const watch = new WatchRecorder(reopened, '/', 0);
    await watch.reach(r3 + 1);
    expect(watch.batches.map((batch) => batch.revision)).toEqual([1, 2, 3, 4]);
    watch.cancel();
    await reopened.close();
  });

  it('renews live leases for a full TTL when reopened, as etcd does on a new leader', async () => {
    const path = join(dir, 'kv.db');
    const fake = new FakeClock();
    const store = await openSqliteKvStore(path, { clock: fake });
    const lease = await store.grantLease(10_000);
    await store.put('/hosts/a', 'up', { lease: lease.id });
    await store.close();

    // The store was closed for longer than the TTL: its owner could not renew it meanwhile.
    await fake.advance(60_000);
    const reopened = await openSqliteKvStore(path, { clock: fake });
    await fake.advance(9_000);
    expect(await reopened.get('/hosts/a')).toMatchObject({ lease: lease.id });
    expect(await reopened.keepAlive(lease.id)).toBe(true);
    await fake.advance(10_000);
    expect(await reopened.get('/hosts/a')).toBeUndefined();
    // Lease ids are never reused, even across a reopen.
    expect(Number((await reopened.grantLease(1_000)).id)).toBeGreaterThan(Number(lease.id));
    await reopened.close();
  });

  it('refuses a second opener of the same file, naming the holder', async () => {
    const path = join(dir, 'kv.db');
    const store = await openSqliteKvStore(path);
    const error = await expectFerryError(openSqliteKvStore(path), 'FERRY_E_STORE');
    expect(error.message).toContain(`process ${process.pid}`);
    expect(error.message).toContain('etcd');
    await store.close();
    await (await openSqliteKvStore(path)).close();
  });

  it('fails on a file that is not a store with FERRY_E_STORE_DAMAGED', async () => {
    const path = join(dir, 'kv.db');
    writeFileSync(path, 'not a database, just some text that is long enough to be read as a header');
    const error = await expectFerryError(openSqliteKvStore(path), 'FERRY_E_STORE_DAMAGED');
    expect(error.message).toContain(`move it aside (with ${path}-wal`);
    expect(error.message).toContain('ferry up --adopt');
  });

  it('stops its lease timer on close, leaving no timer behind', async () => {
    const fake = new FakeClock();
    const store = await openSqliteKvStore(':memory:', { clock: fake });
    await store.grantLease(5_000);
    expect(fake.pending).toBe(1);
    await store.close();
    expect(fake.pending).toBe(0);
  });
});

describe('sqlite key-value store history', () => {
  it('keeps at least historyRevisions of history, compacting the older part', async () => {
    const store = await openSqliteKvStore(':memory:', { historyRevisions: 20 });
    for (let i = 1; i <= 100; i++) await store.put(`/k/${i % 3}`, String(i));
    const recent = new WatchRecorder(store, '/k/', 80);
    await recent.reach(100);
    expect(recent.batches.map((batch) => batch.revision)).toEqual(
      Array.from({ length: 20 }, (_, i) => 81 + i),
    );
    const old = new WatchRecorder(store, '/k/', 10);
    expect((await old.failure()).message).toContain('compacted');
    expect((await store.range('/k/')).entries).toHaveLength(3);
    await store.close();
  });

  it('compacts on request up to the current revision, and refuses a future one', async () => {
    const store = await openSqliteKvStore(':memory:');
    for (let i = 1; i <= 5; i++) await store.put('/k', String(i));
    await expectFerryError(store.compact(6), 'FERRY_E_STORE_REQUEST_INVALID');
    await store.compact(4);
    await store.compact(2);
    const failed = new WatchRecorder(store, '/', 2);
    expect(await failed.failure()).toMatchObject({ code: 'FERRY_E_STORE_COMPACTED' });
    const fromThree = new WatchRecorder(store, '/', 3);
    await fromThree.reach(5);
    expect(fromThree.batches.map((batch) => batch.revision)).toEqual([4, 5]);
    fromThree.cancel();
    await store.close();
  });

  it('replays a history longer than one page in order', async () => {
    const store = await openSqliteKvStore(':memory:');
    const ops = Array.from({ length: 2_500 }, (_, i) => i);
    for (const i of ops) await store.put(`/p/${i % 7}`, String(i));
    const watch = new WatchRecorder(store, '/p/', 0);
    await watch.reach(2_500);
    expect(watch.batches.map((batch) => batch.revision)).toEqual(ops.map((i) => i + 1));
    watch.cancel();
    await store.close();
  });
});
