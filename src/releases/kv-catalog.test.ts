import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectFerryError } from '../store/contract/fixtures.js';
import type { KvStore } from '../store/kv/kv.js';
import { openKvStore } from '../store/kv/open.js';
import { openSqliteKvStore } from '../store/kv/sqlite-kv.js';
import { type EtcdServer, startEtcdServer } from '../store/kv/test-support/etcd-server.js';
import { KvReleaseCatalog } from './kv-catalog.js';
import type { ReleaseCandidate } from './release.js';

const SUM_A = `sha256:${'a'.repeat(64)}`;
const SUM_B = `sha256:${'b'.repeat(64)}`;

function candidate(version: string, over: Partial<ReleaseCandidate> = {}): ReleaseCandidate {
  return {
    app: 'web',
    version,
    artifact: { url: `https://releases.example/web-${version}.tar.gz`, checksum: SUM_A },
    changelog: null,
    publishedAt: null,
    env: null,
    trigger: { kind: 'webhook', actor: 'webhook:generic:d1' },
    ...over,
  };
}

function describeCatalog(name: string, open: () => Promise<KvStore>): void {
  describe(`release catalog on ${name}`, () => {
    let kv: KvStore;
    let catalog: KvReleaseCatalog;
    beforeAll(async () => {
      kv = await open();
      catalog = new KvReleaseCatalog(kv);
    });
    afterAll(async () => {
      await kv.close();
    });

    it('records a release once; the same artifact again is harmless', async () => {
      const first = await catalog.record(candidate('1.0.0', { env: 'prod' }), 100);
      expect(first.created).toBe(true);
      const again = await catalog.record(candidate('1.0.0', { changelog: 'other notes' }), 200);
      expect(again).toEqual({ created: false, entry: first.entry });
      const stored = await catalog.get('web', '1.0.0');
      expect(stored?.recordedAt).toBe(100);
      expect(stored).not.toHaveProperty('env');
    });

    it('refuses the same version with another checksum or URL, and keeps the first', async () => {
      await catalog.record(candidate('2.0.0'), 100);
      const artifact = { url: 'https://releases.example/web-2.0.0.tar.gz', checksum: SUM_B };
      await expectFerryError(
        catalog.record(candidate('2.0.0', { artifact }), 200),
        'FERRY_E_RELEASE_CONFLICT',
      );
      const otherUrl = { url: 'https://user:pw@elsewhere.example/x.tar.gz', checksum: SUM_A };
      const error = await expectFerryError(
        catalog.record(candidate('2.0.0', { artifact: otherUrl }), 200),
        'FERRY_E_RELEASE_CONFLICT',
      );
      expect(error.message).not.toContain('pw');
      await expect(catalog.record(candidate('2.0.0', { artifact: null }), 300)).rejects.toThrow(/immutable/);
      expect((await catalog.get('web', '2.0.0'))?.artifact?.checksum).toBe(SUM_A);
    });

    it('lets only one of two concurrent offers of a version write', async () => {
      const artifacts = [SUM_A, SUM_B].map((checksum) => ({ url: 'https://r.example/3.tar.gz', checksum }));
      const results = await Promise.allSettled(
        artifacts.map((artifact, i) => catalog.record(candidate('3.0.0', { artifact }), 100 + i)),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
    });

    it('lists newest first by publication time, else recording time, bounded', async () => {
      const other = { app: 'api' };
      await catalog.record(candidate('a', { ...other, publishedAt: 5_000 }), 10);
      await catalog.record(candidate('b', { ...other }), 4_000);
      await catalog.record(candidate('c', { ...other, publishedAt: 3_000 }), 20);
      await catalog.record(candidate('constructor', { ...other }), 6_000);
      const listed = await catalog.list('api');
      expect(listed.map((e) => e.version)).toEqual(['constructor', 'a', 'b', 'c']);
      expect((await catalog.list('api', { limit: 2 })).map((e) => e.version)).toEqual(['constructor', 'a']);
      expect(await catalog.list('nothing')).toEqual([]);
    });
  });
}

describeCatalog('the SQLite KV store', () => openSqliteKvStore(':memory:'));

let etcd: EtcdServer | undefined;
beforeAll(async () => {
  etcd = await startEtcdServer();
}, 60_000);
afterAll(async () => {
  await etcd?.stop();
});

describeCatalog('the etcd KV store', () => {
  if (etcd === undefined) throw new Error('etcd is not running');
  return openKvStore(etcd.url(`/t-${randomBytes(6).toString('hex')}`));
});
