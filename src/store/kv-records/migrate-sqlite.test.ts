import { describe, expect, it } from 'vitest';
import { openServedReport } from '../../engine/served-report.js';
import { aDeployment } from '../contract/fixtures.js';
import type { KvStore } from '../kv/kv.js';
import { openSqliteKvStore } from '../kv/sqlite-kv.js';
import { openSqliteStore, type SqliteStore } from '../sqlite/sqlite-store.js';
import type { Store } from '../store.js';
import { KvRecordsStore } from './kv-records-store.js';
import { migrateSqliteRecords, migratedTotal } from './migrate-sqlite.js';

const release = (version: string, createdAt: number, app = 'web') => ({
  app,
  env: 'production',
  version,
  artifactUrl: `file:///${version}.tgz`,
  checksum: null,
  createdAt,
});

/** A store written by the SQLite driver, as the Ferry before the key-value records left it. */
async function writtenBySqlite(): Promise<SqliteStore> {
  const store = openSqliteStore(':memory:');
  // Ties on purpose: records of one time are ordered by insertion, and must stay so.
  for (const [version, at] of [
    ['1.0.0', 10],
    ['1.1.0', 20],
    ['1.2.0', 20],
    ['1.3.0', 20],
  ] as const) {
    await store.upsertRelease(release(version, at));
  }
  await store.upsertRelease(release('2.0.0', 20, 'api'));
  await store.markRelease('web', 'production', '1.1.0', 'good', 'healthy', 30);
  await store.markRelease('web', 'production', '1.2.0', 'bad', 'health check failed', 40);
  const done = { status: 'succeeded', phase: 'done' } as const;
  await store.createDeployment(aDeployment({ id: 'd-1', createdAt: 100, ...done }));
  await store.createDeployment(aDeployment({ id: 'd-3', createdAt: 200, ...done }));
  await store.createDeployment(aDeployment({ id: 'd-2', createdAt: 200, ...done }));
  await store.createDeployment(aDeployment({ id: 'd-api', app: 'api', createdAt: 200, ...done }));
  await store.createDeployment(aDeployment({ id: 'd-4', createdAt: 300 }));
  await store.saveServedReport('d-3', openServedReport(1_000, { phase: 'shifting', step: 0, weight: 10 }));
  for (const id of ['d-1', 'd-3', 'd-4']) {
    for (let i = 0; i < 3; i++) {
      await store.appendEvent({
        deploymentId: id,
        at: 100 + i,
        type: 'phase',
        message: `${id} ${i}`,
        data: { i },
      });
    }
  }
  await store.setCurrent('web', 'production', '1.1.0');
  await store.setCurrent('constructor', '__proto__', '9.9.9');
  await store.acquireLock({
    key: 'env:production/web',
    owner: 'op',
    reason: 'freeze',
    expiresAt: null,
    createdAt: 5,
  });
  for (const action of ['init', 'deploy', 'lock']) {
    await store.audit({ at: 50, actor: 'ferry', action, target: 'web', detail: { action } });
  }
  await store.audit({ at: 60, actor: 'ferry', action: 'rollback', target: 'web' });
  return store;
}

/** Everything a user can read of a store. */
async function everything(store: Store) {
  const deployments = await store.listDeployments({});
  return {
    ledger: [await store.listReleases('web', 'production'), await store.listReleases('api', 'production')],
    deployments,
    webHistory: await store.listDeployments({ app: 'web', limit: 2 }),
    active: await store.activeDeployments(),
    events: await Promise.all(deployments.map((d) => store.listEvents(d.id))),
    reports: await Promise.all(deployments.map((d) => store.getServedReport(d.id))),
    current: [
      await store.getCurrent('web', 'production'),
      await store.getCurrent('constructor', '__proto__'),
    ],
    lock: await store.getLock('env:production/web', 10),
    audit: await store.listAudit(100),
  };
}

describe('moving the SQLite records into the key-value store', () => {
  it('carries every record once: the same ledger, history, events, current, locks and audit', async () => {
    const sqlite = await writtenBySqlite();
    const kv = await openSqliteKvStore(':memory:');
    const moved = await migrateSqliteRecords(kv, sqlite, 1_000);
    expect(moved).toEqual({
      releases: 5,
      deployments: 5,
      events: 9,
      servedReports: 1,
      current: 2,
      locks: 1,
      audit: 4,
    });
    expect(migratedTotal(moved!)).toBe(27);
    const records = new KvRecordsStore(kv, { closeKv: false });
    expect(await everything(records)).toStrictEqual(await everything(sqlite));

    // The next start carries nothing, and writes nothing.
    const revision = await kv.revision();
    expect(await migrateSqliteRecords(kv, sqlite, 1_000)).toBeNull();
    expect(await kv.revision()).toBe(revision);

    // A key-value store lost after the move is not filled again with the old records.
    const lost = await openSqliteKvStore(':memory:');
    expect(await migrateSqliteRecords(lost, sqlite, 2_000)).toBeNull();
    expect(await lost.range('/')).toMatchObject({ entries: [] });
    await lost.close();

    // The records go on in the key-value store: event seqs continue, the active deployment is known.
    expect(
      (await records.appendEvent({ deploymentId: 'd-4', at: 400, type: 'phase', message: 'm' })).seq,
    ).toBe(4);
    await expect(records.createDeployment(aDeployment({ id: 'd-5', createdAt: 500 }))).rejects.toMatchObject({
      code: 'FERRY_E_DEPLOYMENT_IN_PROGRESS',
    });
    await Promise.all([records.close(), kv.close(), sqlite.close()]);
  });

  it('a copy cut short is done again whole on the next start, in the same order', async () => {
    const sqlite = await writtenBySqlite();
    const kv = await openSqliteKvStore(':memory:');
    const txn = kv.txn.bind(kv);
    let left = 2;
    kv.txn = (request) => {
      if (left-- === 0) return Promise.reject(new Error('crash'));
      return txn(request);
    };
    await expect(migrateSqliteRecords(kv, sqlite, 1_000)).rejects.toThrow('crash');
    kv.txn = txn;
    expect(await sqlite.recordsMoved()).toBe(false);
    expect(await migrateSqliteRecords(kv, sqlite, 1_000)).not.toBeNull();
    expect(await sqlite.recordsMoved()).toBe(true);
    const records = new KvRecordsStore(kv, { closeKv: false });
    expect(await everything(records)).toStrictEqual(await everything(sqlite));
    await Promise.all([records.close(), kv.close(), sqlite.close()]);
  });

  it('an empty SQLite store leaves only the marker', async () => {
    const sqlite = openSqliteStore(':memory:');
    const kv: KvStore = await openSqliteKvStore(':memory:');
    expect(migratedTotal((await migrateSqliteRecords(kv, sqlite, 1_000))!)).toBe(0);
    expect(await migrateSqliteRecords(kv, sqlite, 1_000)).toBeNull();
    expect(await new KvRecordsStore(kv, { closeKv: false }).listDeployments({})).toEqual([]);
    await Promise.all([kv.close(), sqlite.close()]);
  });
});
