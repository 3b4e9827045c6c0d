import { randomBytes } from 'node:crypto';
import { Etcd3 } from 'etcd3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../test/support/ferry.js';
import { expectFerryError } from '../contract/fixtures.js';
import { describeKvContract } from './contract.js';
import { WatchRecorder, eventually } from './contract/fixtures.js';
import type { KvStore } from './kv.js';
import { openKvStore } from './open.js';
import { type EtcdServer, startEtcdServer } from './test-support/etcd-server.js';

let etcd: EtcdServer | undefined;
let admin: Etcd3 | undefined;

beforeAll(async () => {
  etcd = await startEtcdServer();
  admin = new Etcd3({ hosts: `http://${etcd.endpoint}` });
});
afterAll(async () => {
  admin?.close();
  await etcd?.stop();
});
// A lease a test left behind must not expire during the next one (it would move the revision).
afterEach(async () => {
  const client = admin;
  if (client === undefined) return;
  const { leases } = await client.leaseClient.leaseLeases();
  await Promise.all(leases.map(({ ID }) => client.leaseClient.leaseRevoke({ ID })));
});

function server(): EtcdServer {
  if (etcd === undefined) throw new Error('etcd is not running');
  return etcd;
}

/** A prefix no other test uses: each test is its own installation. */
function uniquePrefix(): string {
  return `/t-${randomBytes(6).toString('hex')}`;
}

describeKvContract('etcd', {
  open: () => openKvStore(server().url(uniquePrefix())),
  // etcd grants whole seconds; two leave the lease tests room on two busy cores.
  leaseTtlMs: 2_000,
  // etcd's leases run on etcd's clock: time has to pass for real.
  elapse: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
});

describe('etcd store', () => {
  const opened: KvStore[] = [];
  const open = async (url: string, timeoutMs?: number) => {
    const store = await openKvStore(url, timeoutMs === undefined ? {} : { timeoutMs });
    opened.push(store);
    return store;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });

  it('keeps installations apart by their key prefix', async () => {
    const base = uniquePrefix();
    const prod = await open(server().url(`${base}/ferry`));
    const staging = await open(server().url(`${base}/ferry2`));
    const from = await prod.revision();
    const watch = new WatchRecorder(prod, '', from);

    await prod.put('/apps/web', 'prod');
    await staging.put('/apps/web', 'staging');
    await staging.put('/apps/api', 'staging');
    await staging.txn({ compare: [], success: [{ type: 'delete-prefix', prefix: '' }] });
    const last = await prod.put('/apps/db', 'prod');

    expect((await prod.range('')).entries.map((entry) => [entry.key, entry.value])).toEqual([
      ['/apps/db', 'prod'],
      ['/apps/web', 'prod'],
    ]);
    expect((await staging.range('')).entries).toEqual([]);
    await watch.reach(last);
    expect(watch.events.map((event) => event.key)).toEqual(['/apps/web', '/apps/db']);
    watch.cancel();
    // In etcd, the key is the installation's prefix followed by the store key.
    const raw = await admin?.get(`${base}/ferry//apps/web`).string();
    expect(raw).toBe('prod');
  });

  it('rounds a lease TTL up to whole seconds', async () => {
    const store = await open(server().url(uniquePrefix()));
    const lease = await store.grantLease(1_200);
    expect(lease.ttlMs).toBe(2_000);
    await store.revokeLease(lease.id);
  });

  it('keeps a watch through an etcd restart, resuming where it was', async () => {
    const store = await open(server().url(uniquePrefix()));
    const watch = new WatchRecorder(store, '/w/', await store.revision());
    const first = await store.put('/w/1', 'before');
    await watch.reach(first);

    await server().halt();
    await server().start();
    // The same store's calls recover too (a read: a write that failed might still have been applied).
    await eventually('the store to reach etcd again', () =>
      store.revision().then(
        () => true,
        () => false,
      ),
    );
    const second = await store.put('/w/2', 'after');
    await watch.reach(second);
    expect(watch.batches.map((batch) => batch.revision)).toEqual([first, second]);
    watch.cancel();
  });

  it('fails calls with FERRY_E_STORE_UNREACHABLE within its timeout when etcd hangs or is gone', async () => {
    const own = await startEtcdServer();
    const timeoutMs = 1_500;
    const expectUnreachable = async (call: () => Promise<unknown>) => {
      const started = Date.now();
      const error = await expectFerryError(call(), 'FERRY_E_STORE_UNREACHABLE');
      // The deadline, plus room for a busy machine to notice it.
      expect(Date.now() - started).toBeLessThan(timeoutMs + 1_000);
      expect(error.message).toContain(own.endpoint);
    };
    try {
      const store = await open(own.url(uniquePrefix()), timeoutMs);
      await store.put('/k', 'v');

      own.freeze();
      await expectUnreachable(() => store.get('/k'));
      await expectUnreachable(() => store.put('/k', 'w'));
      own.thaw();
      const entry = await eventually('the store to answer again', () =>
        store.get('/k').catch(() => undefined),
      );
      // The put may have been applied or not (its answer was lost): either value is right.
      expect(['v', 'w']).toContain(entry.value);

      await own.halt();
      for (const call of [() => store.get('/k'), () => store.put('/k', 'x'), () => store.grantLease(5_000)]) {
        await expectUnreachable(call);
      }
    } finally {
      await own.stop();
    }
  });

  it('fails to open an etcd that does not answer, naming its endpoints but never the credentials', async () => {
    const port = await freePort();
    const started = Date.now();
    const error = await expectFerryError(
      openKvStore(`etcd://ferry:s3cret-password@127.0.0.1:${port}/prod`, { timeoutMs: 1_000 }),
      'FERRY_E_STORE_UNREACHABLE',
    );
    expect(Date.now() - started).toBeLessThan(1_000 + 1_000);
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expect(JSON.stringify({ message: error.message, details: error.details })).not.toContain('s3cret');
  });
});
