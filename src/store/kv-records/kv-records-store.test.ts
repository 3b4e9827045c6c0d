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
