import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeStoreContract } from '../contract.js';
import { aDeployment } from '../contract/fixtures.js';
import type { KvStore } from '../kv/kv.js';
import { openKvStore } from '../kv/open.js';
import { openSqliteKvStore } from '../kv/sqlite-kv.js';
import { type EtcdServer, startEtcdServer } from '../kv/test-support/etcd-server.js';
import { openSqliteStore } from '../sqlite/sqlite-store.js';
import type { InstanceStore, Store } from '../store.js';
import { KvRecordsStore } from './kv-records-store.js';
import { recordsWithInstances } from './with-instances.js';

/**
 * The contract suite takes a Store that is also an InstanceStore. Instances are host-local records
 * (an agent's, never the control plane's), so they stay in SQLite; the control plane's records are
 * the KvRecordsStore's, which is what this file tests.
 */
function withInstances(kv: KvStore): Store & InstanceStore {
  return recordsWithInstances(new KvRecordsStore(kv), openSqliteStore(':memory:'));
}

describeStoreContract('kv records on sqlite kv', async () =>
  withInstances(await openSqliteKvStore(':memory:')),
);

let etcd: EtcdServer | undefined;
beforeAll(async () => {
  etcd = await startEtcdServer();
}, 60_000);
afterAll(async () => {
  await etcd?.stop();
});

/** Each store is its own installation on the one etcd: a prefix no other test uses. */
function etcdUrl(): string {
  if (etcd === undefined) throw new Error('etcd is not running');
  return etcd.url(`/t-${randomBytes(6).toString('hex')}`);
}

describeStoreContract('kv records on etcd', async () => withInstances(await openKvStore(etcdUrl())));

describe('kv records on etcd, across servers', () => {
  it('keeps the records for the next server on the same etcd, and lets only one start a deployment', async () => {
    const url = etcdUrl();
    const first = new KvRecordsStore(await openKvStore(url));
    await first.upsertRelease({
      app: '__proto__',
      env: 'constructor',
      version: '1.0.0',
      artifactUrl: 'file:///a',
      checksum: null,
      createdAt: 1,
    });
    await first.createDeployment(aDeployment({ app: '__proto__', env: 'constructor' }));
    await first.appendEvent({ deploymentId: 'd-1', at: 2, type: 'phase', message: 'starting' });
    await first.close();

    const [a, b] = [new KvRecordsStore(await openKvStore(url)), new KvRecordsStore(await openKvStore(url))];
    expect((await a.listReleases('__proto__', 'constructor')).map((r) => r.version)).toEqual(['1.0.0']);
    expect((await b.activeDeployment('__proto__', 'constructor'))?.id).toBe('d-1');
    expect((await a.listEvents('d-1')).map((e) => e.message)).toEqual(['starting']);
    await a.saveDeployment(
      aDeployment({ app: '__proto__', env: 'constructor', status: 'succeeded', phase: 'done' }),
    );
    const racing = await Promise.allSettled([
      a.createDeployment(aDeployment({ id: 'd-a', app: '__proto__', env: 'constructor' })),
      b.createDeployment(aDeployment({ id: 'd-b', app: '__proto__', env: 'constructor' })),
    ]);
    expect(racing.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    await Promise.all([a.close(), b.close()]);
  });
});

describe('kv records: one app’s history', () => {
  it('reads only that app’s deployments (the newest `limit` of them), not the others’', async () => {
    const kv = await openSqliteKvStore(':memory:');
    const store = new KvRecordsStore(kv);
    const done = { status: 'succeeded', phase: 'done' } as const;
    for (let i = 0; i < 50; i++) {
      await store.createDeployment(aDeployment({ id: `other-${i}`, app: 'other', createdAt: i, ...done }));
    }
    for (let i = 0; i < 5; i++) {
      const env = i % 2 === 0 ? 'production' : 'staging';
      await store.createDeployment(
        aDeployment({ id: `web-${i}`, app: 'web', env, createdAt: 100 + i, ...done }),
      );
    }
    // Two of one time: the one created later is newer, as in SQLite.
    await store.createDeployment(aDeployment({ id: 'web-tie', app: 'web', createdAt: 104, ...done }));
    const read: string[] = [];
    const get = kv.get.bind(kv);
    kv.get = (key) => {
      read.push(key);
      return get(key);
    };
    const ids = async (filter: Parameters<Store['listDeployments']>[0]) =>
      (await store.listDeployments(filter)).map((d) => d.id);
    expect(await ids({ app: 'web' })).toEqual(['web-tie', 'web-4', 'web-3', 'web-2', 'web-1', 'web-0']);
    expect(await ids({ app: 'web', env: 'staging' })).toEqual(['web-3', 'web-1']);
    expect(await ids({ app: 'web', limit: 1 })).toEqual(['web-tie']);
    expect(await ids({ app: 'web', limit: 0 })).toEqual([]);
    expect(read.filter((key) => key.includes('other'))).toEqual([]);
    read.length = 0;
    await ids({ app: 'web', env: 'production', limit: 2 });
    // The limit-th's time is read whole (web-4 and web-tie tie), and nothing older.
    expect(read.sort()).toEqual(['/deployments/web-4', '/deployments/web-tie']);

    // A deployment saved under another app moves in the index.
    await store.saveDeployment(aDeployment({ id: 'web-0', app: 'api', createdAt: 100, ...done }));
    expect(await ids({ app: 'web', env: 'production' })).toEqual(['web-tie', 'web-4', 'web-2']);
    expect(await ids({ app: 'api' })).toEqual(['web-0']);
    await store.close();
  });

  it('puts deployments stored before the index existed into it once, before its first read', async () => {
    const kv = await openSqliteKvStore(':memory:');
    const earlier = new KvRecordsStore(kv, { closeKv: false });
    const done = { status: 'succeeded', phase: 'done' } as const;
    for (let i = 0; i < 120; i++)
      await earlier.createDeployment(aDeployment({ id: `web-${i}`, app: 'web', createdAt: i, ...done }));
    await earlier.close();
    // As an earlier Ferry left them: no index.
    await kv.txn({ compare: [], success: [{ type: 'delete-prefix', prefix: '/app-deployments/' }] });
    const store = new KvRecordsStore(kv);
    const history = await store.listDeployments({ app: 'web', limit: 3 });
    expect(history.map((d) => d.id)).toEqual(['web-119', 'web-118', 'web-117']);
    expect((await store.listDeployments({ app: 'web' })).length).toBe(120);
    expect((await kv.get('/records-meta/app-index'))?.value).toBe('120');
    await store.close();
  });
});
