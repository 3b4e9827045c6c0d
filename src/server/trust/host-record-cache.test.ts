import { describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/support/wait.js';
import { FakeClock } from '../../lib/clock.js';
import type { KvEntry, KvStore } from '../../store/kv/kv.js';
import { openSqliteKvStore } from '../../store/kv/sqlite-kv.js';
import { HostRecordCache } from './host-record-cache.js';
import { Trust } from './trust.js';
import { trustKeys } from './trust-records.js';

const HOUR = 60 * 60 * 1000;

/** The store, with its reads of host records counted, and a way to hold the next one. */
function countingStore(kv: KvStore) {
  let hostReads = 0;
  let hold: { entry: KvEntry | undefined; release: Promise<void> } | null = null;
  const store: Pick<KvStore, 'get' | 'revision' | 'watch'> = {
    revision: () => kv.revision(),
    watch: (...args) => kv.watch(...args),
    get: async (key) => {
      if (key.startsWith(trustKeys.hosts)) hostReads++;
      const held = hold;
      if (held === null) return kv.get(key);
      hold = null;
      await held.release;
      return held.entry;
    },
  };
  return {
    store,
    reads: () => hostReads,
    /** The next read answers `entry` (what the store held when it began), once `release` resolves. */
    holdNextRead: (entry: KvEntry | undefined, release: Promise<void>) => {
      hold = { entry, release };
    },
  };
}

async function enrolled(names: string[]) {
  const kv = await openSqliteKvStore(':memory:');
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const trust = new Trust(kv, clock);
  const { token } = await trust.createJoinToken({ ttlMs: HOUR, uses: names.length });
  const hosts = [];
  for (const name of names) hosts.push(await trust.enroll(token, { name }));
  return { kv, clock, trust, hosts };
}

/** Lets the store's watch deliver what was written (the SQLite store's watches run on a later turn). */
const delivered = () => new Promise((resolve) => setImmediate(resolve));

/** The cache's watch runs (it starts on the first read). */
async function started(cache: HostRecordCache): Promise<void> {
  await cache.get('0123456789abcdef');
  await delivered();
}

describe('HostRecordCache', () => {
  it('reads a host from the store once while its watch runs, then answers from memory', async () => {
    const { kv, hosts } = await enrolled(['web-1', 'web-2']);
    const counted = countingStore(kv);
    const cache = new HostRecordCache(counted.store);
    const [one, two] = hosts.map((h) => h.host.id) as [string, string];
    await started(cache);
    const before = counted.reads();
    for (let i = 0; i < 10; i++) expect((await cache.get(one))?.name).toBe('web-1');
    for (let i = 0; i < 10; i++) expect((await cache.get(two))?.name).toBe('web-2');
    expect(counted.reads()).toBe(before + 2);
    // Unknown ids are not kept: agents cannot fill the memory with made-up ones.
    expect(await cache.get('fedcba9876543210')).toBeUndefined();
    expect(await cache.get('fedcba9876543210')).toBeUndefined();
    expect(counted.reads()).toBe(before + 4);
    cache.close();
  });

  it('takes a change made through another server sharing the store as soon as the watch delivers it', async () => {
    const { kv, hosts } = await enrolled(['web-1']);
    const cache = new HostRecordCache(kv);
    const id = hosts[0]!.host.id;
    await started(cache);
    expect((await cache.get(id))?.revokedAt).toBeNull();
    const elsewhere = new Trust(kv, new FakeClock(Date.UTC(2026, 0, 2)));
    await elsewhere.revokeHost(id);
    await delivered();
    expect((await cache.get(id))?.revokedAt).toBe(Date.UTC(2026, 0, 2));
    cache.close();
  });

  it('never keeps a read that began before a change over the change', async () => {
    const { kv, hosts } = await enrolled(['web-1']);
    const counted = countingStore(kv);
    const cache = new HostRecordCache(counted.store);
    const id = hosts[0]!.host.id;
    // The watch runs; nothing of this host is kept yet.
    await started(cache);
    const before = await kv.get(trustKeys.host(id));
    let release!: () => void;
    counted.holdNextRead(before, new Promise<void>((resolve) => (release = resolve)));
    const slowRead = cache.get(id);
    // The host is revoked while the read is on its way (as with a remote store), and the watch tells.
    await new Trust(kv).revokeHost(id);
    await delivered();
    release();
    expect((await slowRead)?.revokedAt).toBeNull();
    expect((await cache.get(id))?.revokedAt).not.toBeNull();
    cache.close();
  });

  it('forgets everything when its watch fails, so a change the watch missed still holds', async () => {
    const { kv, hosts } = await enrolled(['web-1']);
    const errors: Error[] = [];
    const cache = new HostRecordCache(kv, (error) => errors.push(error));
    const id = hosts[0]!.host.id;
    await started(cache);
    expect((await cache.get(id))?.revokedAt).toBeNull();
    // Revoked elsewhere, and the history compacted before the watch could read it: the watch fails.
    await new Trust(kv).revokeHost(id);
    await kv.put('/other', 'x');
    await kv.compact(await kv.revision());
    await delivered();
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual(['FERRY_E_STORE_COMPACTED']);
    expect((await cache.get(id))?.revokedAt).not.toBeNull();
    // Watching again, it answers from memory again: what it kept before the failure is gone.
    await started(cache);
    for (let i = 0; i < 3; i++) expect((await cache.get(id))?.revokedAt).not.toBeNull();
    cache.close();
  });
});

describe('Trust with its host records in memory', () => {
  it('refuses a revoked host from the next request on, even one it answered from memory just before', async () => {
    const { trust, hosts, clock } = await enrolled(['web-1']);
    const { host, credential } = hosts[0]!;
    for (let i = 0; i < 3; i++) {
      expect(await trust.authenticateAgent(credential)).toMatchObject({ hostId: host.id });
      await delivered();
    }
    await clock.advance(1000);
    // The store's watch has not delivered the revocation yet when the next request comes.
    await trust.revokeHost(host.id);
    await expect(trust.authenticateAgent(credential)).rejects.toMatchObject({
      code: 'FERRY_E_AGENT_CREDENTIAL_REFUSED',
      details: { reason: 'revoked' },
    });
    trust.close();
  });

  it('refuses a host revoked through another server once the store tells it', async () => {
    const { kv, trust, hosts } = await enrolled(['web-1']);
    const { host, credential } = hosts[0]!;
    for (let i = 0; i < 3; i++) {
      expect(await trust.authenticateAgent(credential)).toMatchObject({ hostId: host.id });
      await delivered();
    }
    await new Trust(kv).revokeHost(host.id);
    await waitFor('the revocation to hold', () =>
      trust.authenticateAgent(credential).then(
        () => false,
        (error: { details?: { reason?: string } }) => error.details?.reason === 'revoked',
      ),
    );
    trust.close();
  });
});
