import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryResponse, JoinTokenCreateResponse, JoinTokensResponse } from '../../src/api/types.js';
import { openKvStore } from '../../src/store/kv/open.js';
import { startEtcdServer, type EtcdServer } from '../../src/store/kv/test-support/etcd-server.js';
import { createHarness, freePort, type FerryHarness } from '../support/ferry.js';

/**
 * `server.store: etcd://...`: the control plane's key-value store (enrollment, desired states,
 * rollouts, locks) in a real etcd started for the test, shared across server restarts.
 */
describe('a server whose key-value store is etcd', () => {
  let etcd: EtcdServer;
  let ferry: FerryHarness;

  beforeAll(async () => {
    etcd = await startEtcdServer();
    const agentsPort = await freePort();
    ferry = await createHarness({
      top: `server: { listen: "127.0.0.1:${agentsPort}", store: "${etcd.url('/ferry-e2e')}" }`,
      extraVersions: ['1.1.0'],
    });
    await ferry.start();
  }, 120_000);

  afterAll(async () => {
    await ferry?.cleanup();
    await etcd?.stop();
  }, 60_000);

  it('keeps join tokens in etcd, under the installation prefix, through a restart', async () => {
    const created = await ferry.json<JoinTokenCreateResponse>('join-token', 'create', '--uses', '2');
    const kv = await openKvStore(etcd.url('/ferry-e2e'));
    try {
      const { entries } = await kv.range('/trust/join-tokens/');
      expect(entries.map((e) => e.key)).toEqual([`/trust/join-tokens/${created.joinToken.id}`]);
      // The store keeps the token's hash, never the token.
      expect(entries[0]!.value).not.toContain(created.token.split('.')[2]);
      // The embedded host's desired state is there too.
      expect((await kv.range('/hosts/')).entries.length).toBeGreaterThan(0);
    } finally {
      await kv.close();
    }
    await ferry.kill9();
    await ferry.start();
    const listed = await ferry.json<JoinTokensResponse>('join-token', 'list');
    expect(listed.joinTokens.map((t) => t.id)).toEqual([created.joinToken.id]);
  }, 120_000);

  it("keeps the deployments' history, their events and the release ledger in etcd, through a restart", async () => {
    const deployed = await ferry.cli('deploy', 'hello', '1.1.0', '--wait');
    expect(deployed.code, deployed.stderr).toBe(0);
    const before = await ferry.json<HistoryResponse>('history', 'hello');
    expect(before.deployments[0]).toMatchObject({ to: '1.1.0', status: 'succeeded' });
    const kv = await openKvStore(etcd.url('/ferry-e2e'));
    try {
      const ledger = (await kv.range('/ledger/hello/')).entries.map((e) => e.key);
      expect(ledger).toEqual(
        expect.arrayContaining(['/ledger/hello/production/1.0.0', '/ledger/hello/production/1.1.0']),
      );
      expect((await kv.range(`/events/${before.deployments[0]!.id}/`)).entries.length).toBeGreaterThan(0);
      expect((await kv.get('/current/hello/production'))?.value).toBe('1.1.0');
    } finally {
      await kv.close();
    }

    // The host's file keeps only its instances: what comes back after the restart is etcd's.
    const file = new Database(path.join(ferry.home, 'ferry.db'), { readonly: true });
    try {
      const count = (table: string) =>
        file.prepare<[], { n: number }>(`SELECT count(*) AS n FROM ${table}`).get()?.n;
      expect([count('deployments'), count('releases'), count('deployment_events')]).toEqual([0, 0, 0]);
      expect(count('instances')).toBeGreaterThan(0);
    } finally {
      file.close();
    }
    await ferry.kill9();
    await ferry.start();
    const after = await ferry.json<HistoryResponse>('history', 'hello');
    expect(after.deployments).toEqual(before.deployments);
    expect(after.releases).toEqual(before.releases);
    expect(after.releases.find((r) => r.version === '1.1.0')?.status).toBe('good');
    const shown = await ferry.cli('show', before.deployments[0]!.id);
    expect(shown.code, shown.stderr).toBe(0);
  }, 180_000);

  it('refuses a store URL it cannot use, naming server.store, before anything starts', async () => {
    const other = await createHarness({ top: 'server: { store: "redis://127.0.0.1:6379" }' });
    try {
      const refused = await other.upFails();
      expect(refused.code).toBe(2);
      expect(refused.output).toContain('server.store: unknown store scheme "redis:"');
    } finally {
      await other.cleanup();
    }
  }, 60_000);
});
